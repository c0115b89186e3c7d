"""`ape run deploy --params` against a running node: the record, a second process using it, a
calibrated parameter file, and deployments that resume after being killed."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from tests.operator.conftest import ROOT, ape_run, python_m, show
from unwind import calibrate
from unwind.client import UnwindClient
from unwind.params import WAD, default_params, load_params, to_document
from unwind.record import read_record

MODULES = ("debt_token", "oracle", "buffer", "vault", "auction", "engine", "direct", "timelock")


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, abi_dir):
    """Module fixtures before Ape's per-test isolation starts."""


def test_deploy_calibrated_file_and_use_the_record_from_another_process(chain, project, accounts, tmp_path, abi_dir):
    # The calibration helper on the shipped sample writes a file the deploy command accepts...
    params_file = tmp_path / "calibrated.yaml"
    assert calibrate.main(["--csv", str(ROOT / "data" / "sample_prices.csv"), "--out", str(params_file)]) == 0
    params = load_params(params_file)
    weth = params.collaterals[0]
    assert weth.auction.curve == "exponential" and weth != default_params().collaterals[0]

    # ...and `ape run deploy` deploys it to this node and records it.
    res = ape_run("deploy", "--network", chain.provider.uri, "--account", "TEST::0", "--params", str(params_file),
                  "--out", str(tmp_path))
    assert res.returncode == 0, show(res)
    assert "deployed Unwind to ethereum:custom" in res.stdout
    record = json.loads((tmp_path / "ethereum-custom.json").read_text())
    assert record["chain_id"] == chain.chain_id and record["complete"] is True
    assert len(record["git_commit"]) == 40 or record["git_commit"] == "unknown"
    assert record["deployer"] == accounts[0].address and record["params_file"] == str(params_file)
    assert record["params"] == json.loads(json.dumps(to_document(params), default=str))
    assert set(record["contracts"]) == set(MODULES) and set(record["collateral"]) == {"WETH", "WBTC", "USDC"}
    for key, d in record["deployments"].items():  # every contract: address, tx hash, block, with code there
        assert d["tx"].startswith("0x") and len(d["tx"]) == 66, key
        assert record["start_block"] <= d["block"] <= record["end_block"], key
        assert chain.provider.get_code(d["address"]), key
        receipt = chain.provider.web3.eth.get_transaction_receipt(d["tx"])
        assert receipt["contractAddress"] == d["address"] and receipt["blockNumber"] == d["block"]
    assert all(s["tx"] and s["block"] for s in record["steps"].values())
    assert record["contracts"]["vault"] == record["deployments"]["vault"]["address"]

    # A position, so the second process has something to read.
    vault = project.Vault.at(record["contracts"]["vault"])
    token = project.MockERC20.at(record["collateral"]["WETH"]["token"])
    alice = accounts[1]
    token.mint(alice, 10 * WAD, sender=alice)
    token.approve(vault, 10 * WAD, sender=alice)
    vault.deposit(alice, 0, 10 * WAD, sender=alice)
    vault.borrow(alice, 5_000 * WAD, alice, sender=alice)

    rec = str(tmp_path / "ethereum-custom.json")
    out = python_m("unwind.client", "--rpc-url", chain.provider.uri, "--deployment", rec, "--abis", str(abi_dir),
                   "--json", "health", alice.address)
    assert out.returncode == 0, show(out)
    health = json.loads(out.stdout)
    assert health["debt"] == vault.debtOf(alice) == 5_000 * WAD
    assert health["health"] == vault.healthOf(alice) and health["liquidatable"] is False
    assert health["collateral"] == [{"symbol": "WETH", "id": 0, "token": token.address, "amount": 10 * WAD}]

    # The parameters on chain are the calibrated ones (read the way `python -m unwind.client params` does).
    onchain = UnwindClient(deployment=rec, w3=chain.provider.web3, abi_dir=abi_dir).parameters()["collaterals"]["WETH"]
    assert onchain["liquidation_threshold"] * 10**18 == weth.liquidation_threshold
    assert onchain["auction"]["curve"] == "exponential" and onchain["auction"]["cut"] * 10**27 == weth.auction.cut

    # The configure command's dry run on that record: the diff, nothing sent.
    changed = tmp_path / "changed.yaml"
    changed.write_text(params_file.read_text().replace("  tip: 20 ", "  tip: 15 "))  # the base text, comments kept
    res = ape_run("configure", "--network", chain.provider.uri, "--account", "TEST::0", "--deployment", rec,
                  "--params", str(changed), "--dry-run")
    assert res.returncode == 0, show(res)
    assert "  liquidation.tip: 20 -> 15" in res.stdout
    assert "engine.setIncentive(15000000000000000000, 10000000000000000)" in res.stdout
    assert "dry run: 1 changes, 1 calls; nothing sent" in res.stdout
    assert project.LiquidationEngine.at(record["contracts"]["engine"]).tip() == 20 * WAD


