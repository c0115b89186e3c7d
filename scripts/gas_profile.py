"""`ape run gas_profile`: where the benchmark operations' gas goes, by contract and by kind.

    ape run gas_profile [--op liquidate_reusing_slots --op take_full]

Runs the same operations as `ape run gas` (unwind/gasbench.py) on a fresh local deployment and
splits each chosen one with unwind/gasprofile.py: storage reads (cold ones counted), storage
writes, events, call overhead and computation per contract, and the base cost.
"""

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from unwind import gasbench, gasprofile


@click.command(cls=ConnectedProviderCommand)
@click.option("--op", "ops", multiple=True, default=("liquidate_reusing_slots", "take_full"), show_default=True,
              type=click.Choice(gasbench.OPERATIONS))
def cli(ecosystem, network, provider, ops):
    test = accounts.test_accounts
    borrowers = gasbench.fresh_accounts(accounts, chain)
    s = gasbench.deploy(project, test[0])
    receipts = gasbench.run_operations(s, chain, test[0], borrowers, test[1], test[2])
    names = gasbench.contract_names(s)
    for name in ops:
        receipt, _ = receipts[name]
        p = gasprofile.of_receipt(provider, receipt, names)
        click.echo(f"\n{name}: {p['total']:,} gas")
        click.echo(f"  {'contract':18}" + "".join(f"{k:>9}" for k in gasprofile.KINDS) + "  cold reads")
        for contract, kinds in sorted(p["contracts"].items(), key=lambda kv: -sum(kv[1][k] for k in gasprofile.KINDS)):
            click.echo(f"  {contract:18}" + "".join(f"{kinds[k]:>9,}" for k in gasprofile.KINDS) + f"  {kinds['cold_sloads']:>5}")
        t = gasprofile.totals(p)
        click.echo(f"  {'all':18}" + "".join(f"{t[k]:>9,}" for k in gasprofile.KINDS) + f"  {t['cold_sloads']:>5}")
        click.echo(f"  base (21,000 + calldata - refunds) {t['base']:,}; storage + events + base {gasprofile.floor(t):,}")
