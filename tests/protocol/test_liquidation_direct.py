"""Direct liquidation (IDirectLiquidator, DIRECT LIQUIDATION): repay part of an unsafe account's
debt, receive its collateral at the sizing price less a discount that grows with how unsafe it is.

Numbers: WETH $3000 (LT 0.8, penalty 0.1), WBTC $60000 (LT 0.78, penalty 0.1), USDC $1 (LT 0.9,
penalty 0.05); target health 1.25, dust 1000, lot margin 0.05. params/local.yaml: direct
liquidation of every collateral for accounts owing at most 250,000, discount 1 - health clamped
to [0.02, 0.08] (USDC [0.01, 0.04]).
"""

from decimal import Decimal

import pytest
from liquidation_helpers import (
    GOVERNOR,
    MAX_UINT,
    WAD,
    ZERO,
    events,
    govern_reverts,
    mul_div,
    mul_div_up,
    new_accounts,
    one_event,
    refused,
    reverts,
)

from eth_utils import keccak

from unwind.params import wad

TARGET = wad("1.25")
PEN = wad("0.1")
LT_WETH = wad("0.8")


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployer, alice, bob, keeper, outsider, h):
    """Module fixtures first (no Ape rebase)."""


@pytest.fixture
def liquidator(h, accounts, deployer):
    """An account holding 200,000 uUSD (borrowed against USDC) that pays for direct liquidations."""
    (who,) = new_accounts(accounts, deployer, 1)
    h.open(who, {"USDC": 400_000}, 200_000)
    return who


