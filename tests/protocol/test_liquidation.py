"""Liquidation engine: partial and full closes, dust, caps, batch, guards, incentive, roles.

Numbers. WETH $3000 (LT 0.8, penalty 0.1), WBTC $60000 (LT 0.78, penalty 0.1), USDC $1 (LT 0.9,
penalty 0.05); target health 1.25, dust 1000, tip 20, chip 0.01.

With the default lot margin (0.2) a seizure weighs w = LT * (1 + penalty) / (1 - margin) > 1 for
every listed collateral (WETH 1.1), so closing debt against it LOWERS health for any account
below 1: every default liquidation is a full one. The partial-close tests set the margin to 0.05
(WETH w = 0.926) through governance.
"""

from fractions import Fraction

import pytest
from liquidation_helpers import (
    GOVERNOR,
    GUARD_DELAYED_STOPPED,
    GUARD_FROZEN,
    GUARD_RECOVERY,
    GUARDIAN,
    MAX_UINT,
    WAD,
    ZERO,
    call_reverts,
    events,
    govern_reverts,
    liquidate_checked,
    mul_div,
    mul_div_up,
    new_accounts,
    one_event,
    refused,
    reverts,
    unauthorized,
    value_of,
)

from unwind.params import wad

DUST = wad(1000)
TARGET = wad("1.25")
LT = {"WETH": wad("0.8"), "WBTC": wad("0.78"), "USDC": wad("0.9")}
PEN = {"WETH": wad("0.1"), "WBTC": wad("0.1"), "USDC": wad("0.05")}
DEC = {"WETH": 18, "WBTC": 8, "USDC": 6}


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployer, alice, bob, keeper, outsider, h):
    """Every session fixture of this module, set up with the first test: one that first appears
    in a later test makes Ape rebase, i.e. redeploy the module's system."""


# --- helpers ---


def k_of(penalty, margin):
    """Value moved to the auction per unit of debt closed: (1 + penalty) / (1 - margin), rounded up."""
    return mul_div_up(WAD + penalty, WAD, WAD - margin)


def need_to_target(debt, weighted, lt, penalty, margin, target=TARGET):
    """The documented partial close, in the contract's integer steps:
    x = (target * D - weighted) / (target - w), w = k * LT; all rounded up."""
    k = k_of(penalty, margin)
    w = mul_div_up(k, lt, WAD)
    return mul_div_up(mul_div_up(target, debt, WAD) - weighted, WAD, target - w)


def need_exact(debt, weighted, lt, penalty, margin, target=TARGET):
    """The same formula over the rationals (no rounding anywhere)."""
    w = Fraction(lt, WAD) * Fraction(WAD + penalty, WAD) / Fraction(WAD - margin, WAD)
    return (Fraction(target, WAD) * debt - weighted) / (Fraction(target, WAD) - w)


def lot_for(x, k, price, decimals):
    return mul_div_up(mul_div_up(x, k, WAD), 10**decimals, price)


def set_margin(h, margin):
    h.govern(h.s.engine, "setLotMargin", margin)
    assert h.s.engine.lotMargin() == margin


@pytest.fixture(scope="module", autouse=True)
def _wide_lot_margin(_session_fixtures_first, h):
    """Pin the lot margin at 20% for this module: there a partial close cannot raise the health
    of the default collaterals, so liquidations are full unless a test sets a smaller margin
    (the partial-close tests do). The deployed default is 5%, where partial closes work."""
    set_margin(h, wad("0.2"))


# --- healthy accounts ---


def test_healthy_account_is_not_liquidatable(h, alice, bob, keeper):
    s = h.s
    h.open(alice, {"WETH": 10}, 20_000)  # health 24000 / 20000 = 1.2
    with reverts(s.engine, "NotLiquidatable", account=alice.address, health=wad("1.2")):
        s.engine.liquidate(alice, keeper, sender=keeper)
    with reverts(s.engine, "NotLiquidatable", account=bob.address, health=MAX_UINT):
        s.engine.liquidate(bob, keeper, sender=keeper)  # no debt at all
    preview = s.engine.previewLiquidate(alice)
    assert not preview.liquidatable and preview.health == wad("1.2") and len(preview.seizures) == 0
    # Health exactly 1 is not liquidatable: 22500 * 0.8 / 18000 = 1.0
    h.open(bob, {"WETH": 10}, 18_000)
    h.set_price("WETH", 2250)
    assert s.vault.healthOf(bob) == WAD
    with reverts(s.engine, "NotLiquidatable", health=WAD):
        s.engine.liquidate(bob, keeper, sender=keeper)


