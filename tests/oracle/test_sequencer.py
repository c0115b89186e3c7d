"""OracleAdapter L2 sequencer uptime guard, and the priority of guards when several apply."""

import pytest
from oracle_helpers import (
    CODE_SHORT,
    ETH,
    G_FROZEN,
    G_NONE,
    G_RECOVERY,
    G_SEQ_DOWN,
    G_SEQ_GRACE,
    G_STOPPED,
    HOUR,
    LIVE,
    call_time,
    mine_at,
    quote_tuple,
    set_code,
)

P = ETH * 10**10
GRACE = HOUR


@pytest.fixture
def with_sequencer(adapter, seq_feed, deployer):
    adapter.setSequencerFeed(seq_feed, GRACE, sender=deployer)
    return seq_feed


def test_sequencer_up_past_its_grace_allows_everything(adapter, weth, with_sequencer):
    assert quote_tuple(adapter.peek(weth)) == (P, P, P, P, LIVE, G_NONE)


def test_sequencer_down_stops_liquidations_and_new_debt(adapter, weth, with_sequencer, deployer):
    with_sequencer.setDown(True, sender=deployer)
    assert quote_tuple(adapter.peek(weth)) == (P, 0, 0, P, LIVE, G_SEQ_DOWN)


def test_sequencer_back_up_waits_its_grace(adapter, weth, eth_feed, eth_feed2, with_sequencer, deployer, chain):
    with_sequencer.setDown(True, sender=deployer)
    up = with_sequencer.setDown(False, sender=deployer).timestamp
    assert with_sequencer.startedAt() == up
    chain.pending_timestamp = up + GRACE - 2  # keep the price rounds within their heartbeat
    eth_feed.setAnswer(ETH, sender=deployer)
    eth_feed2.setAnswer(ETH, sender=deployer)
    mine_at(chain, up + GRACE - 1)
    assert quote_tuple(adapter.peek(weth)) == (P, 0, 0, P, LIVE, G_SEQ_GRACE)
    mine_at(chain, up + GRACE)
    assert quote_tuple(adapter.peek(weth)) == (P, P, P, P, LIVE, G_NONE)


def test_zero_grace_allows_at_once(adapter, weth, seq_feed, deployer):
    adapter.setSequencerFeed(seq_feed, 0, sender=deployer)
    seq_feed.setDown(True, sender=deployer)
    seq_feed.setDown(False, sender=deployer)
    assert adapter.peek(weth).guard == G_NONE


@pytest.mark.parametrize(
    "how",
    ["started_at_0", "answer_2", "started_at_future", "reverts", "garbage"],
)
def test_unreadable_or_odd_sequencer_reads_as_down(adapter, weth, with_sequencer, deployer, chain, how):
    t = call_time(chain)
    if how == "started_at_0":
        with_sequencer.setStatus(0, 0, sender=deployer)
    elif how == "answer_2":
        with_sequencer.setStatus(2, t - 2 * GRACE, sender=deployer)
    elif how == "started_at_future":
        with_sequencer.setStatus(0, t + 10 * GRACE, sender=deployer)
    elif how == "reverts":
        with_sequencer.setReverts(True, sender=deployer)
    else:
        set_code(chain, with_sequencer, CODE_SHORT)
    assert adapter.peek(weth).guard == G_SEQ_DOWN


def test_disabling_the_sequencer_feed_lifts_its_guard(adapter, weth, with_sequencer, deployer):
    with_sequencer.setDown(True, sender=deployer)
    adapter.setSequencerFeed("0x" + "00" * 20, 0, sender=deployer)
    assert adapter.peek(weth).guard == G_NONE


def test_update_with_sequencer_down_still_tracks_prices(
    adapter, weth, eth_feed, eth_feed2, with_sequencer, deployer, keeper
):
    with_sequencer.setDown(True, sender=deployer)
    eth_feed.setAnswer(ETH * 95 // 100, sender=deployer)
    eth_feed2.setAnswer(ETH * 95 // 100, sender=deployer)
    q = adapter.update.call(weth)
    adapter.poke(weth, sender=keeper)
    assert (q.current, q.guard) == (P * 95 // 100, G_SEQ_DOWN)
    assert adapter.peek(weth).current == P * 95 // 100


# --- Guard priority: NoPrice > Frozen > DelayedStopped > SequencerDown > SequencerGrace > RecoveryGrace


def _recovering(adapter, weth, eth_feed, deployer, keeper):
    eth_feed.setReverts(True, sender=deployer)
    adapter.poke(weth, sender=keeper)
    eth_feed.setReverts(False, sender=deployer)
    adapter.poke(weth, sender=keeper)
    assert adapter.peek(weth).guard == G_RECOVERY


def test_frozen_outranks_sequencer_down(adapter, weth, eth_feed, eth_feed2, with_sequencer, deployer, keeper):
    with_sequencer.setDown(True, sender=deployer)
    eth_feed2.setAnswer(ETH * 2, sender=deployer)
    adapter.poke(weth, sender=keeper)
    assert adapter.peek(weth).guard == G_FROZEN


def test_stopped_outranks_sequencer_down(adapter, weth, with_sequencer, deployer):
    with_sequencer.setDown(True, sender=deployer)
    adapter.setDelayedStopped(weth, True, sender=deployer)
    assert adapter.peek(weth).guard == G_STOPPED


def test_sequencer_down_outranks_recovery(adapter, weth, eth_feed, with_sequencer, deployer, keeper):
    _recovering(adapter, weth, eth_feed, deployer, keeper)
    with_sequencer.setDown(True, sender=deployer)
    assert adapter.peek(weth).guard == G_SEQ_DOWN


def test_sequencer_grace_outranks_recovery(adapter, weth, eth_feed, with_sequencer, deployer, keeper):
    _recovering(adapter, weth, eth_feed, deployer, keeper)
    with_sequencer.setDown(True, sender=deployer)
    with_sequencer.setDown(False, sender=deployer)
    q = adapter.peek(weth)
    assert (q.guard, q.borrowPrice, q.liquidationPrice) == (G_SEQ_GRACE, 0, 0)
