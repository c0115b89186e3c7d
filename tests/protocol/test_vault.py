"""IVault, function by function, against the deployed system (interfaces/IVault.sol is the spec).

Default market (unwind.params.default_params): WETH 18 decimals at $3000 (maxLtv 75%, threshold
80%), WBTC 8 decimals at $60000 (70%, 78%), USDC 6 decimals at $1 (85%, 90%); dust 1000 debt
tokens; governance through a timelock with delay 0; `deployer` holds the guardian role.

Ape reverts the chain after every test (module-scoped fixtures, snapshot isolation). Every test
that changes state ends with `h.assert_identity()`: debt token supply == vault debt + auction tabs
+ bad debt, to the wei. Expected numbers come from the Python models in vault_helpers.py, written
from the NatSpec, never read back from the contract under test.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from unwind.deploy import DEFAULT_ADMIN, role
from unwind.params import RAY, WAD, wad
from vault_helpers import (
    DAY,
    HOUR,
    MAX_UINT,
    YEAR,
    ZERO_ADDRESS,
    art_for_borrow,
    call_reverts,
    threshold_ramp,
    debt_of,
    health_floor,
    max_borrow_model,
    name32,
    only_event,
    oracle_price,
    ramp_threshold,
    rate_decimal,
    quiet_revert_traces,
    reverts,
    rpow_half_up,
    value_floor,
    weighted_exact,
    weighted_floor,
)

SYMBOLS = ("WETH", "WBTC", "USDC")
MAX_FEE_PER_SECOND = 1_000000021979553151239153027  # 2 ** (1 / 365 days) [ray]
MAX_DUST = wad(1_000_000)
MAX_RAMP = 90 * DAY
GOVERNOR = role("GOVERNOR_ROLE")
GUARDIAN = role("GUARDIAN_ROLE")


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _accounts_first(deployer, alice, bob, keeper, outsider):
    """Session fixtures before module ones, so Ape's isolation never has to rebase."""


@pytest.fixture(scope="module", autouse=True)
def _quiet():
    with quiet_revert_traces():
        yield


@pytest.fixture(scope="module")
def vault(system):
    return system.vault


@pytest.fixture(scope="module")
def ids(system):
    return system.ids


@pytest.fixture(scope="module")
def decimals(params):
    return {c.symbol: c.decimals for c in params.collaterals}


@pytest.fixture(scope="module")
def max_ltv(params):
    return {c.symbol: c.max_ltv for c in params.collaterals}


@pytest.fixture(scope="module")
def threshold(params):
    return {c.symbol: c.liquidation_threshold for c in params.collaterals}


def units(decimals_of: int, whole) -> int:
    return int(Decimal(str(whole)) * 10**decimals_of)


def pin_time(chain):
    """Make the next transaction run at the head block's timestamp, the one views (eth_call)
    use on anvil, so a view and the transaction that acts on it see the same fee accumulator."""
    chain.pending_timestamp = chain.blocks.head.timestamp


def poke_all(system, deployer):
    for token in system.collateral.values():
        system.oracle.poke(token, sender=deployer)


# --- views at deployment ------------------------------------------------------------------------


def test_views_after_deploy(system, vault, params, alice):
    assert vault.collateralCount() == len(params.collaterals) == 3
    for i, c in enumerate(params.collaterals):
        token = system.collateral[c.symbol]
        assert vault.collateralId(token) == i == system.ids[c.symbol]
        cfg = vault.collateral(i)
        assert cfg.token == token.address
        assert cfg.decimals == c.decimals == token.decimals()
        assert cfg.frozen is False
        assert cfg.maxLtv == c.max_ltv
        assert cfg.liquidationThreshold == c.liquidation_threshold
        assert cfg.penalty == c.penalty
        assert cfg.supplyCap == c.supply_cap * 10**c.decimals
        assert cfg.totalSupplied == 0
    assert [c.decimals for c in params.collaterals] == [18, 8, 6]
    assert vault.dust() == wad(1000)
    assert vault.debtCeiling() == params.debt_ceiling
    assert vault.oracle() == system.oracle.address
    assert vault.debtToken() == system.debt_token.address
    assert vault.buffer() == system.buffer.address
    assert vault.borrowingPaused() is False
    assert vault.shutdown() is False
    assert vault.rate() == vault.currentRate() == RAY
    assert vault.feePerSecond() == RAY
    assert vault.minRampDuration() == DAY
    assert vault.totalDebt() == vault.totalNormalisedDebt() == 0
    # an account that never did anything
    assert vault.debtOf(alice) == vault.normalisedDebtOf(alice) == 0
    assert vault.collateralOf(alice, 0) == 0
    assert vault.healthOf(alice) == MAX_UINT
    assert vault.maxBorrow(alice) == 0
    assert vault.maxWithdraw(alice, 0) == 0
    assert list(vault.heldCollateral(alice)) == []
    assert vault.isOperator(alice, alice) is False


def test_unknown_collateral_views_revert(system, vault, alice):
    call_reverts(vault.UnknownCollateral, vault.collateral, 3, id=3)
    call_reverts(vault.UnknownCollateral, vault.maxWithdraw, alice, 3, id=3)
    call_reverts(vault.UnknownCollateral, vault.collateralId, system.debt_token, id=MAX_UINT)
    call_reverts(vault.UnknownCollateral, vault.collateralId, ZERO_ADDRESS, id=MAX_UINT)


# --- deposit ------------------------------------------------------------------------------------


