"""`ape run deploy` as a user runs it: its own process, its own anvil, a record on disk."""

import json
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ape_run_deploy_writes_a_record(tmp_path):
    res = subprocess.run(
        [shutil.which("ape"), "run", "deploy", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=os.environ.copy(),
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    record = json.loads((tmp_path / "ethereum-local.json").read_text())
    assert record["chain_id"] == 31337
    assert len(record["git_commit"]) in (40, 7) or record["git_commit"] == "unknown"
    for name in ("debt_token", "oracle", "buffer", "vault", "auction", "engine", "timelock"):
        assert record["contracts"][name].startswith("0x") and len(record["contracts"][name]) == 42
    assert set(record["collateral"]) == {"WETH", "WBTC", "USDC"}
    assert "deployed Unwind" in res.stdout


def test_ape_run_deploy_rejects_an_unknown_network():
    res = subprocess.run(
        [shutil.which("ape"), "run", "deploy", "--network", "ethereum:nonexistent"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ.copy(),
    )
    assert res.returncode != 0
    assert "nonexistent" in (res.stdout + res.stderr)
