"""`ape run scenario` as a user runs it: its own process and anvil."""

import os
import shutil
import subprocess
from pathlib import Path

from unwind import scenarios

ROOT = Path(__file__).resolve().parents[2]


def ape_run(*args, timeout=600):
    return subprocess.run([shutil.which("ape"), "run", "scenario", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def test_list_names_every_scenario():
    res = ape_run("--list")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    names = scenarios.names()
    assert len(names) == 18
    for name in names:
        assert name in res.stdout


def test_unknown_name_exits_non_zero_listing_the_valid_ones():
    res = ape_run("no-such-attack")
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "unknown scenario" in out
    for name in ("all", "stale-feed", "griefing"):
        assert name in out


def test_a_scenario_prints_the_attack_the_protocol_pnl_and_the_books():
    res = ape_run("zero-negative")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout
    for text in ("What happened", "attacker", "protocol", "attacker PnL", "gas", "Collateral and debt",
                 "vault debt", "criterion holds", "attack succeeded, as it must on the naive setup",
                 "every scenario showed what it should"):
        assert text in out, text
