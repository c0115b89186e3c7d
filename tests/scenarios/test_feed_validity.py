"""Scenarios 1-5: what a feed can answer (stale, zero/negative, reverting, malformed, clamped)."""

from scenario_helpers import assert_attack_works, assert_defence, play, pnl

from unwind.params import WAD


def test_s01_stale_feed_prices_nothing(world):
    r = play(world, "stale-feed", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s01_naive_without_heartbeat_check_is_exploited(world):
    r = play(world, "stale-feed", "naive")
    assert_attack_works(r)
    assert pnl(r) > 0 and r.figures["naive_borrowed"] == 225_000 * WAD


def test_s02_zero_and_negative_answers_freeze(world):
    r = play(world, "zero-negative", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s02_naive_unchecked_cast_borrows_the_debt_ceiling(world):
    r = play(world, "zero-negative", "naive")
    assert_attack_works(r)
    assert r.figures["naive_borrowed"] > 10_000_000 * WAD  # against one WETH


def test_s03_reverting_feed_keeps_repay_deposit_and_close_working(world):
    assert_defence(play(world, "feed-reverts", "unwind"))


def test_s03_naive_unwrapped_feed_blocks_de_risking(world):
    r = play(world, "feed-reverts", "naive")
    assert_attack_works(r)
    ops = r.figures["operations"]
    assert ops["repay"][0] and ops["deposit"][0] and not ops["withdraw covered"][0]


def test_s04_malformed_rounds_are_invalid_and_nothing_sticks(world):
    r = play(world, "malformed-round", "unwind")
    assert_defence(r)
    assert len(r.checks) >= 11


def test_s04_naive_future_dated_round_stays_fresh(world):
    assert_attack_works(play(world, "malformed-round", "naive"))


def test_s05_clamped_answer_gives_no_borrowing_power(world):
    r = play(world, "clamped-min-answer", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s05_naive_takes_the_clamped_answer_at_face_value(world):
    r = play(world, "clamped-min-answer", "naive")
    assert_attack_works(r)
    assert pnl(r) > 1_000_000
