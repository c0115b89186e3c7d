"""`python -m unwind.keeper`: the keeper as a plain process (no Ape needed at run time).

    python -m unwind.keeper --rpc-url http://127.0.0.1:8545 --deployment deployments/x.json

The signing key comes from the environment (UNWIND_KEEPER_KEY, or the variable named by
--key-env), or from an encrypted keyfile with its passphrase in UNWIND_KEEPER_PASSPHRASE, so the
keeper runs unattended. `ape run keeper` resolves a network and an Ape account and calls the same
`main`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from decimal import Decimal
from pathlib import Path

import click

from unwind.keeper.runner import Keeper, KeeperConfig, load_abis

WAD = 10**18
ROOT = Path(__file__).resolve().parents[2]


def configure_logging(level: str = "INFO") -> logging.Logger:
    """The keeper's own handler on its own logger, once, not propagated: under silverback (which
    configures the root logger too) every line used to be printed twice."""
    log = logging.getLogger("unwind.keeper")
    log.setLevel(getattr(logging, level))
    if not any(getattr(h, "_unwind", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s keeper: %(message)s", datefmt="%H:%M:%S"))
        handler._unwind = True
        log.addHandler(handler)
    log.propagate = False
    return log


def load_deployment(path: Path) -> tuple[dict, int, int | None]:
    """(contract addresses, start block, chain id or None) of a deployment record."""
    try:
        record = json.loads(Path(path).read_text())
        contracts = record["contracts"]
        for key in ("vault", "engine", "auction", "oracle", "debt_token"):
            if not str(contracts[key]).startswith("0x"):
                raise ValueError(f"contracts.{key} is not an address")
        chain_id = record.get("chain_id")
        return contracts, int(record.get("start_block", 0)), int(chain_id) if chain_id is not None else None
    except FileNotFoundError:
        raise click.UsageError(f"deployment record {path} not found: run `ape run deploy` first or pass --deployment")
    except IsADirectoryError:
        raise click.UsageError(f"deployment record {path} is a folder: pass the record's JSON file")
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise click.UsageError(f"deployment record {path} is malformed ({exc}): expected the JSON `ape run deploy` writes")


def check_key(key: str, where: str) -> str:
    """The signing key, or one line saying it is not one (the value itself is never printed)."""
    from eth_account import Account

    try:
        Account.from_key(key.strip())
    except Exception:  # eth_account raises ValueError, binascii.Error or TypeError for bad keys
        raise click.UsageError(f"{where} is not a private key: 64 hex digits, 0x optional (its value is not shown)")
    return key.strip()


def key_from_keyfile(keyfile: Path) -> str:
    from eth_account import Account

    passphrase = os.environ.get("UNWIND_KEEPER_PASSPHRASE")
    if passphrase is None:
        raise click.UsageError("set UNWIND_KEEPER_PASSPHRASE to unlock the keyfile (the keeper never prompts)")
    try:
        return Account.decrypt(json.loads(Path(keyfile).read_text()), passphrase).hex()
    except ValueError:
        raise click.UsageError(f"UNWIND_KEEPER_PASSPHRASE does not unlock {keyfile}")


def keeper_options(f):
    options = [
        click.option("--deployment", type=click.Path(path_type=Path), default=None,
                     help="deployment record written by `ape run deploy`"),
        click.option("--dry-run", is_flag=True, help="compute and log every action, send nothing"),
        click.option("--kick-only", is_flag=True, help="liquidate only, never bid"),
        click.option("--bid-only", is_flag=True, help="bid only, never liquidate"),
        click.option("--min-profit", type=float, default=0.0, show_default=True,
                     help="minimum profit of a take after gas, in debt tokens"),
        click.option("--max-gas-price", type=float, default=200.0, show_default=True, help="fee cap [gwei]"),
        click.option("--native-price", type=click.FloatRange(min=0, min_open=True), default=3000.0, show_default=True,
                     help="price of the chain's native coin in debt tokens, to weigh gas against incentives and "
                          "profits"),
        click.option("--no-direct", "no_direct", is_flag=True,
                     help="never liquidate directly (IDirectLiquidator.liquidateDirect): always start auctions; "
                          "by default an account goes direct when that pays more after gas than an auction's "
                          "incentive"),
        click.option("--altruistic", is_flag=True,
                     help="liquidate accounts whose incentive does not pay the gas too (by default such "
                          "liquidations are skipped, counted and logged)"),
        click.option("--shard", default="0/1", show_default=True, help="this keeper's share of accounts: i/n"),
        click.option("--state-file", type=click.Path(path_type=Path), default=None,
                     help="where sent transactions are recorded (survives restarts)"),
        click.option("--metrics-port", type=int, default=None, help="serve Prometheus metrics on 127.0.0.1:PORT"),
        click.option("--poll-interval", type=float, default=1.0, show_default=True),
        click.option("--max-blocks", type=int, default=None, help="stop after this many blocks"),
        click.option("--connect-timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
                     help="at start, give up (exit 2) when the node has not answered for this many seconds"),
        click.option("--max-outage", type=click.FloatRange(min=0), default=0.0, show_default=True,
                     help="once running, stop (exit 1) when the node has been unreachable this long; 0: retry for "
                          "ever (every attempt is logged, at most 10 s apart)"),
        click.option("--batch-size", type=int, default=25, show_default=True),
        click.option("--flash-taker", default=None,
                     help="FlashTaker contract: pay for takes by selling the collateral in a market (no inventory)"),
        click.option("--market", "markets", multiple=True,
                     help="TOKEN=MARKET: where the flash taker sells a collateral (repeatable)"),
        click.option("--slippage-bps", type=click.IntRange(0, 9_999), default=50, show_default=True,
                     help="flash takes: the market may pay this much below the keeper's quote [basis points]; "
                          "the take reverts below that, and always below owe + gas + --min-profit"),
        click.option("--replace-after", type=float, default=30.0, show_default=True,
                     help="seconds before a pending transaction is replaced with higher fees"),
        click.option("--adapt-every", type=click.IntRange(min=1), default=10, show_default=True,
                     help="blocks between AdaptiveRisk checks (sample volatility, write parameters), "
                          "when the deployment has it"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def make_keeper(rpc_url: str, private_key: str, deployment, dry_run, kick_only, bid_only, min_profit, max_gas_price,
                shard, state_file, metrics_port, poll_interval, max_blocks, batch_size, replace_after,
                flash_taker=None, markets=(), adapt_every: int = 10, slippage_bps: int = 50,
                native_price: float = 3000.0, altruistic: bool = False, network_name: str = "local",
                connect_timeout: float = 30.0, max_outage: float = 0.0, no_direct: bool = False, log=None) -> Keeper:
    log = log or configure_logging()
    if kick_only and bid_only:
        raise click.UsageError("--kick-only and --bid-only exclude each other")
    try:
        shard_i, shards = (int(x) for x in shard.split("/"))
        assert 0 <= shard_i < shards
    except (ValueError, AssertionError):
        raise click.UsageError(f"--shard {shard!r} must be i/n with 0 <= i < n, e.g. 0/2")
    market_map = {}
    for entry in markets:
        token, sep, market = entry.partition("=")
        if not sep or not token.startswith("0x") or not market.startswith("0x"):
            raise click.UsageError(f"--market {entry!r} must be TOKEN=MARKET, two 0x addresses")
        market_map[token.lower()] = market
    deployment = deployment or ROOT / "deployments" / f"ethereum-{network_name}.json"
    addresses, start_block, chain_id = load_deployment(deployment)
    private_key = check_key(private_key, "the signing key")
    abis = load_abis(ROOT / ".build" / "__local__.json")
    cfg = KeeperConfig(
        rpc_url=rpc_url, addresses=addresses, start_block=start_block, liquidate=not bid_only, bid=not kick_only,
        dry_run=dry_run, min_profit=int(min_profit * WAD), max_gas_price=int(max_gas_price * 10**9),
        shard=shard_i, shards=shards, state_file=state_file, metrics_port=metrics_port,
        poll_interval=poll_interval, batch_size=batch_size, replace_after=replace_after,
        flash_taker=flash_taker, markets=market_map, adapt_every=adapt_every, slippage_bps=slippage_bps,
        native_price=int(Decimal(str(native_price)) * WAD), altruistic=altruistic, expected_chain_id=chain_id,
        deployment=str(deployment), connect_timeout=connect_timeout, max_outage=max_outage, direct=not no_direct,
    )
    return Keeper(cfg, abis, private_key, log=log)


def main(rpc_url: str, private_key: str, max_blocks=None, **options) -> None:
    keeper = make_keeper(rpc_url, private_key, max_blocks=max_blocks, **options)
    keeper.preflight()  # the node answers, is the record's chain, has its contracts; the key can pay gas
    keeper.run(max_blocks=max_blocks)
    if keeper.gave_up:
        raise SystemExit(1)


def build_keeper(rpc_url: str, private_key: str, deployment: Path, args: list, log=None) -> Keeper:
    """A keeper from command-line style options (the silverback bot passes UNWIND_KEEPER_ARGS)."""
    ctx = cli.make_context("keeper", ["--rpc-url", rpc_url, "--deployment", str(deployment), *args])
    options = {k: v for k, v in ctx.params.items() if k not in ("rpc_url", "key_env", "keyfile")}
    return make_keeper(rpc_url, private_key, log=log, **options)


@click.command()
@click.option("--rpc-url", required=True, help="JSON-RPC endpoint, e.g. http://127.0.0.1:8545")
@click.option("--key-env", default="UNWIND_KEEPER_KEY", show_default=True,
              help="environment variable holding the signing key")
@click.option("--keyfile", type=click.Path(path_type=Path), default=None,
              help="encrypted keyfile instead (passphrase in UNWIND_KEEPER_PASSPHRASE)")
@keeper_options
def cli(rpc_url, key_env, keyfile, **kwargs):
    if keyfile:
        key = key_from_keyfile(keyfile)
    else:
        key = os.environ.get(key_env)
        if not key:
            raise click.UsageError(f"no signing key: set {key_env} (or pass --keyfile)")
        key = check_key(key, key_env)
    main(rpc_url, key, **kwargs)


def run_cli(args=None) -> int:
    """`python -m unwind.keeper`: bad input is one `error:` line on stderr and exit status 2."""
    try:
        cli.main(args=args, prog_name="python -m unwind.keeper", standalone_mode=False)
    except click.ClickException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_cli())
