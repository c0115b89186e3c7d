"""Funding against a Python reference: integer-exact, per second, across skew changes."""

from __future__ import annotations

from tests.perps.conftest import WETH, WETH_MARKET, market_tuple
from tests.perps.perp_model import WAD, funding_owed


def block_time(p, tx) -> int:
    return p.chain.provider.get_block(tx.block_number).timestamp


def accrued(tx, p):
    evs = tx.events.filter(p.markets.FundingAccrued)
    assert len(evs) == 1
    return evs[0]


def advance(p, seconds):
    """Let time pass with fresh feed rounds (under the heartbeat), prices unchanged."""
    left = seconds
    while left > 0:
        dt = min(1_800, left)
        p.chain.mine(1, deltatime=dt)
        for feed in p.s.feeds.values():
            feed.setAnswer(feed.answer(), sender=p.deployer)
        left -= dt


def test_funding_index_matches_the_reference_across_skew_changes(funded, alice, bob, keeper):
    p, m = funded, funded.models[WETH]
    p.deposit_margin(alice, 300_000 * WAD)
    p.deposit_margin(bob, 900_000 * WAD)
    price = p.quote(WETH).current
    index, skew = 0, 0
    last_t = p.markets.marketState(WETH).lastFundingTime

    def touch(tx, new_skew):
        nonlocal index, skew, last_t
        t = block_time(p, tx)
        ev = accrued(tx, p)
        index += m.index_delta(skew, price, t - last_t)
        assert ev.index == index and ev.price == price
        last_t, skew = t, new_skew
        st = p.markets.marketState(WETH)
        assert st.lastFundingTime == t and st.skew == skew
        assert st.fundingRate == m.rate(skew)
        return t

    tx, _ = p.trade(alice, WETH, 1_000 * WAD)  # skew 0 over the first interval: no funding
    touch(tx, 1_000 * WAD)
    i_alice = index
    advance(p, 1_000)
    tx, ev = p.trade(bob, WETH, -3_000 * WAD)  # skew +1000 -> -2000
    touch(tx, -2_000 * WAD)
    i_bob = index
    assert ev.funding == 0  # a new position owes nothing
    advance(p, 777)
    tx = p.markets.settleFunding(WETH, sender=keeper)  # anyone
    touch(tx, skew)
    advance(p, 5_003)
    tx, ev = p.trade(alice, WETH, -1_000 * WAD)  # alice closes: skew -> -3000
    touch(tx, -3_000 * WAD)
    # alice (long) was paid while shorts dominated and paid while longs did.
    assert ev.funding == funding_owed(1_000 * WAD, index - i_alice)
    assert p.markets.position(bob, WETH).lastFundingIndex == i_bob
    advance(p, 3_601)
    tx, ev = p.trade(bob, WETH, 1_000 * WAD)  # bob reduces: settles his funding since his open
    touch(tx, -2_000 * WAD)
    assert ev.funding == funding_owed(-3_000 * WAD, index - i_bob)
    assert ev.funding > 0  # shorts pay when the skew is short
    p.assert_conserved()


def test_funding_per_second_and_rounding(funded, alice, keeper):
    """One second at a time the index moves by ceil(maxRate x skew/scale x price x 1 / day),
    and a position's funding rounds up when it pays."""
    p, m = funded, funded.models[WETH]
    price = p.quote(WETH).current
    tx, _ = p.trade(alice, WETH, 7 * WAD + 3)
    skew = 7 * WAD + 3
    t0 = block_time(p, tx)
    i0 = p.markets.marketState(WETH).fundingIndex
    index = i0
    for _ in range(3):
        p.chain.mine(1, deltatime=1)
        tx = p.markets.settleFunding(WETH, sender=keeper)
        t1 = block_time(p, tx)
        index += m.index_delta(skew, price, t1 - t0)
        assert accrued(tx, p).index == index
        t0 = t1
    exact = (index - i0) * skew
    assert exact % 10**36 != 0  # the rounding is visible
    pos = p.markets.position(alice, WETH)
    assert pos.fundingOwed == -(-exact // 10**36) > 0
    _, ev = p.trade(alice, WETH, -(7 * WAD + 3))
    assert ev.funding == funding_owed(skew, p.markets.position(alice, WETH).lastFundingIndex - i0)
    p.assert_conserved()


def test_funding_rate_clamps_at_the_skew_scale(funded, alice, bob):
    """A market whose caps equal its skew scale: at |skew| = skewScale the rate is the maximum."""
    p = funded
    small = dict(WETH_MARKET, skew_scale=10 * WAD, max_long=10 * WAD, max_short=10 * WAD, im_scale=0)
    p.markets.setMarket(WETH, market_tuple(p.tokens[WETH], small), sender=p.deployer)
    p.trade(alice, WETH, 10 * WAD)
    assert p.markets.fundingRate(WETH) == WETH_MARKET["max_funding"]
    p.deposit_margin(bob, 100_000 * WAD)
    p.trade(bob, WETH, -5 * WAD)
    assert p.markets.fundingRate(WETH) == WETH_MARKET["max_funding"] // 2
    p.assert_conserved()


def test_parameter_change_settles_funding_under_the_old_rate(funded, alice):
    p, m = funded, funded.models[WETH]
    price = p.quote(WETH).current
    tx, _ = p.trade(alice, WETH, 100 * WAD)
    t0, i0 = block_time(p, tx), p.markets.marketState(WETH).fundingIndex
    advance(p, 600)
    tx = p.markets.setMarket(WETH, market_tuple(p.tokens[WETH], dict(WETH_MARKET, max_funding=0)), sender=p.deployer)
    assert accrued(tx, p).index == i0 + m.index_delta(100 * WAD, price, block_time(p, tx) - t0)
    advance(p, 600)
    p.markets.settleFunding(WETH, sender=alice)
    assert p.markets.marketState(WETH).fundingIndex == accrued(tx, p).index
    assert p.markets.fundingRate(WETH) == 0
