"""`ape run gas`: gas of each protocol operation on a fresh local deployment, as JSON.

    ape run gas [--out bench/results/gas.json] [--snapshot bench/gas-snapshot.json]

Each figure is the gasUsed of one transaction receipt (unwind/gasbench.py says how each operation
is set up). `liquidate` is an account holding two collateral types whose liquidation creates its
two auctions (`liquidate` on a fresh system, `liquidate_steady` once auctions run,
`liquidate_reusing_slots` once auctions have also ended and their sale storage is reused);
`take_full` buys a whole auction. `by_kind` splits the `breakdown` operations into storage reads
(`cold_sloads` of them cold), writes, events, call overhead, computation and the base cost
(unwind/gasprofile.py; `ape run gas_profile` prints it per contract). `feed_reads` counts the `latestRoundData` calls
each operation made, per feed contract, from anvil's call tracer. With `--snapshot`, the figures
are also written there (the checked-in snapshot tests/protocol/test_gas_snapshot.py compares with).
"""

import json
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from unwind import gasbench, gasprofile


@click.command(cls=ConnectedProviderCommand)
@click.option("--out", default="bench/results/gas.json", show_default=True)
@click.option("--snapshot", default=None, help="also write the figures as the gas snapshot here")
def cli(ecosystem, network, provider, out, snapshot):
    test = accounts.test_accounts
    op, keeper, bidder = test[0], test[1], test[2]
    borrowers = gasbench.fresh_accounts(accounts, chain)
    s = gasbench.deploy(project, op)
    breakdowns = ("liquidate", "liquidate_steady", "liquidate_reusing_slots", "take_full")
    measured = gasbench.measure(s, chain, op, borrowers, keeper, bidder, breakdowns=breakdowns)
    names = gasbench.contract_names(s)
    by_kind = {}
    for name in breakdowns:
        by_kind[name] = gasprofile.totals(gasprofile.of_receipt(provider, measured["receipts"][name], names))
    result = {
        "operations": measured["operations"],
        "compiler": gasbench.compiler_settings(project),
        "feed_reads": measured["feed_reads"],
        "breakdown": measured["breakdown"],
        "by_kind": by_kind,
        "targets": gasbench.TARGETS,
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    if snapshot:
        Path(snapshot).write_text(json.dumps(gasbench.snapshot_of(measured), indent=2) + "\n")
    for name, value in result["operations"].items():
        reads = result["feed_reads"][name]
        feed = f"{reads['count']} x {reads['feed']}" if reads["feed"] else "no feed read"
        click.echo(f"{name:20} {value:>9,}   {feed}")
    ops = result["operations"]
    for name, limit in gasbench.TARGETS.items():
        value = sum(ops[part] for part in name.split("+"))
        click.echo(f"target {name:22} {value:>9,} <= {limit:,}: {'met' if value <= limit else 'NOT met'}")
    for name, t in by_kind.items():
        click.echo(f"{name}: storage {t['sload'] + t['sstore']:,} ({t['cold_sloads']} cold reads), events {t['log']:,},"
                   f" base {t['base']:,}, calls {t['calls']:,}, computation {t['compute']:,};"
                   f" storage + events + base {gasprofile.floor(t):,}")
    click.echo(f"written to {out}" + (f" and {snapshot}" if snapshot else ""))
