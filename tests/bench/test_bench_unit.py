"""The benchmark harness's pure parts: the crash path, the health spreads, and the report's
verdicts (a missing figure is never a pass). No chain: these run in well under a second."""

import json
from decimal import Decimal

from unwind.bench import crash, keeper_scale
from unwind.bench.harness import create_address
from unwind.bench.report import rows
from unwind.params import WAD


def test_crash_path_halves_over_300_blocks_then_stays():
    assert crash.price_at(0) == Decimal(2700)
    assert crash.price_at(150) == Decimal(2025)
    assert crash.price_at(300) == crash.price_at(450) == Decimal(1350)
    steps = [crash.price_at(i) - crash.price_at(i + 1) for i in range(300)]
    assert max(steps) - min(steps) <= Decimal("0.01"), "a straight line"


def test_crash_health_spread_is_even_over_the_range():
    debts = crash.debts_for(500)
    weighted = Decimal(crash.COLLATERAL) / WAD * crash.START_PRICE * Decimal("0.8")
    health = [weighted * WAD / d for d in debts]
    assert Decimal("1.05") <= min(health) < Decimal("1.052")
    assert Decimal("1.998") < max(health) <= Decimal("2.0001")
    gaps = [a - b for a, b in zip(health[1:], health)]
    assert all(g > 0 for g in gaps), "spread in order, no duplicates"


def test_keeper_scale_debts_open_within_the_borrow_limit():
    debts = keeper_scale.debts_for(1_000)
    limit = 2 * keeper_scale.PRICE * Decimal("0.75")  # 2 WETH at maxLtv 0.75
    assert all(1_000 * WAD <= d <= limit * WAD for d in debts), "above dust, below the borrow limit"


def test_create_address_matches_known_vector():
    # the first contract anvil's first dev account deploys (nonce 0)
    assert create_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 0) == \
        "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_report_judges_targets_and_never_passes_missing(tmp_path):
    table = {r.figure: r for r in rows(tmp_path)}
    assert table["liquidate"].value == "missing" and table["liquidate"].ok is None
    (tmp_path / "gas.json").write_text(json.dumps({"operations": {"liquidate": 171_000, "take_full": 70_000}}))
    run = {"accounts": 10_000, "unsafe": 5, "liquidated": 5, "startup_s": 3.0, "blocks_to_clear": 4,
           "min_blocks_possible": 1, "rpc_calls_per_block": 30.0}
    small = dict(run, accounts=1_000, rpc_calls_per_block=10.0)
    (tmp_path / "keeper_scale.json").write_text(json.dumps({"runs": [small, run]}))
    (tmp_path / "crash.json").write_text(json.dumps({"runs": {"static": {
        "accounts": 500, "auctions": 120, "debt_liquidated": 1.0, "bad_debt": 0.0, "recovery_ratio": 0.96,
        "min_sale_over_ref": 0.79, "floor_over_ref": 0.8, "auctions_redone": 3}}}))
    table = {(r.area, r.figure): r for r in rows(tmp_path)}
    assert table[("gas", "liquidate")].ok is False
    assert table[("gas", "take_full")].ok is True
    assert ("gas", "take_full: storage + events + base only") not in table  # no by_kind: no row

    kinds = {"sload": 100, "sstore": 20, "log": 3, "calls": 7, "compute": 50, "cold_sloads": 1, "base": 21_000}
    (tmp_path / "gas.json").write_text(json.dumps({"operations": {"liquidate": 1, "take_full": 1},
                                                   "by_kind": {"take_full": kinds}}))
    floor = {(r.area, r.figure): r for r in rows(tmp_path)}[("gas", "take_full: storage + events + base only")]
    assert floor.value == "21,123" and floor.ok is None
    assert table[("keeper", "10,000 accounts: blocks_to_clear (min possible)")].ok is False
    assert table[("keeper", "rpc_calls_per_block 10,000 vs 1,000")].ok is False  # +200%
    assert table[("crash (static)", "bad_debt [uUSD]")].ok is True
    assert table[("crash (static)", "min_sale_over_ref")].ok is False
    assert table[("crash (static)", "recovery_ratio")].ok is True

    cut_short = {"accounts": 500, "auctions": 120, "debt_liquidated": 1.0, "bad_debt": 0.0, "recovery_ratio": 0.99,
                 "min_sale_over_ref": 0.9, "floor_over_ref": 0.8, "auctions_redone": 0, "auctions_running_at_end": 4}
    (tmp_path / "crash.json").write_text(json.dumps({"runs": {"static": cut_short}}))
    table = {(r.area, r.figure): r for r in rows(tmp_path)}
    assert table[("crash (static)", "bad_debt [uUSD]")].ok is False, "not final while auctions run"
    assert table[("crash (static)", "recovery_ratio")].ok is False
