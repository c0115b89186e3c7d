"""OracleAdapter delayed price (Maker's OSM): hops, confirmation of drops, the guardian's stop, and
`delay == 0`. WBTC: delay 1 hour, no secondary; USDC: delay 0 (see conftest)."""

from oracle_helpers import (
    BTC,
    DELAY,
    FROZEN,
    G_FROZEN,
    G_NONE,
    G_STOPPED,
    LIVE,
    USD,
    quote_tuple,
)

E10 = 10**10
P0 = BTC * E10  # activation price, wad
P1 = BTC * 95 // 100 * E10  # a 5% drop


def delayed_events(receipt, adapter):
    return [(e.delayed, e.queued) for e in receipt.decode_logs(adapter.DelayedPriceUpdated)]


def at(chain, timestamp):
    """The next transaction is mined at `timestamp`."""
    chain.pending_timestamp = timestamp


def watched_round(adapter, token, feed, answer, timestamp, deployer, keeper, chain):
    """A round at `timestamp`, read at once. DELAY equals the heartbeat, so rounds only at the hops
    would come a second more than a heartbeat apart: an outage the adapter sees (choice 5)."""
    at(chain, timestamp)
    feed.setAnswer(answer, sender=deployer)
    adapter.poke(token, sender=keeper)


def test_drop_is_confirmed_only_after_a_full_hop(adapter, wbtc, btc_feed, deployer, keeper, chain):
    delayed, queued, hop0, stopped = adapter.delayedState(wbtc)
    assert (delayed, queued, stopped) == (P0, P0, False)

    at(chain, hop0 + 10)
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)
    receipt = adapter.update(wbtc, sender=keeper)
    assert delayed_events(receipt, adapter) == []  # no hop yet
    q = adapter.peek(wbtc)
    # New debt sees the drop at once; liquidations wait for it to go through the delay.
    assert (q.current, q.borrowPrice, q.liquidationPrice, q.auctionStartPrice) == (P1, P1, P0, P0)

    at(chain, hop0 + DELAY - 1)
    adapter.poke(wbtc, sender=keeper)
    assert adapter.delayedState(wbtc) == (P0, P0, hop0, False)

    at(chain, hop0 + DELAY)
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)  # keep the round fresh
    receipt = adapter.update(wbtc, sender=keeper)
    assert delayed_events(receipt, adapter) == [(P0, P1)]  # the drop is queued
    hop1 = receipt.timestamp
    assert adapter.delayedState(wbtc) == (P0, P1, hop1, False)
    assert adapter.peek(wbtc).liquidationPrice == P0

    watched_round(adapter, wbtc, btc_feed, BTC * 95 // 100, hop1 + DELAY // 2, deployer, keeper, chain)
    at(chain, hop1 + DELAY)
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)
    receipt = adapter.update(wbtc, sender=keeper)
    assert delayed_events(receipt, adapter) == [(P1, P1)]  # confirmed
    q = adapter.peek(wbtc)
    assert (q.current, q.borrowPrice, q.liquidationPrice, q.auctionStartPrice) == (P1, P1, P1, P1)