def test_deposit_for_self(h, system, vault, ids, threshold, params, alice):
    usdc, weth = system.collateral["USDC"], system.collateral["WETH"]
    u = h.fund(alice, "USDC", 2_500)
    tx = vault.deposit(alice, ids["USDC"], u, sender=alice)
    ev = only_event(tx, vault.Deposit)
    assert (ev.account, ev.id, ev.payer, ev.amount) == (alice.address, ids["USDC"], alice.address, u)
    w = h.fund(alice, "WETH", "1.5")
    vault.deposit(alice, ids["WETH"], w // 3, sender=alice)
    vault.deposit(alice, ids["WETH"], w - w // 3, sender=alice)

    assert vault.collateralOf(alice, ids["USDC"]) == u == usdc.balanceOf(vault)
    assert vault.collateralOf(alice, ids["WETH"]) == w == weth.balanceOf(vault)
    assert usdc.balanceOf(alice) == weth.balanceOf(alice) == 0
    assert vault.collateral(ids["USDC"]).totalSupplied == u
    assert vault.collateral(ids["WETH"]).totalSupplied == w
    # one entry per type held, in id order (WETH was deposited second but has the lower id)
    held = list(vault.heldCollateral(alice))
    penalty = {c.symbol: c.penalty for c in params.collaterals}
    assert [(x.id, x.token, x.decimals, x.amount, x.liquidationThreshold, x.penalty) for x in held] == [
        (ids["WETH"], weth.address, 18, w, threshold["WETH"], penalty["WETH"]),
        (ids["USDC"], usdc.address, 6, u, threshold["USDC"], penalty["USDC"]),
    ]
    assert vault.healthOf(alice) == MAX_UINT  # no debt
    assert vault.maxWithdraw(alice, ids["WETH"]) == w  # no debt: everything may leave
    h.assert_identity()


def test_deposit_for_another_account(h, system, vault, ids, alice, bob):
    wbtc = system.collateral["WBTC"]
    amount = h.fund(bob, "WBTC", "0.25")
    tx = vault.deposit(alice, ids["WBTC"], amount, sender=bob)
    ev = only_event(tx, vault.Deposit)
    assert (ev.account, ev.payer, ev.amount) == (alice.address, bob.address, amount)
    assert vault.collateralOf(alice, ids["WBTC"]) == amount
    assert vault.collateralOf(bob, ids["WBTC"]) == 0
    assert wbtc.balanceOf(bob) == 0
    # the payer gets no say over the position it funded
    with reverts(vault.NotAuthorized, caller=bob.address, account=alice.address):
        vault.withdraw(alice, ids["WBTC"], amount, bob, sender=bob)
    vault.withdraw(alice, ids["WBTC"], amount, alice, sender=alice)
    assert wbtc.balanceOf(alice) == amount
    h.assert_identity()


def test_deposit_errors(h, vault, ids, alice):
    h.fund(alice, "WETH", 1)
    with reverts(vault.ZeroAmount):
        vault.deposit(alice, ids["WETH"], 0, sender=alice)
    with reverts(vault.ZeroAddress):
        vault.deposit(ZERO_ADDRESS, ids["WETH"], 1, sender=alice)
    with reverts(vault.UnknownCollateral, id=3):
        vault.deposit(alice, 3, 1, sender=alice)
    h.assert_identity()


# --- withdraw -----------------------------------------------------------------------------------


def test_withdraw_partial_then_full_to_a_receiver(h, system, vault, ids, alice, bob):
    wbtc = system.collateral["WBTC"]
    amount = h.deposit(alice, "WBTC", 4)
    part = units(8, "1.5")
    tx = vault.withdraw(alice, ids["WBTC"], part, bob, sender=alice)
    ev = only_event(tx, vault.Withdraw)
    assert (ev.account, ev.id, ev.receiver, ev.amount) == (alice.address, ids["WBTC"], bob.address, part)
    assert wbtc.balanceOf(bob) == part
    assert vault.collateralOf(alice, ids["WBTC"]) == amount - part
    assert vault.collateral(ids["WBTC"]).totalSupplied == amount - part
    assert len(vault.heldCollateral(alice)) == 1

    vault.withdraw(alice, ids["WBTC"], amount - part, alice, sender=alice)
    assert wbtc.balanceOf(alice) == amount - part
    assert vault.collateralOf(alice, ids["WBTC"]) == 0
    assert vault.collateral(ids["WBTC"]).totalSupplied == 0
    assert list(vault.heldCollateral(alice)) == []  # the type left the position's mask
    h.assert_identity()


def test_withdraw_errors(h, vault, ids, alice, outsider):
    amount = h.deposit(alice, "WETH", 2)
    with reverts(vault.ZeroAmount):
        vault.withdraw(alice, ids["WETH"], 0, alice, sender=alice)
    with reverts(vault.ZeroAddress):
        vault.withdraw(alice, ids["WETH"], 1, ZERO_ADDRESS, sender=alice)
    with reverts(vault.UnknownCollateral, id=7):
        vault.withdraw(alice, 7, 1, alice, sender=alice)
    with reverts(vault.InsufficientCollateral, id=ids["WETH"], held=amount, requested=amount + 1):
        vault.withdraw(alice, ids["WETH"], amount + 1, alice, sender=alice)
    with reverts(vault.InsufficientCollateral, id=ids["USDC"], held=0, requested=1):
        vault.withdraw(alice, ids["USDC"], 1, alice, sender=alice)
    with reverts(vault.NotAuthorized, caller=outsider.address, account=alice.address):
        vault.withdraw(alice, ids["WETH"], 1, outsider, sender=outsider)
    h.assert_identity()


# --- borrow and repay ---------------------------------------------------------------------------


def test_borrow_to_a_receiver_and_debt_views(h, system, vault, ids, alice, bob):
    h.deposit(alice, "WETH", 10)  # $30,000
    tx = vault.borrow(alice, wad(12_000), bob, sender=alice)
    ev = only_event(tx, vault.Borrow)
    assert (ev.account, ev.receiver, ev.amount, ev.normalisedDebt) == (
        alice.address,
        bob.address,
        wad(12_000),
        wad(12_000),
    )
    assert system.debt_token.balanceOf(bob) == wad(12_000)
    assert system.debt_token.balanceOf(alice) == 0
    assert vault.debtOf(alice) == vault.normalisedDebtOf(alice) == wad(12_000)
    assert vault.debtOf(bob) == 0
    assert vault.totalDebt() == vault.totalNormalisedDebt() == wad(12_000)
    assert vault.healthOf(alice) == wad(2)  # 30,000 * 0.80 / 12,000
    assert vault.maxBorrow(alice) == wad(22_500 - 12_000)  # 30,000 * 0.75 - debt
    h.assert_identity()


def test_borrow_errors(h, vault, ids, alice, outsider):
    h.deposit(alice, "WETH", 10)
    with reverts(vault.ZeroAmount):
        vault.borrow(alice, 0, alice, sender=alice)
    with reverts(vault.ZeroAddress):
        vault.borrow(alice, wad(2000), ZERO_ADDRESS, sender=alice)
    with reverts(vault.NotAuthorized, caller=outsider.address, account=alice.address):
        vault.borrow(alice, wad(2000), outsider, sender=outsider)
    # no collateral at all: the limit is zero
    with reverts(vault.BorrowLimitExceeded, debt=wad(2000), limit=0):
        vault.borrow(outsider, wad(2000), outsider, sender=outsider)
    h.assert_identity()


def test_repay_partial_then_full_with_max_uint_by_a_third_party(h, system, vault, alice, bob):
    debt_token = system.debt_token
    h.open(alice, {"WETH": 10}, 5_000)
    tx = vault.repay(alice, wad(1_500), sender=alice)
    assert tx.return_value == wad(1_500)
    ev = only_event(tx, vault.Repay)
    assert (ev.account, ev.payer, ev.amount, ev.normalisedDebt) == (alice.address, alice.address, wad(1_500), wad(1_500))
    assert vault.debtOf(alice) == vault.normalisedDebtOf(alice) == wad(3_500)
    assert debt_token.balanceOf(alice) == wad(3_500)
    h.assert_identity()

    # bob closes alice's debt with his own tokens; max uint repays exactly the debt
    debt_token.transfer(bob, wad(3_500), sender=alice)
    h.open(bob, {"USDC": 10_000}, 1_000)  # bob holds 4,500
    tx = vault.repay(alice, MAX_UINT, sender=bob)
    assert tx.return_value == wad(3_500)
    ev = only_event(tx, vault.Repay)
    assert (ev.account, ev.payer, ev.amount) == (alice.address, bob.address, wad(3_500))
    assert debt_token.balanceOf(bob) == wad(1_000)
    assert vault.debtOf(alice) == vault.normalisedDebtOf(alice) == 0
    assert vault.healthOf(alice) == MAX_UINT
    assert vault.totalDebt() == wad(1_000)
    with reverts(vault.ZeroAmount):  # nothing left to repay
        vault.repay(alice, wad(1), sender=bob)
    with reverts(vault.ZeroAmount):
        vault.repay(bob, 0, sender=bob)
    vault.withdraw(alice, 0, units(18, 10), alice, sender=alice)
    h.assert_identity()


def test_repay_more_than_the_debt_takes_only_the_debt(h, system, vault, alice):
    h.open(alice, {"WETH": 10}, 2_000)
    vault.borrow(alice, wad(500), alice, sender=alice)  # holds 2,500, owes 2,500
    tx = vault.repay(alice, wad(2_500) + 1, sender=alice)
    assert tx.return_value == wad(2_500)
    assert system.debt_token.balanceOf(alice) == 0
    assert vault.debtOf(alice) == 0
    h.assert_identity()


def test_repay_without_enough_tokens_reverts(h, system, vault, alice, bob):
    h.open(alice, {"WETH": 10}, 2_000)
    system.debt_token.transfer(bob, wad(1), sender=alice)
    with reverts(system.debt_token.ERC20InsufficientBalance, sender=alice.address):
        vault.repay(alice, MAX_UINT, sender=alice)
    h.assert_identity()


# --- operators ----------------------------------------------------------------------------------


def test_operator_withdraws_and_borrows_for_the_account(h, system, vault, ids, alice, bob, keeper):
    h.deposit(alice, "WETH", 10)
    h.deposit(bob, "WETH", 1)
    with reverts(vault.NotAuthorized, caller=keeper.address, account=alice.address):
        vault.borrow(alice, wad(2_000), keeper, sender=keeper)

    tx = vault.setOperator(keeper, True, sender=alice)
    ev = only_event(tx, vault.OperatorSet)
    assert (ev.account, ev.operator, ev.authorized) == (alice.address, keeper.address, True)
    assert vault.isOperator(alice, keeper) is True
    assert vault.isOperator(keeper, alice) is False

    vault.borrow(alice, wad(2_000), keeper, sender=keeper)
    assert vault.debtOf(alice) == wad(2_000)
    assert vault.debtOf(keeper) == 0
    assert system.debt_token.balanceOf(keeper) == wad(2_000)
    vault.withdraw(alice, ids["WETH"], units(18, 1), keeper, sender=keeper)
    assert system.collateral["WETH"].balanceOf(keeper) == units(18, 1)
    assert vault.collateralOf(alice, ids["WETH"]) == units(18, 9)
    # alice's operator is not bob's
    with reverts(vault.NotAuthorized, caller=keeper.address, account=bob.address):
        vault.withdraw(bob, ids["WETH"], 1, keeper, sender=keeper)

    vault.setOperator(keeper, False, sender=alice)
    assert vault.isOperator(alice, keeper) is False
    with reverts(vault.NotAuthorized, caller=keeper.address, account=alice.address):
        vault.withdraw(alice, ids["WETH"], 1, keeper, sender=keeper)
    with reverts(vault.ZeroAddress):
        vault.setOperator(ZERO_ADDRESS, True, sender=alice)
    h.assert_identity()


# --- accrue -------------------------------------------------------------------------------------


def test_accrue_without_a_fee_changes_nothing(h, system, vault, alice, outsider):
    h.open(alice, {"WETH": 10}, 5_000)
    supply = system.debt_token.totalSupply()
    h.advance(DAY)
    tx = vault.accrue(sender=outsider)
    assert tx.return_value == RAY
    assert vault.rate() == RAY
    assert list(tx.events.filter(vault.FeesAccrued)) == []
    assert system.debt_token.totalSupply() == supply
    assert vault.debtOf(alice) == wad(5_000)
    h.assert_identity()


# --- health, maxBorrow, maxWithdraw against Python ---------------------------------------------

ODD_PRICES = {"WETH": "3123.45678901", "WBTC": "61234.56789012", "USDC": "0.99987654"}
ODD_AMOUNTS = {"WETH": "3.141592653589793238", "WBTC": "0.12345679", "USDC": "12345.678901"}


def _odd_basket(h, system, alice):
    """Alice deposits odd amounts of all three at odd prices (current == delayed), so every
    floor in the value and weight arithmetic bites."""
    for s in SYMBOLS:
        h.set_price(s, ODD_PRICES[s], settle=False)
    h.settle()
    prices = {s: oracle_price(ODD_PRICES[s]) for s in SYMBOLS}
    for s in SYMBOLS:
        q = system.oracle.peek(system.collateral[s])
        assert q.borrowPrice == q.liquidationPrice == prices[s], "setup: the oracle should serve the odd price"
    held = {s: h.deposit(alice, s, ODD_AMOUNTS[s]) for s in SYMBOLS}
    return held, prices


def test_cross_margined_health_and_max_borrow_match_python(
    h, system, vault, decimals, max_ltv, threshold, deployer, alice
):
    held, prices = _odd_basket(h, system, alice)
    limit = weighted_floor(held, decimals, prices, max_ltv)
    exact_limit = weighted_exact(held, decimals, prices, max_ltv)
    # two floors per collateral type (value, then weighted term), each losing < 1 wei
    assert 0 < exact_limit - limit < 2 * len(held)  # > 0: the odd basket really rounds
    assert vault.maxBorrow(alice) == limit

    borrowed = limit * 6 // 10
    vault.borrow(alice, borrowed, alice, sender=alice)
    assert vault.debtOf(alice) == borrowed  # rate == RAY: art == debt
    weighted = weighted_floor(held, decimals, prices, threshold)
    health = vault.healthOf(alice)
    assert health == health_floor(weighted, borrowed)
    # Against exact arithmetic: the 2 floors per type lose < 6 wei of weighted value, which moves
    # health by < 6e18 / debt (< 1 wei here, debt > 1000e18), plus the final floor: at most 1 wei.
    exact_health = weighted_exact(held, decimals, prices, threshold) * WAD / borrowed
    assert 0 <= exact_health - health < 2
    assert weighted_exact(held, decimals, prices, threshold) != weighted
    assert health > WAD
    assert vault.maxBorrow(alice) == limit - borrowed

    # One OSM hop after a WETH drop: borrowing uses min(current, delayed), health max(...).
    h.set_price("WETH", "2900.5", settle=False)
    h.advance(system.params.oracle_delay + 1)
    h.refresh_all()
    poke_all(system, deployer)
    q = system.oracle.peek(system.collateral["WETH"])
    assert (q.borrowPrice, q.liquidationPrice) == (oracle_price("2900.5"), prices["WETH"])
    borrow_prices = dict(prices, WETH=oracle_price("2900.5"))
    limit = weighted_floor(held, decimals, borrow_prices, max_ltv)
    assert vault.maxBorrow(alice) == max(limit - borrowed, 0)
    assert vault.healthOf(alice) == health  # liquidation price unchanged: health unchanged
    h.assert_identity()


def test_borrowing_exactly_max_borrow_works_one_wei_more_fails(h, system, vault, decimals, deployer, alice):
    _odd_basket(h, system, alice)
    vault.borrow(alice, wad(1_000), alice, sender=alice)
    room = vault.maxBorrow(alice)
    debt = vault.debtOf(alice)
    with reverts(vault.BorrowLimitExceeded, debt=debt + room + 1, limit=debt + room):
        vault.borrow(alice, room + 1, alice, sender=alice)
    vault.borrow(alice, room, alice, sender=alice)
    assert vault.debtOf(alice) == debt + room
    assert vault.maxBorrow(alice) == 0
    assert vault.healthOf(alice) > WAD  # at the borrow limit, still clear of liquidation
    with reverts(vault.BorrowLimitExceeded):
        vault.borrow(alice, 1, alice, sender=alice)
    h.assert_identity()


def test_max_borrow_is_exact_when_fees_have_accrued(h, system, vault, decimals, max_ltv, deployer, alice, chain):
    """With rate > RAY, `ceil(x * RAY / rate)` and `ceil(art * rate / RAY)` each round up, so
    `limit - debt` overshoots by a wei about half the time. The view must promise only what a
    borrow at the same timestamp really gets: checked second by second until such a state shows
    up, then borrowed exactly there."""
    held, prices = _odd_basket(h, system, alice)
    vault.borrow(alice, wad(3_333), alice, sender=alice)
    h.govern(vault, "setStabilityFee", MAX_FEE_PER_SECOND)
    h.advance(7 * DAY + 123)
    h.refresh_all()  # feeds went stale over the week
    poke_all(system, deployer)
    art = vault.normalisedDebtOf(alice)
    limit = weighted_floor(held, decimals, prices, max_ltv)
    overshoots = 0
    for _ in range(24):
        h.advance(1)
        rate = vault.currentRate()
        assert rate > RAY
        expected = max_borrow_model(art, rate, limit)
        assert vault.maxBorrow(alice) == expected
        if limit - debt_of(art, rate) != expected:
            overshoots += 1
            break
    assert overshoots, "no rounding-sensitive state met: the test would prove nothing"
    room = vault.maxBorrow(alice)
    pin_time(chain)
    with reverts(vault.BorrowLimitExceeded, limit=limit):
        vault.borrow(alice, room + 1, alice, sender=alice)
    pin_time(chain)
    vault.borrow(alice, room, alice, sender=alice)
    assert vault.rate() == rate  # the borrow ran at the view's timestamp
    assert vault.debtOf(alice) <= limit
    assert vault.normalisedDebtOf(alice) == art + art_for_borrow(room, rate)
    assert vault.maxBorrow(alice) == 0
    h.assert_identity()


def test_max_borrow_is_zero_when_the_room_is_below_dust(h, vault, ids, alice):
    h.deposit(alice, "USDC", 1_000)  # borrowing power 850 < dust 1000
    assert vault.maxBorrow(alice) == 0
    with reverts(vault.DustDebt, debt=wad(850), dust=wad(1_000)):
        vault.borrow(alice, wad(850), alice, sender=alice)
    h.deposit(alice, "USDC", 200)  # 1,020
    assert vault.maxBorrow(alice) == wad(1_020)
    vault.borrow(alice, wad(1_020), alice, sender=alice)
    assert vault.maxBorrow(alice) == 0
    h.assert_identity()


def _max_withdraw_model(held, decimals, prices, max_ltv, symbol, debt):
    """Largest amount of `symbol` whose withdrawal keeps the (floored) borrow limit >= debt."""

    def fits(x):
        return weighted_floor(dict(held, **{symbol: held[symbol] - x}), decimals, prices, max_ltv) >= debt

    if fits(held[symbol]):
        return held[symbol]
    lo, hi = 0, held[symbol]
    if not fits(0):
        return 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def test_withdrawing_exactly_max_withdraw_works_one_unit_more_fails(
    h, system, vault, ids, decimals, max_ltv, deployer, alice, chain
):
    held, prices = _odd_basket(h, system, alice)
    limit = weighted_floor(held, decimals, prices, max_ltv)
    debt = limit - wad(3_000) - 12_345  # room below each type's share, not a round number
    vault.borrow(alice, debt, alice, sender=alice)
    for s in SYMBOLS:
        snap = chain.snapshot()
        try:
            mw = vault.maxWithdraw(alice, ids[s])
            assert mw == _max_withdraw_model(held, decimals, prices, max_ltv, s, debt), s
            assert 0 < mw < held[s], s
            with reverts(vault.BorrowLimitExceeded, debt=debt):
                vault.withdraw(alice, ids[s], mw + 1, alice, sender=alice)
            vault.withdraw(alice, ids[s], mw, alice, sender=alice)
            assert vault.maxWithdraw(alice, ids[s]) == 0, s
            assert vault.maxBorrow(alice) < 10 ** 18, s  # the room is used up (to < 1 token of value)
            assert vault.healthOf(alice) > WAD, s
            h.assert_identity()
        finally:
            chain.restore(snap)


def test_max_withdraw_is_exact_where_a_two_step_rounding_would_fall_short(h, system, vault, ids, alice):
    """A state found by search (Python, over the NatSpec's rounding) where dividing the room by
    maxLtv and then by the price, each rounded down, leaves out one withdrawable unit."""
    h.set_price("WETH", "1692.59294711")
    held = 12_064833679726577304
    debt = 4405_322565491697686282
    h.fund(alice, "WETH", 0)
    system.collateral["WETH"].mint(alice, held, sender=alice)
    vault.deposit(alice, ids["WETH"], held, sender=alice)
    vault.borrow(alice, debt, alice, sender=alice)
    prices = {"WETH": oracle_price("1692.59294711")}
    ltv = {"WETH": vault.collateral(ids["WETH"]).maxLtv}
    expected = _max_withdraw_model({"WETH": held}, {"WETH": 18}, prices, ltv, "WETH", debt)
    two_step = (weighted_floor({"WETH": held}, {"WETH": 18}, prices, ltv) - debt) * WAD // ltv["WETH"]
    assert two_step * 10**18 // prices["WETH"] < expected  # the case is the one it claims to be
    assert vault.maxWithdraw(alice, ids["WETH"]) == expected
    with reverts(vault.BorrowLimitExceeded, debt=debt):
        vault.withdraw(alice, ids["WETH"], expected + 1, alice, sender=alice)
    vault.withdraw(alice, ids["WETH"], expected, alice, sender=alice)
    assert vault.maxWithdraw(alice, ids["WETH"]) == 0
    h.assert_identity()


def test_max_withdraw_of_a_zero_ltv_collateral(h, system, vault, ids, deployer, alice):
    """maxLtv 0 is a legal setting (governance winding an asset down): the collateral gives no
    borrowing power, so all of it may leave while the rest covers the debt."""
    h.open(alice, {"WETH": 10, "USDC": 1_000}, 5_000)
    h.govern(vault, "setMaxLtv", ids["USDC"], 0)
    assert vault.collateral(ids["USDC"]).maxLtv == 0
    assert vault.maxWithdraw(alice, ids["USDC"]) == units(6, 1_000)
    vault.withdraw(alice, ids["USDC"], units(6, 1_000), alice, sender=alice)
    h.assert_identity()


# --- frozen collateral, supply cap, debt ceiling, dust ------------------------------------------


def test_frozen_collateral_has_no_borrowing_power_but_counts_for_health(h, system, vault, ids, alice, bob):
    h.open(alice, {"WETH": 10, "USDC": 10_000}, 20_000)  # limit 22,500 + 8,500
    h.deposit(bob, "WETH", 1)
    tx = h.govern(vault, "setFrozen", ids["WETH"], True)
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.id, ev.value) == (name32("frozen"), ids["WETH"], 1)
    assert vault.collateral(ids["WETH"]).frozen is True

    assert vault.maxBorrow(alice) == 0  # 8,500 of USDC power < 20,000 of debt
    # health still counts WETH at its threshold: (30,000 * 0.8 + 10,000 * 0.9) / 20,000
    assert vault.healthOf(alice) == wad("1.65")
    with reverts(vault.BorrowLimitExceeded, debt=wad(20_000) + 1, limit=wad(8_500)):
        vault.borrow(alice, 1, alice, sender=alice)
    with reverts(vault.BorrowLimitExceeded, debt=wad(20_000), limit=wad(8_500) - 850_000_000_000):
        vault.withdraw(alice, ids["USDC"], 1, alice, sender=alice)  # 1 unit = 1e12 wei * 0.85
    assert vault.maxWithdraw(alice, ids["WETH"]) == 0
    # depositing more of it is never blocked, nor is a debt-free account leaving it
    h.deposit(alice, "WETH", 1)
    vault.withdraw(bob, ids["WETH"], units(18, 1), bob, sender=bob)

    # once USDC alone covers the debt (here exactly), frozen WETH may leave entirely
    vault.repay(alice, wad(11_500), sender=alice)  # debt 8,500 == USDC's 8,500
    assert vault.maxWithdraw(alice, ids["WETH"]) == units(18, 11)
    assert vault.maxWithdraw(alice, ids["USDC"]) == 0
    vault.withdraw(alice, ids["WETH"], units(18, 11), alice, sender=alice)
    assert vault.healthOf(alice) == wad(9_000) * WAD // wad(8_500)
    vault.repay(alice, wad(500), sender=alice)

    h.govern(vault, "setFrozen", ids["WETH"], False)
    assert vault.collateral(ids["WETH"]).frozen is False
    h.deposit(alice, "WETH", 1)
    assert vault.maxBorrow(alice) == wad(8_500 + 2_250 - 8_000)
    h.assert_identity()


def test_supply_cap(h, system, vault, ids, alice, bob):
    wbtc = ids["WBTC"]
    cap = units(8, 2)
    tx = h.govern(vault, "setSupplyCap", wbtc, cap)
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.id, ev.value) == (name32("supplyCap"), wbtc, cap)
    assert vault.collateral(wbtc).supplyCap == cap
    h.deposit(alice, "WBTC", "1.5")
    h.deposit(bob, "WBTC", "0.5")  # exactly at the cap
    assert vault.collateral(wbtc).totalSupplied == cap
    h.fund(bob, "WBTC", 1)
    with reverts(vault.SupplyCapExceeded, id=wbtc, cap=cap, wouldBe=cap + 1):
        vault.deposit(bob, wbtc, 1, sender=bob)
    # a cap lowered below the supply blocks deposits, never withdrawals
    h.govern(vault, "setSupplyCap", wbtc, units(8, 1))
    vault.withdraw(alice, wbtc, units(8, "0.5"), alice, sender=alice)
    with reverts(vault.SupplyCapExceeded, id=wbtc, cap=units(8, 1), wouldBe=units(8, "1.5") + 1):
        vault.deposit(bob, wbtc, 1, sender=bob)
    vault.withdraw(alice, wbtc, units(8, 1), alice, sender=alice)
    vault.deposit(bob, wbtc, units(8, "0.5"), sender=bob)  # back to exactly the cap
    assert vault.collateral(wbtc).totalSupplied == units(8, 1)
    h.assert_identity()


