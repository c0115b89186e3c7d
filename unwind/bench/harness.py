"""What both benchmarks share: a deployed system on the benchmark's anvil, transactions sent
through the node in bulk, accounts opened by the Seeder, oracle moves, and keeper processes.

Deployment goes through Ape (unwind.deploy, like everywhere else); after that the harness talks
raw JSON-RPC (unwind.bench.chain.Rpc) with automine off, so it can put thousands of transactions
in the pool and mine them a block at a time. Transactions are sent with eth_sendTransaction from
anvil's unlocked dev accounts (ape's test mnemonic), so nothing is signed in Python.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from eth_utils import keccak, to_checksum_address

from unwind.bench.chain import Rpc
from unwind.deploy import System, deploy_system, feed_answer
from unwind.keeper.process import KeeperProcess, write_record

HIGH_FEE = {"maxFeePerGas": hex(10_000 * 10**9), "maxPriorityFeePerGas": hex(3 * 10**9)}


def data_of(method, *args) -> str:
    """Calldata of an ape contract method call (ape's encoder: fine outside per-block loops)."""
    return "0x" + bytes(method.encode_input(*args)).hex()


def calldata(signature: str, types: list[str], args: list) -> str:
    """Calldata from a signature, without ape's per-call overhead (used in per-block loops)."""
    from eth_abi import encode

    return "0x" + (keccak(text=signature)[:4] + encode(types, args)).hex()


def tx(sender: str, to: str, data: str, gas: int, fees: dict = HIGH_FEE, nonce: int | None = None) -> dict:
    out = dict(fees, **{"from": sender, "to": to, "data": data, "gas": hex(gas)})
    if nonce is not None:
        out["nonce"] = hex(nonce)
    return out


@dataclass
class Bench:
    """A deployed system plus the raw RPC handle and the accounts the harness acts with."""

    system: System
    rpc: Rpc
    operator: object  # ape test account 0: deploys, moves feeds, opens accounts
    project: object
    answers: dict = field(default_factory=dict)  # symbol -> last feed answer the harness set

    def send(self, txs: list[dict]) -> list[str]:
        """Put transactions in the pool (one JSON-RPC batch); returns their hashes."""
        return self.rpc.batch([("eth_sendTransaction", [t]) for t in txs])

    def mine_until_empty(self, timestamp_step: int = 12, max_blocks: int = 1_000) -> int:
        """Mine blocks `timestamp_step` seconds apart until the pool is empty; returns how many."""
        mined = 0
        while self.rpc.pending_count() > 0:
            if mined >= max_blocks:
                raise RuntimeError(f"the pool did not drain in {max_blocks} blocks")
            self.rpc.mine(self.timestamp() + timestamp_step)
            mined += 1
        return mined

    def timestamp(self) -> int:
        return int(self.rpc.block("latest")["timestamp"], 16)

    def receipts(self, hashes: list[str]) -> list[dict]:
        return self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])

    # --- oracle ---
    def price_txs(self, prices: dict[str, str], poke: bool = True) -> list[dict]:
        """Feed rounds at `prices` (symbol -> price; other feeds get a fresh round at their last
        answer so none goes stale) and a poke of each token, from the operator."""
        s, op = self.system, self.operator.address
        out = []
        for c in s.params.collaterals:
            feed = s.feeds[c.symbol]
            if c.symbol in prices:
                answer = feed_answer(prices[c.symbol], c.feed_decimals)
            else:
                answer = self.answers.get(c.symbol) or feed_answer(c.price, c.feed_decimals)
            self.answers[c.symbol] = answer
            out.append(tx(op, feed.address, calldata("setAnswer(int256)", ["int256"], [answer]), 100_000))
        if poke:
            for c in s.params.collaterals:
                token = s.collateral[c.symbol]
                out.append(tx(op, s.oracle.address, calldata("poke(address)", ["address"], [token.address]),
                              300_000))
        return out

    def move_price_confirmed(self, prices: dict[str, str], step: int | None = None) -> int:
        """Move feeds to `prices` and let two OSM hops pass (with pokes) so the confirmed
        liquidation price shows the move. Returns the block where it became confirmed."""
        step = step or self.system.params.oracle_delay + 1
        self.send(self.price_txs(prices))
        self.rpc.mine(self.timestamp() + 12)
        for _ in range(2):
            self.send(self.price_txs(prices))
            self.rpc.mine(self.timestamp() + step)
        return self.rpc.block_number()

    # --- accounts ---
    def deploy_seeder(self):
        return self.project.Seeder.deploy(self.system.vault, sender=self.operator)

    def open_accounts(self, seeder, symbol: str, amounts: list[int], debts: list[int], receiver: str,
                      per_tx: int = 100) -> list[str]:
        """Open len(amounts) accounts through the Seeder, `per_tx` per transaction, mined as
        blocks fill (automine must be off). Returns the account addresses in order."""
        s, op = self.system, self.operator
        token = s.collateral[symbol]
        total = sum(amounts)
        self.send([tx(op.address, token.address, data_of(token.mint, seeder.address, total), 100_000)])
        self.mine_until_empty()
        first_nonce = int(self.rpc("eth_getTransactionCount", seeder.address, "latest"), 16)
        nonce = int(self.rpc("eth_getTransactionCount", op.address, "pending"), 16)
        txs = []
        for i in range(0, len(amounts), per_tx):
            a, d = amounts[i:i + per_tx], debts[i:i + per_tx]
            txs.append(tx(op.address, seeder.address, data_of(seeder.open, s.ids[symbol], a, d, receiver),
                          200_000 + 150_000 * len(a), nonce=nonce + len(txs)))
        hashes = self.send(txs)
        self.mine_until_empty()
        failed = [r["transactionHash"] for r in self.receipts(hashes) if int(r["status"], 16) != 1]
        if failed:
            raise RuntimeError(f"{len(failed)} Seeder.open transactions reverted, e.g. {failed[0]}")
        return [create_address(seeder.address, first_nonce + i) for i in range(len(amounts))]

    def health(self, accounts: list[str], block: int | None = None) -> list[int]:
        vault = self.system.vault
        tag = hex(block) if block is not None else "latest"
        calls = [("eth_call", [{"to": vault.address, "data": data_of(vault.healthOf, a)}, tag]) for a in accounts]
        return [int(r, 16) for r in self.rpc.batch(calls)]

    def logs(self, address: str, topic0: bytes, lo: int, hi: int) -> list[dict]:
        return self.rpc("eth_getLogs", {"address": address, "fromBlock": hex(lo), "toBlock": hex(hi),
                                        "topics": ["0x" + topic0.hex()]})


