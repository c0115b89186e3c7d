"""Scenarios 11, 14 and 15: the L2 sequencer, and governance activating bad feeds or caps."""

from scenario_helpers import assert_attack_works, assert_defence, play, pnl


def test_s11_no_liquidation_while_the_sequencer_is_down_or_in_grace(world):
    r = play(world, "sequencer-down", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s11_naive_without_sequencer_check_liquidates_at_once(world):
    assert_attack_works(play(world, "sequencer-down", "naive"))


def test_s14_ratio_feed_is_refused_and_a_live_one_freezes(world):
    r = play(world, "composite-feed", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s14_naive_takes_a_ratio_for_a_usd_price(world):
    assert_attack_works(play(world, "composite-feed", "naive"))


def test_s15_a_cap_below_the_live_price_is_refused(world):
    r = play(world, "cap-out-of-sync", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s15_naive_unchecked_cap_liquidates_healthy_accounts(world):
    assert_attack_works(play(world, "cap-out-of-sync", "naive"))