def test_debt_ceiling(h, system, vault, ids, alice, bob):
    ceiling = wad(15_000)
    tx = h.govern(vault, "setDebtCeiling", ceiling)
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.value) == (name32("debtCeiling"), ceiling)
    assert vault.debtCeiling() == ceiling
    h.open(alice, {"WETH": 10}, 10_000)
    h.deposit(bob, "USDC", 20_000)
    assert vault.maxBorrow(alice) == wad(5_000)  # ceiling room < 12,500 of collateral room
    assert vault.maxBorrow(bob) == wad(5_000)
    with reverts(vault.DebtCeilingExceeded, ceiling=ceiling, wouldBe=ceiling + 1):
        vault.borrow(bob, wad(5_000) + 1, bob, sender=bob)
    vault.borrow(bob, wad(5_000), bob, sender=bob)
    assert vault.totalDebt() == ceiling
    assert vault.maxBorrow(alice) == vault.maxBorrow(bob) == 0
    # a ceiling below the debt blocks borrowing only
    h.govern(vault, "setDebtCeiling", wad(1_000))
    vault.repay(alice, wad(4_000), sender=alice)
    vault.withdraw(alice, ids["WETH"], units(18, 1), alice, sender=alice)
    with reverts(vault.DebtCeilingExceeded):
        vault.borrow(alice, 1, alice, sender=alice)
    h.assert_identity()


