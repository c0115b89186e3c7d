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
    # Quiet by default: progress, not Ape's log (no `INFO: Confirmed 0x...` per transaction).
    out = res.stdout + res.stderr
    assert "Confirmed 0x" not in out and "INFO:" not in out and "SUCCESS:" not in out, out[-3000:]
    steps = [line for line in res.stdout.splitlines() if line.startswith("step ")]
    assert steps[0] == "step 1/79: deploy DebtToken" and steps[-1].startswith("step 79/79: ") and len(steps) == 79
    assert "step 9/79: debt_token grants MINTER_ROLE to vault" in steps
    assert "step 27/79: collateral.WETH.listCollateral" in steps


def test_ape_run_deploy_verbose_shows_apes_log(tmp_path):
    res = subprocess.run(
        [shutil.which("ape"), "run", "deploy", "--out", str(tmp_path), "-v"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "UNWIND_DEPLOY_FAIL_AFTER": "2"},
    )
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert "INFO:     Confirmed 0x" in res.stdout + res.stderr
    assert "step 2/79: deploy OracleAdapter" in res.stdout


def test_ape_run_deploy_rejects_an_unknown_network():
    res = subprocess.run(
        [shutil.which("ape"), "run", "deploy", "--network", "ethereum:nonexistent"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ.copy(),
    )
    assert res.returncode != 0
    assert "nonexistent" in (res.stdout + res.stderr)
