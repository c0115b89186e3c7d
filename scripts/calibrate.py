"""`ape run calibrate --csv FILE --out FILE [...]`: the calibration helper (unwind.calibrate) under Ape.

Needs no chain; `python -m unwind.calibrate` does the same without starting Ape.
"""

import sys

import click

from unwind.calibrate import main


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(args):
    """Risk parameters from a price history (see python -m unwind.calibrate --help)."""
    sys.exit(main(list(args)))
