"""Keeper logic without a chain: strategy, gas, nonce book, position index, health.

Expected numbers are worked out by hand in the comments, not recomputed with the code under test.
"""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unwind.keeper.gas import FeeCapReached, Fees, GasPolicy
from unwind.keeper.health import MAX_UINT, RAY, WAD, CollateralState, MarketState, debt_of, health_of
from unwind.keeper.index import Delta, LogDecoder, Position, PositionIndex, ReorgTooDeep, delta_from_event
from unwind.keeper.nonces import NonceBook, Pending
from unwind.keeper.strategy import in_shard, plan_bid, scan

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GWEI = 10**9
A = "0x" + "a1" * 20
B = "0x" + "b2" * 20
C = "0x" + "c3" * 20
KEEPER = "0x" + "11" * 20


# --- strategy.plan_bid ------------------------------------------------------------------------

def test_bid_for_the_whole_lot_when_it_pays():
    # 10 WETH at 2,000 in the auction, 2,250 on the market, tab 30,000: owe 20,000, sell for
    # 22,500, gas 10: profit 2,490.
    bid = plan_bid(7, 2_000 * WAD, 10 * WAD, 30_000 * WAD, 18, 2_250 * WAD, 10 * WAD, 0)
    assert bid.auction_id == 7
    assert bid.amount == 10 * WAD
    assert bid.max_price == 2_000 * WAD
    assert bid.expected_owe == 20_000 * WAD
    assert bid.expected_profit == 2_490 * WAD


def test_asks_for_the_whole_lot_even_when_the_tab_is_smaller():
    # tab 9,000 at 2,000 buys 4.5 WETH; the ask stays the whole lot (the auction trims the take
    # itself), the expected payment is the tab and the profit counts 4.5 WETH only:
    # 4.5 x 2,250 - 9,000 - 0 = 1,125.
    bid = plan_bid(1, 2_000 * WAD, 10 * WAD, 9_000 * WAD, 18, 2_250 * WAD, 0, 0)
    assert bid.amount == 10 * WAD
    assert bid.expected_owe == 9_000 * WAD
    assert bid.expected_profit == 1_125 * WAD


def test_never_bids_at_a_loss():
    # auction price above the market: every unit loses 50
    assert plan_bid(1, 2_300 * WAD, 10 * WAD, 10**30, 18, 2_250 * WAD, 0, 0) is None
    # a thin margin eaten by gas: 10 x 1 = 10 of profit before 11 of gas
    assert plan_bid(1, 2_249 * WAD, 10 * WAD, 10**30, 18, 2_250 * WAD, 11 * WAD, 0) is None
    # a negative --min-profit does not buy at a loss either
    assert plan_bid(1, 2_300 * WAD, 10 * WAD, 10**30, 18, 2_250 * WAD, 0, -10**6 * WAD) is None


def test_min_profit_is_a_threshold_after_gas():
    # 10 WETH, 2,000 -> 2,250, gas 10: profit exactly 2,490
    args = (1, 2_000 * WAD, 10 * WAD, 10**30, 18, 2_250 * WAD, 10 * WAD)
    assert plan_bid(*args, min_profit=2_490 * WAD) is not None
    assert plan_bid(*args, min_profit=2_490 * WAD + 1) is None


def test_budget_limits_the_ask():
    # 5,000 uUSD at 2,000 per WBTC-like 8-decimal token buys 2.5 tokens = 250,000,000 units,
    # which costs exactly 5,000.
    bid = plan_bid(3, 2_000 * WAD, 10 * 10**8, 10**30, 8, 2_100 * WAD, 0, 0, budget=5_000 * WAD)
    assert bid.amount == 250_000_000
    assert bid.expected_owe == 5_000 * WAD
    assert bid.expected_profit == 250 * WAD  # 2.5 x 100
    assert plan_bid(3, 2_000 * WAD, 10 * 10**8, 10**30, 8, 2_100 * WAD, 0, 0, budget=0) is None


def test_six_decimal_collateral_rounds_owe_up():
    # 1,000 USDC units (0.001 USDC) at 0.8333...: owe = ceil(1000 x 833333333333333333 / 1e6)
    price = 833_333_333_333_333_333
    bid = plan_bid(1, price, 1_000, 10**30, 6, WAD, 0, 0)
    assert bid.expected_owe == 833_333_333_333_334  # rounded up, in the protocol's favour
    assert bid.expected_profit == 10**15 - 833_333_333_333_334


@pytest.mark.parametrize("field", ["price", "lot", "tab"])
def test_nothing_to_bid_on(field):
    kwargs = dict(auction_id=1, price=2_000 * WAD, lot=10 * WAD, tab=10**30, decimals=18, market_price=3_000 * WAD,
                  gas_cost=0, min_profit=0)
    kwargs[field] = 0
    assert plan_bid(**kwargs) is None


