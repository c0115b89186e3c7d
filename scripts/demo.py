"""`ape run demo`: deploy Unwind on a local anvil, open accounts, crash prices, let the keeper
process liquidate and bid, and print what happened as read back from the chain.

Quiet by default: the story and its tables. -v/--verbose adds each deployment step and Ape's own
log (every transaction confirmed, the compiler's input list); --show-keeper-log the keeper's log.
"""

import tempfile
from pathlib import Path

import click
from ape import accounts, chain, project
from rich.console import Console
from rich.table import Table

from unwind.deploy import count_steps, deploy_system
from unwind.opcli import OperatorCommand
from unwind.params import WAD, default_params
from unwind.story import BORROWERS, run_story


@click.command(cls=OperatorCommand)
@click.option("--show-keeper-log", is_flag=True, help="print the keeper's log at the end")
def cli(ecosystem, network, provider, show_keeper_log, verbose):
    console = Console(soft_wrap=True)
    test_accounts = accounts.test_accounts
    operator, keeper = test_accounts[0], test_accounts[1]
    borrowers = [test_accounts[2 + i] for i in range(len(BORROWERS))]
    console.print(
        f"[bold]Unwind demo[/bold] on {ecosystem.name}:{network.name}:{provider.name} (chain id {provider.chain_id})"
    )
    params = default_params()
    console.print(f"- deploying Unwind: {count_steps(params, params.guardian == 'deployer')} steps (contracts and "
                  f"transactions){'' if verbose else '; -v shows each'}")
    system = deploy_system(project, operator, params, progress=(lambda line: console.print(f"    {line}"))
                           if verbose else None)
    for name, contract in system.modules.items():
        console.print(f"  {name:11} {contract.address}")

    with tempfile.TemporaryDirectory(prefix="unwind-demo-") as workdir:
        result = run_story(system, chain, operator, borrowers, keeper, Path(workdir),
                           log=lambda m: console.print(f"- {m}"))
    console.print(f"- {result.keeper_line()}")
    console.print(f"- {result.margin_line()}")
    if show_keeper_log:
        console.print("- the keeper's log:")
        console.print(result.keeper_log, markup=False, highlight=False)

    sales = Table(title="What the keeper bought (from Take events; kick n = the n-th auction started)")
    for col in ("kick", "collateral", "sold", "paid (uUSD)", "price / oracle price"):
        sales.add_column(col, justify="right")
    for sale in result.sales:
        sales.add_row(f"#{sale.kick}", sale.symbol, f"{sale.sold / 10**sale.decimals:,.6f}",
                      f"{sale.paid / WAD:,.2f}", f"{sale.share_of_reference:.4f}")
    console.print(sales)

    direct = Table(title="What the keeper liquidated directly (from LiquidateDirect events: no auction)")
    for col in ("account", "collateral", "received", "repaid (uUSD)", "discount", "price / oracle price"):
        direct.add_column(col, justify="right")
    for d in result.direct:
        direct.add_row(f"{d.account[:10]}…", d.symbol, f"{d.seized / 10**d.decimals:,.6f}", f"{d.repaid / WAD:,.2f}",
                       f"{d.discount / WAD:.2%}", f"{d.share_of_reference:.4f}")
    console.print(direct)

    books = Table(title="Books")
    books.add_column("figure")
    books.add_column("value", justify="right")
    shares = [x.share_of_reference for x in result.sales] or [0]
    books.add_row("accounts opened", str(result.accounts))
    books.add_row("accounts unsafe after the price fall", str(len(result.unsafe)))
    books.add_row("accounts liquidated by the keeper: directly / to auctions",
                  f"{len(result.direct)} / {len(result.liquidated) - len(result.direct)}")
    books.add_row("auctions started / settled", f"{result.auctions} / {'all' if result.settled else 'NOT ALL'}")
    books.add_row("lowest sale / oracle price", f"{min(shares):.4f}")
    books.add_row("debt repaid through auctions (uUSD)", f"{result.repaid_by_auctions / WAD:,.2f}")
    books.add_row("buffer surplus (uUSD)", f"{result.buffer_surplus / WAD:,.2f}")
    books.add_row("bad debt (uUSD)", f"{result.bad_debt / WAD:,.2f}")
    books.add_row("supply == debt + auctions + bad debt", "yes" if result.supply == result.backing else "NO")
    console.print(books)
    if result.supply != result.backing:
        raise click.ClickException(f"accounting identity broken: {result.supply} != {result.backing}")
    if not result.settled:
        raise click.ClickException("the keeper did not clear every unsafe account and auction in time")