def expected(debt, weighted_sized, value, decimals, price, health, lo=wad("0.02"), hi=wad("0.08"), pen=PEN,
             lt=LT_WETH, dust=wad(1000), max_repay=MAX_UINT, amount=None):
    """The documented direct close, computed here from the NatSpec: (debt closed, repay, seized)."""
    disc = min(max(WAD - health, lo), hi)
    v = WAD + pen
    cap = whole = value * WAD // v
    by_repay = (max_repay - 2 if max_repay > 2 else 0) * (WAD + disc) // v
    cap = min(cap, by_repay)
    w = mul_div_up(v, lt, WAD)
    x = debt
    if TARGET > w:
        goal = mul_div_up(TARGET, debt, WAD)
        need = mul_div_up(goal - weighted_sized, WAD, TARGET - w) if goal > weighted_sized else 0
        x = min(x, need)
    x = min(x, cap)
    if x < debt and debt - x < dust:
        x = debt if debt <= cap else (debt - dust if debt > dust else 0)
    min_close = min(dust, debt)
    if x < min_close:
        x = min_close if min_close <= cap and (min_close == debt or debt - min_close >= dust) else 0
    repay = mul_div_up(x, v, WAD + disc)
    seized = mul_div(repay, WAD + disc, WAD) * 10**decimals // price
    if amount is not None and x == whole and seized < amount:
        # a close of the whole holding takes it all, paid for at the discount
        whole_repay = mul_div_up(-(-amount * price // 10**decimals), WAD, WAD + disc)
        if whole_repay + 2 <= max_repay:
            repay, seized = max(repay, whole_repay), amount
    if amount is not None:
        seized = min(seized, amount)
    return x, repay, seized, disc


def direct(h, account, liquidator, collateral="WETH", max_repay=MAX_UINT, min_seized=0, receiver=None, data=b""):
    s = h.s
    return s.direct.liquidateDirect(account, s.ids[collateral], max_repay, min_seized, receiver or liquidator, data,
                                    sender=liquidator)


def checked_direct(h, account, liquidator, collateral="WETH", **kw):
    """liquidateDirect, checked against its preview and the accounting identity."""
    s = h.s
    cid = s.ids[collateral]
    token = s.collateral[collateral]
    preview = s.direct.previewLiquidateDirect(account, cid, kw.get("max_repay", MAX_UINT))
    assert preview.allowed and preview.refusal == b"\x00" * 4
    debt0, held0 = s.vault.debtOf(account), s.vault.collateralOf(account, cid)
    bal0, tok0 = s.debt_token.balanceOf(liquidator), token.balanceOf(kw.get("receiver") or liquidator)
    surplus0 = s.buffer.surplus()
    tx = direct(h, account, liquidator, collateral, **kw)
    ev = one_event(tx, s.direct, "LiquidateDirect")
    assert (ev.repaid, ev.seized, ev.debtClosed, ev.discount) == (preview.repay, preview.seized, preview.debtClosed,
                                                                   preview.discount)
    assert ev.healthBefore == preview.health < WAD
    assert s.vault.debtOf(account) == debt0 - ev.debtClosed
    assert s.vault.collateralOf(account, cid) == held0 - ev.seized
    if not kw.get("data"):  # (a flash receiver sells what it receives: see the flash tests)
        assert token.balanceOf(kw.get("receiver") or liquidator) - tok0 == ev.seized
        assert bal0 - s.debt_token.balanceOf(liquidator) == ev.repaid
    assert s.buffer.surplus() - surplus0 == ev.repaid - ev.debtClosed == preview.toBuffer
    left = s.vault.debtOf(account)
    assert left == 0 or left >= s.vault.dust()
    assert ev.debtClosed >= min(debt0, s.vault.dust())
    h.assert_identity()
    return preview, ev


# --- the rule ---


def test_direct_liquidation_restores_target_health_at_the_discount(h, alice, liquidator):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)  # health 21,600 / 22,000 = 0.9818: discount 1 - h = 0.0182 -> min 0.02
    debt = s.vault.debtOf(alice)
    value = 10 * 2_700 * WAD
    health = value * LT_WETH // WAD * WAD // debt
    x, repay, seized, disc = expected(debt, value * LT_WETH // WAD, value, 18, wad(2_700), health)
    preview, ev = checked_direct(h, alice, liquidator)
    assert disc == wad("0.02") and ev.discount == disc
    assert (ev.debtClosed, ev.repaid, ev.seized) == (x, repay, seized)
    # What the liquidator gets is worth repay x (1 + discount) at the sizing price, never more.
    assert ev.seized * wad(2_700) // WAD <= ev.repaid * (WAD + disc) // WAD
    assert s.vault.healthOf(alice) >= TARGET * (10**6 - 1) // 10**6


@pytest.mark.parametrize("price, discount", [(2_700, wad("0.02")), (2_550, None), (2_475, wad("0.08"))])
def test_the_discount_grows_with_how_unsafe_the_account_is(h, alice, liquidator, price, discount):
    """1 - health, within [0.02, 0.08]: 0.982 -> 0.02 (the floor), 0.927 -> 0.073, 0.9 -> 0.08 (the cap)."""
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", price)
    health = s.engine.previewLiquidate(alice).health
    preview = s.direct.previewLiquidateDirect(alice, s.ids["WETH"], MAX_UINT)
    assert preview.allowed and preview.health == health
    assert preview.discount == (discount if discount is not None else WAD - health)
    checked_direct(h, alice, liquidator)


def test_an_underwater_account_goes_to_the_auctions(h, alice, liquidator, keeper):
    """Review finding: 10 WETH at 2,000 against 22,000 of debt (health 0.73). Its whole basket is
    worth less than debt x (1 + penalty): a direct close would have taken all the WETH for 18,182
    and left 3,818 of debt with nothing behind it, bad debt nobody recorded. It is refused
    (DirectUnderwater); the auctions liquidate it in full and record any shortfall."""
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_000)
    with reverts(s.direct, "DirectUnderwater", collateralValue=wad(20_000), debt=wad(22_000)):
        direct(h, alice, liquidator)
    p = s.direct.previewLiquidateDirect(alice, s.ids["WETH"], MAX_UINT)
    assert not p.allowed and p.refusal == keccak(text="DirectUnderwater(uint256,uint256)")[:4]
    s.engine.liquidate(alice, keeper, sender=keeper)
    assert s.vault.debtOf(alice) == 0


def test_after_a_direct_close_the_rest_of_the_debt_stays_covered(h, alice, liquidator):
    """Health 0.94, just above the underwater line: the close leaves collateral worth at least
    the remaining debt x (1 + penalty)."""
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_600)
    checked_direct(h, alice, liquidator)
    left = s.vault.collateralOf(alice, s.ids["WETH"]) * wad(2_600) // WAD
    assert left * WAD >= s.vault.debtOf(alice) * (WAD + PEN)