# --- partial and full closes ---


def test_partial_liquidation_restores_target_health(h, alice, keeper):
    s = h.s
    margin = wad("0.05")
    set_margin(h, margin)
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    price = wad(2700)
    debt = wad(22_000)
    value = value_of(10 * WAD, price, 18)
    weighted = mul_div(value, LT["WETH"], WAD)
    assert weighted * WAD // debt == s.vault.healthOf(alice) < WAD

    x = need_to_target(debt, weighted, LT["WETH"], PEN["WETH"], margin)
    exact = need_exact(debt, weighted, LT["WETH"], PEN["WETH"], margin)
    assert abs(x - exact) <= exact / 10**15  # the contract's WAD roundings only
    k = k_of(PEN["WETH"], margin)
    assert x < mul_div(value, WAD, k), "one collateral is enough: a partial close"

    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == x  # the documented formula, to the wei
    assert kicks[0].lot == lot_for(x, k, price, 18) < 10 * WAD
    assert kicks[0].tab == x + mul_div_up(x, PEN["WETH"], WAD)
    # The account is back at the target health (the lot is rounded up: at most a hair below).
    health = s.vault.healthOf(alice)
    assert abs(health - TARGET) <= TARGET // 10**12
    remaining_coll = 10 * WAD - kicks[0].lot
    assert health == mul_div(value_of(remaining_coll, price, 18), LT["WETH"], WAD) * WAD // (debt - x)
    # It is healthy now: a second liquidation is refused.
    with reverts(s.engine, "NotLiquidatable"):
        s.engine.liquidate(alice, keeper, sender=keeper)


def test_falling_market_sized_at_current_price(h, alice, keeper):
    """Triggered at the confirmed price max(current, delayed), sized at min(current, delayed): with
    the delayed price still at 2700 and the current one at 2650, the close, its target health and
    the lot are those of 2650, more than 2700's would be (a stale-price lot could not raise the tab)."""
    s = h.s
    margin = wad("0.05")
    set_margin(h, margin)
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)  # settled: current = delayed = 2700, health 0.98
    h.set_price("WETH", 2650, settle=False)
    s.oracle.update(s.collateral["WETH"], sender=keeper)
    quote = s.oracle.peek(s.collateral["WETH"])
    assert (quote.current, quote.liquidationPrice) == (wad(2650), wad(2700))
    debt = wad(22_000)
    k = k_of(PEN["WETH"], margin)

    def close_at(price):
        weighted = mul_div(value_of(10 * WAD, price, 18), LT["WETH"], WAD)
        return need_to_target(debt, weighted, LT["WETH"], PEN["WETH"], margin)

    x = close_at(wad(2650))
    assert x > close_at(wad(2700)), "the two rules differ here"
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert preview.health == mul_div(value_of(10 * WAD, wad(2700), 18), LT["WETH"], WAD) * WAD // debt < WAD
    assert ev.debtClosed == x
    assert kicks[0].lot == lot_for(x, k, wad(2650), 18)
    assert kicks[0].top == mul_div_up(wad(2700), s.auction.params(s.ids["WETH"]).buffer, WAD)
    # Back at the target health at today's price.
    remaining = 10 * WAD - kicks[0].lot
    health_now = mul_div(value_of(remaining, wad(2650), 18), LT["WETH"], WAD) * WAD // (debt - x)
    assert abs(health_now - TARGET) <= TARGET // 10**12


def test_full_liquidation_when_collateral_is_insufficient(h, alice, keeper):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)  # health 0.98 < w = 1.1 at the default margin: no partial close helps
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == wad(22_000) == preview.debt
    assert len(kicks) == 1 and kicks[0].lot == 10 * WAD
    assert kicks[0].tab == wad(24_200)
    assert ev.penalty == wad(2_200)
    assert ev.incentive == wad(20) + wad(220)
    assert s.vault.debtOf(alice) == 0 and s.vault.collateralOf(alice, s.ids["WETH"]) == 0
    sale = s.auction.sales(kicks[0].id)
    assert sale.owner == alice.address and sale.lot == 10 * WAD and sale.tab == wad(24_200)
    assert sale.top == mul_div_up(wad(2700), s.auction.params(s.ids["WETH"]).buffer, WAD)  # 2700 x buffer


