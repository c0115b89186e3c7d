"""`ape run bench_report`: the benchmark figures against their targets, as a table.

    ape run bench_report [--results bench/results] [--markdown]
"""

from pathlib import Path

import click

from unwind.bench.report import print_table


@click.command()
@click.option("--results", type=click.Path(path_type=Path), default=Path("bench/results"), show_default=True)
@click.option("--markdown", is_flag=True, help="a Markdown table (for the README) instead of a terminal table")
def cli(results, markdown):
    print_table(results, markdown)
