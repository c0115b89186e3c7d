"""The recovery grace after an outage nobody stored (issue 16, item 3; choice 5 of OracleAdapter).

Before the fix the grace started only on a STORED move to LIVE: after a 2 h outage of a feed with
a 1 h heartbeat that nobody poked, the stored status was still LIVE, so the first fresh round was
accepted with guard None. The adapter now keeps the `updatedAt` and `roundId` of the last primary
round it accepted; a primary round `k` rounds later and more than `k` heartbeats newer proves an
outage, and the grace runs from that round's `updatedAt`, in `peek` exactly as an update stores it.
WBTC: primary only, heartbeat 1 h, delay 1 h. WETH: primary + secondary (see conftest)."""

import pytest
from oracle_helpers import (
    BTC,
    ETH,
    FROZEN,
    G_NONE,
    G_RECOVERY,
    HEARTBEAT,
    HOUR,
    LIVE,
    RECOVERY_GRACE,
    SECONDARY,
    call_time,
    feed_config,
    mine_at,
)

E10 = 10**10


def fresh_round(feed, answer, owner):
    """A new round now; returns its `updatedAt`."""
    return feed.setAnswer(answer, sender=owner).timestamp


def assert_grace_until(adapter, token, chain, end):
    """Guard RecoveryGrace (no liquidation price, borrowing unaffected) until `end`, None from it."""
    mine_at(chain, end - 1)
    q = adapter.peek(token)
    assert (q.status, q.guard, q.liquidationPrice) == (LIVE, G_RECOVERY, 0)
    assert q.borrowPrice != 0
    mine_at(chain, end)
    q = adapter.peek(token)
    assert (q.status, q.guard) == (LIVE, G_NONE)
    assert q.liquidationPrice != 0


