"""`ape run local`: move a local deployment's mock feeds, time and accounts (unwind/playground.py).

    ape run local status [ACCOUNT ...]          prices, oracle state, accounts' health
    ape run local price WETH 2550               or -15%, +10%, x0.8: a new feed round
    ape run local hop [COUNT]                   COUNT OSM hops pass (a move is confirmed after 2)
    ape run local advance SECONDS               chain time forward (auction prices fall with it)
    ape run local open TEST::2 --deposit WETH=10 --borrow 20000
    ape run local fund TEST::1 100000           uUSD for a keeper (from a USDC position of its own)
    ape run local mint TEST::2 WBTC 0.5         mock tokens into the account's wallet
    ape run local refresh                       a fresh round for every feed (none goes stale)
    ape run local key TEST::1                   a test account's private key, for UNWIND_KEEPER_KEY
    ape run local wait TEST::2 [--until settled]   until the keeper liquidated it (or its auctions ended)

Every command talks to the node at $UNWIND_RPC_URL (default http://127.0.0.1:8545, the anvil the
README starts) and reads deployments/ethereum-custom.json unless --deployment says otherwise.
ACCOUNT is TEST::<n> (anvil's test accounts), an alias from `ape accounts list`, or (status only)
an address.
"""

import os
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import network_option

from unwind.opcli import OperatorCommand, fail, resolve_account
from unwind.playground import Playground, PlaygroundError, load_system
from unwind.record import RecordError, check_record_chain, read_record

DEFAULT_RPC = os.environ.get("UNWIND_RPC_URL", "http://127.0.0.1:8545")


def _playground(ecosystem, network, deployment, sender=None) -> Playground:
    path = Path(deployment or f"deployments/{ecosystem.name}-{network.name}.json")
    record = read_record(path)
    check_record_chain(record, chain.provider.chain_id, path=path, node=DEFAULT_RPC, get_code=chain.provider.get_code)
    return Playground(load_system(project, record), chain, sender or accounts.test_accounts[0])


def _run(fn):
    try:
        return fn()
    except (PlaygroundError, RecordError) as exc:
        fail([str(exc)])


def _account(alias):
    """TEST::<n> or an Ape alias (OperatorError, one line, for one that does not exist)."""
    return resolve_account(alias, "local")


@click.group()
def cli():
    """Move a local deployment's mock feeds, time and accounts (see README: A local playground)."""


@cli.command(cls=OperatorCommand, name="status")
@network_option(default=DEFAULT_RPC)
@click.option("--deployment", default=None, help="deployment record (default deployments/<ecosystem>-<network>.json)")
@click.argument("who", nargs=-1)
def status(ecosystem, network, verbose, deployment, who):
    """Prices, oracle state and the health of the accounts named (TEST::<n>, aliases or addresses)."""
    def go():
        pg = _playground(ecosystem, network, deployment)
        named = [w if w.startswith("0x") else _account(w) for w in who]
        for line in pg.status_lines(named):
            click.echo(line)
    _run(go)


@cli.command(cls=OperatorCommand, name="price", context_settings={"ignore_unknown_options": True})
@network_option(default=DEFAULT_RPC)
@click.option("--deployment", default=None, help="deployment record")
@click.argument("symbol")
@click.argument("spec")
def price(ecosystem, network, verbose, deployment, symbol, spec):
    """Set SYMBOL's mock feed: SPEC is a price (2550), a change (-15%, +10%) or a factor (x0.8)."""
    _run(lambda: click.echo(_playground(ecosystem, network, deployment).set_price(symbol, spec).line()))


@cli.command(cls=OperatorCommand, name="hop")
@network_option(default=DEFAULT_RPC)
@click.option("--deployment", default=None, help="deployment record")
@click.argument("count", type=click.IntRange(1, 100), default=1)
def hop(ecosystem, network, verbose, deployment, count):
    """Let COUNT OSM hops of chain time pass, every feed refreshed and poked after each (a feed move
    is confirmed, i.e. used by liquidations, after two)."""
    def go():
        pg = _playground(ecosystem, network, deployment)
        seconds = pg.hop(count)
        click.echo(f"{count} OSM hop(s): chain time +{seconds} s")
        for line in pg.status_lines()[1:]:
            click.echo(line)
    _run(go)