def test_dust_floor_on_borrow_and_on_partial_repay(h, system, vault, alice):
    dust = vault.dust()
    assert dust == wad(1_000)
    h.deposit(alice, "WETH", 10)
    with reverts(vault.DustDebt, debt=dust - 1, dust=dust):
        vault.borrow(alice, dust - 1, alice, sender=alice)
    vault.borrow(alice, dust, alice, sender=alice)  # exactly the floor
    vault.borrow(alice, 1, alice, sender=alice)  # above the floor any amount will do
    assert vault.debtOf(alice) == dust + 1
    vault.borrow(alice, wad(500), alice, sender=alice)
    debt = dust + 1 + wad(500)
    with reverts(vault.DustDebt, debt=dust - 1, dust=dust):
        vault.repay(alice, debt - dust + 1, sender=alice)
    vault.repay(alice, debt - dust, sender=alice)  # leaves exactly the floor
    assert vault.debtOf(alice) == dust
    with reverts(vault.DustDebt, debt=1, dust=dust):
        vault.repay(alice, dust - 1, sender=alice)
    vault.repay(alice, dust, sender=alice)  # a full repay is never dust
    assert vault.debtOf(alice) == 0
    h.assert_identity()


def test_dust_setter(h, vault, alice):
    tx = h.govern(vault, "setDust", wad(50))
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.value) == (name32("dust"), wad(50))
    assert vault.dust() == wad(50)
    h.govern(vault, "setDust", MAX_DUST)
    with reverts(vault.InvalidParameter, name="dust", value=MAX_DUST + 1, min=0, max=MAX_DUST):
        h.govern(vault, "setDust", MAX_DUST + 1)
    h.govern(vault, "setDust", wad(50))
    h.open(alice, {"WETH": 1}, 50)
    h.assert_identity()