def test_a_close_below_the_dust_floor_is_raised_to_it(h, alice, liquidator):
    s = h.s
    h.govern(s.engine, "setTargetHealth", wad("1.01"))
    h.open(alice, {"WETH": 2}, 4_500)
    h.set_price("WETH", 2_810)  # the close to 1.01 is a few hundred: raised to 1,000
    preview, ev = checked_direct(h, alice, liquidator)
    assert ev.debtClosed == wad(1000)


def test_a_dust_remainder_is_never_left(h, alice, liquidator):
    """A close that would leave less than the dust floor closes everything instead."""
    s = h.s
    h.open(alice, {"WETH": 2}, 4_500)
    h.set_price("WETH", 2_700)
    preview, ev = checked_direct(h, alice, liquidator)
    assert s.vault.debtOf(alice) in (0,) or s.vault.debtOf(alice) >= s.vault.dust()


def test_a_close_of_the_whole_holding_leaves_no_crumb(h, alice, liquidator, keeper):
    """Seen in the keeper race test: 4 WETH and 5,000 USDC against 13,000 at WETH 2,250 (health
    0.90). The close that USDC allows uses all of it (5,000 / 1.05), but the roundings down of
    repay and seizure took 4,999.999999 USDC and left one unit behind; the account's later full
    liquidation put that unit in an auction of its own (tab 0.000000001 uUSD) that no keeper
    would ever pay the gas to buy, and it never ended. Now the whole holding goes."""
    s = h.s
    h.open(alice, {"WETH": 4, "USDC": 5_000}, 13_000)
    h.set_price("WETH", 2_250)
    preview, ev = checked_direct(h, alice, liquidator, "USDC")
    assert ev.seized == 5_000 * 10**6 and s.vault.collateralOf(alice, s.ids["USDC"]) == 0
    assert ev.debtClosed == wad(5_000) * WAD // wad("1.05")
    # paid for at the discount, all of it: never less per unit than the bound (review finding)
    assert ev.repaid == mul_div_up(wad(5_000), WAD, WAD + ev.discount)
    assert wad(5_000) <= mul_div(ev.repaid, WAD + ev.discount, WAD)
    s.engine.liquidate(alice, keeper, sender=keeper)
    assert s.vault.debtOf(alice) == 0
    lots = [s.auction.sales(i).lot for i in s.auction.list()]
    assert lots and all(lot > 10**12 for lot in lots), "no auction of a crumb"


def test_max_repay_caps_the_close_and_min_seized_guards_the_price(h, alice, liquidator):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)
    full = s.direct.previewLiquidateDirect(alice, s.ids["WETH"], MAX_UINT)
    with reverts(s.direct, "SeizedBelowMinimum", seized=full.seized, minSeized=full.seized + 1):
        direct(h, alice, liquidator, min_seized=full.seized + 1)
    with reverts(s.direct, "DirectBelowDust"):
        direct(h, alice, liquidator, max_repay=wad(500))  # below the dust floor's worth
    assert not s.direct.previewLiquidateDirect(alice, s.ids["WETH"], wad(500)).allowed
    preview, ev = checked_direct(h, alice, liquidator, max_repay=wad(5_000))
    assert wad(4_990) < ev.repaid <= wad(5_000) and ev.repaid < full.repay


# --- trigger, guards and routing: as liquidate ---


def test_a_healthy_account_is_refused(h, alice, liquidator):
    s = h.s
    h.open(alice, {"WETH": 10}, 15_000)
    with reverts(s.direct, "NotLiquidatable", account=alice.address):
        direct(h, alice, liquidator)
    p = s.direct.previewLiquidateDirect(alice, s.ids["WETH"], MAX_UINT)
    assert not p.allowed and p.refusal == keccak(text="NotLiquidatable(address,uint256)")[:4]


def test_collateral_the_account_does_not_hold_is_refused(h, alice, liquidator):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)
    with reverts(s.direct, "NotHeld", account=alice.address, collateralId=s.ids["WBTC"]):
        direct(h, alice, liquidator, "WBTC")


