"""`ape run crash`: the crash replay (issue 8) on its own anvil, as JSON and a PNG.

    ape run crash [--params static] [--slice 1.0] [--out bench/results/crash.json]

The JSON keeps one entry per parameter set under "runs", so a run with another set (issue 9)
sits next to this one; the plot goes to bench/results/crash-<set>.png. See
unwind/bench/crash.py for the path and what is measured.
"""

import json
from pathlib import Path

import click
from ape import accounts, project

from unwind.bench import crash
from unwind.bench.report import write_json
from unwind.bench.plots import plot_crash


@click.command()
@click.option("--params", "param_set", type=click.Choice(sorted(crash.PARAM_SETS)), default="static",
              show_default=True, help="risk-parameter set to replay the crash with")
@click.option("--accounts", "n_accounts", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--slice", "slice_s", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="wall-clock seconds the keepers get between two blocks")
@click.option("--tail", "tail_blocks", type=click.IntRange(min=0), default=250, show_default=True,
              help="most blocks mined after the crash hour while auctions are still running")
@click.option("--out", type=click.Path(path_type=Path), default=Path("bench/results/crash.json"), show_default=True)
@click.option("--workdir", type=click.Path(path_type=Path), default=None, help="logs of anvil and keepers")
def cli(param_set, n_accounts, slice_s, tail_blocks, out, workdir):
    result = crash.run(project, accounts, param_set, n_accounts, slice_s, tail_blocks, workdir, log=click.echo)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        runs = json.loads(out.read_text()).get("runs", {}) if out.exists() else {}
    except ValueError:
        runs = {}
    png = out.parent / f"crash-{param_set}.png"
    plot_crash(result, png)
    result["plot"] = png.name
    runs[param_set] = result
    write_json(out, {"runs": runs, "method": crash.__doc__.strip()})
    keys = ("debt_liquidated", "bad_debt", "recovery_ratio", "min_sale_over_ref", "auctions", "auctions_redone")
    for k in keys:
        click.echo(f"{k:20} {result[k]}")
    click.echo(f"written to {out} and {png}")
