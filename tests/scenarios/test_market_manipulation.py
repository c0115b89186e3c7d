"""Scenarios 7-10 and 18: an attacker who trades in the markets (spot, multi-block, thin-market
pump, debt-token depeg, griefing)."""

import pytest
from scenario_helpers import assert_attack_works, assert_defence, play, pnl

from unwind.scenarios import get


def test_s07_one_transaction_spot_manipulation_moves_nothing(world):
    r = play(world, "spot-one-tx", "unwind")
    assert_defence(r)
    assert r.figures["capacity_before"] == r.figures["capacity_during"] > 0
    assert pnl(r) <= 0


def test_s07_naive_spot_oracle_is_drained(world):
    r = play(world, "spot-one-tx", "naive")
    assert_attack_works(r)
    assert r.figures["capacity_move"] > 0.5  # the pump more than doubled... at least +50% capacity


def test_s08_held_market_price_does_not_reach_the_adapter(world):
    r = play(world, "multi-block", "unwind")
    assert_defence(r)
    assert r.figures["capacity_move"] == 0
    assert pnl(r) <= 0


def test_s08_naive_twap_follows_a_held_price(world):
    r = play(world, "multi-block", "naive")
    assert_attack_works(r)
    assert r.figures["capacity_move"] > 0.5


def test_s09_thin_market_pump_loss_is_bounded_by_the_caps_and_recorded(world):
    r = play(world, "thin-market-pump", "unwind")
    assert_defence(r)
    assert 0 < r.figures["bad_debt"] / 10**18 <= r.figures["bound"]


def test_s09_naive_unlimited_cap_loses_more_than_the_bound(world):
    r = play(world, "thin-market-pump", "naive")
    assert_attack_works(r)
    assert r.figures["bad_debt"] / 10**18 > 2 * r.figures["bound"]


def test_s10_debt_depeg_changes_no_health_and_auctions_clear(world):
    r = play(world, "debt-depeg", "unwind")
    assert_defence(r)
    assert pnl(r) <= 0


def test_s10_naive_debt_market_price_liquidates_healthy_accounts(world):
    assert_attack_works(play(world, "debt-depeg", "naive"))


def test_s18_griefing_does_not_save_an_unsafe_account(world):
    assert_defence(play(world, "griefing", "unwind"))


def test_s18_dust_of_a_guarded_collateral_does_not_block_liquidation(world):
    assert_defence(play(world, "griefing", "unwind-guarded-dust"))


def test_s18_more_than_dust_of_a_guarded_collateral_does_not_block_liquidation(world):
    """Issue 16 item 2, with the keeper process doing the liquidating: fails on the old engine
    (OracleGuarded: the keeper's mirror and the engine both refused the account)."""
    assert_defence(play(world, "griefing", "unwind-guarded-stake"))


def test_s18_naive_spot_oracle_lets_the_owner_pump_out_of_liquidation(world):
    assert_attack_works(play(world, "griefing", "naive"))