def test_multi_collateral_partial_seizes_in_id_order(h, alice, keeper):
    """WETH (id 0) is too small to restore health: it goes whole; WBTC (id 1) closes the rest;
    USDC (id 2) is untouched. Two auctions, in id order."""
    s = h.s
    margin = wad("0.05")
    set_margin(h, margin)
    h.open(alice, {"WETH": 1, "WBTC": 1, "USDC": 10_000}, 52_000)
    h.set_price("WBTC", 52_000)
    h.refresh_all()
    prices = {"WETH": wad(3000), "WBTC": wad(52_000), "USDC": wad(1)}
    amounts = {"WETH": WAD, "WBTC": 10**8, "USDC": 10_000 * 10**6}
    values = {sym: value_of(amounts[sym], prices[sym], DEC[sym]) for sym in amounts}
    weighted = sum(mul_div(values[sym], LT[sym], WAD) for sym in values)
    debt = wad(52_000)
    assert weighted < debt

    k = k_of(wad("0.1"), margin)
    need_weth = need_to_target(debt, weighted, LT["WETH"], PEN["WETH"], margin)
    x1 = mul_div(values["WETH"], WAD, k)  # WETH's whole capacity
    assert need_weth > x1
    weighted1 = weighted - mul_div(values["WETH"], LT["WETH"], WAD)
    x2 = need_to_target(debt - x1, weighted1, LT["WBTC"], PEN["WBTC"], margin)
    assert x2 < mul_div(values["WBTC"], WAD, k)

    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert [kk.collateralId for kk in kicks] == [s.ids["WETH"], s.ids["WBTC"]]
    assert [se.debt for se in preview.seizures] == [x1, x2]
    assert kicks[0].lot == WAD  # WETH whole
    assert kicks[1].lot == lot_for(x2, k, prices["WBTC"], 8) < 10**8
    assert ev.debtClosed == x1 + x2
    assert s.vault.collateralOf(alice, s.ids["USDC"]) == amounts["USDC"]
    # Back at the target, up to the rounding of the WBTC lot to whole satoshis.
    left = {"WETH": 0, "WBTC": 10**8 - kicks[1].lot, "USDC": amounts["USDC"]}
    weighted_after = sum(mul_div(value_of(left[sym], prices[sym], DEC[sym]), LT[sym], WAD) for sym in left)
    health = s.vault.healthOf(alice)
    assert health == weighted_after * WAD // (debt - x1 - x2)
    assert abs(health - TARGET) <= TARGET // 10**7