def test_a_guarded_collateral_is_not_sold_directly(h, alice, liquidator):
    s = h.s
    h.open(alice, {"WETH": 10, "WBTC": "0.1"}, 26_000)
    h.set_price("WETH", 2_600)
    h.refresh_all()
    s.oracle.setDelayedStopped(s.collateral["WBTC"], True, sender=h.deployer)
    with reverts(s.direct, "OracleGuarded", token=s.collateral["WBTC"].address):
        direct(h, alice, liquidator, "WBTC")
    # The priced WETH still goes, the guarded WBTC counted at its last price for health.
    checked_direct(h, alice, liquidator, "WETH")


def test_routing_large_accounts_go_to_the_auctions(h, alice, liquidator):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)
    h.govern(s.direct, "setDirectParams", s.ids["WETH"], (wad(20_000), wad("0.02"), wad("0.08")))
    h.refresh_all()
    with reverts(s.direct, "DirectNotAllowed", collateralId=s.ids["WETH"], maxDebt=wad(20_000)):
        direct(h, alice, liquidator)
    h.govern(s.direct, "setDirectParams", s.ids["WETH"], (0, 0, 0))  # off
    h.refresh_all()
    with reverts(s.direct, "DirectNotAllowed", collateralId=s.ids["WETH"], maxDebt=0):
        direct(h, alice, liquidator)
    s.engine.liquidate(alice, liquidator, sender=liquidator)  # the auction path is always there


def test_paused_grace_and_shutdown_refuse_it(h, alice, liquidator, deployer, chain):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)
    s.engine.pause(sender=deployer)
    with reverts(s.direct, "LiquidationsPaused"):
        direct(h, alice, liquidator)
    h.govern(s.engine, "unpause")
    with reverts(s.direct, "LiquidationGrace"):
        direct(h, alice, liquidator)
    h.advance_fresh(s.engine.unpauseGrace() + 1)
    h.govern(s.vault, "startShutdown")
    with reverts(s.direct, "ShutdownActive"):
        direct(h, alice, liquidator)


def test_zero_receiver_refused(h, alice, liquidator):
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)
    with reverts(s.direct, "ZeroAddress"):
        direct(h, alice, liquidator, receiver=ZERO)


# --- flash: no inventory ---


@pytest.fixture
def flash(h, project, deployer):
    s = h.s
    market = project.MockFixedPriceMarket.deploy(s.debt_token, sender=deployer)
    market.setPrice(s.collateral["WETH"], wad(2_700), sender=deployer)
    (lp,) = [deployer]
    h.open(lp, {"USDC": 2_000_000}, 500_000)
    s.debt_token.transfer(market, wad(500_000), sender=lp)
    receiver = project.MockFlashLiquidator.deploy(s.direct, s.debt_token, market, sender=deployer)
    return receiver, market


def test_a_flash_receiver_pays_from_the_sale_with_no_inventory(h, alice, accounts, deployer, flash):
    s = h.s
    receiver, market = flash
    (poor,) = new_accounts(accounts, deployer, 1)
    assert s.debt_token.balanceOf(poor) == 0
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)
    preview, ev = checked_direct(h, alice, poor, receiver=receiver, data=b"\x01")
    assert receiver.calls() == 1 and receiver.lastRepay() == ev.repaid and receiver.lastSeized() == ev.seized
    assert s.collateral["WETH"].balanceOf(market) == ev.seized  # sold in the market
    assert s.debt_token.balanceOf(poor) == 0  # paid exactly the repay from the sale
    assert s.debt_token.balanceOf(receiver) == ev.seized * wad(2_700) // WAD - ev.repaid  # its profit


def test_a_flash_receiver_that_does_not_pay_reverts_everything(h, alice, accounts, deployer, flash):
    s = h.s
    receiver, _ = flash
    receiver.setMode(1, sender=deployer)  # Keep
    (poor,) = new_accounts(accounts, deployer, 1)
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)
    debt = s.vault.debtOf(alice)
    with pytest.raises(Exception):
        direct(h, alice, poor, receiver=receiver, data=b"\x01")
    assert s.vault.debtOf(alice) == debt and s.vault.collateralOf(alice, s.ids["WETH"]) == 10 * WAD


def test_a_flash_receiver_cannot_reenter(h, alice, liquidator, deployer, flash):
    s = h.s
    receiver, _ = flash
    receiver.setMode(2, sender=deployer)  # Reenter
    h.open(alice, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)
    with reverts(s.direct, "ReentrancyGuardReentrantCall"):
        direct(h, alice, liquidator, receiver=receiver, data=b"\x01")


