"""Keeper scale: how fast one keeper starts and clears a wave of unsafe accounts, by size.

For each size (1,000 and 10,000 accounts by default), on a fresh anvil (30,000,000 block gas
limit, automine off, 12-second block timestamps):

1. Open the accounts through the Seeder (vault.deposit + vault.borrow, so the keeper indexes
   real events): 2 WETH each at 3,000, health spread evenly over [1.08, 1.5].
2. Start `python -m unwind.keeper --kick-only`; `startup_s` is the wall time from spawning the
   process to its "indexed N accounts" line (Python start-up, index from eth_getLogs, first reads).
3. Mine `quiet_blocks` blocks, `slice_s` seconds of wall time apart: `rpc_calls_per_block` is the
   keeper's RPC request count (its own counter, JSON-RPC batch elements counted one by one) over
   those blocks, divided by their number. It includes polling for new blocks.
4. WETH falls 10% and the OSM confirms it (two hops with pokes): every account with health
   below 1/0.9 becomes liquidatable in block B0 (`unsafe`, read with vault.healthOf at B0).
5. Mine a block every `slice_s` seconds of wall time until every unsafe account is liquidated:
   `blocks_to_clear` = block of the last Liquidate event - B0. `min_blocks_possible` =
   ceil(unsafe x gas per liquidation / block gas limit), the gas per liquidation being the
   mean over this run's liquidation transactions (gasUsed / accounts liquidated).
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from pathlib import Path

from unwind.bench.chain import BLOCK_GAS_LIMIT, Anvil, free_port
from unwind.bench.harness import event_topic, metrics, setup_bench, start_keeper, wait_processed
from unwind.params import WAD

PRICE = 3000
DROP_TO = "2700"
COLLATERAL = 2 * WAD  # WETH per account
HEALTH_RANGE = (1.08, 1.5)


def debts_for(n: int, lo: float = HEALTH_RANGE[0], hi: float = HEALTH_RANGE[1]) -> list[int]:
    """Debts giving n accounts of 2 WETH at PRICE a health spread evenly over [lo, hi]."""
    weighted = 2 * PRICE * 0.8  # collateral value x liquidation threshold
    return [int(weighted / (lo + (hi - lo) * (i + 0.5) / n) * 10**6) * 10**12 for i in range(n)]


def run_size(project, accounts, n: int, slice_s: float, quiet_blocks: int, batch_size: int, workdir: Path,
             log=print) -> dict:
    from ape import networks

    workdir.mkdir(parents=True, exist_ok=True)
    with Anvil(workdir / "anvil.log") as anvil, networks.parse_network_choice(anvil.url):
        bench = setup_bench(project, accounts, anvil.rpc)
        s, rpc = bench.system, anvil.rpc
        seeder = bench.deploy_seeder()
        rpc.automine(False)
        t0 = time.time()
        borrowers = bench.open_accounts(seeder, "WETH", [COLLATERAL] * n, debts_for(n), bench.operator.address)
        log(f"  opened {n:,} accounts in {time.time() - t0:.1f}s (block {rpc.block_number()})")

        keeper_account = accounts.test_accounts[1]
        port = free_port()
        keeper, spawned = start_keeper(bench, anvil.url, keeper_account.private_key, workdir, f"keeper-{n}", port,
                                       ("--kick-only", "--batch-size", str(batch_size)))
        try:
            if not keeper.wait_for("indexed", 120):
                raise RuntimeError(f"keeper did not index in 120 s:\n{keeper.output()[-2000:]}")
            startup_s = time.time() - spawned
            indexed = re.search(r"indexed (\d+) accounts .* in ([0-9.]+)s", keeper.output())
            if int(indexed.group(1)) != n:
                raise RuntimeError(f"keeper indexed {indexed.group(1)} accounts, {n} were opened")
            head = rpc.block_number()
            if not wait_processed(port, head, 60, keeper):
                raise RuntimeError("keeper did not process the head block")
            log(f"  keeper indexed {n:,} accounts: {startup_s:.2f}s from spawn (index itself {indexed.group(2)}s)")

            calls0 = metrics(port)["unwind_keeper_rpc_calls_total"]
            for _ in range(quiet_blocks):
                rpc.mine(bench.timestamp() + 12)
                time.sleep(slice_s)
            wait_processed(port, rpc.block_number(), 30, keeper)
            quiet = (metrics(port)["unwind_keeper_rpc_calls_total"] - calls0) / quiet_blocks

            b0 = bench.move_price_confirmed({"WETH": DROP_TO})
            health = bench.health(borrowers, b0)
            unsafe = sum(1 for h in health if h < WAD)
            log(f"  WETH {PRICE} -> {DROP_TO} confirmed in block {b0}: {unsafe:,} accounts unsafe")
            calls1 = metrics(port)["unwind_keeper_rpc_calls_total"]
            liq_topic = event_topic(s.engine, "Liquidate")
            liquidated, last, blocks = 0, b0, 0
            while liquidated < unsafe and blocks < 200:
                time.sleep(slice_s)
                rpc.mine(bench.timestamp() + 12)
                blocks += 1
                head = rpc.block_number()
                found = bench.logs(s.engine.address, liq_topic, head, head)
                if found:
                    liquidated += len(found)
                    last = head
            calls2 = metrics(port)["unwind_keeper_rpc_calls_total"]
        finally:
            keeper.stop()

        # gas of the keeper's liquidation transactions, and how full their blocks were
        gas_used, fill = 0, []
        for number in range(b0 + 1, last + 1):
            block = rpc.block(number, True)
            fill.append(int(block["gasUsed"], 16))
            hashes = [t["hash"] for t in block["transactions"] if t["from"].lower() == keeper_account.address.lower()]
            gas_used += sum(int(r["gasUsed"], 16) for r in bench.receipts(hashes))
        gas_per_liq = gas_used / liquidated if liquidated else 0
        return {
            "accounts": n,
            "unsafe": unsafe,
            "liquidated": liquidated,
            "startup_s": round(startup_s, 2),
            "index_s": float(indexed.group(2)),
            "blocks_to_clear": last - b0 if liquidated == unsafe else None,
            "min_blocks_possible": math.ceil(unsafe * gas_per_liq / BLOCK_GAS_LIMIT) if liquidated else None,
            "gas_per_liquidation": round(gas_per_liq),
            "block_gas_used": fill,
            "rpc_calls_per_block": round(quiet, 2),
            "rpc_calls_per_block_clearing": round((calls2 - calls1) / max(blocks, 1), 2),
            "keeper_batch_size": batch_size,
            "slice_s": slice_s,
        }


def run(project, accounts, sizes=(1_000, 10_000), slice_s: float = 2.0, quiet_blocks: int = 10,
        batch_size: int = 25, workdir: Path | None = None, log=print) -> dict:
    workdir = Path(workdir or tempfile.mkdtemp(prefix="unwind-bench-"))
    runs = []
    for n in sizes:
        log(f"keeper scale: {n:,} accounts")
        t0 = time.time()
        entry = run_size(project, accounts, n, slice_s, quiet_blocks, batch_size, workdir / f"n{n}", log)
        entry["wall_s"] = round(time.time() - t0, 1)
        log(f"  -> {entry}")
        runs.append(entry)
    return {
        "runs": runs,
        "block_gas_limit": BLOCK_GAS_LIMIT,
        "block_seconds": 12,
        "method": __doc__.strip(),
    }
