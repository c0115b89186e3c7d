"""Holdings planted in an account cannot block, shrink or swell its liquidation (review, issue 16).

Deposits are open to anyone for any account, so a griefer can put a wei, or a little more, of
any collateral into someone else's account. Three ways that used to stop or distort a liquidation:

1. A capped collateral (its `collateralCap` full, the normal state in a crash): the engine seized
   in listing order and stopped at the first seizure whose tab did not fit, so one wei of WETH in
   an account unsafe on WBTC made `liquidate` revert `LiquidationCapReached` and the batch skip
   it. Now a seizure that does not fit is cut or skipped and the close goes on with the other
   collaterals, re-planned against what fits; a partial close never seizes a holding worth less
   than the dust floor.
2. A guarded collateral (frozen, delayed feed stopped): dust-worth of it blocked the whole
   liquidation (`OracleGuarded`). Now the account is liquidated when it is unsafe with the
   guarded holding counted at its last accepted price; the priced collateral is seized, the
   guarded holding keeps its share of the debt, and only an account with nothing priced to seize
   waits for the guard to lift.
3. The dust bump (a close below the dust floor is raised to it) grew the first seizure even when
   that one was taken whole, turning a small partial close into a full liquidation. Now the bump
   grows the seizure that restored health, the one taken in part.

Every test here fails on the engine before the fix (checked).
"""

from decimal import Decimal

import pytest
from liquidation_helpers import WAD, events, liquidate_checked, new_accounts

from unwind.params import wad

WEI = Decimal("0.000000000000000001")


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployer, keeper, outsider, h):
    """Module fixtures first (no Ape rebase)."""


def _plant(h, outsider, account, symbol, amount_whole):
    """A third party deposits `amount_whole` of `symbol` into `account`."""
    s = h.s
    amount = h.fund(outsider, symbol, amount_whole)
    s.vault.deposit(account, s.ids[symbol], amount, sender=outsider)
    return amount


def _collaterals_seized(plan):
    return [x.collateralId for x in plan.seizures]


def _at_target(h, account):
    """Health back at the target, but for the lots' rounding up to a token unit (a satoshi of
    WBTC is worth ~$0.0005, a few 1e-8 of health on a small account)."""
    return h.s.vault.healthOf(account) >= h.s.engine.targetHealth() * (10**6 - 1) // 10**6


# --- 1. a full cap on one collateral ---


def _fill_weth_queue(h, accounts, deployer):
    """An account whose liquidation starts a WETH auction; the tests then set WETH's collateral
    cap to exactly the debt under auction: no room left."""
    (filler,) = new_accounts(accounts, deployer, 1)
    h.open(filler, {"WETH": 10}, 22_000)
    return filler


@pytest.mark.parametrize("planted", [WEI, Decimal("0.4")], ids=["one-wei", "above-dust"])
def test_a_full_cap_on_one_collateral_cannot_block_another(h, accounts, deployer, keeper, outsider, planted):
    s = h.s
    weth, wbtc = s.ids["WETH"], s.ids["WBTC"]
    filler = _fill_weth_queue(h, accounts, deployer)
    alice, twin = new_accounts(accounts, deployer, 2)
    h.open(alice, {"WBTC": 1}, 41_580)
    h.open(twin, {"WBTC": 1}, 41_580)
    amount = _plant(h, outsider, alice, "WETH", planted)
    h.set_price("WETH", 2700)
    h.set_price("WBTC", 52_000)
    s.engine.liquidate(filler, keeper, sender=keeper)
    h.govern(s.engine, "setCollateralCap", weth, s.auction.debtOf(weth))
    h.refresh_all()
    assert s.auction.debtOf(weth) >= s.engine.collateralCap(weth) > 0, "WETH's queue is full"
    assert s.engine.collateralCap(wbtc) - s.auction.debtOf(wbtc) >= wad(5_000_000)
    assert wad("0.975") < s.vault.healthOf(twin) < wad("0.976")

    plan = s.engine.previewLiquidate(alice)
    assert plan.liquidatable, f"blocked by {amount} units of WETH planted under a full WETH cap"
    assert _collaterals_seized(plan) == [wbtc]
    liquidate_checked(h, alice, keeper)
    assert s.vault.collateralOf(alice, weth) == amount, "the planted WETH is not seized"
    assert _at_target(h, alice)

    tx = s.engine.liquidateBatch([twin], keeper, sender=keeper)
    assert tx.return_value == 1
    if planted == WEI:  # the twin's close, but for the wei's own weight in the health (~2e-15 uUSD)
        assert abs(s.vault.debtOf(alice) - s.vault.debtOf(twin)) < 10**6
        assert events(tx, s.engine, "Liquidate")[0].debtClosed == wad(41_580) - s.vault.debtOf(twin)
    assert wad(8_000) < s.vault.debtOf(twin) < wad(9_000)  # 41,580 -> 8,668.77 (issue 16)
    h.assert_identity()