def test_a_wick_never_reaches_the_liquidation_price(adapter, wbtc, btc_feed, deployer, keeper, chain):
    hop0 = adapter.delayedState(wbtc)[2]
    at(chain, hop0 + 60)
    btc_feed.setAnswer(BTC * 92 // 100, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    assert adapter.peek(wbtc).liquidationPrice == P0
    at(chain, hop0 + 120)
    btc_feed.setAnswer(BTC, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    for _ in range(2):  # two hops later the wick has left no trace
        hop = adapter.delayedState(wbtc)[2]
        watched_round(adapter, wbtc, btc_feed, BTC, hop + DELAY // 2, deployer, keeper, chain)
        at(chain, hop + DELAY)
        btc_feed.setAnswer(BTC, sender=deployer)
        adapter.poke(wbtc, sender=keeper)
        assert adapter.peek(wbtc).liquidationPrice == P0
    assert adapter.delayedState(wbtc)[:2] == (P0, P0)


def test_a_long_gap_makes_a_single_hop(adapter, wbtc, btc_feed, deployer, keeper, chain):
    hop0 = adapter.delayedState(wbtc)[2]
    at(chain, hop0 + 10)
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    at(chain, hop0 + 5 * DELAY)
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)
    receipt = adapter.update(wbtc, sender=keeper)
    assert delayed_events(receipt, adapter) == [(P0, P1)]
    assert adapter.delayedState(wbtc) == (P0, P1, receipt.timestamp, False)


def test_no_hop_while_frozen(adapter, wbtc, btc_feed, deployer, keeper, chain):
    hop0 = adapter.delayedState(wbtc)[2]
    btc_feed.setReverts(True, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    at(chain, hop0 + 2 * DELAY)
    adapter.poke(wbtc, sender=keeper)
    assert adapter.status(wbtc) == FROZEN
    assert adapter.delayedState(wbtc) == (P0, P0, hop0, False)
    btc_feed.setReverts(False, sender=deployer)
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)
    receipt = adapter.update(wbtc, sender=keeper)  # back to LIVE: the overdue hop happens now
    assert delayed_events(receipt, adapter) == [(P0, P1)]


# --- Guardian stop ---------------------------------------------------------------------------------


def test_stop_blocks_liquidation_and_borrow_prices(adapter, wbtc, deployer):
    receipt = adapter.setDelayedStopped(wbtc, True, sender=deployer)
    assert [(e.token, e.stopped) for e in receipt.decode_logs(adapter.DelayedFeedStopped)] == [(wbtc.address, True)]
    assert adapter.delayedState(wbtc)[3] is True
    q = adapter.peek(wbtc)
    assert quote_tuple(q) == (P0, 0, 0, P0, LIVE, G_STOPPED)


def test_stop_freezes_the_queue_and_restart_reseeds_it(adapter, wbtc, btc_feed, deployer, keeper, chain):
    hop0 = adapter.delayedState(wbtc)[2]
    at(chain, hop0 + 10)
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    at(chain, hop0 + DELAY)
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    hop1 = adapter.delayedState(wbtc)[2]
    assert adapter.delayedState(wbtc) == (P0, P1, hop1, False)  # P1 is queued: the guardian stops

    watched_round(adapter, wbtc, btc_feed, BTC * 95 // 100, hop1 + DELAY // 2, deployer, keeper, chain)
    at(chain, hop1 + DELAY)  # the hop is due, but stopping does not run it
    adapter.setDelayedStopped(wbtc, True, sender=deployer)
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    for k in (1, 2):  # the feed keeps publishing and is watched: no outage (choice 5)
        t = hop1 + DELAY + k * DELAY * 2 // 3
        watched_round(adapter, wbtc, btc_feed, BTC * 95 // 100, t, deployer, keeper, chain)
    at(chain, hop1 + 3 * DELAY)
    btc_feed.setAnswer(BTC * 96 // 100, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    assert adapter.delayedState(wbtc) == (P0, P1, hop1, True)  # nothing moved while stopped

    receipt = adapter.setDelayedStopped(wbtc, False, sender=deployer)
    p2 = BTC * 96 // 100 * E10
    assert [e.stopped for e in receipt.decode_logs(adapter.DelayedFeedStopped)] == [False]
    assert delayed_events(receipt, adapter) == [(p2, p2)]
    assert adapter.delayedState(wbtc) == (p2, p2, receipt.timestamp, False)
    q = adapter.peek(wbtc)
    assert quote_tuple(q) == (p2, p2, p2, p2, LIVE, G_NONE)


def test_setting_the_same_stop_flag_does_nothing(adapter, wbtc, deployer):
    assert adapter.setDelayedStopped(wbtc, False, sender=deployer).events == []
    adapter.setDelayedStopped(wbtc, True, sender=deployer)
    assert adapter.setDelayedStopped(wbtc, True, sender=deployer).events == []


def test_frozen_outranks_stopped(adapter, wbtc, btc_feed, deployer, keeper):
    adapter.setDelayedStopped(wbtc, True, sender=deployer)
    btc_feed.setReverts(True, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    assert adapter.peek(wbtc).guard == G_FROZEN


# --- delay == 0 ------------------------------------------------------------------------------------


def test_zero_delay_makes_the_delayed_price_follow_current(adapter, usdc, usdc_feed, deployer, keeper):
    usdc_feed.setAnswer(USD * 97 // 100, sender=deployer)
    receipt = adapter.update(usdc, sender=keeper)
    p = USD * 97 // 100 * E10
    assert delayed_events(receipt, adapter) == [(p, p)]
    assert adapter.delayedState(usdc)[:2] == (p, p)
    q = adapter.peek(usdc)
    assert quote_tuple(q) == (p, p, p, p, LIVE, G_NONE)
    assert adapter.update(usdc, sender=keeper).events == []


def test_zero_delay_still_honours_the_stop(adapter, usdc, deployer):
    adapter.setDelayedStopped(usdc, True, sender=deployer)
    assert adapter.peek(usdc).guard == G_STOPPED
