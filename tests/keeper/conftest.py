"""Keeper end-to-end fixtures: a deployed system on the test anvil and a keeper as its own process."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from unwind.deploy import deploy_system
from unwind.params import WAD

ROOT = Path(__file__).resolve().parents[2]


class KeeperProcess:
    """`python -m unwind.keeper` in a subprocess, its log captured to a file."""

    def __init__(self, rpc_url, record: Path, key: str, workdir: Path, name="keeper", extra=()):
        self.log_path = workdir / f"{name}.log"
        self.state = workdir / f"{name}.state.json"
        cmd = [sys.executable, "-m", "unwind.keeper", "--rpc-url", rpc_url, "--deployment", str(record),
               "--state-file", str(self.state), "--poll-interval", "0.2", *extra]
        env = dict(os.environ, UNWIND_KEEPER_KEY=key, PYTHONUNBUFFERED="1")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, text: str, timeout: float = 60.0) -> bool:
        end = time.time() + timeout
        while time.time() < end:
            if text in self.output():
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"keeper exited {self.proc.returncode}:\n{self.output()[-3000:]}")
            time.sleep(0.2)
        return False

    def stop(self, sig=None) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def system(project, accounts):
    return deploy_system(project, accounts[0])


@pytest.fixture
def record(system, tmp_path, chain):
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps({"contracts": {k: c.address for k, c in system.modules.items()}, "start_block": 0}))
    return path


@pytest.fixture
def spawn_keeper(chain, tmp_path, record):
    started = []

    def spawn(account, name="keeper", extra=()):
        k = KeeperProcess(chain.provider.uri, record, account.private_key, tmp_path, name, extra)
        started.append(k)
        return k

    yield spawn
    for k in started:
        k.stop()


def fund_keeper(system, keeper, debt_tokens=500_000):
    """Give a keeper debt tokens to pay for takes (a stablecoin-backed position of its own)."""
    usdc = system.collateral["USDC"]
    units = debt_tokens * 2 * 10**6
    usdc.mint(keeper, units, sender=keeper)
    usdc.approve(system.vault, units, sender=keeper)
    system.vault.deposit(keeper, system.ids["USDC"], units, sender=keeper)
    system.vault.borrow(keeper, debt_tokens * WAD, keeper, sender=keeper)