def test_a_batch_goes_on_past_a_full_cap(h, accounts, deployer, keeper, outsider):
    """The batch liquidates the account with the planted wei instead of skipping it."""
    s = h.s
    weth = s.ids["WETH"]
    filler = _fill_weth_queue(h, accounts, deployer)
    victims = new_accounts(accounts, deployer, 3)
    for v in victims:
        h.open(v, {"WBTC": 1}, 41_580)
        _plant(h, outsider, v, "WETH", WEI)
    h.set_price("WETH", 2700)
    h.set_price("WBTC", 52_000)
    s.engine.liquidate(filler, keeper, sender=keeper)
    h.govern(s.engine, "setCollateralCap", weth, s.auction.debtOf(weth))
    h.refresh_all()
    tx = s.engine.liquidateBatch(victims, keeper, sender=keeper)
    assert tx.return_value == len(victims)
    assert all(s.vault.debtOf(v) < wad(9_000) for v in victims)
    h.assert_identity()


def test_a_cap_cut_partial_close_goes_on_with_the_next_collateral(h, accounts, deployer, keeper):
    """WETH (listed first) has room for part of the close; WBTC takes the rest of it, and the
    account reaches the target health."""
    s = h.s
    weth, wbtc = s.ids["WETH"], s.ids["WBTC"]
    (alice,) = new_accounts(accounts, deployer, 1)
    h.open(alice, {"WETH": 5, "WBTC": "0.5"}, 32_000)
    h.set_price("WETH", 2700)
    h.set_price("WBTC", 52_000)
    h.govern(s.engine, "setCollateralCap", weth, wad(5_500))  # room for 5,000 of debt
    h.refresh_all()
    plan = s.engine.previewLiquidate(alice)
    assert _collaterals_seized(plan) == [weth, wbtc]
    assert plan.seizures[0].tab <= wad(5_500) and plan.seizures[0].lot < 5 * WAD
    liquidate_checked(h, alice, keeper)
    assert s.auction.debtOf(weth) <= wad(5_500)
    assert _at_target(h, alice)


# --- 2. a guarded collateral ---


def _guard_wbtc(h, how):
    s = h.s
    wbtc = s.collateral["WBTC"]
    if how == "stopped":  # the guardian's OSM stop on WBTC (scenario 13), for as long as it lasts
        s.oracle.setDelayedStopped(wbtc, True, sender=h.deployer)
    else:  # WBTC's only feed is deprecated (scenario 3): FROZEN until governance configures another
        s.feeds["WBTC"].setReverts(True, sender=h.deployer)
        s.oracle.poke(wbtc, sender=h.deployer)
    assert s.oracle.peek(wbtc).liquidationPrice == 0


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_dust_worth_of_a_guarded_token_cannot_shield_an_unsafe_account(h, accounts, deployer, keeper, outsider, how):
    s = h.s
    attacker, control = new_accounts(accounts, deployer, 2)
    h.open(attacker, {"WETH": 50}, 100_000)
    h.open(control, {"WETH": 1}, 2_000)
    h.set_price("WETH", 2400)  # both unsafe
    h.refresh_all()
    # Some other collateral gets guarded; just over the dust floor of it goes into the account.
    _guard_wbtc(h, how)
    amount = _plant(h, attacker, attacker, "WBTC", Decimal("0.02"))
    assert amount * s.oracle.peek(s.collateral["WBTC"]).current // 10**8 >= s.vault.dust()

    plan = s.engine.previewLiquidate(attacker)
    assert plan.health < WAD and plan.liquidatable, f"shielded by {how} WBTC: guard {plan.guard}"
    assert _collaterals_seized(plan) == [s.ids["WETH"]]
    tx = s.engine.liquidateBatch([control, attacker], keeper, sender=keeper)
    assert tx.return_value == 2
    assert s.vault.debtOf(control) == 0
    assert s.vault.debtOf(attacker) == wad(100_000) - plan.debtToClose > 0
    assert s.vault.collateralOf(attacker, s.ids["WBTC"]) == amount, "guarded collateral is never seized"
    # Health with the WBTC at its last accepted price (the vault's healthOf) is back at the target.
    assert _at_target(h, attacker)
    h.assert_identity()


def test_a_full_liquidation_leaves_the_guarded_share_of_the_debt(h, accounts, deployer, keeper):
    """Underwater on WETH: every priced unit is seized, and the frozen WBTC keeps its share of the
    debt (by value at its last accepted price) for when its price returns."""
    s = h.s
    (alice,) = new_accounts(accounts, deployer, 1)
    h.open(alice, {"WETH": 50, "WBTC": "0.02"}, 100_000)
    h.set_price("WETH", 2000)
    h.refresh_all()
    _guard_wbtc(h, "frozen")
    wbtc_value = 2 * 10**6 * s.oracle.peek(s.collateral["WBTC"]).current // 10**8
    weth_value = wad(100_000)
    kept = wad(100_000) * wbtc_value // (weth_value + wbtc_value)
    assert kept >= s.vault.dust()
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert [k.collateralId for k in kicks] == [s.ids["WETH"]] and kicks[0].lot == 50 * WAD
    assert s.vault.debtOf(alice) == kept
    assert s.vault.collateralOf(alice, s.ids["WBTC"]) == 2 * 10**6


