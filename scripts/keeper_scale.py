"""`ape run keeper_scale`: the keeper-scale benchmark (issue 8) on its own anvil, as JSON.

    ape run keeper_scale [--sizes 1000,10000] [--slice 2.0] [--out bench/results/keeper_scale.json]

See unwind/bench/keeper_scale.py for what is measured and how.
"""

from pathlib import Path

import click
from ape import accounts, project

from unwind.bench import keeper_scale
from unwind.bench.report import write_json


@click.command()
@click.option("--sizes", default="1000,10000", show_default=True, help="numbers of accounts, comma-separated")
@click.option("--slice", "slice_s", type=click.FloatRange(min=0.1), default=2.0, show_default=True,
              help="wall-clock seconds the keeper gets between two blocks")
@click.option("--batch-size", type=click.IntRange(min=1), default=25, show_default=True, help="keeper --batch-size")
@click.option("--out", default="bench/results/keeper_scale.json", show_default=True)
@click.option("--workdir", type=click.Path(path_type=Path), default=None, help="logs of anvil and keepers")
def cli(sizes, slice_s, batch_size, out, workdir):
    try:
        ns = [int(x) for x in sizes.split(",")]
        assert all(n > 0 for n in ns)
    except (ValueError, AssertionError):
        raise click.BadParameter(f"{sizes!r}: expected positive integers separated by commas, e.g. 1000,10000")
    result = keeper_scale.run(project, accounts, ns, slice_s=slice_s, batch_size=batch_size, workdir=workdir,
                              log=click.echo)
    write_json(Path(out), result)
    click.echo(f"written to {out}")