# --- stability fee ------------------------------------------------------------------------------


def _fee_per_second(apy: str) -> int:
    from decimal import getcontext

    getcontext().prec = 60
    return int((Decimal(1) + Decimal(apy)) ** (Decimal(1) / Decimal(YEAR)) * RAY)


def test_stability_fee_accrues_over_time_into_the_buffer(h, system, vault, deployer, alice, bob, outsider, chain):
    from decimal import getcontext

    getcontext().prec = 60
    debt_token, buffer = system.debt_token, system.buffer
    h.open(alice, {"WETH": 10}, 10_000)
    h.open(bob, {"USDC": 50_000}, 20_001)
    fee = _fee_per_second("0.05")
    assert RAY < fee < MAX_FEE_PER_SECOND
    tx = h.govern(vault, "setStabilityFee", fee)
    t0 = tx.timestamp
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.value) == (name32("feePerSecond"), fee)
    assert vault.feePerSecond() == fee
    assert vault.rate() == RAY  # fees up to the change were accrued at the old (zero) fee
    art_alice, art_total = vault.normalisedDebtOf(alice), vault.totalNormalisedDebt()
    assert art_alice == wad(10_000)
    surplus0 = debt_token.balanceOf(buffer)

    h.advance(30 * DAY)
    dt = chain.blocks.head.timestamp - t0
    rate_view = vault.currentRate()
    assert rate_view == rpow_half_up(fee, dt)  # RAY * rpow, as the NatSpec's rounding does it
    # Independent: (fee/RAY)**dt at 60 digits. rpow rounds each of ~2*log2(dt) products to the
    # nearest ray unit, and each squaring doubles an earlier error: |error| <= dt ray units.
    assert abs(Decimal(rate_view) - rate_decimal(fee, dt) * RAY) <= dt
    assert vault.rate() == RAY  # nothing accrued yet
    assert vault.debtOf(alice) == debt_of(art_alice, rate_view)
    # 30 days at 5% a year: alice owes 10,000 * 1.05 ** (30/365); the <= dt ray units of rpow
    # error above move a debt of art by <= art * dt / RAY wei (26 wei here), plus the ceil.
    expected_alice = Decimal(art_alice) * rate_decimal(fee, dt)
    assert abs(Decimal(vault.debtOf(alice)) - expected_alice) <= Decimal(art_alice * dt) / RAY + 1
    assert wad("10040.18") < vault.debtOf(alice) < wad("10040.19")

    tx = vault.accrue(sender=outsider)
    dt1 = tx.timestamp - t0
    rate1 = rpow_half_up(fee, dt1)
    assert tx.return_value == rate1 == vault.rate()
    fees = debt_of(art_total, rate1) - debt_of(art_total, RAY)
    ev = only_event(tx, vault.FeesAccrued)
    assert (ev.rate, ev.fees) == (rate1, fees)
    assert debt_token.balanceOf(buffer) - surplus0 == fees
    assert vault.totalDebt() == debt_of(art_total, rate1)
    h.assert_identity()

    # alice closes: she must find the fee on top of what she borrowed
    debt = vault.debtOf(alice)
    pin_time(chain)
    debt_token.transfer(alice, debt - wad(10_000), sender=bob)
    pin_time(chain)
    tx = vault.repay(alice, MAX_UINT, sender=alice)
    assert tx.return_value == debt
    assert vault.debtOf(alice) == 0 and debt_token.balanceOf(alice) == 0
    h.assert_identity()


def test_fee_rounding_remainders_keep_the_identity(h, system, vault, alice, bob, chain):
    """Borrow and repay odd amounts at an odd rate: each rounding remainder goes to the buffer."""
    h.deposit(alice, "WETH", 10)
    h.deposit(bob, "WBTC", 1)
    h.govern(vault, "setStabilityFee", MAX_FEE_PER_SECOND)
    h.advance(3 * DAY + 17)
    h.refresh_all()
    for amount in (wad(1_000) + 7, wad("1234.567890123456789"), 333):
        vault.borrow(alice, amount, alice, sender=alice)
        h.assert_identity()
        h.advance(1_111)
    h.refresh_all()
    vault.borrow(bob, wad("2222.2222"), bob, sender=bob)
    h.assert_identity()
    for amount in (wad(10) + 3, 1, wad("99.999999999999999999")):
        vault.repay(alice, amount, sender=alice)
        h.assert_identity()
        h.advance(977)
    system.debt_token.transfer(alice, wad(200), sender=bob)
    vault.repay(alice, MAX_UINT, sender=alice)
    assert vault.normalisedDebtOf(alice) == 0
    h.assert_identity()


def test_full_repay_burns_the_debt_rounded_up(h, system, vault, alice, bob, chain):
    """Repaying everything burns ceil(art x rate / RAY), computed here from the NatSpec: at a
    second where the product leaves a remainder, the rounding wei is paid, never forgiven."""
    h.deposit(alice, "WETH", 10)
    h.deposit(bob, "WBTC", 1)
    vault.borrow(alice, wad(1_000) + 7, alice, sender=alice)
    h.govern(vault, "setStabilityFee", MAX_FEE_PER_SECOND)
    h.advance(3 * DAY + 17)
    h.refresh_all()
    vault.borrow(bob, wad(2_000), bob, sender=bob)
    system.debt_token.transfer(alice, wad(100), sender=bob)  # enough for the accrued fee
    art = vault.normalisedDebtOf(alice)
    for _ in range(24):
        h.advance(1)
        rate = vault.currentRate()
        if art * rate % RAY:
            break
    assert art * rate % RAY, "no second with a remainder: the test would prove nothing"
    before = system.debt_token.balanceOf(alice)
    pin_time(chain)
    vault.repay(alice, MAX_UINT, sender=alice)
    assert vault.rate() == rate  # the repay ran at the view's timestamp
    assert before - system.debt_token.balanceOf(alice) == debt_of(art, rate) == art * rate // RAY + 1
    assert vault.normalisedDebtOf(alice) == 0
    h.assert_identity()


def test_stability_fee_bounds(h, vault):
    with reverts(vault.InvalidParameter, name="feePerSecond", value=RAY - 1, min=RAY, max=MAX_FEE_PER_SECOND):
        h.govern(vault, "setStabilityFee", RAY - 1)
    with reverts(vault.InvalidParameter, name="feePerSecond", value=MAX_FEE_PER_SECOND + 1):
        h.govern(vault, "setStabilityFee", MAX_FEE_PER_SECOND + 1)
    h.govern(vault, "setStabilityFee", MAX_FEE_PER_SECOND)
    assert vault.feePerSecond() == MAX_FEE_PER_SECOND
    # the cap is 100% a year: one year of it doubles the accumulator
    assert abs(rate_decimal(MAX_FEE_PER_SECOND, YEAR) - 2) < Decimal("1e-18")
    h.assert_identity()


# --- liquidation threshold ramp -----------------------------------------------------------------