@cli.command(cls=OperatorCommand, name="advance")
@network_option(default=DEFAULT_RPC)
@click.option("--deployment", default=None, help="deployment record")
@click.argument("seconds", type=click.IntRange(1, 30 * 86400))
def advance(ecosystem, network, verbose, deployment, seconds):
    """Move chain time forward by SECONDS (a block at the new time), every feed refreshed."""
    def go():
        pg = _playground(ecosystem, network, deployment)
        pg.check_dev()
        pg.advance(seconds)
        pg.refresh()
        click.echo(f"chain time +{seconds} s; every feed refreshed")
    _run(go)


@cli.command(cls=OperatorCommand, name="refresh")
@network_option(default=DEFAULT_RPC)
@click.option("--deployment", default=None, help="deployment record")
def refresh(ecosystem, network, verbose, deployment):
    """A new round at the same answer for every feed (feeds go stale after their heartbeat)."""
    _run(lambda: (_playground(ecosystem, network, deployment).refresh(), click.echo("every feed refreshed")))


@cli.command(cls=OperatorCommand, name="open")
@network_option(default=DEFAULT_RPC)
@click.option("--deployment", default=None, help="deployment record")
@click.argument("who")
@click.option("--deposit", "deposits", multiple=True, metavar="SYMBOL=AMOUNT",
              help="mint and deposit this collateral (whole tokens); repeat for a basket")
@click.option("--borrow", default=None, help="uUSD to borrow against it, or 'max'")
def open_(ecosystem, network, verbose, deployment, who, deposits, borrow):
    """Open or top up WHO's account: mint and deposit collateral, then borrow."""
    def go():
        baskets = {}
        for d in deposits:
            sym, sep, amount = d.partition("=")
            if not sep:
                raise PlaygroundError(f"--deposit {d!r}: write SYMBOL=AMOUNT, e.g. --deposit WETH=10")
            baskets[sym] = amount
        account = _account(who)
        pg = _playground(ecosystem, network, deployment, account)
        pg.open(account, baskets, borrow)
        click.echo(pg.account_line(account))
    _run(go)


@cli.command(cls=OperatorCommand, name="fund")
@network_option(default=DEFAULT_RPC)
@click.option("--deployment", default=None, help="deployment record")
@click.argument("who")
@click.argument("amount")
def fund(ecosystem, network, verbose, deployment, who, amount):
    """Give WHO AMOUNT uUSD (borrowed against twice its worth of mock USDC in its own account)."""
    def go():
        account = _account(who)
        pg = _playground(ecosystem, network, deployment, account)
        pg.fund(account, amount)
        click.echo(pg.account_line(account))
    _run(go)


@cli.command(cls=OperatorCommand, name="mint")
@network_option(default=DEFAULT_RPC)
@click.option("--deployment", default=None, help="deployment record")
@click.argument("who")
@click.argument("symbol")
@click.argument("amount")
def mint(ecosystem, network, verbose, deployment, who, symbol, amount):
    """Mint AMOUNT whole tokens of a mock collateral into WHO's wallet."""
    def go():
        account = _account(who)
        pg = _playground(ecosystem, network, deployment, account)
        units = pg.mint(account, symbol, amount)
        click.echo(f"minted {amount} {symbol.upper()} ({units} units) to {account.address}")
    _run(go)


@cli.command(cls=OperatorCommand, name="wait")
@network_option(default=DEFAULT_RPC)
@click.option("--deployment", default=None, help="deployment record")
@click.argument("who")
@click.option("--until", type=click.Choice(["liquidated", "settled"]), default="liquidated",
              help="liquidated: a Liquidate of the account; settled: every auction of its collateral ended")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=120.0, help="seconds of wall time")
def wait(ecosystem, network, verbose, deployment, who, until, timeout):
    """Wait for the keeper: until WHO is liquidated (or its auctions settled), then say what happened."""
    def go():
        pg = _playground(ecosystem, network, deployment)
        account = who if who.startswith("0x") else _account(who)
        since = read_record(Path(deployment or f"deployments/{ecosystem.name}-{network.name}.json")).get("start_block", 0)
        for line in pg.wait(account, until, since or 0, timeout):
            click.echo(line)
    _run(go)


@cli.command(cls=OperatorCommand, name="key")
@network_option(default=DEFAULT_RPC)
@click.argument("who")
def key(ecosystem, network, verbose, who):
    """Print a test account's private key (anvil's well-known keys; for UNWIND_KEEPER_KEY)."""
    if not who.startswith("TEST::"):
        fail([f"{who!r}: only test accounts (TEST::<n>) have a key to print; a keyfile account stays encrypted"])
    click.echo(_account(who).private_key)