def test_invalid_file_deploys_nothing(chain, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "params" / "local.yaml").read_text().replace("max_ltv: 0.75 ", "max_ltv: 0.95 ")
                   .replace("curve: exponential ", "curve: cubic "))
    nonce = chain.provider.web3.eth.get_transaction_count(chain.provider.web3.eth.accounts[0])
    res = ape_run("deploy", "--network", chain.provider.uri, "--account", "TEST::0", "--params", str(bad),
                  "--out", str(tmp_path))
    assert res.returncode == 2, show(res)
    errors = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: {bad}: collaterals.WETH.max_ltv: 0.95 is not below liquidation_threshold 0.8; allowed 0 <= max_ltv "
        f"< liquidation_threshold",
        f"error: {bad}: collaterals.WETH.auction.curve: unknown curve 'cubic'; allowed: linear, exponential, stairstep",
        "error: nothing was deployed",
    ]
    assert not (tmp_path / "ethereum-custom.json").exists()
    assert chain.provider.web3.eth.get_transaction_count(chain.provider.web3.eth.accounts[0]) == nonce


def test_killed_deploy_resumes(chain, project, accounts, tmp_path):
    """SIGKILL `ape run deploy` halfway; the same command again finishes from the record."""
    cmd = ["deploy", "--network", chain.provider.uri, "--account", "TEST::0", "--out", str(tmp_path)]
    proc = subprocess.Popen([shutil.which("ape"), "run", *cmd], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    path = tmp_path / "ethereum-custom.json"
    deadline = time.time() + 120
    before = None
    while time.time() < deadline and proc.poll() is None:
        if path.exists():
            data = json.loads(path.read_text())
            if len(data["deployments"]) + len(data["steps"]) >= 12:
                proc.send_signal(signal.SIGKILL)
                break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the deploy finished before it could be killed"
    before = json.loads(path.read_text())
    assert before["complete"] is False and before["contracts"] == {}

    res = ape_run(*cmd)
    assert res.returncode == 0, show(res)
    assert "resuming the interrupted deployment" in res.stdout
    # Whether a collateral is already listed is read without a reverting call: no trace that looks like a failure.
    assert "reverted" not in res.stdout + res.stderr and "collateralId" not in res.stdout + res.stderr, show(res)
    done = len(before["deployments"]) + len(before["steps"])
    steps = [line for line in res.stdout.splitlines() if line.startswith("step ")]
    assert steps[0].startswith(f"step {done + 1}/79: ") and steps[-1].startswith("step 79/79: "), show(res)
    after = read_record(path)
    assert after["complete"] is True
    for key, d in before["deployments"].items():  # nothing deployed twice
        assert after["deployments"][key] == d
    for key, s in before["steps"].items():
        assert after["steps"][key] == s
    assert len(after["deployments"]) == 14 and len(after["steps"]) == 65
    assert after["start_block"] == before["start_block"]
    # A working, handed-over system: the timelock governs, the deployer kept nothing.
    vault = project.Vault.at(after["contracts"]["vault"])
    assert vault.collateralCount() == 3
    admin = b"\x00" * 32
    assert vault.hasRole(admin, after["contracts"]["timelock"]) and not vault.hasRole(admin, accounts[0])


def test_live_network_record_is_not_overwritten_without_force(tmp_path):
    """A node with a non-development chain id counts as live: its complete record stays unless --force.
    (An unknown chain id: Ape would take a known one, e.g. Sepolia's, for that network and its settings.)"""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    node = subprocess.Popen([shutil.which("anvil"), "--port", str(port), "--chain-id", "424242", "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        record = tmp_path / "ethereum-custom.json"
        old = {"chain_id": 424242, "complete": True, "contracts": {"vault": "0x" + "11" * 20}, "deployments": {}}
        record.write_text(json.dumps(old))
        deadline = time.time() + 30
        while True:  # until the node listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "anvil did not start"
                time.sleep(0.1)
        res = ape_run("deploy", "--network", f"http://127.0.0.1:{port}", "--account", "TEST::0", "--out",
                      str(tmp_path), timeout=90)
        assert res.returncode == 2, show(res)
        assert ("error: a complete deployment is already recorded for this live network; pass --force to deploy "
                "again and replace the record") in res.stderr
        assert "warning: roles.timelock_delay is 0 s on a live network" in res.stderr
        assert json.loads(record.read_text()) == old
    finally:
        node.terminate()
        node.wait(timeout=10)


def test_progress_counts_every_step_of_other_parameters(chain, project, accounts):
    """`step n/N`: N (count_steps) is what deploy_system does, with adaptive risk, a separate guardian,
    a frozen collateral, a fee, a shorter ramp and two reserve chunks as well as with the defaults."""
    from unwind.deploy import Journal, count_steps, deploy_system
    from unwind.params import params_from_document

    doc = json.loads(json.dumps(to_document(default_params()), default=str))
    doc["adaptive"]["enabled"] = True
    doc["roles"]["guardian"] = accounts[5].address
    doc["collaterals"]["USDC"]["frozen"] = True
    doc["system"]["stability_fee"] = "1.000000001"
    doc["system"]["min_ramp_duration"] = 3600
    doc["liquidation"]["auction_reserve"] = 200
    params = params_from_document(doc)
    lines, journal = [], Journal()
    deploy_system(project, accounts[0], params, journal=journal, progress=lines.append)
    n = len(journal.data["deployments"]) + len(journal.data["steps"])
    assert n == count_steps(params, guardian_is_deployer=False) != count_steps(default_params(), True) == 79
    assert lines[0] == f"step 1/{n}: deploy DebtToken" and lines[-1].startswith(f"step {n}/{n}: ") and len(lines) == n