@FAST
@given(
    price=st.integers(1, 10**24), lot=st.integers(1, 10**24), tab=st.integers(1, 10**30),
    decimals=st.sampled_from([6, 8, 18]), market=st.integers(0, 10**24), gas=st.integers(0, 10**20),
    min_profit=st.integers(-10**21, 10**21), budget=st.one_of(st.none(), st.integers(0, 10**30)),
)
def test_any_bid_is_profitable_within_budget_and_lot(price, lot, tab, decimals, market, gas, min_profit, budget):
    bid = plan_bid(1, price, lot, tab, decimals, market, gas, min_profit, budget=budget)
    if bid is None:
        return
    scale = 10**decimals
    assert 0 < bid.amount <= lot
    assert bid.max_price == price
    assert bid.expected_owe <= tab
    if budget is not None:
        assert bid.expected_owe <= budget
    # what it buys: the whole ask, or what the tab pays for, whichever is less
    bought = min(bid.amount, tab * scale // price) if bid.expected_owe == tab else bid.amount
    assert bought * price <= bid.expected_owe * scale  # owe rounds up
    assert bought * market // scale - bid.expected_owe - gas == bid.expected_profit
    assert bid.expected_profit >= max(min_profit, 0)


# --- strategy.scan / in_shard -----------------------------------------------------------------

def test_shards_partition_accounts():
    accounts = ["0x" + f"{i:040x}" for i in range(0, 3000, 7)]
    for shards in (1, 2, 3, 5):
        owners = [[s for s in range(shards) if in_shard(a, s, shards)] for a in accounts]
        assert all(len(o) == 1 for o in owners), "every account belongs to exactly one shard"
        if shards > 1:
            assert all(any(o == [s] for o in owners) for s in range(shards)), "no shard is empty"
    assert in_shard("0x" + "00" * 19 + "07", 1, 2) and not in_shard("0x" + "00" * 19 + "07", 0, 2)


def _state(price=WAD, guard=0, threshold=8 * WAD // 10, rate=RAY):
    return MarketState(1, rate, {0: CollateralState("0xtoken", 18, threshold, 0 if guard else price, price, guard)})


def _index(positions: dict) -> PositionIndex:
    idx = PositionIndex()
    idx.positions = {a: Position(art, {0: amount}) for a, (art, amount) in positions.items()}
    return idx


def test_scan_orders_worst_first_and_splits_warnings():
    # threshold 0.8, price 1: health = 0.8 x collateral / debt
    idx = _index({
        A: (100 * WAD, 120 * WAD),  # 0.96: unsafe
        B: (100 * WAD, 100 * WAD),  # 0.80: unsafe, worse
        C: (100 * WAD, 135 * WAD),  # 1.08: below the warning level 1.1
        KEEPER: (100 * WAD, 500 * WAD),  # 4.0: fine
        "0x" + "dd" * 20: (0, 10 * WAD),  # no debt: never a candidate
    })
    unsafe, warnings = scan(idx, _state(), warn_health=11 * WAD // 10)
    assert [c.account for c in unsafe] == [B, A]
    assert [c.health for c in unsafe] == [8 * WAD // 10, 96 * WAD // 100]
    assert [c.account for c in warnings] == [C]


def test_scan_respects_shards():
    idx = _index({A: (100 * WAD, 100 * WAD), B: (100 * WAD, 100 * WAD), C: (100 * WAD, 100 * WAD)})
    seen = []
    for shard in range(3):
        unsafe, _ = scan(idx, _state(), WAD, shard, 3)
        seen += [c.account for c in unsafe]
        assert all(in_shard(c.account, shard, 3) for c in unsafe)
    assert sorted(seen) == sorted([A, B, C])


def test_scan_skips_guarded_collateral():
    idx = _index({A: (100 * WAD, 100 * WAD)})
    unsafe, warnings = scan(idx, _state(guard=1), warn_health=11 * WAD // 10)
    assert unsafe == []
    assert [c.account for c in warnings] == [A]  # still watched


# --- gas.GasPolicy ----------------------------------------------------------------------------

def test_initial_fees_and_cap():
    policy = GasPolicy(max_fee_cap=100 * GWEI, priority_fee=2 * GWEI)
    assert policy.initial(10 * GWEI) == Fees(22 * GWEI, 2 * GWEI)  # 2 x base + priority
    assert policy.initial(60 * GWEI) == Fees(100 * GWEI, 2 * GWEI)  # capped
    with pytest.raises(FeeCapReached):
        policy.initial(101 * GWEI)  # not even the base fee fits under the cap


def test_bump_is_at_least_ten_percent_on_both_fields():
    policy = GasPolicy(max_fee_cap=1_000 * GWEI, priority_fee=2 * GWEI)
    fees = policy.initial(10 * GWEI)
    for _ in range(5):
        new = policy.bump(fees, 10 * GWEI)
        assert new.max_fee * 10 >= fees.max_fee * 11
        assert new.priority_fee * 10 >= fees.priority_fee * 11
        assert new.priority_fee <= new.max_fee <= policy.max_fee_cap
        fees = new


@FAST
@given(max_fee=st.integers(1, 10**12), priority=st.integers(1, 10**12), base=st.integers(0, 10**12),
       bump=st.integers(10, 50))
def test_bump_property(max_fee, priority, base, bump):
    priority = min(priority, max_fee)
    policy = GasPolicy(max_fee_cap=10**13, bump_percent=bump)
    new = policy.bump(Fees(max_fee, priority), base)
    assert new.max_fee * 100 >= max_fee * 110 and new.priority_fee * 100 >= priority * 110
    assert new.max_fee >= base and new.priority_fee <= new.max_fee <= policy.max_fee_cap


def test_bump_past_the_cap_raises():
    policy = GasPolicy(max_fee_cap=30 * GWEI, priority_fee=GWEI)
    fees = policy.initial(10 * GWEI)  # 21 gwei
    fees = policy.bump(fees, 10 * GWEI)  # 23.73 -> fits
    with pytest.raises(FeeCapReached):
        for _ in range(10):
            fees = policy.bump(fees, 10 * GWEI)
    assert fees.max_fee <= 30 * GWEI


# --- nonces.NonceBook -------------------------------------------------------------------------

def _pending(nonce, key, kind="liquidate"):
    return Pending(nonce, "0x" + f"{nonce:064x}", kind, key, 30 * GWEI, GWEI, 1_700_000_000.0,
                   {"to": C, "data": "0x12", "gas": 100_000, "chainId": 31337, "type": 2, "value": 0})


def test_write_ahead_record_survives_a_reload(tmp_path):
    path = tmp_path / "state.json"
    book = NonceBook(path, KEEPER)
    book.sync(5)
    n = book.reserve()
    book.record(_pending(n, A))  # written before anything is broadcast
    assert n == 5
    reloaded = NonceBook(path, KEEPER)  # as after SIGKILL: nothing but the file
    assert reloaded.pending[5] == book.pending[5]
    assert reloaded.in_flight(A).tx_hash == book.pending[5].tx_hash
    reloaded.sync(5)  # not mined yet: kept, and the next nonce is after it
    assert reloaded.reserve() == 6
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"], "no temporary files left behind"
    assert json.loads(path.read_text())["address"] == KEEPER


def test_sync_drops_what_was_mined(tmp_path):
    path = tmp_path / "state.json"
    book = NonceBook(path, KEEPER)
    book.sync(3)
    for key in (A, B, C):
        book.record(_pending(book.reserve(), key))
    dropped = book.sync(5)  # nonces 3 and 4 are on the chain
    assert [p.key for p in dropped] == [A, B]
    assert list(book.pending) == [5]
    assert book.in_flight(A) is None and book.in_flight(C).nonce == 5
    assert list(NonceBook(path, KEEPER).pending) == [5], "the drop is persisted"
    assert book.reserve() == 6
    book.sync(9)  # another sender (the same key elsewhere) moved the nonce on: follow it
    assert book.pending == {} and book.reserve() == 9


def test_in_flight_by_key_including_batches(tmp_path):
    book = NonceBook(tmp_path / "s.json", KEEPER)
    book.sync(0)
    book.record(_pending(book.reserve(), f"batch:{A},{B}"))
    book.record(_pending(book.reserve(), "auction:7", kind="take"))
    assert book.in_flight(A).nonce == 0, "an account inside a pending batch is in flight"
    assert book.in_flight(B).nonce == 0
    assert book.in_flight(C) is None
    assert book.in_flight("auction:7").nonce == 1 and book.in_flight("auction:70") is None
    reloaded = NonceBook(tmp_path / "s.json", KEEPER)
    assert reloaded.in_flight(B).nonce == 0, "and still after a restart"


def test_release_returns_an_unused_nonce(tmp_path):
    book = NonceBook(tmp_path / "s.json", KEEPER)
    book.sync(10)
    n = book.reserve()
    book.record(_pending(n, A))
    book.release(n)  # the send failed before broadcast
    assert book.pending == {} and book.reserve() == 10


def test_refuses_another_addresses_state_file(tmp_path):
    path = tmp_path / "state.json"
    book = NonceBook(path, KEEPER)
    book.sync(0)
    book.record(_pending(0, A))
    with pytest.raises(ValueError, match="belongs to"):
        NonceBook(path, A)
    other = tmp_path / "other.json"
    NonceBook(other, A).record(_pending(0, B))
    assert NonceBook(other, "0x" + A[2:].upper()).pending, "addresses compare case-insensitively"


def test_reserve_needs_a_sync(tmp_path):
    with pytest.raises(RuntimeError):
        NonceBook(None, KEEPER).reserve()


# --- index.PositionIndex ----------------------------------------------------------------------

def _snapshot(idx: PositionIndex) -> dict:
    return {a: (p.art, dict(p.collateral)) for a, p in idx.positions.items()}


def test_events_become_deltas():
    assert delta_from_event("Deposit", {"account": A, "id": 1, "payer": B, "amount": 50}) == Delta(A, "collateral", 50, 1)
    assert delta_from_event("Withdraw", {"account": A, "id": 1, "amount": 20}) == Delta(A, "collateral", -20, 1)
    assert delta_from_event("CollateralConfiscated", {"account": A, "id": 2, "amount": 5}).amount == -5
    assert delta_from_event("CollateralReturned", {"account": A, "id": 2, "amount": 5}).amount == 5
    assert delta_from_event("Borrow", {"account": A, "amount": 99, "normalisedDebt": 90}) == Delta(A, "debt", 90)
    assert delta_from_event("Repay", {"account": A, "amount": 99, "normalisedDebt": 90}).amount == -90
    assert delta_from_event("Confiscate", {"account": A, "normalisedDebt": 7, "debt": 8}).amount == -7
    assert delta_from_event("FeesAccrued", {"rate": RAY, "fees": 1}) is None


_VAULT_EVENTS = [
    {"type": "event", "name": "Deposit", "inputs": [
        {"name": "account", "type": "address", "indexed": True}, {"name": "id", "type": "uint256", "indexed": True},
        {"name": "payer", "type": "address", "indexed": True}, {"name": "amount", "type": "uint256", "indexed": False}]},
    {"type": "event", "name": "Borrow", "inputs": [
        {"name": "account", "type": "address", "indexed": True}, {"name": "receiver", "type": "address", "indexed": True},
        {"name": "amount", "type": "uint256", "indexed": False},
        {"name": "normalisedDebt", "type": "uint256", "indexed": False}]},
]


def _word_hex(value) -> str:
    return format(int(value, 16) if isinstance(value, str) else value, "064x")


def test_raw_logs_decode_like_the_abi_says():
    # topic0 = keccak("Deposit(address,uint256,address,uint256)"), computed by hand-checked eth_utils
    from eth_utils import keccak, to_checksum_address

    decoder = LogDecoder(_VAULT_EVENTS)
    deposit = {"topics": ["0x" + keccak(text="Deposit(address,uint256,address,uint256)").hex(),
                          "0x" + _word_hex(A), "0x" + _word_hex(2), "0x" + _word_hex(B)],
               "data": "0x" + _word_hex(5 * 10**18)}
    assert decoder.delta(deposit) == Delta(to_checksum_address(A), "collateral", 5 * 10**18, 2)
    borrow = {"topics": ["0x" + keccak(text="Borrow(address,address,uint256,uint256)").hex().upper().replace("0X", "0x"),
                         "0x" + _word_hex(A), "0x" + _word_hex(B)],
              "data": "0x" + _word_hex(1_000) + _word_hex(999)}
    assert decoder.delta(borrow) == Delta(to_checksum_address(A), "debt", 999), "normalisedDebt, the second word"
    other = {"topics": ["0x" + keccak(text="FeesAccrued(uint256,uint256)").hex()], "data": "0x" + _word_hex(1) * 2}
    assert decoder.delta(other) is None
    with pytest.raises(ValueError, match="one-word types"):
        LogDecoder([{"type": "event", "name": "Deposit", "inputs": [
            {"name": "account", "type": "address", "indexed": True}, {"name": "note", "type": "string"}]}])


def test_apply_builds_positions():
    idx = PositionIndex()
    idx.apply_block(10, "0x10", [Delta(A, "collateral", 100, 0), Delta(A, "debt", 40)])
    idx.apply_block(11, "0x11", [Delta(A, "collateral", 5, 2), Delta(B, "collateral", 7, 0)])
    idx.apply_block(12, "0x12", [Delta(B, "collateral", -7, 0), Delta(A, "debt", -10)])
    assert _snapshot(idx) == {A: (30, {0: 100, 2: 5})}, "an emptied position disappears"
    assert list(idx.accounts_with_debt()) == [A]
    assert idx.last_block == 12 and idx.block_hash(11) == "0x11"
    with pytest.raises(ValueError):
        idx.apply_block(12, "0x12b", [])  # out of order: roll back first


def test_rollback_undoes_exactly_and_a_reorg_matches_a_fresh_index():
    idx = PositionIndex()
    blocks = {
        1: [Delta(A, "collateral", 100, 0), Delta(A, "debt", 50)],
        2: [Delta(B, "collateral", 10, 1)],
        3: [Delta(A, "debt", 25), Delta(B, "debt", 3)],
        4: [Delta(A, "collateral", -40, 0), Delta(B, "collateral", -10, 1), Delta(B, "debt", -3)],
        5: [Delta(C, "collateral", 1, 2)],
    }
    after = {}
    for n, deltas in blocks.items():
        idx.apply_block(n, f"0x{n}", deltas)
        after[n] = copy.deepcopy(_snapshot(idx))
    assert idx.rollback_to(5) == 0
    assert idx.rollback_to(3) == 2
    assert _snapshot(idx) == after[3] and idx.last_block == 3
    assert idx.block_hash(4) is None
    # the new branch: blocks 4' and 5'
    new = {4: [Delta(C, "debt", 9), Delta(C, "collateral", 30, 0)], 5: [Delta(A, "debt", -75)]}
    for n, deltas in new.items():
        idx.apply_block(n, f"0x{n}b", deltas)
    fresh = PositionIndex()
    for n in (1, 2, 3):
        fresh.apply_block(n, f"0x{n}", blocks[n])
    for n, deltas in new.items():
        fresh.apply_block(n, f"0x{n}b", deltas)
    assert _snapshot(idx) == _snapshot(fresh)
    assert idx.rollback_to(0) == 5 and idx.positions == {}


@FAST
@given(st.lists(st.lists(st.tuples(st.sampled_from([A, B, C]), st.sampled_from(["collateral", "debt"]),
                                   st.integers(1, 10**20), st.integers(0, 2)), max_size=4),
                min_size=1, max_size=12),
       st.data())
def test_rollback_to_any_block_restores_that_block(blocks, data):
    idx = PositionIndex(depth=64)
    after = {0: {}}
    for n, raw in enumerate(blocks, start=1):
        idx.apply_block(n, f"0x{n}", [Delta(a, k, amt, cid if k == "collateral" else -1) for a, k, amt, cid in raw])
        after[n] = copy.deepcopy(_snapshot(idx))
    target = data.draw(st.integers(0, len(blocks)))
    idx.rollback_to(target)
    assert _snapshot(idx) == after[target]


def test_rollback_below_the_journal_is_refused():
    idx = PositionIndex(depth=3)
    for n in range(1, 7):
        idx.apply_block(n, f"0x{n}", [Delta(A, "debt", 1)])
    assert idx.journal_floor() == 4
    assert idx.rollback_to(3) == 3  # blocks 4..6 are journaled: exact
    assert idx.positions[A].art == 3
    with pytest.raises(ReorgTooDeep):
        idx.rollback_to(2)  # block 3 has left the journal: its delta cannot be undone
    assert idx.positions[A].art == 3, "a refused rollback changes nothing"


# --- health.health_of -------------------------------------------------------------------------

def _market(rate=RAY, **prices):
    cols = {
        0: CollateralState("WETH", 18, 8 * WAD // 10, prices.get("weth", 2_250 * WAD), prices.get("weth", 2_250 * WAD), 0),
        1: CollateralState("WBTC", 8, 78 * WAD // 100, prices.get("wbtc", 46_000 * WAD), prices.get("wbtc", 46_000 * WAD), 0),
        2: CollateralState("USDC", 6, 9 * WAD // 10, WAD, WAD, 0),
    }
    return MarketState(1, rate, cols)


def test_health_single_collateral_by_hand():
    # 10 WETH at 2,250 x 0.8 = 18,000 against 21,375 of debt: 0.842105263157894736... (floor)
    health, liquidatable = health_of(Position(21_375 * WAD, {0: 10 * WAD}), _market())
    assert health == 842_105_263_157_894_736
    assert liquidatable


def test_health_basket_by_hand():
    # 6 WETH x 2,250 x 0.8 = 10,800; 0.2 WBTC x 46,000 x 0.78 = 7,176; 500 USDC x 1 x 0.9 = 450
    # sum 18,426 over debt 15,000 = 1.2284
    position = Position(15_000 * WAD, {0: 6 * WAD, 1: 20_000_000, 2: 500 * 10**6})
    assert health_of(position, _market()) == (1_228_400_000_000_000_000, False)


def test_health_with_accrued_fees_rounds_debt_up():
    # art 1,000 at rate 1.000000000000000000000000001: debt = ceil(1,000.000000000000000000000001)
    # = 1,000 + 1 wei; 1 WETH at 1,250 x 0.8 = 1,000 -> health = 1000e36 // (1000e18 + 1)
    rate = RAY + 1
    assert debt_of(1_000 * WAD, rate) == 1_000 * WAD + 1
    health, liquidatable = health_of(Position(1_000 * WAD, {0: WAD}), _market(rate=rate, weth=1_250 * WAD))
    assert health == 999_999_999_999_999_999  # exactly 1 before rounding: below 1 once rounded
    assert liquidatable


def test_health_rounds_collateral_value_down():
    # 1 unit of WBTC (1e-8) at 46,000: value 0.00046 = 460,000,000,000,000 wei x 0.78
    # = 358,800,000,000,000 over a debt of 1 wad -> 0.0003588
    health, _ = health_of(Position(WAD, {1: 1}), _market())
    assert health == 358_800_000_000_000
    # 3 units of a 6-decimal token priced 0.333333333333333333: 999,999,999,999,999,999 / 1e6
    # = 999,999,999,999.999999 -> 999,999,999,999 (not 1e12)
    third = WAD // 3
    state = MarketState(1, RAY, {2: CollateralState("X", 6, WAD, third, third, 0)})
    assert health_of(Position(WAD, {2: 3}), state)[0] == 999_999_999_999


def test_guarded_collateral_counts_at_its_price_but_is_not_liquidatable():
    cols = {0: CollateralState("WETH", 18, 8 * WAD // 10, 0, 2_000 * WAD, 2)}  # guard: liquidation price 0
    health, liquidatable = health_of(Position(2_000 * WAD, {0: WAD}), MarketState(1, RAY, cols))
    assert health == 8 * WAD // 10
    assert not liquidatable


def test_no_debt_is_infinitely_healthy():
    assert health_of(Position(0, {0: WAD}), _market()) == (MAX_UINT, False)
    assert health_of(Position(WAD, {9: WAD}), _market()) == (0, True), "unknown collateral counts for nothing"


# --- runner: reorg handling and lost batch races, over a stub node ---------------------------

class _StubEth:
    def __init__(self, hashes):
        self.hashes = hashes  # block number -> hash on the "node"

    def get_block(self, number):
        from hexbytes import HexBytes

        return {"hash": HexBytes(self.hashes[number])}


def _stub_keeper(index, hashes):
    import logging
    from types import SimpleNamespace

    from unwind.keeper.metrics import KeeperMetrics
    from unwind.keeper.runner import Keeper, KeeperConfig, Summary

    k = Keeper.__new__(Keeper)  # no RPC endpoint: only what the methods under test touch
    k.cfg = KeeperConfig(rpc_url="", addresses={}, start_block=1)
    k.index = index
    k.log = logging.getLogger("test")
    k.w3 = SimpleNamespace(eth=_StubEth(hashes))
    k.summary, k.metrics, k._done_keys = Summary(), KeeperMetrics(), {}
    k.account = SimpleNamespace(address=KEEPER)
    return k


def _h(n, branch="a"):
    return "0x" + (f"{branch}{n:x}".rjust(64, "0"))


def test_keeper_rolls_back_a_shallow_reorg_to_the_common_ancestor():
    idx = PositionIndex(depth=10)
    for n in range(1, 6):
        idx.apply_block(n, _h(n), [Delta(A, "debt", n)])
    node = {n: _h(n) if n <= 3 else _h(n, "b") for n in range(1, 6)}  # blocks 4 and 5 replaced
    k = _stub_keeper(idx, node)
    k._check_reorg()
    assert k.index is idx and idx.last_block == 3
    assert idx.positions[A].art == 1 + 2 + 3


def test_keeper_rebuilds_the_index_after_a_reorg_deeper_than_its_journal():
    idx = PositionIndex(depth=3)
    for n in range(1, 8):
        idx.apply_block(n, _h(n), [Delta(A, "debt", 1)])
    node = {n: _h(n, "b") for n in range(1, 8)}  # nothing the journal holds is on the chain any more
    k = _stub_keeper(idx, node)
    k._check_reorg()
    assert k.index is not idx and k.index.positions == {} and k.index.last_block is None, \
        "rebuilt from the start block, not rolled back to the journal's floor"


def test_a_batch_that_would_liquidate_nobody_is_a_lost_race_not_a_transaction():
    from types import SimpleNamespace

    from web3.exceptions import ContractLogicError

    k = _stub_keeper(PositionIndex(), {})
    k.index.last_block = 41

    def fn(result):
        def call(tx):
            if isinstance(result, Exception):
                raise result
            return result
        return SimpleNamespace(call=call)

    assert k._batch_would_liquidate(fn(2), f"batch:{A},{B}", [A, B]) is True
    assert k.summary.lost_races == 0
    assert k._batch_would_liquidate(fn(0), f"batch:{A},{B}", [A, B]) is False
    assert k.summary.lost_races == 1 and k._done_keys == {A: 41, B: 41}
    # A revert that names the account no longer liquidatable is a lost race; any other reason
    # (the engine paused, an oracle guard) is not: nobody was first (issue 16, item 10).
    k._errors = _ERROR_NAMES
    not_liquidatable = "0x" + _selector("NotLiquidatable(address,uint256)") + _word_hex(A) + _word_hex(WAD)
    assert k._batch_would_liquidate(fn(ContractLogicError("reverted", data=not_liquidatable)), f"batch:{A},{C}",
                                    [A, C]) is False
    assert k.summary.lost_races == 2
    assert k._batch_would_liquidate(fn(ContractLogicError("paused")), f"batch:{A},{C}", [A, C]) is False
    assert k.summary.lost_races == 2


# --- runner: nonces taken by another sender, failed replacements, over a stub node ------------

class _StubSendEth:
    """A node that refuses raw transactions with the given errors, in turn, then accepts."""

    def __init__(self, errors, pending_count):
        self.errors, self.sent, self.pending_count = list(errors), [], pending_count

    def send_raw_transaction(self, raw):
        if self.errors:
            raise ValueError(self.errors.pop(0))
        self.sent.append(raw)

    def get_transaction_count(self, address, tag):
        assert tag == "pending"
        return self.pending_count


def _sending_keeper(tmp_path, errors, pending_count):
    from types import SimpleNamespace

    from eth_account import Account

    from unwind.keeper.gas import GasPolicy

    k = _stub_keeper(PositionIndex(), {})
    k.account = Account.from_key("0x" + "42" * 32)
    k.w3 = SimpleNamespace(eth=_StubSendEth(errors, pending_count))
    k.nonces = NonceBook(tmp_path / "state.json", k.account.address)
    k.gas, k.chain_id, k._head = GasPolicy(max_fee_cap=100 * GWEI), 31337, {"baseFeePerGas": GWEI}
    return k


def _fn(address="0xc3c3c3c3c3c3c3c3c3C3C3c3C3C3C3c3C3C3c3c3"):
    from types import SimpleNamespace

    return SimpleNamespace(estimate_gas=lambda tx: 200_000, address=address,
                           _encode_transaction_data=lambda: "0x1234")


def test_a_nonce_taken_by_another_sender_is_re_read_and_sent_again_written_ahead(tmp_path):
    # The keeper synced at nonce 3; something else sent nonces 3..6 from the key: the node refuses
    # nonce 3 and its pending count is 7.
    k = _sending_keeper(tmp_path, ["{'code': -32003, 'message': 'nonce too low'}"], 7)
    k.nonces.sync(3)
    assert k._send(_fn(), "liquidate", A, 1_000_000) is True
    assert len(k.w3.eth.sent) == 1
    assert list(k.nonces.pending) == [7] and k.nonces.pending[7].key == A, "only the send that reached the node"
    assert list(NonceBook(tmp_path / "state.json", k.account.address).pending) == [7], "recorded on disk"
    assert k.nonces.reserve() == 8


def test_resync_keeps_what_is_in_flight(tmp_path):
    book = NonceBook(tmp_path / "s.json", KEEPER)
    book.sync(5)
    book.record(_pending(book.reserve(), A))  # 5 and 6: the keeper's own, in the pool
    book.record(_pending(book.reserve(), B))
    book.resync(9)  # the node's pending count: 5, 6 and the other sender's 7, 8
    assert list(book.pending) == [5, 6], "nothing dropped: the node counts pooled transactions"
    assert book.reserve() == 9
    book.resync(3)  # a lagging node never hands a recorded nonce out again
    assert book.reserve() == 10


def test_a_failed_replacement_keeps_the_original_in_flight(tmp_path):
    # A bump the node refuses (or whose original was mined meanwhile) must not forget the original:
    # it is still in flight, and after a restart the record is what stops a second liquidation.
    k = _sending_keeper(tmp_path, [], 0)
    k.nonces.sync(0)
    assert k._send(_fn(), "liquidate", A, 1_000_000) is True
    original = k.nonces.pending[0]
    k.w3.eth.errors = ["replacement transaction underpriced"]
    k.summary = type(k.summary)()
    k._replace(original)
    assert k.nonces.in_flight(A) == original
    assert NonceBook(tmp_path / "state.json", k.account.address).pending[0].tx_hash == original.tx_hash
    assert k.nonces.reserve() == 1, "the replacement's nonce is not handed out again"


_ENGINE_ERRORS = [
    {"type": "error", "name": "NotLiquidatable", "inputs": [{"name": "account", "type": "address"},
                                                             {"name": "health", "type": "uint256"}]},
    {"type": "error", "name": "InsufficientGasForFeed", "inputs": []},
    {"type": "error", "name": "AuctionNotRunning", "inputs": [{"name": "id", "type": "uint256"}]},
]


def _selector(signature: str) -> str:
    from eth_utils import keccak

    return keccak(text=signature)[:4].hex()


# what the keeper builds from the ABIs, spelled out: selector -> name
_ERROR_NAMES = {"0x" + _selector(sig): sig.split("(")[0]
                for sig in ("NotLiquidatable(address,uint256)", "InsufficientGasForFeed()", "AuctionNotRunning(uint256)")}


def test_error_selectors_from_abis():
    from unwind.keeper.transactions import error_selectors

    assert error_selectors([_ENGINE_ERRORS]) == _ERROR_NAMES


class _ReplayProvider:
    """eth_call at a block answers what the node would: a revert with data, or a result."""

    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def make_request(self, method, params):
        self.calls.append((method, params))
        return self.answer


def _reverted_keeper(answer):
    from types import SimpleNamespace

    k = _stub_keeper(PositionIndex(), {})
    k.w3 = SimpleNamespace(provider=_ReplayProvider(answer))
    k._errors = _ERROR_NAMES
    k.nonces = NonceBook(None, KEEPER)
    k.rpc_calls = 0
    return k


@pytest.mark.parametrize("key, answer, lost", [
    # replayed at the end of its block the batch would still liquidate 3: it ran out of gas
    (f"batch:{A},{B}", {"result": "0x" + _word_hex(3)}, False),
    # ... it would liquidate nobody: another keeper was first
    (f"batch:{A},{B}", {"result": "0x" + _word_hex(0)}, True),
    # a single liquidate: the account is no longer liquidatable / the gas check of the feed failed
    (A, {"error": {"code": 3, "message": "execution reverted",
                   "data": "0x" + _selector("NotLiquidatable(address,uint256)") + _word_hex(A) + _word_hex(WAD)}}, True),
    (A, {"error": {"code": 3, "message": "execution reverted", "data": "0x" + _selector("InsufficientGasForFeed()")}},
     False),
    (A, {"result": "0x" + _word_hex(1) * 4}, False),
])
def test_a_revert_of_the_keepers_own_is_not_a_lost_race(key, answer, lost):
    k = _reverted_keeper(answer)
    p = _pending(7, key)
    k.nonces.pending[7] = p
    receipt = {"status": 0, "gasUsed": 99_000, "effectiveGasPrice": GWEI, "blockNumber": 12}
    k._on_receipt(p, receipt, 12)
    assert k.summary.reverted == 1
    assert k.summary.lost_races == (1 if lost else 0)
    assert k.metrics.reverted._value.get() == (0 if lost else 1)
    assert k.w3.provider.calls == [("eth_call", [{"from": KEEPER, "to": C, "data": "0x12"}, "0xc"])], \
        "replayed at the end of its block"
    assert k.nonces.pending == {}


def test_a_take_the_auction_ended_before_is_a_lost_race():
    answer = {"error": {"code": 3, "message": "execution reverted",
                        "data": "0x" + _selector("AuctionNotRunning(uint256)") + _word_hex(5)}}
    k = _reverted_keeper(answer)
    p = _pending(3, "auction:5", kind="take")
    k._on_receipt(p, {"status": 0, "gasUsed": 1, "blockNumber": 9}, 9)
    assert (k.summary.lost_races, k.summary.reverted) == (1, 1)


# --- strategy.flash_min_proceeds --------------------------------------------------------------

def test_flash_minimum_keeps_gas_and_min_profit_within_the_slippage():
    from unwind.keeper.strategy import Bid, flash_min_proceeds

    # quoted 25,000 for a take that owes 22,000: 0.5% slippage allows down to 24,875
    bid = Bid(1, 10 * WAD, 2_200 * WAD, 22_000 * WAD, 2_990 * WAD, 10 * WAD, proceeds=25_000 * WAD)
    assert flash_min_proceeds(bid, 10 * WAD, 0, 50) == 24_875 * WAD
    # 30% slippage would allow 17,500, below owe: the floor is owe + gas 10 + min profit 100
    assert flash_min_proceeds(bid, 10 * WAD, 100 * WAD, 3_000) == 22_110 * WAD
    # a negative --min-profit never lowers the floor below owe + gas
    assert flash_min_proceeds(bid, 10 * WAD, -500 * WAD, 9_999) == 22_010 * WAD


# --- bidding: when a redo is worth its gas ------------------------------------------------------

def test_redo_incentive_mirrors_the_auction():
    from unwind.keeper.strategy import floor_price, redo_incentive

    # tab 3,000, lot 2 WETH at 2,500 (worth 5,000), dust 1,000: 10 + 0.001 x 3,000 = 13
    assert redo_incentive(2 * WAD, 3_000 * WAD, 18, 2_500 * WAD, 1_000 * WAD, 10 * WAD, WAD // 1000) == 13 * WAD
    # a lot worth 0.39 (below dust) or a tab below dust pays nothing
    assert redo_incentive(10**9, 3_000 * WAD, 18, 2_500 * WAD, 1_000 * WAD, 10 * WAD, WAD // 1000) == 0
    assert redo_incentive(2 * WAD, 999 * WAD, 18, 2_500 * WAD, 1_000 * WAD, 10 * WAD, WAD // 1000) == 0
    # 8 decimals: 0.02 WBTC at 50,000 = 1,000 exactly: not below dust
    assert redo_incentive(2_000_000, 5_000 * WAD, 8, 50_000 * WAD, 1_000 * WAD, 0, WAD // 100) == 50 * WAD
    assert floor_price(2_550 * WAD, WAD // 5) == 2_040 * WAD
    assert floor_price(1, WAD // 5) == 1, "rounded up"


def _redo_keeper(dust=1_000 * WAD, params=(1, 11 * WAD // 10, 3600, 0, 60, 7200, WAD // 5, 10 * WAD, WAD // 1000),
                 start_price=2_550 * WAD, paid_redos=0):
    from types import SimpleNamespace as NS

    call = lambda value: NS(call=lambda block_identifier=None: value)  # noqa: E731
    k = _stub_keeper(PositionIndex(), {})
    sale = (0,) * 9 + (paid_redos,)  # IDutchAuction.Sale: ..., paidRedos
    k.c = {"auction": NS(functions=NS(params=lambda cid: call(params), sales=lambda aid: call(sale))),
           "vault": NS(functions=NS(dust=lambda: call(dust))),
           "oracle": NS(functions=NS(peek=lambda token: call((0, 0, 0, start_price, 0, 0))))}
    k.collaterals = [(0, "0xweth", 18)]
    k._flash, k._redos_declined = None, set()
    return k


def test_redo_only_when_it_pays_its_gas_or_the_keeper_would_take():
    weth = CollateralState("0xweth", 18, 8 * WAD // 10, 2_550 * WAD, 2_550 * WAD, 0)
    fee, gas_cost = 2 * GWEI, 2 * WAD  # redo: 150,000 gas x 2 gwei x 3,000 = 0.9 uUSD
    k = _redo_keeper()
    # a normal auction: the incentive (10 + 0.001 x 8,000 = 18) pays the gas, with no budget at all
    why = k._redo_worth_it(1, "0xweth", 18, 4 * WAD, 8_000 * WAD, weth, fee, gas_cost, 0, 5)
    assert why and why.startswith("incentive 18.00 covers the gas 0.90")
    # a lot worth nothing: no incentive, and with no budget no take; with 10 uUSD to pay the tiny lot
    # it still is no take (it fetches 2.5e-6 against 2 of gas)
    assert k._redo_worth_it(2, "0xweth", 18, 10**9, 2_000 * WAD, weth, fee, gas_cost, 0, 5) is None
    assert k._redo_worth_it(2, "0xweth", 18, 10**9, 2_000 * WAD, weth, fee, gas_cost, 10 * WAD, 6) is None
    assert k.summary.redos_skipped == 2 and k.metrics.redos_skipped._value.get() == 2
    # no incentive (tip and chip 0) but the keeper would buy at the floor 2,040 against the oracle's 2,550
    k = _redo_keeper(params=(1, 11 * WAD // 10, 3600, 0, 60, 7200, WAD // 5, 0, 0))
    why = k._redo_worth_it(3, "0xweth", 18, 4 * WAD, 8_000 * WAD, weth, fee, gas_cost, 10_000 * WAD, 5)
    assert why == "a take at its floor 2040.0000 would pay"
    # ... but not with nothing to pay for it
    assert k._redo_worth_it(3, "0xweth", 18, 4 * WAD, 8_000 * WAD, weth, fee, gas_cost, 0, 6) is None
    # the normal auction after its paid redos (IDutchAuction REDO INCENTIVE): no incentive left to cover
    # the gas, and nothing to pay a take with: left alone
    k = _redo_keeper(paid_redos=3)
    assert k._redo_worth_it(1, "0xweth", 18, 4 * WAD, 8_000 * WAD, weth, fee, gas_cost, 0, 5) is None


# --- strategy: the auction's own rules the keeper follows -------------------------------------


def test_redo_pays_nothing_after_an_auctions_paid_redos():
    """IDutchAuction REDO INCENTIVE: only the first MAX_PAID_REDOS redos of an auction pay; the
    keeper's mirror says 0 after them, so it does not redo for an incentive that will not come."""
    from unwind.client import MAX_PAID_REDOS
    from unwind.keeper.strategy import redo_incentive

    args = (10**18, 20_000 * WAD, 18, 2_000 * WAD, 1_000 * WAD, 10 * WAD, WAD // 1000)
    assert redo_incentive(*args, paid_redos=MAX_PAID_REDOS - 1) == 10 * WAD + 20 * WAD
    assert redo_incentive(*args, paid_redos=MAX_PAID_REDOS) == 0


def test_the_keeper_leaves_auctions_alone_while_the_auction_refuses_them():
    """IDutchAuction PRICE GUARDS: takes and redos revert while the collateral's price is
    missing, frozen, its delayed feed stopped or the sequencer down; the graces allow them."""
    from unwind.keeper.strategy import auction_refused

    assert [auction_refused(g) for g in range(7)] == [None, "NoPrice", "Frozen", None, "DelayedStopped",
                                                      "SequencerDown", None]


def test_the_warning_level_is_logged_when_crossed_not_every_block(caplog):
    """Before (issue 17) every block logged every account below the warning level: a flood at
    10,000 accounts. Now: a line when an account falls below it, one when it is back, and a
    summary every warn_summary_every blocks."""
    import logging

    from unwind.keeper.strategy import Candidate

    k = _stub_keeper(PositionIndex(), {})
    k._below_warning = set()
    k.cfg.warn_summary_every = 10
    a, b = "0x" + "aa" * 20, "0x" + "bb" * 20
    with caplog.at_level(logging.INFO, logger="test"):
        for block in range(1, 21):
            k.summary.blocks = block
            warnings = [Candidate(a, 105 * WAD // 100)] + ([Candidate(b, 108 * WAD // 100)] if block < 15 else [])
            k._watch(warnings, [])
    lines = [r.getMessage() for r in caplog.records]
    assert sum("fell below the warning level" in m for m in lines) == 2  # a and b, once each
    assert sum(f"{b} is back above" in m for m in lines) == 1
    assert [m for m in lines if "accounts below the warning level" in m] == [
        f"watch: 2 accounts below the warning level 1.10 (lowest {a} at 1.0500), 0 liquidatable",
        f"watch: 1 accounts below the warning level 1.10 (lowest {a} at 1.0500), 0 liquidatable"]
    assert len(lines) == 5


# --- strategy: direct liquidation or an auction ---


def test_direct_when_it_pays_more_than_starting_an_auction():
    from unwind.keeper.strategy import DirectOption, choose_direct

    # 17,000 repaid for collateral worth 17,680 (a 4% discount): 680 less 10 of gas beats the
    # auction's incentive of 190 less 16 of gas.
    o = DirectOption("0xa", 0, 17_000 * WAD, 6 * WAD, 17_680 * WAD, False, 0)
    best = choose_direct([o], 190 * WAD, 16 * WAD, 10 * WAD, 0, budget=20_000 * WAD)
    assert best is not None and best.collateral_id == 0 and best.profit == 670 * WAD


def test_an_auction_when_direct_pays_less_or_cannot_be_paid():
    from unwind.keeper.strategy import DirectOption, choose_direct

    thin = DirectOption("0xa", 0, 1_000 * WAD, WAD, 1_020 * WAD, False, 0)  # 20 - 10 of gas < 30 - 16
    assert choose_direct([thin], 30 * WAD, 16 * WAD, 10 * WAD, 0, budget=10**30) is None
    rich = DirectOption("0xa", 0, 17_000 * WAD, 6 * WAD, 17_680 * WAD, False, 0)
    assert choose_direct([rich], 190 * WAD, 16 * WAD, 10 * WAD, 0, budget=1_000 * WAD) is None  # cannot pay
    flash = DirectOption("0xa", 0, 17_000 * WAD, 6 * WAD, 17_500 * WAD, True, 0)  # sold into a market
    assert choose_direct([flash], 190 * WAD, 16 * WAD, 10 * WAD, 0, budget=0).flash
    # never at a loss, and --min-profit is honoured
    loss = DirectOption("0xa", 0, 1_000 * WAD, WAD, 1_005 * WAD, False, 0)
    assert choose_direct([loss], 0, 16 * WAD, 10 * WAD, 0, budget=10**30) is None
    assert choose_direct([rich], 0, 16 * WAD, 10 * WAD, 700 * WAD, budget=10**30) is None
