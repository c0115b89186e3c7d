"""`ape run demo`: deploy Unwind on a local anvil and run the main story, then print its books."""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand
from rich.console import Console
from rich.table import Table

from unwind.deploy import deploy_system
from unwind.params import WAD
from unwind.story import BORROWERS, run_story


@click.command(cls=ConnectedProviderCommand)
def cli(ecosystem, network, provider):
    console = Console()
    test_accounts = accounts.test_accounts
    operator, keeper, bidder = test_accounts[0], test_accounts[1], test_accounts[2]
    borrowers = [test_accounts[3 + i] for i in range(len(BORROWERS))]
    console.print(
        f"[bold]Unwind demo[/bold] on {ecosystem.name}:{network.name}:{provider.name} (chain id {provider.chain_id})"
    )
    system = deploy_system(project, operator)
    for name, contract in system.modules.items():
        console.print(f"  {name:11} {contract.address}")

    result = run_story(system, chain, operator, borrowers, keeper, bidder, log=lambda m: console.print(f"- {m}"))

    sales = Table(title="Auction sales")
    for col in ("auction", "collateral", "sold", "paid (uUSD)", "price / oracle price"):
        sales.add_column(col, justify="right")
    for sale in result.sales:
        sales.add_row(
            str(sale.auction_id),
            sale.symbol,
            f"{sale.sold / 10**sale.decimals:,.6f}",
            f"{sale.paid / WAD:,.2f}",
            f"{sale.share_of_reference:.4f}",
        )
    console.print(sales)

    books = Table(title="Books")
    books.add_column("figure")
    books.add_column("value", justify="right")
    shares = [x.share_of_reference for x in result.sales] or [0]
    books.add_row("accounts opened", str(result.accounts))
    books.add_row("accounts liquidated", str(len(result.liquidated)))
    books.add_row("auctions", str(result.auctions))
    books.add_row("lowest sale / oracle price", f"{min(shares):.4f}")
    books.add_row("debt repaid by auctions (uUSD)", f"{result.repaid_by_auctions / WAD:,.2f}")
    books.add_row("buffer surplus (uUSD)", f"{result.buffer_surplus / WAD:,.2f}")
    books.add_row("bad debt (uUSD)", f"{result.bad_debt / WAD:,.2f}")
    books.add_row("supply == debt + auctions + bad debt", "yes" if result.supply == result.backing else "NO")
    console.print(books)
    if result.supply != result.backing:
        raise click.ClickException(f"accounting identity broken: {result.supply} != {result.backing}")