def test_nothing_priced_to_seize_waits_for_the_guard(h, accounts, deployer, keeper):
    s = h.s
    (alice,) = new_accounts(accounts, deployer, 1)
    h.open(alice, {"WBTC": 1}, 41_000)
    h.set_price("WBTC", 52_000)
    h.refresh_all()
    _guard_wbtc(h, "stopped")
    plan = s.engine.previewLiquidate(alice)
    assert plan.health < WAD and not plan.liquidatable and plan.guard != 0
    tx = s.engine.liquidateBatch([alice], keeper, sender=keeper)
    assert tx.return_value == 0


# --- 3. the dust bump ---


def test_a_planted_wei_does_not_swell_a_small_partial_close(h, accounts, deployer, keeper, outsider):
    """Target 1.05: 0.06 WBTC at 53,200 against 2,500 of debt needs a close of ~919, raised to the
    dust floor: 1,000 (penalty 100, incentive 30). With a wei of WETH (listed first) planted, the
    same; before the fix the bump went to the WETH seizure, took it whole and so liquidated all."""
    s = h.s
    h.govern(s.engine, "setTargetHealth", wad("1.05"))
    clean, planted = new_accounts(accounts, deployer, 2)
    for a in (clean, planted):
        h.open(a, {"WBTC": "0.06"}, 2_500)
    _plant(h, outsider, planted, "WETH", WEI)
    h.set_price("WBTC", 53_200)
    h.refresh_all()
    for a in (clean, planted):
        preview, ev, kicks = liquidate_checked(h, a, keeper)
        assert (ev.debtClosed, ev.penalty, ev.incentive) == (wad(1_000), wad(100), wad(30))
        assert [k.collateralId for k in kicks] == [s.ids["WBTC"]]
    assert s.vault.collateralOf(planted, s.ids["WETH"]) == 1


def test_the_dust_bump_grows_the_seizure_taken_in_part(h, accounts, deployer, keeper):
    """0.35 WETH (worth 1,050, above dust) is taken whole for ~907 and 0.03 WBTC in part: below the
    dust floor, so the close grows to 1,000 on the WBTC seizure. Before the fix it grew the WETH
    seizure, which cannot grow, and the account was liquidated in full (2,042)."""
    s = h.s
    h.govern(s.engine, "setTargetHealth", wad("1.05"))
    (alice,) = new_accounts(accounts, deployer, 1)
    h.open(alice, {"WETH": "0.35", "WBTC": "0.03"}, 2_042)
    h.set_price("WBTC", 50_400)
    h.refresh_all()
    preview, ev, kicks = liquidate_checked(h, alice, keeper)
    assert ev.debtClosed == s.vault.dust()
    assert [k.collateralId for k in kicks] == [s.ids["WETH"], s.ids["WBTC"]]
    assert kicks[0].lot == 35 * WAD // 100 and kicks[1].lot < 3 * 10**6
    assert s.vault.debtOf(alice) == wad(1_042)


def test_a_planted_wei_with_no_room_cannot_hold_back_the_end_of_a_full_liquidation(h, accounts, deployer, keeper,
                                                                                   outsider):
    """Review finding: in a full liquidation a planted wei of WBTC gets a share of a few wei of the
    debt; with WBTC's room at 0 that share was skipped and the plan shrank to leave the dust floor
    (and the next liquidation, which must close the rest whole, reverted LiquidationCapReached).
    Now the few wei go to the WETH seizure, which has room: one liquidation closes everything."""
    s = h.s
    weth, wbtc = s.ids["WETH"], s.ids["WBTC"]
    (alice,) = new_accounts(accounts, deployer, 1)
    h.open(alice, {"WETH": 20}, 44_900)
    _plant(h, outsider, alice, "WBTC", Decimal("0.00000001"))  # one unit of WBTC
    h.govern(s.engine, "setCollateralCap", wbtc, 0)  # WBTC's queue: no room at all
    h.set_price("WETH", 2_400)  # health 0.855: a full liquidation
    h.refresh_all()
    plan = s.engine.previewLiquidate(alice)
    assert plan.liquidatable and _collaterals_seized(plan) == [weth]
    liquidate_checked(h, alice, keeper)
    assert s.vault.debtOf(alice) == 0
    assert s.vault.collateralOf(alice, wbtc) == 1
