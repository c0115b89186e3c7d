"""OracleAdapter state machine: validity of rounds, LIVE / SECONDARY / FROZEN, the jump breaker, the
deviation check and the recovery grace. WETH has a secondary feed, WBTC has none (see conftest)."""

import pytest
from oracle_helpers import (
    BTC,
    CODE_BAD_UINT80,
    CODE_EMPTY,
    CODE_GAS_BURNER,
    CODE_RETURN_BOMB,
    CODE_REVERT,
    CODE_SHORT,
    ETH,
    FROZEN,
    G_FROZEN,
    G_NONE,
    G_RECOVERY,
    HEARTBEAT,
    LIVE,
    RECOVERY_GRACE,
    SECONDARY,
    ZERO,
    call_time,
    feed_config,
    mine_at,
    quote_tuple,
    reverts_with,
    set_code,
    warp,
)

E10 = 10**10  # 8-decimal feed answer -> wad


def status_changes(receipt, adapter):
    return [(e["from"], e.to) for e in receipt.decode_logs(adapter.StatusChanged)]


def accepted(receipt, adapter):
    return [(e.price, e.status) for e in receipt.decode_logs(adapter.PriceAccepted)]


# Every way a round can be INVALID. Each breaker leaves the feed's answer near its price, so the
# only reason to reject it is the validity rule under test.
BREAKERS = [
    "stale",
    "zero",
    "negative",
    "round_id_0",
    "updated_at_0",
    "updated_at_future",
    "started_at_0",
    "clamped_min",
    "clamped_max",
    "reverts",
    "code_empty",
    "code_revert",
    "code_short",
    "code_bad_uint80",
    "code_gas_burner",
    "code_return_bomb",
]


def break_feed(breaker, feed, price, chain, owner):
    t = chain.pending_timestamp
    if breaker == "stale":
        feed.setAnswerAt(price, t - HEARTBEAT - 1, sender=owner)
    elif breaker == "zero":
        feed.setRound(7, 0, t, t, 7, sender=owner)
    elif breaker == "negative":
        feed.setRound(7, -price, t, t, 7, sender=owner)
    elif breaker == "round_id_0":
        feed.setRound(0, price, t, t, 0, sender=owner)
    elif breaker == "updated_at_0":
        feed.setRound(7, price, t, 0, 7, sender=owner)
    elif breaker == "updated_at_future":
        feed.setRound(7, price, t, t + 3600, 7, sender=owner)
    elif breaker == "started_at_0":
        feed.setRound(7, price, 0, t, 7, sender=owner)
    elif breaker in ("clamped_min", "clamped_max"):
        # The aggregator's own bound sits 5% from the price and the price moves 8% beyond it:
        # the feed reports its bound, inside the jump limit, and must still be refused.
        raise AssertionError("handled by the caller: needs a bounded configuration")
    elif breaker == "reverts":
        feed.setReverts(True, sender=owner)
    else:
        code = {
            "code_empty": CODE_EMPTY,
            "code_revert": CODE_REVERT,
            "code_short": CODE_SHORT,
            "code_bad_uint80": CODE_BAD_UINT80,
            "code_gas_burner": CODE_GAS_BURNER,
            "code_return_bomb": CODE_RETURN_BOMB,
        }[breaker]
        set_code(chain, feed, code)


