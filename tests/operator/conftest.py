"""Operator tests: deployments with records, a second process reading them, configure, calibrate."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def ape_run(*args, timeout=300, env=None):
    """`ape run ...` as an operator runs it: its own process, from the project folder."""
    return subprocess.run([shutil.which("ape"), "run", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def python_m(*args, timeout=120):
    """`python -m ...` in a second process (no Ape)."""
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def show(res) -> str:
    return f"exit {res.returncode}\n--- stdout\n{res.stdout[-3000:]}\n--- stderr\n{res.stderr[-3000:]}"


@pytest.fixture(scope="module")
def abi_dir(project, tmp_path_factory):
    """What `ape run export_abis --out DIR` writes (same functions, without a third Ape start)."""
    from unwind.abis import PUBLIC, abis_from_project, write_abis

    out = tmp_path_factory.mktemp("abi")
    write_abis({PUBLIC[k]: abi for k, abi in abis_from_project(project).items()}, out)
    return out