def create_address(deployer: str, nonce: int) -> str:
    """The address CREATE gives the `nonce`-th contract a contract deploys (contracts start at 1)."""
    import rlp

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(deployer[2:]), nonce]))[12:])


def event_topic(contract, name: str) -> bytes:
    abi = next(a for a in contract.contract_type.abi if a.type == "event" and a.name == name)
    return keccak(text=abi.selector)


def setup_bench(project, accounts, rpc: Rpc, params=None) -> Bench:
    """Deploy Unwind with Ape while anvil still automines (the caller turns it off afterwards)."""
    operator = accounts.test_accounts[0]
    return Bench(deploy_system(project, operator, params), rpc, operator, project)


# --- keepers ------------------------------------------------------------------------------

def metrics(port: int) -> dict:
    """A keeper's Prometheus samples by name (empty while it is not serving yet)."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def start_keeper(bench: Bench, rpc_url: str, key: str, workdir: Path, name: str, metrics_port: int,
                 extra=()) -> tuple[KeeperProcess, float]:
    """A keeper process (python -m unwind.keeper); returns it and its spawn time."""
    record = write_record(bench.system, Path(workdir) / "deployment.json")
    t0 = time.time()
    k = KeeperProcess(rpc_url, record, key, Path(workdir), name,
                      ("--metrics-port", str(metrics_port), *extra), poll_interval=0.2)
    return k, t0


def wait_processed(port: int, block: int, timeout: float, keeper: KeeperProcess | None = None) -> bool:
    """Wait until the keeper reports `block` processed (its last_block gauge)."""
    end = time.time() + timeout
    while time.time() < end:
        if metrics(port).get("unwind_keeper_last_block", -1) >= block:
            return True
        if keeper is not None and not keeper.alive():
            raise RuntimeError(f"keeper exited {keeper.proc.returncode}:\n{keeper.output()[-3000:]}")
        time.sleep(0.05)
    return False