def apply_breaker(breaker, adapter, token, feed, price, chain, owner, secondary=None):
    if breaker in ("clamped_min", "clamped_max"):
        lo, hi = price * 95 // 100, price * 105 // 100
        config = feed_config(feed, secondary or ZERO, minAnswer=lo, maxAnswer=hi)
        adapter.setFeed(token, config, sender=owner)
        feed.setBounds(lo, hi, sender=owner)
        feed.setAnswer(price * 87 // 100 if breaker == "clamped_min" else price * 113 // 100, sender=owner)
        assert feed.answer() == (lo if breaker == "clamped_min" else hi)
    else:
        break_feed(breaker, feed, price, chain, owner)


# --- Steady state --------------------------------------------------------------------------------


def test_nothing_changed_writes_nothing_and_emits_nothing(adapter, weth, keeper):
    receipt = adapter.update(weth, sender=keeper)
    assert receipt.events == []
    q = adapter.peek(weth)
    assert quote_tuple(q) == (ETH * E10, ETH * E10, ETH * E10, ETH * E10, LIVE, G_NONE)


def test_poke_and_update_run_the_same_state_machine(adapter, wbtc, btc_feed, deployer, keeper):
    btc_feed.setAnswer(BTC * 96 // 100, sender=deployer)
    assert accepted(adapter.poke(wbtc, sender=keeper), adapter) == [(BTC * 96 // 100 * E10, LIVE)]
    btc_feed.setAnswer(BTC * 97 // 100, sender=deployer)
    assert accepted(adapter.update(wbtc, sender=keeper), adapter) == [(BTC * 97 // 100 * E10, LIVE)]


@pytest.mark.parametrize("scenario", ["steady", "moved", "primary_broken", "disagree"])
def test_peek_returns_what_update_returns(adapter, weth, eth_feed, eth_feed2, deployer, keeper, chain, scenario):
    if scenario == "moved":
        eth_feed.setAnswer(ETH * 97 // 100, sender=deployer)
        eth_feed2.setAnswer(ETH * 97 // 100, sender=deployer)
    elif scenario == "primary_broken":
        eth_feed.setReverts(True, sender=deployer)
    elif scenario == "disagree":
        eth_feed2.setAnswer(ETH * 90 // 100, sender=deployer)
    warp(chain, 3601)  # a delayed-price hop is due too
    eth_feed2.setAnswer(eth_feed2.answer(), sender=deployer)
    if scenario != "primary_broken":
        eth_feed.setAnswer(eth_feed.answer(), sender=deployer)
    chain.mine()
    peeked = quote_tuple(adapter.peek(weth))
    assert quote_tuple(adapter.update.call(weth)) == peeked  # same block, same state
    adapter.update(weth, sender=keeper)
    mine_at(chain, chain.pending_timestamp)
    assert quote_tuple(adapter.peek(weth)) == peeked  # what update stored serves the same quote


def test_unknown_token_reverts(adapter, debt, keeper):
    with reverts_with(adapter.UnknownToken, token=debt.address):
        adapter.peek(debt)
    with reverts_with(adapter.UnknownToken, token=debt.address):
        adapter.update(debt, sender=keeper)
    with reverts_with(adapter.UnknownToken, token=debt.address):
        adapter.poke(debt, sender=keeper)


# --- Invalid primary ---------------------------------------------------------------------------------


@pytest.mark.parametrize("breaker", BREAKERS)
def test_invalid_primary_falls_back_to_the_secondary(
    adapter, weth, eth_feed, eth_feed2, deployer, keeper, chain, breaker
):
    eth_feed2.setAnswer(ETH * 101 // 100, sender=deployer)  # within deviation and jump
    apply_breaker(breaker, adapter, weth, eth_feed, ETH, chain, deployer, secondary=eth_feed2)
    receipt = adapter.update(weth, sender=keeper)
    assert status_changes(receipt, adapter) == [(LIVE, SECONDARY)]
    assert accepted(receipt, adapter) == [(ETH * 101 // 100 * E10, SECONDARY)]
    q = adapter.peek(weth)
    assert (q.status, q.guard, q.current) == (SECONDARY, G_NONE, ETH * 101 // 100 * E10)
    assert adapter.status(weth) == SECONDARY


@pytest.mark.parametrize("breaker", BREAKERS)
def test_invalid_primary_without_secondary_freezes(adapter, wbtc, btc_feed, deployer, keeper, chain, breaker):
    apply_breaker(breaker, adapter, wbtc, btc_feed, BTC, chain, deployer)
    receipt = adapter.update(wbtc, sender=keeper)
    assert status_changes(receipt, adapter) == [(LIVE, FROZEN)]
    assert accepted(receipt, adapter) == []  # the last good price is kept
    q = adapter.peek(wbtc)
    assert quote_tuple(q) == (BTC * E10, 0, 0, BTC * E10, FROZEN, G_FROZEN)


def test_answer_strictly_inside_the_bounds_is_valid(adapter, wbtc, btc_feed, deployer, keeper):
    adapter.setFeed(wbtc, feed_config(btc_feed, minAnswer=BTC * 95 // 100, maxAnswer=BTC * 105 // 100), sender=deployer)
    for answer in (BTC * 95 // 100 + 1, BTC, BTC * 105 // 100 - 1):  # steps within the jump limit
        btc_feed.setAnswer(answer, sender=deployer)
        adapter.poke(wbtc, sender=keeper)
        assert adapter.peek(wbtc).current == answer * E10
        assert adapter.status(wbtc) == LIVE


def test_round_at_exactly_the_heartbeat_is_fresh(adapter, wbtc, btc_feed, deployer, chain):
    t = call_time(chain)
    btc_feed.setAnswerAt(BTC, t, sender=deployer)
    mine_at(chain, t + HEARTBEAT)
    assert adapter.peek(wbtc).status == LIVE
    mine_at(chain, t + HEARTBEAT + 1)
    assert adapter.peek(wbtc).status == FROZEN


def test_starved_feed_call_reverts_instead_of_breaking_the_feed(adapter, wbtc, keeper):
    # With too little gas to give the feed its full cap, the adapter refuses to run rather than
    # treat a healthy feed as broken (which would freeze the token or switch to the secondary).
    with reverts_with(adapter.InsufficientGasForFeed):
        adapter.update(wbtc, sender=keeper, gas_limit=90_000)
    assert adapter.status(wbtc) == LIVE
    adapter.update(wbtc, sender=keeper, gas_limit=200_000)


# --- Secondary and back ------------------------------------------------------------------------------


def test_secondary_back_to_live_waits_the_recovery_grace(adapter, weth, eth_feed, eth_feed2, deployer, keeper, chain):
    eth_feed.setReverts(True, sender=deployer)
    adapter.poke(weth, sender=keeper)
    assert adapter.status(weth) == SECONDARY

    eth_feed.setReverts(False, sender=deployer)
    eth_feed.setAnswer(ETH, sender=deployer)
    receipt = adapter.update(weth, sender=keeper)
    assert status_changes(receipt, adapter) == [(SECONDARY, LIVE)]
    since = receipt.timestamp
    assert adapter.recoveryStartedAt(weth) == since

    mine_at(chain, since + RECOVERY_GRACE - 1)
    q = adapter.peek(weth)
    assert (q.status, q.guard, q.liquidationPrice) == (LIVE, G_RECOVERY, 0)
    assert q.borrowPrice == q.current == ETH * E10  # the recovery grace does not stop borrowing
    assert q.auctionStartPrice == ETH * E10
    mine_at(chain, since + RECOVERY_GRACE)
    q = adapter.peek(weth)
    assert (q.guard, q.liquidationPrice) == (G_NONE, ETH * E10)


def test_recovery_grace_zero_means_no_wait(adapter, weth, eth_feed, deployer, keeper):
    adapter.setRecoveryGrace(0, sender=deployer)
    eth_feed.setReverts(True, sender=deployer)
    adapter.poke(weth, sender=keeper)
    eth_feed.setReverts(False, sender=deployer)
    adapter.poke(weth, sender=keeper)
    assert adapter.peek(weth).guard == G_NONE


def test_recovery_grace_change_applies_to_a_running_grace(adapter, weth, eth_feed, deployer, keeper, chain):
    eth_feed.setReverts(True, sender=deployer)
    adapter.poke(weth, sender=keeper)
    eth_feed.setReverts(False, sender=deployer)
    since = adapter.update(weth, sender=keeper).timestamp
    adapter.setRecoveryGrace(10, sender=deployer)
    mine_at(chain, since + 10)
    assert adapter.peek(weth).guard == G_NONE


def test_secondary_that_jumps_freezes(adapter, weth, eth_feed, eth_feed2, deployer, keeper):
    eth_feed.setReverts(True, sender=deployer)
    eth_feed2.setAnswer(ETH * 85 // 100, sender=deployer)  # 15% > maxJumpBps
    receipt = adapter.update(weth, sender=keeper)
    assert status_changes(receipt, adapter) == [(LIVE, FROZEN)]
    assert adapter.peek(weth).current == ETH * E10


def test_secondary_invalid_does_not_stop_a_good_primary(adapter, weth, eth_feed, eth_feed2, deployer, keeper):
    eth_feed2.setReverts(True, sender=deployer)
    eth_feed.setAnswer(ETH * 95 // 100, sender=deployer)
    receipt = adapter.update(weth, sender=keeper)
    assert status_changes(receipt, adapter) == []
    assert accepted(receipt, adapter) == [(ETH * 95 // 100 * E10, LIVE)]


def test_both_feeds_invalid_freezes(adapter, weth, eth_feed, eth_feed2, deployer, keeper):
    eth_feed.setReverts(True, sender=deployer)
    eth_feed2.setReverts(True, sender=deployer)
    adapter.poke(weth, sender=keeper)
    q = adapter.peek(weth)
    assert quote_tuple(q) == (ETH * E10, 0, 0, ETH * E10, FROZEN, G_FROZEN)


# --- Deviation ------------------------------------------------------------------------------------------


def test_disagreeing_feeds_freeze(adapter, weth, eth_feed2, deployer, keeper):
    eth_feed2.setAnswer(ETH * 103 // 100, sender=deployer)  # 3% > maxDeviationBps = 2%
    receipt = adapter.update(weth, sender=keeper)
    assert status_changes(receipt, adapter) == [(LIVE, FROZEN)]
    q = adapter.peek(weth)
    assert (q.status, q.guard, q.liquidationPrice, q.borrowPrice) == (FROZEN, G_FROZEN, 0, 0)


def test_deviation_at_exactly_the_limit_is_agreement(adapter, weth, eth_feed2, deployer, keeper):
    eth_feed2.setAnswer(ETH * 102 // 100, sender=deployer)  # (hi - lo) / lo == 2% exactly
    adapter.poke(weth, sender=keeper)
    assert adapter.status(weth) == LIVE
    eth_feed2.setAnswer(ETH * 102 // 100 + 1, sender=deployer)
    adapter.poke(weth, sender=keeper)
    assert adapter.status(weth) == FROZEN


def test_frozen_back_to_live_when_feeds_agree_again(adapter, weth, eth_feed2, deployer, keeper, chain):
    eth_feed2.setAnswer(ETH * 103 // 100, sender=deployer)
    adapter.poke(weth, sender=keeper)
    assert adapter.status(weth) == FROZEN
    eth_feed2.setAnswer(ETH, sender=deployer)
    receipt = adapter.update(weth, sender=keeper)
    assert status_changes(receipt, adapter) == [(FROZEN, LIVE)]
    assert adapter.recoveryStartedAt(weth) == receipt.timestamp
    assert adapter.peek(weth).guard == G_RECOVERY
    mine_at(chain, receipt.timestamp + RECOVERY_GRACE)
    assert adapter.peek(weth).guard == G_NONE


def test_frozen_to_secondary_when_the_primary_breaks(adapter, weth, eth_feed, eth_feed2, deployer, keeper):
    eth_feed2.setAnswer(ETH * 103 // 100, sender=deployer)
    adapter.poke(weth, sender=keeper)
    eth_feed.setReverts(True, sender=deployer)
    receipt = adapter.update(weth, sender=keeper)
    assert status_changes(receipt, adapter) == [(FROZEN, SECONDARY)]
    assert adapter.peek(weth).guard == G_NONE  # no recovery grace for SECONDARY


# --- Jump breaker ---------------------------------------------------------------------------------------


def test_jump_without_secondary_freezes(adapter, wbtc, btc_feed, deployer, keeper):
    btc_feed.setAnswer(BTC * 80 // 100, sender=deployer)  # -20% in one round
    receipt = adapter.update(wbtc, sender=keeper)
    assert status_changes(receipt, adapter) == [(LIVE, FROZEN)]
    assert adapter.peek(wbtc).current == BTC * E10


def test_jump_at_exactly_the_limit_is_accepted(adapter, wbtc, btc_feed, deployer, keeper):
    for answer in (BTC * 90 // 100, BTC * 99 // 100):  # -10%, then +10% of the new price
        btc_feed.setAnswer(answer, sender=deployer)
        adapter.poke(wbtc, sender=keeper)
        assert (adapter.status(wbtc), adapter.peek(wbtc).current) == (LIVE, answer * E10)


def test_jump_confirmed_by_the_secondary_is_accepted(adapter, weth, eth_feed, eth_feed2, deployer, keeper):
    eth_feed.setAnswer(ETH * 70 // 100, sender=deployer)
    eth_feed2.setAnswer(ETH * 71 // 100, sender=deployer)
    receipt = adapter.update(weth, sender=keeper)
    assert status_changes(receipt, adapter) == []
    assert accepted(receipt, adapter) == [(ETH * 70 // 100 * E10, LIVE)]


def test_jump_the_secondary_disputes_freezes(adapter, weth, eth_feed, deployer, keeper):
    eth_feed.setAnswer(ETH * 70 // 100, sender=deployer)  # secondary still at ETH
    receipt = adapter.update(weth, sender=keeper)
    assert status_changes(receipt, adapter) == [(LIVE, FROZEN)]


def test_jump_with_the_secondary_invalid_freezes(adapter, weth, eth_feed, eth_feed2, deployer, keeper):
    eth_feed2.setReverts(True, sender=deployer)
    eth_feed.setAnswer(ETH * 70 // 100, sender=deployer)
    adapter.poke(weth, sender=keeper)
    assert adapter.status(weth) == FROZEN


def test_frozen_jump_recovers_when_the_price_comes_back(adapter, wbtc, btc_feed, deployer, keeper):
    btc_feed.setAnswer(BTC * 2, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    assert adapter.status(wbtc) == FROZEN
    btc_feed.setAnswer(BTC * 105 // 100, sender=deployer)  # back within 10% of the last good price
    receipt = adapter.update(wbtc, sender=keeper)
    assert status_changes(receipt, adapter) == [(FROZEN, LIVE)]
    assert accepted(receipt, adapter) == [(BTC * 105 // 100 * E10, LIVE)]