def test_the_auction_engine_called_from_the_callback_sees_a_consistent_state(h, alice, bob, liquidator, deployer,
                                                                             flash):
    """Review finding: the callback runs under the direct liquidator's lock only, so the engine's
    liquidate is reachable from it (IUnwindLiquidator says so). It liquidates another unsafe account
    from there as it would outside: the account's plan equals its preview taken before, and the
    accounting identity holds when the transaction ends."""
    s = h.s
    receiver, _ = flash
    h.open(alice, {"WETH": 10}, 22_000)
    h.open(bob, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2_700)
    before = s.engine.previewLiquidate(bob)
    assert before.liquidatable
    receiver.setMode(3, sender=deployer)  # LiquidateOther
    receiver.setTarget(s.engine, bob, sender=deployer)
    tx = direct(h, alice, liquidator, receiver=receiver, data=b"\x01")
    ev = one_event(tx, s.engine, "Liquidate")
    assert ev.account == bob and ev.debtClosed == before.debtToClose and ev.penalty == before.penalty
    assert one_event(tx, s.direct, "LiquidateDirect").account == alice
    assert s.vault.healthOf(alice) >= TARGET * (10**6 - 1) // 10**6
    h.assert_identity()


# --- self-liquidation ---


def test_self_liquidation_through_a_second_address_loses_what_goes_to_the_buffer(h, alice, accounts, deployer):
    """Owner and liquidator together give up exactly repay - debtClosed (the buffer's share of the
    penalty); the collateral only moves between them."""
    s = h.s
    (alt,) = new_accounts(accounts, deployer, 1)
    h.open(alice, {"WETH": 10}, 22_000)
    h.open(alt, {"USDC": 100_000}, 40_000)
    h.set_price("WETH", 2_700)
    price = s.oracle.peek(s.collateral["WETH"]).current

    def wealth():
        total = 0
        for who in (alice, alt):
            weth = s.collateral["WETH"].balanceOf(who) + s.vault.collateralOf(who, s.ids["WETH"])
            usdc = s.collateral["USDC"].balanceOf(who) + s.vault.collateralOf(who, s.ids["USDC"])
            total += weth * price // WAD + usdc * 10**12 + s.debt_token.balanceOf(who) - s.vault.debtOf(who)
        return total

    w0 = wealth()
    tx = direct(h, alice, alt)
    ev = one_event(tx, s.direct, "LiquidateDirect")
    lost = w0 - wealth()
    assert lost >= 0
    assert abs(lost - (ev.repaid - ev.debtClosed)) <= 10**9  # a few wei of value rounding


# --- governance ---


def test_direct_params_bounds_and_roles(h, outsider):
    s = h.s
    e = s.direct
    weth = s.ids["WETH"]
    assert tuple(e.directParams(weth)) == (wad(250_000), wad("0.02"), wad("0.08"))
    govern_reverts(h, e, "InvalidParameter", e, "setDirectParams", weth, (1, 0, wad("0.11")), name="maxDiscount")
    govern_reverts(h, e, "InvalidParameter", e, "setDirectParams", weth, (1, wad("0.05"), wad("0.04")),
                   name="minDiscount")
    govern_reverts(h, e, "InvalidParameter", e, "setDirectParams", 3, (1, 0, 0), name="collateralId")
    refused(e, "setDirectParams", weth, (1, 0, 0), by=outsider, role=GOVERNOR)
    tx = h.govern(e, "setDirectParams", weth, (wad(1_000), wad("0.01"), wad("0.1")))
    assert tuple(e.directParams(weth)) == (wad(1_000), wad("0.01"), wad("0.1"))


def test_a_lowered_penalty_caps_the_discount(h, alice, liquidator):
    """The discount never exceeds the collateral's current penalty, so the buffer's share of a
    direct liquidation never goes negative (the penalty may be lowered after setDirectParams)."""
    s = h.s
    h.open(alice, {"WETH": 10}, 22_000)
    h.govern(s.vault, "setPenalty", s.ids["WETH"], wad("0.05"))
    h.set_price("WETH", 2_350)  # health 0.85: 1 - health = 0.15, above the penalty
    preview, ev = checked_direct(h, alice, liquidator)
    assert ev.discount == wad("0.05") and ev.repaid >= ev.debtClosed
