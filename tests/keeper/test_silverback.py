"""The silverback bot (bots/keeper_bot.py) as its own process, against an anvil this test starts.

anvil runs with `--block-time 1` on a free port (silverback with `foundry: host: auto` would start
anvils of its own: toolchain.md pitfall 7). `ape run deploy` deploys onto it (with automine on for
the deployment, so sixty transactions don't wait a second each), then interval mining resumes,
the bot starts, a price falls, and the liquidation is read back from the chain. anvil, the deploy
and the bot each run in a process group of their own that is killed whatever happens.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from web3 import Web3

from unwind.keeper.process import ROOT
from unwind.params import WAD, default_params

BUILD = ROOT / ".build" / "__local__.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen, first=signal.SIGTERM, grace: float = 15.0) -> None:
    """Signal the process group `proc` leads, then SIGKILL it if it lingers."""
    for sig, wait in ((first, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:  # the leader is gone; kill anything it left in its group (an anvil silverback started)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def started(tmp_path):
    """Start processes in their own groups; every group is gone after the test, pass or fail."""
    procs = []

    def start(name, cmd, env=None):
        log = open(tmp_path / f"{name}.log", "w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env or dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        proc.log_path = tmp_path / f"{name}.log"
        proc.log_file = log
        procs.append(proc)
        return proc

    yield start
    for proc in reversed(procs):  # the bot before its anvil
        stop_group(proc, signal.SIGINT if "silverback" in proc.args[0] else signal.SIGTERM)
        proc.log_file.close()
    lingering = [p.args[:2] for p in procs if group_alive(p.pid)]
    assert not lingering, f"processes left running: {lingering}"


def abi_of(name: str) -> list:
    return json.loads(BUILD.read_text())["contractTypes"][name]["abi"]


def send(w3, fn, sender):
    """Send from an unlocked anvil account and wait for the receipt (status checked)."""
    tx_hash = fn.transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
    assert receipt["status"] == 1, f"{fn.fn_name} reverted"
    return receipt


def test_silverback_bot_liquidates_on_its_own_anvil(started, tmp_path, accounts):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    anvil = started("anvil", ["anvil", "--port", str(port), "--block-time", "1", "--silent"])
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 10}))
    end = time.time() + 30
    while not w3.is_connected():
        assert time.time() < end and anvil.poll() is None, "anvil did not start"
        time.sleep(0.1)

    # deploy with the project's own command; automine for the deployment only
    w3.provider.make_request("evm_setAutomine", [True])
    deploy = started("deploy", ["ape", "run", "deploy", "--network", url, "--account", "TEST::0",
                                "--out", str(tmp_path / "deployments")])
    assert deploy.wait(timeout=180) == 0, deploy.log_path.read_text()[-3000:]
    (record_path,) = (tmp_path / "deployments").glob("*.json")
    record = json.loads(record_path.read_text())
    c = record["contracts"]

    operator, keeper, borrower = (a.address for a in (accounts[0], accounts[1], accounts[2]))
    vault = w3.eth.contract(address=c["vault"], abi=abi_of("Vault"))
    engine = w3.eth.contract(address=c["engine"], abi=abi_of("LiquidationEngine"))
    oracle = w3.eth.contract(address=c["oracle"], abi=abi_of("OracleAdapter"))
    tokens = {s: w3.eth.contract(address=v["token"], abi=abi_of("MockERC20")) for s, v in record["collateral"].items()}
    feeds = {s: w3.eth.contract(address=v["feed"], abi=abi_of("MockAggregator")) for s, v in record["collateral"].items()}
    weth, weth_id = tokens["WETH"], record["collateral"]["WETH"]["id"]

    # one account at 95% of its borrow limit on 10 WETH
    send(w3, weth.functions.mint(borrower, 10 * WAD), borrower)
    send(w3, weth.functions.approve(vault.address, 10 * WAD), borrower)
    send(w3, vault.functions.deposit(borrower, weth_id, 10 * WAD), borrower)
    limit = vault.functions.maxBorrow(borrower).call()
    send(w3, vault.functions.borrow(borrower, limit * 95 // 100, borrower), borrower)
    assert vault.functions.healthOf(borrower).call() > WAD
    w3.provider.make_request("evm_setIntervalMining", [1])  # back to a block a second

    env = dict(os.environ, APE_FOUNDRY_HOST=url, UNWIND_DEPLOYMENT=str(record_path),
               UNWIND_KEEPER_KEY=accounts[1].private_key, PYTHONUNBUFFERED="1")
    # toolchain/bin/silverback (on PATH under make and toolchain/env.sh): silverback's home in .build/
    silverback = shutil.which("silverback") or str(Path(sys.executable).with_name("silverback"))
    bot = started("silverback", [silverback, "run", "bots.keeper_bot:bot", "--network", "ethereum:local:foundry"],
                  env=env)
    end = time.time() + 90
    handled = re.compile(r"on_block\[block=0x[0-9a-f]+\] - [0-9.]+s")  # a block handler that finished
    while not handled.search(bot.log_path.read_text()):
        assert bot.poll() is None, f"bot exited {bot.returncode}:\n{bot.log_path.read_text()[-3000:]}"
        assert time.time() < end, f"the bot handled no block:\n{bot.log_path.read_text()[-3000:]}"
        time.sleep(0.2)

    # WETH -25%, confirmed through two oracle delay hops (fresh rounds and a poke each hop)
    crash_block = w3.eth.block_number
    delay = default_params().oracle_delay  # what `ape run deploy` configures
    feed_decimals = feeds["WETH"].functions.decimals().call()
    send(w3, feeds["WETH"].functions.setAnswer(int(Decimal("2250") * 10**feed_decimals)), operator)
    for _ in range(2):
        w3.provider.make_request("evm_increaseTime", [delay + 1])
        hashes = [f.functions.setAnswer(f.functions.answer().call()).transact({"from": operator}) for f in feeds.values()]
        hashes += [oracle.functions.poke(tokens[s].address).transact({"from": operator}) for s in tokens]
        w3.provider.make_request("evm_mine", [])
        assert all(w3.eth.wait_for_transaction_receipt(h, timeout=30, poll_latency=0.05)["status"] == 1 for h in hashes)
    assert vault.functions.healthOf(borrower).call() < WAD, "the account is unsafe now"

    # the bot liquidates it: read from the chain
    liquidate_event = engine.events.Liquidate()
    end = time.time() + 60
    logs = []
    while not logs:
        assert bot.poll() is None, f"bot exited {bot.returncode}:\n{bot.log_path.read_text()[-3000:]}"
        assert time.time() < end, f"no liquidation:\n{bot.log_path.read_text()[-4000:]}"
        logs = liquidate_event.get_logs(from_block=crash_block, argument_filters={"account": borrower})
        time.sleep(0.3)
    (event,) = logs
    assert event["args"]["keeper"] == keeper
    assert event["blockNumber"] > crash_block
    tx = w3.eth.get_transaction(event["transactionHash"])
    assert tx["from"] == keeper, "sent by the bot's key"
    assert vault.functions.healthOf(borrower).call() >= WAD, "back above the liquidation line"
    assert bot.poll() is None, "the bot is still running"

    stop_group(bot, signal.SIGINT)
    assert not group_alive(bot.pid)
    assert "summary:" in bot.log_path.read_text()