def test_lowering_a_threshold_needs_a_ramp_raising_is_immediate(h, system, vault, ids, alice, chain):
    weth = ids["WETH"]
    h.deposit(alice, "WETH", 1)  # heldCollateral reports the threshold in force too
    with reverts(vault.RampTooFast, duration=HOUR, minDuration=DAY):
        h.govern(vault, "setLiquidationThreshold", weth, wad("0.77"), HOUR)
    with reverts(vault.RampTooFast, duration=0, minDuration=DAY):
        h.govern(vault, "setLiquidationThreshold", weth, wad("0.79"), 0)
    with reverts(vault.InvalidParameter, name="rampDuration", value=MAX_RAMP + 1):
        h.govern(vault, "setLiquidationThreshold", weth, wad("0.77"), MAX_RAMP + 1)

    # raising: at once, whatever the ramp argument
    tx = h.govern(vault, "setLiquidationThreshold", weth, wad("0.82"), 0)
    assert list(tx.events.filter(vault.ThresholdRampStarted)) == []
    assert vault.collateral(weth).liquidationThreshold == wad("0.82")

    # lowering: linear from 0.82 to 0.77 over two days
    tx = h.govern(vault, "setLiquidationThreshold", weth, wad("0.77"), 2 * DAY)
    start = tx.timestamp
    ev = only_event(tx, vault.ThresholdRampStarted)
    assert (ev["id"], ev["from"], ev["to"], ev["start"], ev["end"]) == (
        weth,
        wad("0.82"),
        wad("0.77"),
        start,
        start + 2 * DAY,
    )
    assert threshold_ramp(vault, weth) == (wad("0.82"), wad("0.77"), start, start + 2 * DAY)

    def expected():
        return ramp_threshold(wad("0.82"), wad("0.77"), start, start + 2 * DAY, chain.blocks.head.timestamp)

    assert vault.collateral(weth).liquidationThreshold == expected()
    for seconds in (1, DAY // 2 - 1, 7_777, DAY - 3):
        h.advance(seconds)
        now_threshold = vault.collateral(weth).liquidationThreshold
        assert now_threshold == expected()
        assert vault.heldCollateral(alice)[0].liquidationThreshold == now_threshold
    assert wad("0.77") < now_threshold < wad("0.82")
    # halfway-ish: a further lowering starts from where the ramp is now, not from 0.82
    tx = h.govern(vault, "setLiquidationThreshold", weth, wad("0.76"), DAY)
    ev = only_event(tx, vault.ThresholdRampStarted)
    assert ev["from"] == ramp_threshold(wad("0.82"), wad("0.77"), start, start + 2 * DAY, tx.timestamp)
    # raising above the current value mid-ramp applies at once and ends the ramp
    current = vault.collateral(weth).liquidationThreshold
    h.govern(vault, "setLiquidationThreshold", weth, current + 1, 0)
    assert vault.collateral(weth).liquidationThreshold == current + 1
    assert threshold_ramp(vault, weth) == (0, 0, 0, 0)
    h.advance(3 * DAY)
    assert vault.collateral(weth).liquidationThreshold == current + 1
    h.assert_identity()


def test_ramp_runs_to_its_end_and_min_ramp_duration_is_governed(h, system, vault, ids):
    usdc = ids["USDC"]
    tx = h.govern(vault, "setMinRampDuration", 2 * HOUR)
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.value) == (name32("minRampDuration"), 2 * HOUR)
    assert vault.minRampDuration() == 2 * HOUR
    with reverts(vault.RampTooFast, duration=2 * HOUR - 1, minDuration=2 * HOUR):
        h.govern(vault, "setLiquidationThreshold", usdc, wad("0.88"), 2 * HOUR - 1)
    h.govern(vault, "setLiquidationThreshold", usdc, wad("0.88"), 2 * HOUR)
    # while the ramp runs, maxLtv must stay below where the threshold is heading
    with reverts(vault.InvalidParameter, name="maxLtv", value=wad("0.88"), min=0, max=wad("0.88") - 1):
        h.govern(vault, "setMaxLtv", usdc, wad("0.88"))
    h.govern(vault, "setMaxLtv", usdc, wad("0.87"))
    h.advance(2 * HOUR)
    assert vault.collateral(usdc).liquidationThreshold == wad("0.88")
    with reverts(vault.InvalidParameter, name="minRampDuration", value=HOUR - 1, min=HOUR, max=30 * DAY):
        h.govern(vault, "setMinRampDuration", HOUR - 1)
    with reverts(vault.InvalidParameter, name="minRampDuration", value=30 * DAY + 1):
        h.govern(vault, "setMinRampDuration", 30 * DAY + 1)
    h.assert_identity()


def test_a_healthy_account_is_not_made_liquidatable_faster_than_the_ramp(
    h, system, vault, ids, decimals, deployer, alice, chain
):
    weth = ids["WETH"]
    amount = h.deposit(alice, "WETH", 10)
    vault.borrow(alice, wad(22_000), alice, sender=alice)
    h.set_price("WETH", 2800)  # health 28,000 * 0.80 / 22,000 = 1.018
    price = oracle_price(2800)
    value = value_floor(amount, 18, price)

    def expected_health(now):
        lt = ramp_threshold(wad("0.8"), wad("0.76"), start, start + span, now)
        return health_floor(value * lt // WAD, wad(22_000))

    span = 2 * DAY
    tx = h.govern(vault, "setLiquidationThreshold", weth, wad("0.76"), span)
    start = tx.timestamp
    # The account crosses 1.0 when the threshold reaches 22,000 / 28,000 = 0.7857, i.e. 35.7% of
    # the way. Before that no keeper may touch it; after it, one may (so the check is not vacuous).
    for fraction, liquidatable in ((0.0, False), (0.30, False), (0.35, False), (0.37, True), (1.0, True)):
        target = start + int(span * fraction)
        now = chain.blocks.head.timestamp
        if target > now:
            h.advance_fresh(target - now)
        h.refresh_all()
        poke_all(system, deployer)
        now = chain.blocks.head.timestamp
        health = vault.healthOf(alice)
        assert health == expected_health(now), fraction
        assert (health < WAD) == liquidatable, fraction
        preview = system.engine.previewLiquidate(alice)
        assert preview.liquidatable == liquidatable, fraction
    h.assert_identity()


def test_penalty_check_uses_the_threshold_in_force_during_a_ramp(h, vault, ids):
    """threshold * (1 + penalty) < 1 must hold for the threshold liquidations use now: while a
    threshold ramps down, that is the (higher) current value, not the ramp's target."""
    usdc = ids["USDC"]  # threshold 0.90, penalty 0.05
    h.govern(vault, "setLiquidationThreshold", usdc, wad("0.86"), 2 * DAY)
    # 0.86 * 1.15 = 0.989 would pass against the target; 0.90 * 1.15 = 1.035 does not
    with reverts(vault.InvalidParameter, name="liquidationThreshold*(1+penalty)"):
        h.govern(vault, "setPenalty", usdc, wad("0.15"))
    h.advance(2 * DAY)
    tx = h.govern(vault, "setPenalty", usdc, wad("0.15"))
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.id, ev.value) == (name32("penalty"), usdc, wad("0.15"))
    assert vault.collateral(usdc).penalty == wad("0.15")
    h.assert_identity()


# --- pause, broken oracle, shutdown -------------------------------------------------------------


def test_guardian_pause_blocks_borrowing_only(h, system, vault, ids, deployer, alice, bob, outsider):
    h.open(alice, {"WETH": 10}, 10_000)
    bob_weth = h.deposit(bob, "WETH", 2)
    with reverts(vault.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=GUARDIAN):
        vault.pauseBorrowing(sender=outsider)
    tx = vault.pauseBorrowing(sender=deployer)  # the guardian acts at once, no timelock
    assert only_event(tx, vault.BorrowingPausedSet).paused == 1  # Ape decodes bool log args as int
    assert vault.borrowingPaused() is True
    assert vault.maxBorrow(alice) == 0
    with reverts(vault.BorrowingPaused):
        vault.borrow(alice, wad(1), alice, sender=alice)
    with reverts(vault.BorrowingPaused):
        vault.borrow(bob, wad(1_000), bob, sender=bob)
    # never blocked: repay, deposit, withdrawals (debt-free, and within the limit)
    vault.repay(alice, wad(2_000), sender=alice)
    h.deposit(alice, "USDC", 100)
    vault.withdraw(bob, ids["WETH"], bob_weth, bob, sender=bob)
    vault.withdraw(alice, ids["WETH"], units(18, 1), alice, sender=alice)
    # the guardian cannot lift its own pause: governance does
    with reverts(vault.AccessControlUnauthorizedAccount, account=deployer.address, neededRole=GOVERNOR):
        vault.unpauseBorrowing(sender=deployer)
    tx = h.govern(vault, "unpauseBorrowing")
    assert only_event(tx, vault.BorrowingPausedSet).paused == 0
    assert vault.borrowingPaused() is False
    vault.borrow(alice, wad(1), alice, sender=alice)
    h.assert_identity()


def test_repay_deposit_and_debt_free_withdraw_survive_a_broken_oracle(h, system, vault, ids, alice, bob):
    h.open(alice, {"WETH": 10}, 10_000)
    h.deposit(bob, "WBTC", 1)
    with reverts(vault.ZeroAddress):
        h.govern(vault, "setOracle", ZERO_ADDRESS)
    # an "oracle" whose every call reverts (the buffer has no peek/update)
    tx = h.govern(vault, "setOracle", system.buffer)
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.value) == (name32("oracle"), int(system.buffer.address, 16))
    assert vault.oracle() == system.buffer.address
    vault.repay(alice, wad(1_000), sender=alice)
    h.deposit(alice, "WETH", 1)
    h.deposit(bob, "USDC", 10)
    vault.withdraw(bob, ids["WBTC"], units(8, 1), bob, sender=bob)
    with pytest.raises(Exception):  # noqa: B017 (no price: no new debt, no indebted withdrawal)
        vault.borrow(alice, wad(1), alice, sender=alice)
    with pytest.raises(Exception):  # noqa: B017
        vault.withdraw(alice, ids["WETH"], 1, alice, sender=alice)
    vault.repay(alice, MAX_UINT, sender=alice)  # closing needs no price either
    vault.withdraw(alice, ids["WETH"], units(18, 11), alice, sender=alice)
    h.govern(vault, "setOracle", system.oracle)
    assert vault.oracle() == system.oracle.address
    h.open(alice, {"WETH": 1}, 1_000)
    h.assert_identity()


