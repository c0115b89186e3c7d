"""`ape run scenario`: play the adversarial oracle scenarios on a local anvil and print them.

    ape run scenario --list                 # the scenarios and their variants
    ape run scenario stale-feed             # one scenario (by key or number), every variant
    ape run scenario 7 --variant naive      # one variant
    ape run scenario all                    # every scenario

For each variant: what the attacker did, what the protocol did, the catalogue's pass criterion
check by check, the attacker's PnL including gas (20 gwei, ETH at P_ref), and collateral and debt
before and after. Exits non-zero when a scenario does not show what it should (the defence fails,
or the naive setup is not broken), or on an unknown name (listing the valid ones).
"""

import click
from ape.cli import ConnectedProviderCommand

from unwind import scenarios


def _list(console):
    from rich.table import Table

    t = Table(title="Adversarial oracle scenarios")
    for col in ("#", "name", "scenario", "variants"):
        t.add_column(col)
    for sc in scenarios.all_scenarios():
        t.add_row(str(sc.number), sc.key, sc.title, ", ".join(v.key for v in sc.variants))
    console.print(t)


@click.command(cls=ConnectedProviderCommand, context_settings={"ignore_unknown_options": False})
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="list the scenarios and exit")
@click.option("--variant", default=None, help="only this variant: unwind, naive, or a gap's key (see --list)")
def cli(ecosystem, network, provider, name, list_, variant):
    from rich.console import Console

    from unwind.scenarios.report import print_result

    console = Console()
    if list_:
        _list(console)
        return
    if not name:
        raise click.UsageError(f"name a scenario or 'all'; valid names: {', '.join(scenarios.names())}")
    if name == "all":
        chosen = scenarios.all_scenarios()
    else:
        try:
            chosen = [scenarios.get(name)]
        except KeyError:
            console.print(f"[red]unknown scenario {name!r}[/red]; valid names: all, {', '.join(scenarios.names())}")
            raise SystemExit(2)

    plan = [(sc, [v for v in sc.variants if variant in (None, v.key)]) for sc in chosen]
    plan = [(sc, vs) for sc, vs in plan if vs]
    if not plan:
        valid = sorted({v.key for sc in chosen for v in sc.variants})
        console.print(f"[red]no variant {variant!r}[/red]; valid: {', '.join(valid)}")
        raise SystemExit(2)

    from ape import accounts, chain, project
    from ape.logging import logger

    from unwind.scenarios.world import World

    logger.set_level("WARNING")
    console.print(f"deploying Unwind and the scenario world on {ecosystem.name}:{network.name}:{provider.name}")
    w = World(project, chain, accounts.test_accounts)
    bad = []
    for sc, variants in plan:
        for v in variants:
            snap = chain.snapshot()
            try:
                result = sc.run(w, v.key)
            finally:
                chain.restore(snap)
            print_result(console, w, result)
            if not result.ok:
                bad.append(f"{sc.key}[{v.key}]")
    if bad:
        console.print(f"[red]not as expected: {', '.join(bad)}[/red]")
        raise SystemExit(1)
    console.print("[green]every scenario showed what it should[/green]")