def test_multi_collateral_full_liquidation_three_auctions(h, alice, keeper):
    """Not enough collateral to restore health: everything is seized, the debt split by value."""
    s = h.s
    h.open(alice, {"WETH": 1, "WBTC": 1, "USDC": 10_000}, 52_000)
    h.set_price("WBTC", 52_000)
    h.refresh_all()
    values = [wad(3000), wad(52_000), wad(10_000)]
    total = sum(values)
    debt = wad(52_000)
    x = [debt * values[0] // total, debt * values[1] // total]
    x.append(debt - sum(x))
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert [kk.collateralId for kk in kicks] == [0, 1, 2]
    assert [kk.lot for kk in kicks] == [WAD, 10**8, 10_000 * 10**6]
    assert [se.debt for se in preview.seizures] == x
    pens = [PEN["WETH"], PEN["WBTC"], PEN["USDC"]]
    assert [kk.tab for kk in kicks] == [xi + mul_div_up(xi, p, WAD) for xi, p in zip(x, pens)]
    assert s.vault.debtOf(alice) == 0
    assert all(s.vault.collateralOf(alice, cid) == 0 for cid in range(3))
    assert s.auction.count() == 3


def test_keeper_incentive_capped_at_penalty(h, alice, keeper):
    s = h.s
    h.govern(s.vault, "setPenalty", s.ids["WETH"], wad("0.005"))  # 0.5%: tip + chip*x > penalty
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.penalty == wad(110)
    assert wad(20) + wad(220) > ev.penalty
    assert ev.incentive == ev.penalty == wad(110)  # the whole penalty, never more


def test_self_liquidation_cannot_profit(h, alice):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    preview, ev, kicks = liquidate_checked(h, alice, alice)
    assert ev.incentive < ev.penalty  # what alice gets back is less than what her tab adds


# --- dust ---


def test_dust_liquidation_closes_at_least_dust(h, alice, keeper):
    """The plan to reach a 1.01 target closes ~586: it is raised to the dust floor (1000)."""
    s = h.s
    margin = wad("0.05")
    set_margin(h, margin)
    h.govern(s.engine, "setTargetHealth", wad("1.01"))
    h.open(alice, {"WETH": 2}, 4_500)
    h.set_price("WETH", 2810)
    value = value_of(2 * WAD, wad(2810), 18)
    weighted = mul_div(value, LT["WETH"], WAD)
    x = need_to_target(wad(4500), weighted, LT["WETH"], PEN["WETH"], margin, target=wad("1.01"))
    assert 0 < x < DUST
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == DUST
    assert kicks[0].lot == lot_for(DUST, k_of(PEN["WETH"], margin), wad(2810), 18)
    assert s.vault.debtOf(alice) == wad(3500)
    assert s.vault.healthOf(alice) > wad("1.01")


def test_dust_liquidation_never_leaves_a_dust_remainder(h, alice, keeper):
    """The plan would leave ~468 of debt: the whole debt is closed instead."""
    s = h.s
    margin = wad("0.05")
    set_margin(h, margin)
    h.open(alice, {"WETH": 2}, 4_500)
    h.set_price("WETH", 2700)
    weighted = mul_div(value_of(2 * WAD, wad(2700), 18), LT["WETH"], WAD)
    x = need_to_target(wad(4500), weighted, LT["WETH"], PEN["WETH"], margin)
    assert 0 < wad(4500) - x < DUST
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == wad(4500)
    assert s.vault.debtOf(alice) == 0


def test_debt_below_raised_dust_is_closed_whole(h, alice, keeper):
    """Governance raised dust above the account's debt: min(debt, dust) = the whole debt."""
    s = h.s
    set_margin(h, wad("0.05"))
    h.open(alice, {"WETH": 2}, 4_500)
    h.govern(s.vault, "setDust", wad(5000))
    h.set_price("WETH", 2810)
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == wad(4500)
    assert s.vault.debtOf(alice) == 0


# --- caps ---


def test_collateral_cap_cuts_a_liquidation_then_blocks(h, alice, keeper):
    s = h.s
    cap = wad(10_000)
    h.govern(s.engine, "setCollateralCap", s.ids["WETH"], cap)
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    debt, tab, lot = wad(22_000), wad(24_200), 10 * WAD
    fits = debt * cap // tab
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == fits
    assert kicks[0].tab == fits + mul_div_up(fits, PEN["WETH"], WAD) <= cap
    assert kicks[0].lot == mul_div_up(lot, fits, debt)
    assert s.auction.debtOf(s.ids["WETH"]) <= cap
    assert s.vault.healthOf(alice) < WAD  # still unsafe, but the queue is full
    room = cap - s.auction.debtOf(s.ids["WETH"])
    assert not s.engine.previewLiquidate(alice).liquidatable
    with reverts(s.engine, "LiquidationCapReached", collateralId=s.ids["WETH"], room=room):
        s.engine.liquidate(alice, keeper, sender=keeper)
    # Governance makes room: the rest is liquidated.
    h.govern(s.engine, "setCollateralCap", s.ids["WETH"], wad(1_000_000))
    liquidate_checked(h, alice, keeper)
    assert s.vault.debtOf(alice) == 0


def test_global_cap_cuts_and_blocks(h, alice, bob, keeper):
    s = h.s
    cap = wad(15_000)
    h.govern(s.engine, "setGlobalCap", cap)
    h.open(alice, {"WETH": 10}, 22_000)
    h.open(bob, {"WBTC": 1}, 42_000)
    h.set_price("WETH", 2700)
    h.set_price("WBTC", 52_000)
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == wad(22_000) * cap // wad(24_200)
    assert s.auction.totalDebt() <= cap
    room = cap - s.auction.totalDebt()
    assert room < DUST
    # Bob's collateral (WBTC) has plenty of room of its own; the global cap blocks him.
    assert s.engine.collateralCap(s.ids["WBTC"]) > wad(100_000)
    with reverts(s.engine, "LiquidationCapReached", collateralId=s.ids["WBTC"], room=room):
        s.engine.liquidate(bob, keeper, sender=keeper)


def test_cap_cut_never_leaves_a_dust_remainder(h, alice, keeper):
    """Room for 21500 of debt would leave 500 behind: the cut closes 21000 and leaves dust."""
    s = h.s
    h.govern(s.engine, "setCollateralCap", s.ids["WETH"], wad(23_650))
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    assert wad(22_000) * wad(23_650) // wad(24_200) == wad(21_500)
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == wad(21_000)
    assert s.vault.debtOf(alice) == DUST
    assert kicks[0].tab == wad(23_100)


def test_cap_room_below_dust_reverts(h, alice, keeper):
    s = h.s
    h.govern(s.engine, "setCollateralCap", s.ids["WETH"], wad(1_000))  # fits ~909 of debt < dust
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    with reverts(s.engine, "LiquidationCapReached", collateralId=s.ids["WETH"], room=wad(1_000)):
        s.engine.liquidate(alice, keeper, sender=keeper)
    h.assert_identity()


def test_cap_when_debt_below_raised_dust_reverts_by_name(h, alice, keeper):
    """Debt 4500 under a raised dust of 5000 must close whole; a cap that cannot hold it must
    refuse with LiquidationCapReached (it used to underflow in the cut's dust rule)."""
    s = h.s
    h.open(alice, {"WETH": 2}, 4_500)
    h.govern(s.vault, "setDust", wad(5000))
    h.govern(s.engine, "setCollateralCap", s.ids["WETH"], wad(3000))
    h.set_price("WETH", 2700)
    with reverts(s.engine, "LiquidationCapReached", collateralId=s.ids["WETH"], room=wad(3000)):
        s.engine.liquidate(alice, keeper, sender=keeper)
    # ... and a batch skips it instead of reverting.
    tx = s.engine.liquidateBatch([alice], keeper, sender=keeper)
    assert len(events(tx, s.engine, "Liquidate")) == 0
    h.assert_identity()


def test_cap_on_a_later_collateral_gives_its_small_share_to_the_others(h, alice, keeper):
    """Full liquidation of WETH + a little WBTC: WBTC's share (~498) does not fit its cap (100 of
    tab, ~91 of debt). Closing only what fits would leave ~407 of debt (< dust): that rest goes to
    the WETH seizure, which has room, and the whole debt is closed (before the review fix the WETH
    seizure was cut to leave the dust floor, and the rest then had to close whole against the
    full WBTC cap)."""
    s = h.s
    h.govern(s.engine, "setCollateralCap", s.ids["WBTC"], wad(100))
    h.open(alice, {"WETH": 10, "WBTC": "0.01"}, 22_900)
    h.set_price("WETH", 2700)
    h.refresh_all()
    debt = wad(22_900)
    values = [wad(27_000), wad(600)]
    x0 = debt * values[0] // sum(values)
    assert 0 < debt - x0 < DUST
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == debt and s.vault.debtOf(alice) == 0
    assert [k.collateralId for k in kicks] == [s.ids["WETH"], s.ids["WBTC"]]
    assert kicks[0].lot == 10 * WAD and kicks[0].tab > mul_div(x0, WAD + PEN["WETH"], WAD)  # grown
    assert kicks[1].tab <= wad(100) and s.auction.debtOf(s.ids["WBTC"]) <= wad(100)
    assert 0 < s.vault.collateralOf(alice, s.ids["WBTC"]) < 10**6  # the part WBTC's room did not take


# --- batch ---


@pytest.fixture
def crowd(accounts, deployer):
    """Ten fresh borrowers."""
    return new_accounts(accounts, deployer, 10)


def open_crowd(h, crowd, unsafe_every=(0, 1, 3, 4, 6, 8)):
    for i, person in enumerate(crowd):
        h.open(person, {"WETH": 10}, 22_000 if i in unsafe_every else 15_000)


def test_liquidate_batch_ten_accounts(h, crowd, keeper):
    s = h.s
    unsafe = (0, 1, 3, 4, 6, 8)
    open_crowd(h, crowd, unsafe)
    h.set_price("WETH", 2700)
    for i, person in enumerate(crowd):
        assert (s.vault.healthOf(person) < WAD) == (i in unsafe)
    keeper_before = s.debt_token.balanceOf(keeper)
    surplus_before = s.buffer.surplus()
    tx = s.engine.liquidateBatch(crowd, keeper, sender=keeper)
    liq = events(tx, s.engine, "Liquidate")
    assert [e.account for e in liq] == [crowd[i].address for i in unsafe]
    assert tx.return_value == len(unsafe)
    for i, person in enumerate(crowd):
        if i in unsafe:
            assert s.vault.debtOf(person) == 0
        else:
            assert s.vault.debtOf(person) == wad(15_000)
            assert s.vault.collateralOf(person, s.ids["WETH"]) == 10 * WAD
    assert s.auction.count() == len(unsafe)
    incentive = sum(e.incentive for e in liq)
    penalty = sum(e.penalty for e in liq)
    assert incentive == len(unsafe) * (wad(20) + wad(220))
    assert s.debt_token.balanceOf(keeper) - keeper_before == incentive
    assert s.buffer.surplus() - surplus_before == penalty - incentive
    h.assert_identity()
    # Nothing left to do: a second batch liquidates nobody and does not revert.
    tx = s.engine.liquidateBatch(crowd, keeper, sender=keeper)
    assert tx.return_value == 0
    h.assert_identity()


def test_liquidate_batch_skips_accounts_blocked_by_the_cap(h, crowd, keeper):
    s = h.s
    unsafe = (0, 1, 3, 4, 6, 8)
    open_crowd(h, crowd, unsafe)
    h.govern(s.engine, "setCollateralCap", s.ids["WETH"], wad(60_500))  # two and a half tabs
    h.set_price("WETH", 2700)
    tx = s.engine.liquidateBatch(crowd, keeper, sender=keeper)
    liq = events(tx, s.engine, "Liquidate")
    assert [e.account for e in liq] == [crowd[i].address for i in (0, 1, 3)]
    assert [e.debtClosed for e in liq] == [wad(22_000), wad(22_000), wad(11_000)]
    assert s.auction.debtOf(s.ids["WETH"]) == wad(60_500)
    for i in (4, 6, 8):
        assert s.vault.debtOf(crowd[i]) == wad(22_000)
    h.assert_identity()


def test_liquidate_batch_skips_guarded_accounts(h, alice, bob, keeper, deployer):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.open(bob, {"WBTC": 1}, 42_000)
    h.set_price("WETH", 2700)
    h.set_price("WBTC", 52_000)
    s.oracle.setDelayedStopped(s.collateral["WBTC"], True, sender=deployer)  # guardian
    tx = s.engine.liquidateBatch([alice, bob], keeper, sender=keeper)
    assert [e.account for e in events(tx, s.engine, "Liquidate")] == [alice.address]
    assert s.vault.debtOf(bob) == wad(42_000)
    with reverts(s.engine, "OracleGuarded", token=s.collateral["WBTC"].address, guard=GUARD_DELAYED_STOPPED):
        s.engine.liquidate(bob, keeper, sender=keeper)


# --- guards and their errors ---


def test_oracle_guard_stale_feed(h, alice, keeper, chain):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    assert s.engine.previewLiquidate(alice).liquidatable
    h.advance(3601 + 1)  # past the feed's heartbeat, no new round: the adapter freezes
    preview = s.engine.previewLiquidate(alice)
    assert not preview.liquidatable and preview.guard == GUARD_FROZEN
    with reverts(s.engine, "OracleGuarded", token=s.collateral["WETH"].address, guard=GUARD_FROZEN):
        s.engine.liquidate(alice, keeper, sender=keeper)
    # A fresh round. Nobody stored the outage, but the rounds show it (none for more than the
    # heartbeat), so liquidations wait the recovery grace from that round (issue 16, item 3; this
    # test liquidated at once before: "same answer, so no recovery grace").
    h.refresh_all()
    preview = s.engine.previewLiquidate(alice)
    assert not preview.liquidatable and preview.guard == GUARD_RECOVERY
    with reverts(s.engine, "OracleGuarded", token=s.collateral["WETH"].address, guard=GUARD_RECOVERY):
        s.engine.liquidate(alice, keeper, sender=keeper)
    h.advance(s.oracle.recoveryGrace())  # the returning round is still fresh: no poke needed
    liquidate_checked(h, alice, keeper)


def test_unpoked_outage_waits_the_recovery_grace(h, alice, keeper, chain):
    """Issue 16, item 3: a 2 h WETH outage (heartbeat 1 h) that nobody poked, then the feed returns
    with a price at which Alice's health is 0.97. Before the fix the stored status was still LIVE,
    so she was liquidated one OSM hop after the return; now the rounds show the outage and she
    is safe for the recovery grace, counted from the returning round, as when it was poked."""
    s = h.s
    weth = s.collateral["WETH"]
    grace, delay = s.oracle.recoveryGrace(), s.oracle.feedConfig(weth).delay
    assert (grace, s.oracle.feedConfig(weth).primaryHeartbeat) == (1800, 3600) and 0 < delay < grace
    h.open(alice, {"WETH": 10}, 22_000)  # health 10 x 3,000 x 0.8 / 22,000 = 1.09
    h.advance(2 * 3600)  # no WETH round, no poke
    assert s.oracle.status(weth) == 1  # still LIVE as stored
    back = s.feeds["WETH"].setAnswer(266_750_000_000, sender=h.deployer).timestamp  # 2,667.5: health 0.97
    preview = s.engine.previewLiquidate(alice)
    assert not preview.liquidatable and preview.guard == GUARD_RECOVERY  # the views see it unstored
    s.oracle.poke(weth, sender=keeper)  # a poke queues the new price in the OSM
    assert s.oracle.recoveryStartedAt(weth) == back

    # One OSM hop later the drop is confirmed: this is where the old adapter let her be liquidated.
    chain.mine(1, timestamp=back + delay + 1)
    h.refresh("WETH")
    s.oracle.poke(weth, sender=keeper)
    assert s.oracle.delayedState(weth)[0] == s.oracle.peek(weth).current == wad("2667.5")  # confirmed
    assert s.engine.previewLiquidate(alice).guard == GUARD_RECOVERY
    with reverts(s.engine, "OracleGuarded", token=weth.address, guard=GUARD_RECOVERY):
        s.engine.liquidate(alice, keeper, sender=keeper)
    chain.pending_timestamp = back + grace - 1
    with reverts(s.engine, "OracleGuarded", token=weth.address, guard=GUARD_RECOVERY):
        s.engine.liquidate(alice, keeper, sender=keeper)

    # The grace over, she is liquidated at health 0.97.
    chain.mine(1, timestamp=back + grace)
    preview, _, _ = liquidate_checked(h, alice, keeper)
    assert preview.health == wad("0.97")


def test_pause_unpause_and_grace(h, alice, keeper, deployer, outsider, chain):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    with unauthorized(s.engine, outsider, GUARDIAN):
        s.engine.pause(sender=outsider)
    tx = s.engine.pause(sender=deployer)  # the guardian, at once
    assert s.engine.paused()
    assert one_event(tx, s.engine, "LiquidationsPausedSet").paused
    with reverts(s.engine, "LiquidationsPaused"):
        s.engine.liquidate(alice, keeper, sender=keeper)
    with reverts(s.engine, "LiquidationsPaused"):
        s.engine.liquidateBatch([alice], keeper, sender=keeper)
    # The guardian cannot resume; governance can, and liquidations then wait unpauseGrace.
    with unauthorized(s.engine, deployer, GOVERNOR):
        s.engine.unpause(sender=deployer)
    tx = h.govern(s.engine, "unpause")
    resume = s.engine.resumeAt()
    assert not s.engine.paused()
    assert resume == tx.timestamp + s.engine.unpauseGrace() and s.engine.unpauseGrace() == 1800
    with reverts(s.engine, "LiquidationGrace", until=resume):
        s.engine.liquidate(alice, keeper, sender=keeper)
    chain.pending_timestamp = resume - 1
    with reverts(s.engine, "LiquidationGrace", until=resume):
        s.engine.liquidate(alice, keeper, sender=keeper)
    chain.mine(1, timestamp=resume)
    h.refresh_all()
    liquidate_checked(h, alice, keeper)


def test_shutdown_stops_liquidations(h, alice, keeper):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    h.govern(s.vault, "startShutdown")
    with reverts(s.engine, "ShutdownActive"):
        s.engine.liquidate(alice, keeper, sender=keeper)
    with reverts(s.engine, "ShutdownActive"):
        s.engine.liquidateBatch([alice], keeper, sender=keeper)


def test_stop_level_blocks_new_auctions(h, alice, keeper, deployer):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    s.auction.setStopLevel(1, sender=deployer)  # the guardian
    # The auction's StopLevel, bubbling up through the engine.
    call_reverts(s.auction, "StopLevel", s.engine.liquidate, alice, keeper, sender=keeper, level=1)
    call_reverts(s.auction, "StopLevel", s.engine.liquidateBatch, [alice], keeper, sender=keeper, level=1)
    h.govern(s.auction, "setStopLevel", 0)
    liquidate_checked(h, alice, keeper)


def test_zero_keeper_refused(h, alice, keeper, project, deployer):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    with reverts(s.engine, "ZeroAddress"):
        s.engine.liquidate(alice, ZERO, sender=keeper)
    with reverts(s.engine, "ZeroAddress"):
        s.engine.liquidateBatch([alice], ZERO, sender=keeper)
    with reverts(project.LiquidationEngine, "ZeroAddress"):
        project.LiquidationEngine.deploy(deployer, s.vault, s.auction, s.debt_token, ZERO, sender=deployer)


# --- governance ---


def test_governance_setters_and_bounds(h):
    s = h.s
    e = s.engine
    h.govern(e, "setTargetHealth", wad("1.5"))
    assert e.targetHealth() == wad("1.5")
    govern_reverts(h, e, "InvalidParameter", e, "setTargetHealth", WAD, name="targetHealth", value=WAD)
    govern_reverts(h, e, "InvalidParameter", e, "setTargetHealth", 2 * WAD + 1, name="targetHealth")
    h.govern(e, "setLotMargin", wad("0.25"))
    assert e.lotMargin() == wad("0.25")
    govern_reverts(h, e, "InvalidParameter", e, "setLotMargin", wad("0.25") + 1, name="lotMargin")
    # Incentive: tip + chip * dust must fit the smallest penalty on a dust-sized close (5% of 1000).
    h.govern(e, "setIncentive", wad(40), wad("0.01"))
    assert (e.tip(), e.chip()) == (wad(40), wad("0.01"))
    govern_reverts(h, e, "InvalidParameter", e, "setIncentive", wad(41), wad("0.01"), name="tip+chip*dust", value=wad(51))
    govern_reverts(h, e, "InvalidParameter", e, "setIncentive", 0, wad("0.06"), name="chip")
    h.govern(e, "setGlobalCap", wad(123))
    assert e.globalCap() == wad(123)
    h.govern(e, "setCollateralCap", 2, wad(7))
    assert e.collateralCap(2) == wad(7)
    govern_reverts(h, e, "InvalidParameter", e, "setCollateralCap", 3, wad(7), name="collateralId", value=3)
    h.govern(e, "setUnpauseGrace", 86_400)
    assert e.unpauseGrace() == 86_400
    govern_reverts(h, e, "InvalidParameter", e, "setUnpauseGrace", 86_401, name="unpauseGrace", value=86_401)


def test_privileged_functions_refused_to_outsider(h, outsider, deployer):
    e = h.s.engine
    calls = [
        ("setTargetHealth", (wad("1.3"),), GOVERNOR),
        ("setLotMargin", (0,), GOVERNOR),
        ("setIncentive", (0, 0), GOVERNOR),
        ("setGlobalCap", (1,), GOVERNOR),
        ("setCollateralCap", (0, 1), GOVERNOR),
        ("setUnpauseGrace", (0,), GOVERNOR),
        ("pause", (), GUARDIAN),
        ("unpause", (), GOVERNOR),
    ]
    for method, args, needed in calls:
        refused(e, method, *args, by=outsider, role=needed)
        if needed == GOVERNOR:  # the guardian is no governor either
            refused(e, method, *args, by=deployer, role=needed)
    refused(e, "grantRole", GUARDIAN, outsider, by=outsider, role=b"\x00" * 32)
    # One of them as a real transaction, too.
    with unauthorized(e, outsider, GOVERNOR):
        e.setGlobalCap(1, sender=outsider)


# --- stability fees: the identity to the wei ---


def test_identity_with_stability_fee(h, alice, bob, keeper, chain):
    s = h.s
    fee = 1_000000003022265980097387650  # about 10% a year, per second [ray]
    h.govern(s.vault, "setStabilityFee", fee)
    set_margin(h, wad("0.05"))
    h.open(alice, {"WETH": 10}, 22_000)
    h.open(bob, {"WETH": 2}, 4_400)
    h.open(keeper, {"USDC": 100_000}, 50_000)
    h.assert_identity()
    h.advance(20 * 86_400)
    h.refresh_all()  # the feeds were silent for 20 days: an outage, then a recovery grace
    s.vault.accrue(sender=keeper)
    h.assert_identity()
    assert s.buffer.surplus() > 0  # fees minted to the buffer
    for token in s.collateral.values():
        s.oracle.poke(token, sender=keeper)  # store the return, then wait out the grace
    h.advance(s.oracle.recoveryGrace())
    h.set_price("WETH", 2700)
    for account in (alice, bob):
        debt = s.vault.debtOf(account)
        assert s.vault.healthOf(account) < WAD
        tx = s.engine.liquidate(account, keeper, sender=keeper)
        ev = one_event(tx, s.engine, "Liquidate")
        remaining = s.vault.debtOf(account)
        assert remaining == 0 or remaining >= DUST
        assert ev.debtClosed >= min(debt, DUST)
        assert ev.incentive == min(wad(20) + mul_div(wad("0.01"), ev.debtClosed, WAD), ev.penalty)
        h.assert_identity()
    # Takes settle the auctions; fees go on accruing on what is left.
    for aid in s.auction.list():
        _, price, lot, _ = s.auction.getStatus(aid)
        s.auction.take(aid, lot, price, keeper, b"", sender=keeper)
        h.assert_identity()
    h.advance(3 * 86_400)
    h.refresh_all()
    s.vault.accrue(sender=keeper)
    h.assert_identity()
    if s.vault.debtOf(alice):
        s.vault.repay(alice, MAX_UINT, sender=keeper)
    h.assert_identity()