def test_shutdown_blocks_new_debt_forever(h, system, vault, ids, deployer, alice, bob):
    h.open(alice, {"WETH": 10}, 10_000)
    h.deposit(bob, "USDC", 5_000)
    tx = h.govern(vault, "startShutdown")
    assert len(tx.events.filter(vault.ShutdownStarted)) == 1
    assert vault.shutdown() is True
    assert vault.maxBorrow(alice) == vault.maxBorrow(bob) == 0
    with reverts(vault.ShutdownActive):
        vault.borrow(bob, wad(1_000), bob, sender=bob)
    with reverts(vault.ShutdownActive):
        vault.borrow(alice, wad(1), alice, sender=alice)
    # repay, deposit and withdraw go on
    vault.repay(alice, wad(4_000), sender=alice)
    h.deposit(alice, "WBTC", "0.1")
    vault.withdraw(alice, ids["WETH"], units(18, 1), alice, sender=alice)
    vault.withdraw(bob, ids["USDC"], units(6, 5_000), bob, sender=bob)
    # nothing undoes it: not unpausing, not another shutdown, not time
    h.govern(vault, "unpauseBorrowing")
    h.govern(vault, "startShutdown")
    vault.pauseBorrowing(sender=deployer)
    h.govern(vault, "unpauseBorrowing")
    h.advance(400 * DAY)
    with reverts(vault.ShutdownActive):
        vault.borrow(alice, wad(1), alice, sender=alice)
    assert vault.shutdown() is True
    mutators = [a.name for a in vault.contract_type.mutable_methods if "hutdown" in a.name]
    assert mutators == ["startShutdown"]
    vault.repay(alice, MAX_UINT, sender=alice)
    h.assert_identity()


# --- Euler 2023: no user operation ends beyond the borrow limit ---------------------------------


