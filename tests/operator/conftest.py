"""Operator tests: deployments with records, a second process reading them, configure, calibrate."""

import json
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
def abi_dir(tmp_path_factory):
    """`ape run export_abis --out DIR`, as an integrator runs it."""
    out = tmp_path_factory.mktemp("abi")
    res = ape_run("export_abis", "--out", str(out))
    assert res.returncode == 0, show(res)
    index = json.loads((out / "index.json").read_text())
    assert index["vault"] == "Vault.json" and index["auction"] == "DutchAuction.json"
    assert any(item.get("name") == "take" for item in json.loads((out / "DutchAuction.json").read_text()))
    return out
