"""`ape run demo`: deploy Unwind on a local anvil and run the main story."""

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand


@click.command(cls=ConnectedProviderCommand)
def cli(ecosystem, network, provider):
    deployer = accounts.test_accounts[0]
    click.echo(f"unwind demo on {ecosystem.name}:{network.name}:{provider.name} (chain id {provider.chain_id})")
    for symbol, decimals in (("USDX", 6), ("WBTC", 8), ("WETH", 18)):
        token = project.MockERC20.deploy(symbol, symbol, decimals, sender=deployer)
        click.echo(f"  deployed collateral {symbol:5} ({decimals:2} decimals) at {token.address}")