def test_no_borrow_or_withdraw_can_end_past_the_borrow_limit(h, system, vault, ids, alice):
    weth, usdc = ids["WETH"], ids["USDC"]
    h.deposit(alice, "WETH", 10)  # borrowing power 30,000 * 0.75 = 22,500
    h.deposit(alice, "USDC", 1_000)  # + 1,000 * 0.85 = 850
    limit = wad(22_500 + 850)
    with reverts(vault.BorrowLimitExceeded, debt=limit + 1, limit=limit):
        vault.borrow(alice, limit + 1, alice, sender=alice)
    debt = wad(22_500) + 1  # WETH alone falls 1 wei short: one USDC unit (0.85e12 wei) must stay
    vault.borrow(alice, debt, alice, sender=alice)
    assert vault.maxWithdraw(alice, usdc) == units(6, 1_000) - 1
    with reverts(vault.BorrowLimitExceeded, debt=debt, limit=wad(22_500)):
        vault.withdraw(alice, usdc, units(6, 1_000), alice, sender=alice)
    vault.withdraw(alice, usdc, units(6, 1_000) - 1, alice, sender=alice)
    limit = wad(22_500) + 850_000_000_000  # 1 USDC unit = 1e12 wei of value * 0.85
    assert vault.maxBorrow(alice) == limit - debt
    vault.borrow(alice, limit - debt, alice, sender=alice)
    assert vault.debtOf(alice) == limit  # exactly at the limit: not one unit may go
    with reverts(vault.BorrowLimitExceeded, debt=limit, limit=limit - 2_250):  # 1 wei WETH = 3000 wei * 0.75
        vault.withdraw(alice, weth, 1, alice, sender=alice)
    with reverts(vault.BorrowLimitExceeded, debt=limit, limit=wad(22_500)):
        vault.withdraw(alice, usdc, 1, alice, sender=alice)
    with reverts(vault.BorrowLimitExceeded, debt=limit + 1, limit=limit):
        vault.borrow(alice, 1, alice, sender=alice)
    assert vault.maxBorrow(alice) == 0
    assert vault.maxWithdraw(alice, weth) == vault.maxWithdraw(alice, usdc) == 0
    assert vault.healthOf(alice) == (wad(24_000) + wad("0.000001") * 9 // 10) * WAD // limit > WAD
    # a price fall puts the account beyond its limit (not a user's doing): still no way further
    h.set_price("WETH", 2900)
    assert WAD < vault.healthOf(alice)
    with reverts(vault.BorrowLimitExceeded, debt=limit, limit=wad(21_750) + 850_000_000_000 - 2_175):
        vault.withdraw(alice, weth, 1, alice, sender=alice)
    with reverts(vault.BorrowLimitExceeded):
        vault.borrow(alice, 1, alice, sender=alice)
    h.deposit(alice, "WETH", 1)  # deposit and repay always work
    vault.repay(alice, wad(2_500), sender=alice)
    h.assert_identity()


def test_no_borrowing_power_without_a_borrow_price(h, system, vault, ids, alice, deployer):
    """A stale feed serves no borrow price: the collateral counts for nothing on borrow/withdraw
    but health still reads its last accepted price."""
    h.open(alice, {"WETH": 10}, 10_000)
    h.advance(2 * HOUR)  # heartbeat 1 hour: the WETH feed is stale
    q = system.oracle.peek(system.collateral["WETH"])
    assert q.borrowPrice == 0 and q.current == oracle_price(3000)
    assert vault.maxBorrow(alice) == 0
    assert vault.maxWithdraw(alice, ids["WETH"]) == 0
    with reverts(vault.BorrowLimitExceeded, debt=wad(10_000) + 1, limit=0):
        vault.borrow(alice, 1, alice, sender=alice)
    with reverts(vault.BorrowLimitExceeded, debt=wad(10_000), limit=0):
        vault.withdraw(alice, ids["WETH"], 1, alice, sender=alice)
    assert vault.healthOf(alice) == wad("2.4")
    vault.repay(alice, wad(1_000), sender=alice)
    h.assert_identity()


def test_fee_on_transfer_token_is_refused(h, project, system, vault, deployer, alice):
    fot = project.FeeOnTransferToken.deploy("Taxed", "TAX", sender=deployer)
    tx = h.govern(vault, "listCollateral", fot, wad("0.5"), wad("0.6"), wad("0.1"), wad(1_000_000))
    fid = vault.collateralId(fot)
    assert fid == 3
    ev = only_event(tx, vault.CollateralListed)
    assert (ev.id, ev.token, ev.decimals) == (fid, fot.address, 18)
    fot.mint(alice, wad(100), sender=alice)
    fot.approve(vault, MAX_UINT, sender=alice)
    with reverts(vault.TransferAmountMismatch, token=fot.address, expected=wad(100), received=wad(99)):
        vault.deposit(alice, fid, wad(100), sender=alice)
    assert fot.balanceOf(alice) == wad(100)
    assert vault.collateral(fid).totalSupplied == 0
    h.assert_identity()


def test_declared_token_behaviour_is_enforced(h, project, system, vault, deployer, alice):
    """Rebasing and fee-on-transfer tokens declared as such are refused at listing; a token listed
    as plain that rebases down is refused at the next deposit (tests/security has the full set)."""
    reb = project.RebasingToken.deploy("Rebasing", "REB", 18, sender=deployer)
    h.govern(vault, "declareTokenBehaviour", reb, 1)
    with reverts(vault.UnsupportedToken, token=reb.address, behaviour=1):
        h.govern(vault, "listCollateral", reb, wad("0.5"), wad("0.6"), wad("0.1"), wad(1_000_000))
    plain = project.RebasingToken.deploy("Quiet", "QRB", 18, sender=deployer)
    h.govern(vault, "listCollateral", plain, wad("0.5"), wad("0.6"), wad("0.1"), wad(1_000_000))
    pid = vault.collateralId(plain)
    plain.mint(alice, wad(100), sender=alice)
    plain.approve(vault, MAX_UINT, sender=alice)
    vault.deposit(alice, pid, wad(40), sender=alice)
    plain.rebase(WAD // 2, sender=deployer)  # the vault now holds 20 for 40 accounted
    with reverts(vault.CollateralBalanceShort, token=plain.address, balance=wad(21), accounted=wad(41)):
        vault.deposit(alice, pid, wad(1), sender=alice)


# --- collateral listing and risk setters --------------------------------------------------------


def test_listing_rules(h, project, system, vault, deployer):
    with reverts(vault.CollateralAlreadyListed, token=system.collateral["WETH"].address):
        h.govern(vault, "listCollateral", system.collateral["WETH"], wad("0.5"), wad("0.6"), 0, 1)
    with reverts(vault.ZeroAddress):
        h.govern(vault, "listCollateral", ZERO_ADDRESS, wad("0.5"), wad("0.6"), 0, 1)
    odd = project.MockERC20.deploy("Too precise", "T19", 19, sender=deployer)
    with reverts(vault.InvalidParameter, name="decimals", value=19, min=0, max=18):
        h.govern(vault, "listCollateral", odd, wad("0.5"), wad("0.6"), 0, 1)
    tok = project.MockERC20.deploy("New", "NEW", 12, sender=deployer)
    with reverts(vault.InvalidParameter, name="maxLtv", value=wad("0.6")):
        h.govern(vault, "listCollateral", tok, wad("0.6"), wad("0.6"), 0, 1)
    with reverts(vault.InvalidParameter, name="liquidationThreshold", value=WAD, min=wad("0.5") + 1):
        h.govern(vault, "listCollateral", tok, wad("0.5"), WAD, 0, 1)
    with reverts(vault.InvalidParameter, name="liquidationThreshold", value=WAD, min=2**64):
        h.govern(vault, "listCollateral", tok, 2**64 - 1, WAD, 0, 1)  # no overflow panic on the way
    with reverts(vault.InvalidParameter, name="penalty", value=wad("0.25") + 1, min=0, max=wad("0.25")):
        h.govern(vault, "listCollateral", tok, wad("0.5"), wad("0.6"), wad("0.25") + 1, 1)
    # 0.95 * 1.06 >= 1: a liquidation could not improve health
    with reverts(vault.InvalidParameter, name="liquidationThreshold*(1+penalty)"):
        h.govern(vault, "listCollateral", tok, wad("0.9"), wad("0.95"), wad("0.06"), 1)
    tx = h.govern(vault, "listCollateral", tok, wad("0.5"), wad("0.6"), wad("0.25"), 77)
    sets = {(e.name, e.value) for e in tx.events.filter(vault.ParameterSet)}
    assert sets == {
        (name32("maxLtv"), wad("0.5")),
        (name32("liquidationThreshold"), wad("0.6")),
        (name32("penalty"), wad("0.25")),
        (name32("supplyCap"), 77),
    }
    cfg = vault.collateral(3)
    assert (cfg.token, cfg.decimals, cfg.maxLtv, cfg.liquidationThreshold, cfg.penalty, cfg.supplyCap) == (
        tok.address,
        12,
        wad("0.5"),
        wad("0.6"),
        wad("0.25"),
        77,
    )
    assert vault.collateralCount() == 4
    h.assert_identity()


def test_at_most_sixteen_collateral_types(h, project, system, vault, deployer):
    for i in range(vault.collateralCount(), 16):
        tok = project.MockERC20.deploy(f"T{i}", f"T{i}", 18, sender=deployer)
        h.govern(vault, "listCollateral", tok, wad("0.5"), wad("0.6"), 0, 1)
    assert vault.collateralCount() == 16
    last = project.MockERC20.deploy("T16", "T16", 18, sender=deployer)
    with reverts(vault.TooManyCollaterals):
        h.govern(vault, "listCollateral", last, wad("0.5"), wad("0.6"), 0, 1)
    assert vault.collateralId(tok) == 15
    h.assert_identity()


def test_risk_setters(h, vault, ids):
    weth = ids["WETH"]
    tx = h.govern(vault, "setMaxLtv", weth, wad("0.7"))
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.id, ev.value) == (name32("maxLtv"), weth, wad("0.7"))
    assert vault.collateral(weth).maxLtv == wad("0.7")
    with reverts(vault.InvalidParameter, name="maxLtv", value=wad("0.8"), min=0, max=wad("0.8") - 1):
        h.govern(vault, "setMaxLtv", weth, wad("0.8"))
    with reverts(vault.UnknownCollateral, id=9):
        h.govern(vault, "setMaxLtv", 9, wad("0.5"))
    with reverts(vault.InvalidParameter, name="penalty", value=wad("0.25") + 1):
        h.govern(vault, "setPenalty", weth, wad("0.25") + 1)
    with reverts(vault.InvalidParameter, name="liquidationThreshold*(1+penalty)"):
        h.govern(vault, "setPenalty", weth, wad("0.25"))  # 0.80 * 1.25 = 1
    h.govern(vault, "setPenalty", weth, wad("0.24"))
    assert vault.collateral(weth).penalty == wad("0.24")
    with reverts(vault.InvalidParameter, name="liquidationThreshold", value=WAD):
        h.govern(vault, "setLiquidationThreshold", weth, WAD, 0)
    with reverts(vault.InvalidParameter, name="maxLtv", value=wad("0.7")):
        h.govern(vault, "setLiquidationThreshold", weth, wad("0.7"), DAY)
    with reverts(vault.UnknownCollateral, id=3):
        h.govern(vault, "setFrozen", 3, True)
    with reverts(vault.UnknownCollateral, id=3):
        h.govern(vault, "setSupplyCap", 3, 1)
    h.assert_identity()


# --- privileged functions refused to outsiders --------------------------------------------------


# (module, method, role it needs (None: DEFAULT_ADMIN_ROLE), args given the system and the caller)
PRIVILEGED = [
    ("vault", "listCollateral", "GOVERNOR_ROLE", lambda s, a: (s.collateral["WETH"], 1, 2, 0, 0)),
    ("vault", "setMaxLtv", "GOVERNOR_ROLE", lambda s, a: (0, 1)),
    ("vault", "setLiquidationThreshold", "GOVERNOR_ROLE", lambda s, a: (0, wad("0.81"), 0)),
    ("vault", "setPenalty", "GOVERNOR_ROLE", lambda s, a: (0, 0)),
    ("vault", "setSupplyCap", "GOVERNOR_ROLE", lambda s, a: (0, 0)),
    ("vault", "setFrozen", "GOVERNOR_ROLE", lambda s, a: (0, True)),
    ("vault", "setDust", "GOVERNOR_ROLE", lambda s, a: (0,)),
    ("vault", "setDebtCeiling", "GOVERNOR_ROLE", lambda s, a: (0,)),
    ("vault", "setStabilityFee", "GOVERNOR_ROLE", lambda s, a: (RAY,)),
    ("vault", "setMinRampDuration", "GOVERNOR_ROLE", lambda s, a: (HOUR,)),
    ("vault", "setOracle", "GOVERNOR_ROLE", lambda s, a: (s.oracle,)),
    ("vault", "unpauseBorrowing", "GOVERNOR_ROLE", lambda s, a: ()),
    ("vault", "startShutdown", "GOVERNOR_ROLE", lambda s, a: ()),
    ("vault", "pauseBorrowing", "GUARDIAN_ROLE", lambda s, a: ()),
    ("vault", "liquidationSnapshot", "ENGINE_ROLE", lambda s, a: (a,)),
    ("vault", "confiscate", "ENGINE_ROLE", lambda s, a: (a, [0], [1], 1)),
    ("vault", "releaseCollateral", "AUCTION_ROLE", lambda s, a: (0, a, 1)),
    ("vault", "returnCollateral", "AUCTION_ROLE", lambda s, a: (a, 0, 1)),
    ("vault", "grantRole", None, lambda s, a: (role("GOVERNOR_ROLE"), a)),
    ("debt_token", "mint", "MINTER_ROLE", lambda s, a: (a, 1)),
    ("debt_token", "burn", "BURNER_ROLE", lambda s, a: (a, 1)),
    ("debt_token", "grantRole", None, lambda s, a: (role("MINTER_ROLE"), a)),
    ("buffer", "absorb", "MODULE_ROLE", lambda s, a: (0, 1)),
    ("buffer", "pay", "MODULE_ROLE", lambda s, a: (a, 1)),
    ("buffer", "withdrawSurplus", "GOVERNOR_ROLE", lambda s, a: (a, 0)),
    ("buffer", "setSurplusFloor", "GOVERNOR_ROLE", lambda s, a: (0,)),
]


@pytest.mark.parametrize("module,method,role_name,args", PRIVILEGED, ids=[f"{m}.{f}" for m, f, _, _ in PRIVILEGED])
def test_privileged_function_refused_to_outsider(h, system, alice, outsider, module, method, role_name, args):
    h.open(alice, {"WETH": 10}, 5_000)  # something an engine/auction/burner could act on
    args = args(system, outsider)
    contract = getattr(system, module)
    needed = role(role_name) if role_name else DEFAULT_ADMIN
    assert not contract.hasRole(needed, outsider)
    with reverts(contract.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=needed):
        getattr(contract, method)(*args, sender=outsider)
    h.assert_identity()


# --- every IVault error is exercised above ------------------------------------------------------


def test_every_ivault_error_is_asserted_in_this_module(project):
    """Guard for the suite itself: each custom error IVault declares is asserted by name here."""
    source = Path(__file__).read_text()
    declared = {e.name for e in project.Vault.contract_type.errors} - {
        # inherited from OpenZeppelin/solady, not part of IVault
        "AccessControlBadConfirmation",
        "AccessControlUnauthorizedAccount",
        "ReentrancyGuardReentrantCall",
        "SafeERC20FailedOperation",
        "FullMulDivFailed",
        "MulDivFailed",
        "RPowOverflow",
    }
    ivault = Path(__file__).parents[2] / "interfaces" / "IVault.sol"
    assert declared == set(re.findall(r"error (\w+)\(", ivault.read_text()))
    missing = {e for e in declared if f"reverts(vault.{e}" not in source}
    assert not missing, f"IVault errors never asserted: {sorted(missing)}"
