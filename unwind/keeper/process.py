"""Start `python -m unwind.keeper` as its own process (the demo and the end-to-end tests do)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write_record(system, path: Path, start_block: int = 0) -> Path:
    """A deployment record in the shape `ape run deploy` writes (what the keeper needs of it)."""
    path.write_text(json.dumps({"contracts": {k: c.address for k, c in system.modules.items()},
                                "start_block": start_block}))
    return path


class KeeperProcess:
    """The keeper in a subprocess; its log goes to a file the caller can read."""

    def __init__(self, rpc_url: str, record: Path, key: str, workdir: Path, name: str = "keeper",
                 extra=(), poll_interval: float = 0.2):
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"{name}.log"
        self.state = workdir / f"{name}.state.json"
        self.cmd = [sys.executable, "-m", "unwind.keeper", "--rpc-url", rpc_url, "--deployment", str(record),
                    "--state-file", str(self.state), "--poll-interval", str(poll_interval), *extra]
        self.env = dict(os.environ, UNWIND_KEEPER_KEY=key, PYTHONUNBUFFERED="1")
        self.proc = None
        self.start()

    def start(self) -> None:
        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_for(self, text: str, timeout: float = 60.0, count: int = 1) -> bool:
        end = time.time() + timeout
        while time.time() < end:
            if self.output().count(text) >= count:
                return True
            if not self.alive():
                raise RuntimeError(f"keeper exited {self.proc.returncode}:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        return False

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode
