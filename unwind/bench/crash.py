"""Crash replay: a Black-Thursday-like hour against two competing keepers.

The path (all chain time in 12-second blocks that the harness mines itself):

- 500 accounts, 5 WETH each, opened at WETH 3,000; WETH then moves to 2,700 and the OSM confirms
  it, so at the start of the crash their health is spread evenly over [1.05, 2.0].
- Two keepers (`python -m unwind.keeper`, liquidate and bid, each holding 5,000,000 uUSD from a
  USDC-backed position of its own) index the accounts.
- The crash: WETH falls linearly from 2,700 to 1,350 (-50%) over 300 blocks (one hour). Every
  block carries a new feed round for each collateral and an oracle poke (the operator's
  transactions pay the highest tip, like an oracle's own updates).
- Congestion: in blocks CONGESTION (of the crash), filler transactions (GasBurner) that pay a
  higher tip than the keepers use FILL_GAS of each block's 30,000,000 gas, and the base fee
  climbs as blocks stay above the 50% target. Keepers replace stuck transactions after
  `--replace-after` seconds of wall time.
- Fees: outside congestion the base fee is held at BASE_FEE_FLOOR (5 gwei, a calm chain); from
  the first congested block it follows EIP-1559 on its own until it has fallen back to the floor.
- After the hour the price stays at 1,350 and blocks go on (at most `tail_blocks`) until every
  auction has ended and no account is liquidatable.
- Between two blocks the keepers get a fixed wall-clock slice (`slice_s`, default 1.0 s); the
  harness then mines the next block whatever they have done. `keeper_behind_blocks` counts, per
  keeper, the blocks mined before it had finished the previous one (its last_block gauge).

Reported (from chain events and state, never from keeper logs): `debt_liquidated` (sum of
Liquidate.debtClosed), `debt_into_auctions` (sum of Kick.tab: debt plus penalty),
`repaid_by_auctions` (sum of Take.owe), `recovery_ratio` = repaid / into auctions (a tab still
running at the end counts as not recovered), `bad_debt` (growth of buffer.badDebt()), `shortfall`
(sum of AuctionEnded.shortfall, absorbed by the buffer's surplus first), `min_sale_over_ref`
(lowest Take.price / the auction's reference max(current, delayed) at that block; the floor is
reference x (1 - maxDiscount)), `min_sale_over_market` (over the feed price of that block), and
`auctions_redone` (auctions with at least one Redo).
"""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from dataclasses import replace
from pathlib import Path

from web3 import Web3

from unwind.bench.chain import Anvil, free_port
from unwind.bench.harness import calldata, data_of, event_topic, metrics, setup_bench, start_keeper, tx, wait_processed
from unwind.keeper.runner import load_abis
from unwind.params import WAD, default_params
from unwind.story import fund_with_debt_tokens

OPEN_PRICE = Decimal(3000)
START_PRICE = Decimal(2700)
END_PRICE = Decimal(1350)
CRASH_BLOCKS = 300
BLOCK_SECONDS = 12
HEALTH_RANGE = (Decimal("1.05"), Decimal("2.0"))
COLLATERAL = 5 * WAD
CONGESTION = range(120, 150)  # crash blocks with fillers
FILL_GAS = 24_000_000  # per congested block
FILLER_TX_GAS = 3_000_000
FILLER_FEES = {"maxFeePerGas": hex(10_000 * 10**9), "maxPriorityFeePerGas": hex(2 * 10**9)}
KEEPER_FUNDS = 5_000_000  # uUSD per keeper: each could pay for every auction alone
BASE_FEE_FLOOR = 5 * 10**9  # [wei] base fee of a calm chain


def static_params():
    """The default parameters of unwind/params.py, unchanged during the crash."""
    return default_params()


def adaptive_params():
    """The same defaults with AdaptiveRisk deployed (params.adaptive.enabled): the keepers sample
    volatility and write the effective parameters as the crash unfolds (unwind/risk.py bands)."""
    p = default_params()
    return replace(p, adaptive=replace(p.adaptive, enabled=True))


# Parameter sets the replay can run with (`--params NAME`).
PARAM_SETS = {"static": static_params, "adaptive": adaptive_params}


def price_at(block: int) -> Decimal:
    """The WETH feed price in crash block `block` (0-based); flat after the crash."""
    f = min(max(block, 0), CRASH_BLOCKS) / Decimal(CRASH_BLOCKS)
    return (START_PRICE + (END_PRICE - START_PRICE) * f).quantize(Decimal("0.01"))


def debts_for(n: int) -> list[int]:
    """Debts that give n accounts of COLLATERAL WETH a health spread evenly over HEALTH_RANGE at
    START_PRICE (they are opened at OPEN_PRICE, 10% higher, where the vault allows them)."""
    lo, hi = HEALTH_RANGE
    weighted = Decimal(COLLATERAL) / WAD * START_PRICE * Decimal("0.8")
    return [int(weighted / (lo + (hi - lo) * (i + Decimal("0.5")) / n) * WAD) // 10**12 * 10**12 for i in range(n)]


def run(project, accounts, param_set: str = "static", n_accounts: int = 500, slice_s: float = 1.0,
        tail_blocks: int = 250, workdir: Path | None = None, log=print) -> dict:
    from ape import networks

    if param_set not in PARAM_SETS:
        raise ValueError(f"unknown parameter set {param_set!r}: choose one of {', '.join(PARAM_SETS)}")
    workdir = Path(workdir or tempfile.mkdtemp(prefix="unwind-crash-"))
    workdir.mkdir(parents=True, exist_ok=True)
    params = PARAM_SETS[param_set]()
    wall0 = time.time()
    with Anvil(workdir / "anvil.log", accounts=10) as anvil, networks.parse_network_choice(anvil.url):
        bench = setup_bench(project, accounts, anvil.rpc, params)
        s, rpc, op = bench.system, anvil.rpc, bench.operator
        test = accounts.test_accounts
        keepers = [test[1], test[2]]
        fillers = [a.address for a in test[3:10]]
        for k in keepers:
            fund_with_debt_tokens(s, k, KEEPER_FUNDS)
        burner = project.GasBurner.deploy(sender=op)
        seeder = bench.deploy_seeder()
        rpc.automine(False)

        borrowers = bench.open_accounts(seeder, "WETH", [COLLATERAL] * n_accounts, debts_for(n_accounts),
                                        op.address)
        bench.move_price_confirmed({"WETH": str(START_PRICE)})
        health = bench.health(borrowers)
        log(f"  {n_accounts} accounts open; health at {START_PRICE}: {min(health) / WAD:.3f}..{max(health) / WAD:.3f}")
        buffer_bad0 = s.buffer.badDebt()

        procs, ports = [], []
        for i, k in enumerate(keepers):
            port = free_port()
            # --no-direct: the replay measures the auction path (its figures stay comparable across
            # sessions); direct liquidation has its own tests and gas figures.
            proc, _ = start_keeper(bench, anvil.url, k.private_key, workdir, f"keeper-{i}", port,
                                   ("--replace-after", "3", "--no-direct"))
            procs.append(proc)
            ports.append(port)
        try:
            for proc in procs:
                if not proc.wait_for("indexed", 120):
                    raise RuntimeError(f"keeper did not start:\n{proc.output()[-2000:]}")
            head = rpc.block_number()
            for proc, port in zip(procs, ports):
                wait_processed(port, head, 60, proc)
            series = _replay(bench, burner, fillers, borrowers, slice_s, tail_blocks, procs, ports, log)
        finally:
            for proc in procs:
                proc.stop()
        result = _collect(bench, anvil.url, series, borrowers, buffer_bad0, keepers)
        if s.risk is not None:  # where the adaptive parameters ended up, and why
            cid = s.ids["WETH"]
            e = s.risk.effective(cid)
            result["adaptive_final"] = {
                "volatility": e.volatility / WAD, "band_position": e.position / WAD, "max_ltv": e.maxLtv / WAD,
                "threshold_target": e.threshold / WAD, "auction_buffer": e.buffer / WAD,
                "auction_duration_s": e.duration, "chip": e.chip / WAD,
                "last_sample_at": s.risk.volState(cid).lastTime,
            }
    result.update(
        param_set=param_set,
        params=_describe(params),
        accounts=n_accounts,
        slice_s=slice_s,
        wall_s=round(time.time() - wall0, 1),
        keeper_logs_lost_races=[p.output().count("lost race") for p in procs],
    )
    return result


def _replay(bench, burner, fillers, borrowers, slice_s, tail_blocks, procs, ports, log) -> dict:
    s, rpc = bench.system, bench.rpc
    weth = s.collateral["WETH"]
    peek = data_of(s.oracle.peek, weth)
    nonces = {f: int(rpc("eth_getTransactionCount", f, "pending"), 16) for f in fillers}
    series = {"block": [], "t": [], "price": [], "reference": [], "base_fee_gwei": [], "gas_used": [],
              "running_auctions": []}
    burn = calldata("burn(uint256)", ["uint256"], [FILLER_TX_GAS - 60_000])
    behind = [0] * len(procs)  # blocks mined before a keeper had finished the previous one
    first = None
    count_data = data_of(s.auction.count)
    for i in range(CRASH_BLOCKS + tail_blocks + 1):
        price = price_at(i)
        txs = bench.price_txs({"WETH": str(price)})
        if i in CONGESTION:
            for j in range(FILL_GAS // FILLER_TX_GAS):
                f = fillers[j % len(fillers)]
                txs.append(tx(f, burner.address, burn, FILLER_TX_GAS,
                              FILLER_FEES, nonce=nonces[f]))
                nonces[f] += 1
        if first is not None:
            for j, port in enumerate(ports):
                behind[j] += metrics(port).get("unwind_keeper_last_block", -1) < series["block"][-1]
        bench.send(txs)
        if i < CONGESTION.start or (i >= CONGESTION.stop and series["base_fee_gwei"][-1] * 1e9 <= BASE_FEE_FLOOR):
            rpc("anvil_setNextBlockBaseFeePerGas", hex(BASE_FEE_FLOOR))
        block = rpc.mine(bench.timestamp() + BLOCK_SECONDS)
        number = int(block["number"], 16)
        first = first if first is not None else number
        quote, running = rpc.batch([("eth_call", [{"to": s.oracle.address, "data": peek}, "latest"]),
                                    ("eth_call", [{"to": s.auction.address, "data": count_data}, "latest"])])
        q = bytes.fromhex(quote[2:])
        series["block"].append(number)
        series["t"].append(i * BLOCK_SECONDS)
        series["price"].append(float(price))
        series["reference"].append(int.from_bytes(q[96:128], "big") / WAD)  # auctionStartPrice
        series["base_fee_gwei"].append(int(block["baseFeePerGas"], 16) / 1e9)
        series["gas_used"].append(int(block["gasUsed"], 16))
        series["running_auctions"].append(int(running, 16))
        if i % 50 == 0:
            log(f"  block {i:3d}: WETH {price}, reference {series['reference'][-1]:.0f}, "
                f"running auctions {int(running, 16)}, base fee {series['base_fee_gwei'][-1]:.1f} gwei")
        for proc in procs:
            if not proc.alive():
                raise RuntimeError(f"keeper exited {proc.proc.returncode}:\n{proc.output()[-3000:]}")
        if i >= CRASH_BLOCKS and i % 10 == 0 and int(running, 16) == 0:
            if all(h >= WAD for h in bench.health(borrowers)):
                break
        time.sleep(slice_s)
    series["first_block"] = first
    series["keeper_behind_blocks"] = behind
    return series


def _collect(bench, url, series, borrowers, buffer_bad0, keepers) -> dict:
    s, rpc = bench.system, bench.rpc
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
    abis = load_abis(Path(__file__).resolve().parents[2] / ".build" / "__local__.json")
    engine = w3.eth.contract(address=s.engine.address, abi=abis["engine"])
    auction = w3.eth.contract(address=s.auction.address, abi=abis["auction"])
    lo, hi = series["first_block"], series["block"][-1]

    def events(contract, ape_contract, name):
        logs = bench.logs(contract.address, event_topic(ape_contract, name), lo, hi)
        ev = getattr(contract.events, name)()
        return [ev.process_log(_as_log(entry)) for entry in logs]

    liqs = events(engine, s.engine, "Liquidate")
    kicks = events(auction, s.auction, "Kick")
    takes = events(auction, s.auction, "Take")
    redos = events(auction, s.auction, "Redo")
    ends = events(auction, s.auction, "AuctionEnded")

    ref_by_block = dict(zip(series["block"], series["reference"]))
    price_by_block = dict(zip(series["block"], series["price"]))
    sales = []
    for t in takes:
        b = t["blockNumber"]
        sale_price = t["args"]["price"] / WAD
        sales.append({"block": b, "t": (b - lo) * BLOCK_SECONDS, "id": t["args"]["id"], "price": sale_price,
                      "over_ref": sale_price / ref_by_block[b], "over_market": sale_price / price_by_block[b],
                      "owe": t["args"]["owe"] / WAD, "taker": t["args"]["taker"]})
    into = sum(k["args"]["tab"] for k in kicks)
    closed = sum(e["args"]["debtClosed"] for e in liqs)
    repaid = sum(t["args"]["owe"] for t in takes)
    unsafe_left = sum(1 for h in bench.health(borrowers) if h < WAD)
    max_discount = bench.system.params.collaterals[0].auction.max_discount / WAD
    return {
        "debt_liquidated": closed / WAD,
        "debt_into_auctions": into / WAD,
        "repaid_by_auctions": repaid / WAD,
        "recovery_ratio": repaid / into if into else None,
        "repaid_over_debt_liquidated": repaid / closed if closed else None,  # penalty not counted as owed
        "bad_debt": (s.buffer.badDebt() - buffer_bad0) / WAD,
        "shortfall": sum(e["args"]["shortfall"] for e in ends) / WAD,
        "min_sale_over_ref": min((x["over_ref"] for x in sales), default=None),
        "min_sale_over_market": min((x["over_market"] for x in sales), default=None),
        "floor_over_ref": 1 - max_discount,
        "auctions": len(kicks),
        "auctions_ended": len(ends),
        "auctions_running_at_end": int(s.auction.count()),
        "auctions_redone": len({r["args"]["id"] for r in redos}),
        "redos": len(redos),
        "liquidations": len(liqs),
        "accounts_liquidated": len({e["args"]["account"] for e in liqs}),
        "unsafe_accounts_at_end": unsafe_left,
        "takes": len(takes),
        "takes_by_keeper": [sum(1 for x in sales if x["taker"] == k.address) for k in keepers],
        "liquidations_by_keeper": [sum(1 for e in liqs if e["args"]["keeper"] == k.address) for k in keepers],
        "blocks": len(series["block"]),
        "crash_blocks": CRASH_BLOCKS,
        "congested_blocks": [CONGESTION.start, CONGESTION.stop - 1],
        "keeper_behind_blocks": series["keeper_behind_blocks"],
        "identity_holds": s.debt_token.totalSupply() == s.vault.totalDebt() + s.auction.totalDebt()
        + s.buffer.badDebt(),
        "series": series,
        "sales": sales,
        "kicks": [{"block": k["blockNumber"], "t": (k["blockNumber"] - lo) * BLOCK_SECONDS,
                   "tab": k["args"]["tab"] / WAD} for k in kicks],
        "redo_blocks": [r["blockNumber"] for r in redos],
    }


def _as_log(entry: dict) -> dict:
    """A raw eth_getLogs entry in the shape web3's process_log expects."""
    from hexbytes import HexBytes

    return {
        "address": Web3.to_checksum_address(entry["address"]),
        "topics": [HexBytes(t) for t in entry["topics"]],
        "data": HexBytes(entry["data"]),
        "blockNumber": int(entry["blockNumber"], 16),
        "transactionHash": HexBytes(entry["transactionHash"]),
        "transactionIndex": int(entry["transactionIndex"], 16),
        "blockHash": HexBytes(entry["blockHash"]),
        "logIndex": int(entry["logIndex"], 16),
        "removed": False,
    }


def _describe(params) -> dict:
    c = params.collaterals[0]
    a = c.auction
    return {"collateral": c.symbol, "liquidation_threshold": c.liquidation_threshold / WAD,
            "penalty": c.penalty / WAD, "lot_margin": params.lot_margin / WAD,
            "target_health": params.target_health / WAD, "oracle_delay_s": params.oracle_delay,
            "adaptive": params.adaptive.enabled,
            "auction": {"curve": a.curve, "buffer": a.buffer / WAD, "duration_s": a.duration,
                        "max_age_s": a.max_age, "max_discount": a.max_discount / WAD}}

