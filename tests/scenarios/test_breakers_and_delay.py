"""Scenarios 6, 12, 13, 16 and 17: the jump breaker and the secondary, the delayed (OSM) price and
its stop, the frozen last good price, auctions at a depressed price."""

import pytest
from scenario_helpers import assert_attack_works, assert_defence, play, pnl

from unwind.scenarios import get


def test_s06_one_round_crash_freezes_until_the_secondary_confirms(world):
    r = play(world, "one-round-crash", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s06_naive_primary_only_liquidates_on_the_crash(world):
    assert_attack_works(play(world, "one-round-crash", "naive"))


def test_s12_auction_during_a_depressed_round_never_sells_below_the_bound(world):
    r = play(world, "depressed-auction", "unwind")
    assert_defence(r)
    assert r.figures["lowest_take_over_pref"] >= 0.8


def test_s12_stale_auction_meets_a_depressed_round(world):
    assert_defence(play(world, "depressed-auction", "unwind-stale-auction"))


def test_s12_naive_auction_from_a_depressed_price(world):
    assert_attack_works(play(world, "depressed-auction", "naive"))


def test_s13_guardian_stop_keeps_a_bad_price_out_of_the_delayed_feed(world):
    r = play(world, "osm-stop", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s13_naive_no_guardian_bad_price_is_confirmed_and_exploited(world):
    r = play(world, "osm-stop", "naive")
    assert_attack_works(r)
    assert pnl(r) > 0


def test_s16_frozen_last_good_price_cannot_be_traded_against(world):
    r = play(world, "frozen-last-good", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s16_naive_last_good_price_for_everything_is_exploited(world):
    r = play(world, "frozen-last-good", "naive")
    assert_attack_works(r)
    assert pnl(r) > 0


def test_s17_one_round_wick_liquidates_nobody(world):
    r = play(world, "one-block-wick", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s17_naive_without_delay_liquidates_on_the_wick(world):
    r = play(world, "one-block-wick", "naive")
    assert_attack_works(r)
    assert pnl(r) > 0
