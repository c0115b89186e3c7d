"""The benchmark's own anvil and a lean JSON-RPC client for it.

Benchmarks start anvil themselves (not through ape-foundry, which adds step tracing and no
block gas limit flag) so that the chain looks like a real one: a 30,000,000 block gas limit,
EIP-1559 fees starting at 1 gwei, transactions ordered by fee, and blocks that are mined only
when the harness says so (`mine`), each with the timestamp it chooses.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

BLOCK_GAS_LIMIT = 30_000_000
BASE_FEE = 10**9  # [wei] at genesis
MNEMONIC = "test test test test test test test test test test test junk"  # ape's test accounts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RpcError(RuntimeError):
    pass


class Rpc:
    """JSON-RPC over one keep-alive HTTP session; `batch` sends many calls in one request."""

    def __init__(self, url: str, timeout: float = 120.0):
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()
        self._ids = itertools.count(1)

    def __call__(self, method: str, *params):
        r = self.session.post(self.url, json={"jsonrpc": "2.0", "id": next(self._ids), "method": method,
                                              "params": list(params)}, timeout=self.timeout)
        body = r.json()
        if body.get("error"):
            raise RpcError(f"{method}: {body['error']}")
        return body["result"]

    def batch(self, calls, chunk: int = 500, check: bool = True) -> list:
        """[(method, params), ...] -> results in order (errors raise unless check=False)."""
        out = []
        calls = list(calls)
        for i in range(0, len(calls), chunk):
            payload = [{"jsonrpc": "2.0", "id": j, "method": m, "params": list(p)}
                       for j, (m, p) in enumerate(calls[i:i + chunk])]
            r = self.session.post(self.url, json=payload, timeout=self.timeout)
            answers = sorted(r.json(), key=lambda a: a["id"])
            for a in answers:
                if a.get("error") and check:
                    raise RpcError(f"{calls[i + a['id']][0]}: {a['error']}")
                out.append(a.get("result") if not a.get("error") else a)
        return out

    # --- chain control (anvil) ---
    def block_number(self) -> int:
        return int(self("eth_blockNumber"), 16)

    def block(self, number="latest", full: bool = False) -> dict:
        tag = hex(number) if isinstance(number, int) else number
        return self("eth_getBlockByNumber", tag, full)

    def automine(self, on: bool) -> None:
        self("evm_setAutomine", on)

    def mine(self, timestamp: int | None = None) -> dict:
        """Mine one block (at `timestamp` when given) with what the pool holds, up to the gas limit."""
        if timestamp is not None:
            self("evm_setNextBlockTimestamp", hex(timestamp))
        self("evm_mine")
        return self.block("latest")

    def pending_count(self) -> int:
        return int(self("txpool_status")["pending"], 16)


class Anvil:
    """anvil on a free local port; `stop()` (or the context manager) ends it."""

    def __init__(self, log_path: Path | None = None, accounts: int = 10, gas_limit: int = BLOCK_GAS_LIMIT,
                 base_fee: int = BASE_FEE, hardfork: str = "cancun"):
        binary = shutil.which("anvil")
        if binary is None:
            raise RuntimeError("anvil not found on PATH: run `make setup` (or source toolchain/env.sh)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [binary, "--port", str(self.port), "--host", "127.0.0.1", "--mnemonic", MNEMONIC,
                    "--accounts", str(accounts), "--balance", "1000000", "--gas-limit", str(gas_limit),
                    "--block-base-fee-per-gas", str(base_fee), "--hardfork", hardfork, "--order", "fees",
                    "--silent"]
        self._log = open(log_path, "w") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT)
        self.rpc = Rpc(self.url)
        end = time.time() + 30
        while True:
            try:
                self.rpc.block_number()
                break
            except requests.ConnectionError:
                if self.proc.poll() is not None or time.time() > end:
                    raise RuntimeError(f"anvil did not start ({' '.join(self.cmd)})")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()

    def __enter__(self) -> "Anvil":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