@pytest.mark.parametrize("stored", [True, False], ids=["poked_after_return", "never_poked"])
def test_unpoked_outage_starts_the_recovery_grace(adapter, wbtc, btc_feed, deployer, keeper, chain, stored):
    last = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    # Two hours without a round (heartbeat 1 h), and nobody reads the token.
    mine_at(chain, last + 2 * HOUR)
    assert adapter.peek(wbtc).status == FROZEN  # what a read would have seen
    back = fresh_round(btc_feed, BTC * 97 // 100, deployer)
    assert adapter.status(wbtc) == LIVE and adapter.recoveryStartedAt(wbtc) == 0  # nothing stored

    # The view shows the grace before anyone stores it ...
    q = adapter.peek(wbtc)
    assert (q.status, q.guard, q.liquidationPrice, q.current) == (LIVE, G_RECOVERY, 0, BTC * 97 // 100 * E10)
    if stored:
        receipt = adapter.update(wbtc, sender=keeper)
        assert receipt.decode_logs(adapter.StatusChanged) == []  # stored LIVE -> LIVE
        assert adapter.recoveryStartedAt(wbtc) == back  # from the round, not from the read
    # ... and it ends at the same time whether or not anyone stored it.
    assert_grace_until(adapter, wbtc, chain, back + RECOVERY_GRACE)


def test_grace_runs_from_the_round_not_from_a_late_read(adapter, wbtc, btc_feed, deployer, keeper, chain):
    last = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    mine_at(chain, last + 2 * HOUR)
    back = fresh_round(btc_feed, BTC, deployer)
    mine_at(chain, back + RECOVERY_GRACE + 60)  # first read long after the return
    adapter.poke(wbtc, sender=keeper)
    assert adapter.recoveryStartedAt(wbtc) == back
    assert adapter.peek(wbtc).guard == G_NONE


def test_outage_poked_during_it_starts_the_grace_at_the_return(adapter, wbtc, btc_feed, deployer, keeper, chain):
    last = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    mine_at(chain, last + 2 * HOUR)
    adapter.poke(wbtc, sender=keeper)
    assert adapter.status(wbtc) == FROZEN
    fresh_round(btc_feed, BTC, deployer)
    receipt = adapter.update(wbtc, sender=keeper)
    assert [(e["from"], e.to) for e in receipt.decode_logs(adapter.StatusChanged)] == [(FROZEN, LIVE)]
    assert adapter.recoveryStartedAt(wbtc) == receipt.timestamp  # the stored return, as before
    assert_grace_until(adapter, wbtc, chain, receipt.timestamp + RECOVERY_GRACE)


def test_rounds_within_the_heartbeat_start_no_grace(adapter, wbtc, btc_feed, deployer, keeper, chain):
    t = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    # Rounds exactly a heartbeat apart (the bound is inclusive), each read a little later: no gap.
    for answer in (BTC * 99 // 100, BTC * 98 // 100):
        mine_at(chain, t + HEARTBEAT)
        t += HEARTBEAT
        btc_feed.setAnswerAt(answer, t, sender=deployer)
        adapter.poke(wbtc, sender=keeper)
        assert adapter.peek(wbtc).current == answer * E10
        assert adapter.peek(wbtc).guard == G_NONE
    # A round 50 min after the last one, read 70 min after that one: the rounds have no gap.
    mine_at(chain, t + 50 * 60)
    fresh_round(btc_feed, BTC, deployer)
    mine_at(chain, t + 70 * 60)
    assert adapter.peek(wbtc).guard == G_NONE
    adapter.poke(wbtc, sender=keeper)
    assert adapter.recoveryStartedAt(wbtc) == 0
    assert adapter.peek(wbtc).guard == G_NONE


def test_round_one_second_past_the_heartbeat_is_a_gap(adapter, wbtc, btc_feed, deployer, keeper, chain):
    t = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    mine_at(chain, t + HEARTBEAT + 1)
    back = call_time(chain)
    btc_feed.setAnswerAt(BTC, back, sender=deployer)  # at t + HEARTBEAT + 1 the last round was stale
    assert adapter.peek(wbtc).guard == G_RECOVERY
    adapter.poke(wbtc, sender=keeper)
    assert adapter.recoveryStartedAt(wbtc) == back


@pytest.mark.parametrize("rounds", [2, 5])
def test_rounds_nobody_read_are_no_outage(adapter, wbtc, btc_feed, deployer, keeper, chain, rounds):
    """A healthy feed nobody read for hours (a quiet token, or every read reverted inside a guarded
    liquidation: scenario 11's sequencer grace) starts no grace: each interval is within the
    heartbeat, so `k` rounds never come more than `k` heartbeats after the stored one."""
    t = fresh_round(btc_feed, BTC, deployer)
    read = adapter.poke(wbtc, sender=keeper).timestamp
    since = adapter.recoveryStartedAt(wbtc)
    for _ in range(rounds):
        mine_at(chain, t + HEARTBEAT - 1)
        t = fresh_round(btc_feed, BTC, deployer)
    assert t - read > HEARTBEAT  # unread for more than a heartbeat
    assert adapter.peek(wbtc).guard == G_NONE
    adapter.poke(wbtc, sender=keeper)
    assert adapter.recoveryStartedAt(wbtc) == since
    assert adapter.peek(wbtc).guard == G_NONE


def test_round_ids_that_do_not_count_rounds_prove_no_outage(adapter, wbtc, btc_feed, deployer, keeper, chain):
    """Documented: a feed that updates its round in place (the id does not move) gives no count."""
    t = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    round_id = btc_feed.roundId()
    mine_at(chain, t + 2 * HOUR)
    now = call_time(chain)
    btc_feed.setRound(round_id, BTC, now, now, round_id, sender=deployer)
    assert adapter.peek(wbtc).guard == G_NONE


def test_unpoked_primary_outage_while_the_secondary_served(adapter, weth, eth_feed, eth_feed2, deployer, keeper, chain):
    """Watched, this is LIVE -> SECONDARY -> LIVE (a grace); unwatched, the primary's gap shows it."""
    last = fresh_round(eth_feed, ETH, deployer)
    adapter.poke(weth, sender=keeper)
    for k in (1, 2):  # the secondary keeps publishing, the primary does not
        mine_at(chain, last + k * HOUR - 60)
        fresh_round(eth_feed2, ETH, deployer)
    mine_at(chain, last + 2 * HOUR)
    assert adapter.peek(weth).status == SECONDARY
    back = fresh_round(eth_feed, ETH, deployer)
    assert adapter.status(weth) == LIVE
    assert adapter.peek(weth).guard == G_RECOVERY
    adapter.poke(weth, sender=keeper)
    assert adapter.recoveryStartedAt(weth) == back
    assert_grace_until(adapter, weth, chain, back + RECOVERY_GRACE)


def test_outage_stored_as_secondary_returns_with_a_stored_grace(adapter, weth, eth_feed, eth_feed2, deployer, keeper, chain):
    """Pokes while the secondary serves store SECONDARY: the return is then the stored one."""
    last = fresh_round(eth_feed, ETH, deployer)
    adapter.poke(weth, sender=keeper)
    mine_at(chain, last + HOUR + 60)
    fresh_round(eth_feed2, ETH, deployer)
    adapter.poke(weth, sender=keeper)
    assert adapter.status(weth) == SECONDARY
    fresh_round(eth_feed, ETH, deployer)
    receipt = adapter.update(weth, sender=keeper)
    assert adapter.recoveryStartedAt(weth) == receipt.timestamp
    assert adapter.peek(weth).guard == G_RECOVERY


def test_set_feed_after_an_unpoked_outage_starts_the_grace(adapter, project, wbtc, btc_feed, deployer, keeper, chain):
    last = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    mine_at(chain, last + 2 * HOUR)
    replacement = project.MockAggregator.deploy(8, "BTC / USD (replacement)", BTC, sender=deployer)
    receipt = adapter.setFeed(wbtc, feed_config(replacement), sender=deployer)
    assert adapter.recoveryStartedAt(wbtc) == receipt.timestamp  # the token was not LIVE in fact
    assert adapter.peek(wbtc).guard == G_RECOVERY


def test_set_feed_of_a_watched_token_starts_no_grace(adapter, project, wbtc, btc_feed, deployer, keeper, chain):
    last = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    mine_at(chain, last + HOUR - 60)
    replacement = project.MockAggregator.deploy(8, "BTC / USD (replacement)", BTC, sender=deployer)
    adapter.setFeed(wbtc, feed_config(replacement), sender=deployer)
    assert adapter.recoveryStartedAt(wbtc) == 0
    assert adapter.peek(wbtc).guard == G_NONE


def test_missed_rounds_after_an_outage(adapter, wbtc, btc_feed, deployer, keeper, chain):
    """Documented: before any update stores the returning round, a later round is read as the return
    while the rounds' times still prove the outage (`since` is then that later round; a poke fixes
    it), and no longer once they do not (an outage of 2 h, three rounds after it)."""
    last = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    mine_at(chain, last + 2 * HOUR)
    back = fresh_round(btc_feed, BTC, deployer)
    mine_at(chain, back + 20 * 60)
    later = fresh_round(btc_feed, BTC, deployer)  # 2 rounds, 2 h 20 min: proven
    mine_at(chain, back + RECOVERY_GRACE)
    assert adapter.peek(wbtc).guard == G_RECOVERY  # counted from `later`
    snap = chain.snapshot()
    mine_at(chain, back + 40 * 60)
    fresh_round(btc_feed, BTC, deployer)  # 3 rounds, 2 h 40 min: within 3 heartbeats
    assert adapter.peek(wbtc).guard == G_NONE
    chain.restore(snap)

    adapter.poke(wbtc, sender=keeper)
    assert adapter.recoveryStartedAt(wbtc) == later
    mine_at(chain, later + 20 * 60)
    fresh_round(btc_feed, BTC, deployer)  # stored now: a round within the heartbeat moves nothing
    adapter.poke(wbtc, sender=keeper)
    assert adapter.recoveryStartedAt(wbtc) == later
    assert_grace_until(adapter, wbtc, chain, later + RECOVERY_GRACE)


def test_set_feed_of_the_same_primary_after_an_unpoked_outage(adapter, wbtc, btc_feed, deployer, keeper, chain):
    last = fresh_round(btc_feed, BTC, deployer)
    adapter.poke(wbtc, sender=keeper)
    mine_at(chain, last + 2 * HOUR)
    fresh_round(btc_feed, BTC, deployer)
    receipt = adapter.setFeed(wbtc, feed_config(btc_feed), sender=deployer)
    assert adapter.recoveryStartedAt(wbtc) == receipt.timestamp
    assert adapter.peek(wbtc).guard == G_RECOVERY
