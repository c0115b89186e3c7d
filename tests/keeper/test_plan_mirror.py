"""The keeper decides with the engine's own rule (unwind/keeper/plan.py), not a simpler one.

Before (issue 16, item 13) the keeper's health mirror treated any guarded holding as blocking and
knew nothing of the queue's caps, so one wei of a guarded token hid an unsafe account from the
keeper while the engine would liquidate it. Now `health_of` asks the planner, and the invariant
state machine (tests/invariants) checks after every step of every run that the planner equals
`previewLiquidate` field by field for every account, with wei-sized holdings planted, caps
filled and prices guarded. These tests pin the decisions that used to differ, without a chain.
"""

from unwind.keeper import plan as planner
from unwind.keeper.health import MAX_UINT, RAY, WAD, CollateralState, MarketState, health_of, preview_of
from unwind.keeper.index import Position

DUST = 1_000 * WAD
ENGINE = planner.EngineConfig(target_health=125 * WAD // 100, lot_margin=5 * WAD // 100, tip=20 * WAD,
                              chip=WAD // 100, global_cap=10_000_000 * WAD)
FROZEN = 2  # IOracleAdapter.Guard.Frozen


def _col(token, decimals, threshold, price, guard=0):
    return CollateralState(token, decimals, threshold, 0 if guard else price, price, guard, WAD // 10, price)


def _state(guard_wbtc=False, weth_room=5_000_000 * WAD, weth_used=0):
    cols = {0: _col("WETH", 18, 8 * WAD // 10, 2_400 * WAD),
            1: _col("WBTC", 8, 78 * WAD // 100, 60_000 * WAD, FROZEN if guard_wbtc else 0)}
    queue = planner.Queue(weth_used, {0: weth_used, 1: 0}, {0: weth_used + weth_room, 1: 5_000_000 * WAD})
    return MarketState(1, RAY, cols, DUST, ENGINE, queue)


def test_a_guarded_holding_above_dust_does_not_hide_an_unsafe_account():
    # 50 WETH at 2,400 and 0.02 frozen WBTC (~$1,200 at its last price) against 100,000: health
    # 0.969. The old mirror said "not liquidatable" (any guarded holding blocked); the engine
    # liquidates the WETH.
    position = Position(100_000 * WAD, {0: 50 * WAD, 1: 2_000_000})
    health, liquidatable = health_of(position, _state(guard_wbtc=True))
    assert health < WAD
    assert liquidatable
    p = preview_of(position, _state(guard_wbtc=True))
    assert [s.collateral_id for s in p.seizures] == [0]


def test_only_guarded_collateral_waits_for_the_guard():
    position = Position(50_000 * WAD, {1: 10**8})
    health, liquidatable = health_of(position, _state(guard_wbtc=True))
    assert health < WAD and not liquidatable
    assert preview_of(position, _state(guard_wbtc=True)).blocked == planner.GUARDED


def test_a_planted_wei_under_a_full_cap_does_not_hide_an_account():
    # Unsafe on WBTC (52,000 x 0.78 / 41,580 = 0.9755) with 1 wei of WETH whose queue is full.
    position = Position(41_580 * WAD, {0: 1, 1: 10**8})
    state = _state(weth_room=0, weth_used=1_000_000 * WAD)
    state = MarketState(1, RAY, {**state.collaterals, 1: _col("WBTC", 8, 78 * WAD // 100, 52_000 * WAD)}, DUST,
                        ENGINE, state.queue)
    health, liquidatable = health_of(position, state)
    assert liquidatable
    p = preview_of(position, state)
    assert [s.collateral_id for s in p.seizures] == [1]


def test_a_full_queue_is_not_sent():
    # Only WETH held, its queue full: the engine would revert LiquidationCapReached; the keeper
    # does not send it (it would pay gas for a revert).
    position = Position(2_300 * WAD, {0: WAD})
    health, liquidatable = health_of(position, _state(weth_room=0, weth_used=10**6 * WAD))
    assert health < WAD and not liquidatable
    p = preview_of(position, _state(weth_room=0, weth_used=10**6 * WAD))
    assert p.blocked == planner.CAP and p.detail == 0


def test_healthy_and_debt_free_accounts_cost_no_plan():
    assert health_of(Position(0, {0: WAD}), _state()) == (MAX_UINT, False)
    health, liquidatable = health_of(Position(1_000 * WAD, {0: WAD}), _state())
    assert health == 2_400 * 8 * WAD // 10 * WAD // (1_000 * WAD) and not liquidatable
