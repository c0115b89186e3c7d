"""`ape run export_abis [--out DIR]`: write the ABIs of Unwind's public contracts.

One JSON file per contract plus index.json (record key -> file), by default into .build/abi/
(build output, not committed). `unwind.client` and any indexer read them from there.
"""

import click
from ape import project

from unwind.abis import DEFAULT_ABI_DIR, PUBLIC, abis_from_project, write_abis


@click.command()
@click.option("--out", "out_dir", default=str(DEFAULT_ABI_DIR), show_default=True, help="folder for the ABI files")
def cli(out_dir):
    abis = {PUBLIC[key]: abi for key, abi in abis_from_project(project).items()}
    for path in write_abis(abis, out_dir):
        click.echo(f"wrote {path}")
