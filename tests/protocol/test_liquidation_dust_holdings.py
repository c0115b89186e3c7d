"""Holdings worth a few wei cannot shield an account from liquidation (found in review).

An 18-decimal token priced at 1 debt token ("DAI", listed first so it is seized first) makes
1 wei of it worth 1 wei of debt. In a full liquidation, such a holding's share of the debt,
floor(debt x value / total value), is 0 while the account's collateral is worth more than its
debt; before the fix the engine still seized it and kicked an auction with tab 0, which the
auction refuses (ZeroAmount): the whole liquidation reverted, and so did any batch holding the
account. Deposits are open to anyone for any account, so a griefer could plant 1 wei in other
people's accounts. Now such a holding stays with the owner, like a worthless one, and the kicks'
tabs are the planned debts with the vault's rounding on the largest, so none can be 0 with a
stability fee either (where the vault's exact debt change can fall a wei below the plan).
"""

from dataclasses import replace
from decimal import Decimal

import pytest
from liquidation_helpers import RAY, WAD, events, new_accounts

from unwind.params import default_params

WEI = Decimal("0.000000000000000001")


@pytest.fixture(scope="module")
def params():
    p = default_params()
    usdc = next(c for c in p.collaterals if c.symbol == "USDC")
    p.collaterals.insert(0, replace(usdc, symbol="DAI", decimals=18, price="1", token=None, feed=None))
    return p


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployer, keeper, outsider, h):
    """Module fixtures first (no Ape rebase)."""


def _checked_kicks(h, tx):
    """The transaction's kicks: each with a lot and a tab, together raising what was closed plus
    the penalties."""
    kicks = events(tx, h.s.auction, "Kick")
    assert kicks and all(k.tab > 0 and k.lot > 0 for k in kicks)
    liq = events(tx, h.s.engine, "Liquidate")
    assert sum(k.tab for k in kicks) == sum(e.debtClosed + e.penalty for e in liq)
    return kicks, liq


def test_a_few_wei_of_a_holding_cannot_block_a_liquidation(h, accounts, deployer, keeper, outsider):
    s = h.s
    assert s.ids["DAI"] == 0 and s.ids["WETH"] == 1
    victim, honest, target = new_accounts(accounts, deployer, 3)
    h.open(victim, {"DAI": WEI, "WETH": 1}, 2_000)
    h.open(honest, {"WETH": 1}, 2_000)
    h.open(target, {"WETH": 1}, 2_000)
    h.fund(outsider, "DAI", WEI)  # a third party plants 1 wei in someone else's account
    s.vault.deposit(target, s.ids["DAI"], 1, sender=outsider)
    h.set_price("WETH", 2400)  # health 0.96: a full liquidation, collateral still worth more than the debt
    h.refresh_all()

    plan = s.engine.previewLiquidate(victim)
    assert plan.liquidatable and [x.collateralId for x in plan.seizures] == [s.ids["WETH"]]
    assert plan.seizures[0].debt == s.vault.debtOf(victim)

    debts = sum(s.vault.debtOf(a) for a in (victim, honest, target))
    tx = s.engine.liquidateBatch([honest, victim, target], keeper, sender=keeper)
    kicks, liq = _checked_kicks(h, tx)
    assert all(k.collateralId != s.ids["DAI"] for k in kicks), "a few wei of DAI went to auction"
    assert sum(e.debtClosed for e in liq) == debts
    for a in (victim, honest, target):
        assert s.vault.debtOf(a) == 0 and s.vault.collateralOf(a, s.ids["WETH"]) == 0
    # The few wei stay with their owners.
    assert s.vault.collateralOf(victim, s.ids["DAI"]) == s.vault.collateralOf(target, s.ids["DAI"]) == 1
    h.assert_identity()


def test_tiny_seizures_keep_a_tab_under_a_stability_fee(h, accounts, deployer, keeper, chain):
    """2 or 3 wei of DAI get a share of 1-2 wei of debt. With a fee the vault removes the debt in
    normalised units and its exact change can be a wei below the plan; no tab may round to 0."""
    s = h.s
    h.govern(s.vault, "setStabilityFee", RAY + 3 * 10**18)  # ~10% a year
    h.advance(90 * 86400)
    h.refresh_all()
    h.wait_out_recovery()
    borrowers = new_accounts(accounts, deployer, 6)
    for i, b in enumerate(borrowers):
        h.open(b, {"DAI": WEI * (2 + i % 2), "WETH": 1}, 1_990 + 3 * i)
    h.set_price("WETH", 2400)
    h.refresh_all()
    for b in borrowers:
        debt = s.vault.debtOf(b)
        plan = s.engine.previewLiquidate(b)
        assert [x.collateralId for x in plan.seizures] == [s.ids["DAI"], s.ids["WETH"]]
        assert 1 <= plan.seizures[0].debt <= 2
        tx = s.engine.liquidate(b, keeper, sender=keeper)
        kicks, _ = _checked_kicks(h, tx)
        assert len(kicks) == 2
        assert s.vault.debtOf(b) == 0 and debt > 0
    assert s.vault.rate() > RAY
    h.assert_identity()

