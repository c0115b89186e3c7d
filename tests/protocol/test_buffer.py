"""Liquidity buffer: penalties in, shortfalls out, bad debt recorded and healed, surplus locked.

The standard auction: alice's 10 WETH against 22000 of debt, liquidated whole at WETH 2700: tab
24200 (penalty 2200, keeper incentive 20 + 1% = 240, so the buffer's surplus starts at 1960),
top 3240, linear over an hour.
"""

import pytest
from liquidation_helpers import (
    GOVERNOR,
    MAX_UINT,
    MODULE_ROLE,
    WAD,
    ZERO,
    events,
    govern_reverts,
    linear_hour_params,
    one_event,
    refused,
    reverts,
)

from unwind.params import wad

SURPLUS_AFTER_KICK = wad(2200) - wad(240)


@pytest.fixture(scope="module")
def params():
    """Sale prices at given seconds below are for the linear hour-long curve."""
    return linear_hour_params()


@pytest.fixture(scope="session")
def treasury(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def module(accounts):
    return accounts[7]


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployer, alice, bob, keeper, outsider, treasury, module, h):
    """Every session fixture of this module, set up with the first test (no Ape rebase)."""


@pytest.fixture(scope="module", autouse=True)
def _wide_lot_margin(_session_fixtures_first, h):
    """Pin the lot margin at 20%: this module's auctions come from whole-account liquidations
    (kick_weth), which the deployed default of 5% would turn into partial ones."""
    h.govern(h.s.engine, "setLotMargin", 2 * 10**17)


def kick_weth(h, keeper, owner):
    s = h.s
    h.open(owner, {"WETH": 10}, 22_000)
    h.set_price("WETH", 2700)
    tx = s.engine.liquidate(owner, keeper, sender=keeper)
    kick = one_event(tx, s.auction, "Kick")
    liq = one_event(tx, s.engine, "Liquidate")
    assert liq.penalty - liq.incentive == SURPLUS_AFTER_KICK
    assert s.buffer.surplus() == s.debt_token.balanceOf(s.buffer) == SURPLUS_AFTER_KICK
    h.assert_identity()
    return kick.id


def funded(h, account, debt=100_000):
    h.open(account, {"USDC": debt * 2}, debt)
    return account


def test_shortfall_covered_by_surplus(h, alice, bob, keeper, chain):
    s = h.s
    funded(h, bob)
    aid = kick_weth(h, keeper, alice)
    sale = s.auction.sales(aid)
    chain.pending_timestamp = sale.startedAt + 1100  # price 2250: 10 WETH raise 22500 < 24200
    tx = s.auction.take(aid, 10 * WAD, MAX_UINT, bob, b"", sender=bob)
    take = one_event(tx, s.auction, "Take")
    assert take.price == wad(2250) and take.slice == 10 * WAD and take.lot == 0
    shortfall = wad(24_200) - take.owe
    assert shortfall == wad(1700) < SURPLUS_AFTER_KICK
    ended = one_event(tx, s.auction, "AuctionEnded")
    assert (ended.leftover, ended.shortfall) == (0, shortfall)
    absorbed = one_event(tx, s.buffer, "ShortfallAbsorbed")
    assert (absorbed.auctionId, absorbed.shortfall, absorbed.covered, absorbed.newBadDebt) == (aid, shortfall, shortfall, 0)
    assert s.buffer.surplus() == SURPLUS_AFTER_KICK - shortfall
    assert s.buffer.badDebt() == 0
    assert s.auction.totalDebt() == 0 and s.auction.count() == 0
    assert s.vault.collateralOf(alice, s.ids["WETH"]) == 0
    h.assert_identity()


def test_bad_debt_heal_and_locked_surplus(h, alice, bob, keeper, outsider, treasury, chain):
    s = h.s
    b = s.buffer
    funded(h, bob)
    aid = kick_weth(h, keeper, alice)
    sale = s.auction.sales(aid)
    # WETH crashes to 1800 and the delayed price confirms it (the floor, from max(current,
    # delayed), follows it to 1440); the lot sells around 1500.
    h.set_price("WETH", 1800, settle=True)
    chain.pending_timestamp = sale.startedAt + 1933
    tx = s.auction.take(aid, 10 * WAD, MAX_UINT, bob, b"", sender=bob)
    take = one_event(tx, s.auction, "Take")
    assert take.lot == 0 and take.price < wad(1510)
    shortfall = wad(24_200) - take.owe
    bad = shortfall - SURPLUS_AFTER_KICK
    absorbed = one_event(tx, b, "ShortfallAbsorbed")
    assert (absorbed.shortfall, absorbed.covered, absorbed.newBadDebt) == (shortfall, SURPLUS_AFTER_KICK, bad)
    assert b.surplus() == 0 and b.badDebt() == bad > 0
    h.assert_identity()

    # Surplus arrives (a donation); while bad debt exists none of it can be withdrawn.
    s.debt_token.transfer(b, wad(1000), sender=bob)
    assert b.surplus() == wad(1000)
    govern_reverts(h, b, "SurplusLocked", b, "withdrawSurplus", treasury, 1, available=0, requested=1)

    # Anyone heals: surplus burnt against bad debt.
    tx = b.heal(sender=outsider)
    assert tx.return_value == wad(1000)
    assert one_event(tx, b, "Healed").amount == wad(1000)
    assert b.surplus() == 0 and b.badDebt() == bad - wad(1000)
    h.assert_identity()
    s.debt_token.transfer(b, wad(10_000), sender=bob)
    tx = b.heal(sender=outsider)
    assert tx.return_value == bad - wad(1000)
    assert b.badDebt() == 0 and b.surplus() == wad(11_000) - bad
    h.assert_identity()
    tx = b.heal(sender=outsider)  # nothing left to heal
    assert tx.return_value == 0 and len(events(tx, b, "Healed")) == 0

    # Without bad debt, surplus above the floor can be withdrawn by governance.
    tx = h.govern(b, "setSurplusFloor", wad(1000))
    assert b.surplusFloor() == wad(1000)
    assert one_event(tx, b, "SurplusFloorSet").floor == wad(1000)
    available = b.surplus() - wad(1000)
    govern_reverts(
        h, b, "SurplusLocked", b, "withdrawSurplus", treasury, available + 1, available=available, requested=available + 1
    )
    govern_reverts(h, b, "ZeroAddress", b, "withdrawSurplus", ZERO, 1)
    tx = h.govern(b, "withdrawSurplus", treasury, available)
    withdrawn = one_event(tx, b, "SurplusWithdrawn")
    assert (withdrawn.to, withdrawn.amount) == (treasury.address, available)
    assert s.debt_token.balanceOf(treasury) == available
    assert b.surplus() == wad(1000)
    govern_reverts(h, b, "SurplusLocked", b, "withdrawSurplus", treasury, 1, available=0, requested=1)
    h.assert_identity()


def test_redo_incentive_beyond_surplus_is_minted_as_bad_debt(h, alice, keeper, treasury, chain):
    s = h.s
    b = s.buffer
    aid = kick_weth(h, keeper, alice)
    sale = s.auction.sales(aid)
    params = s.auction.params(s.ids["WETH"])
    h.govern(b, "withdrawSurplus", treasury, b.surplus() - wad(20))  # leave 20
    assert b.surplus() == wad(20)
    chain.mine(1, timestamp=sale.startedAt + 1201)  # below the floor
    h.refresh_all()
    incentive = params.redoTip + sale.tab * params.redoChip // WAD
    assert incentive == wad("34.2")
    keeper_before = s.debt_token.balanceOf(keeper)
    tx = s.auction.redo(aid, keeper, sender=keeper)
    paid = one_event(tx, b, "IncentivePaid")
    assert (paid.to, paid.amount, paid.fromSurplus, paid.newBadDebt) == (
        keeper.address, incentive, wad(20), incentive - wad(20),
    )
    assert s.debt_token.balanceOf(keeper) == keeper_before + incentive  # always paid in full
    assert b.surplus() == 0 and b.badDebt() == incentive - wad(20)
    h.assert_identity()


def test_redo_of_a_dust_auction_pays_nothing(h, alice, keeper, chain):
    """The WBTC share (~548 of tab) of a 10 WETH + 0.01 WBTC account is below dust: restarting
    it is not worth an incentive (Maker's chost rule)."""
    s = h.s
    h.open(alice, {"WETH": 10, "WBTC": "0.01"}, 22_900)
    h.set_price("WETH", 2700)
    h.refresh_all()
    tx = s.engine.liquidate(alice, keeper, sender=keeper)
    small = events(tx, s.auction, "Kick")[1]
    assert small.tab < wad(1000)
    chain.mine(1, timestamp=s.auction.sales(small.id).startedAt + 1300)
    h.refresh_all()
    surplus, bad = s.buffer.surplus(), s.buffer.badDebt()
    keeper_before = s.debt_token.balanceOf(keeper)
    tx = s.auction.redo(small.id, keeper, sender=keeper)
    assert one_event(tx, s.auction, "Redo").incentive == 0
    assert len(events(tx, s.buffer, "IncentivePaid")) == 0
    assert (s.buffer.surplus(), s.buffer.badDebt()) == (surplus, bad)
    assert s.debt_token.balanceOf(keeper) == keeper_before
    assert s.auction.sales(small.id).paidRedos == 0  # an unpaid redo uses none of the paid ones
    h.assert_identity()


def test_module_calls(h, alice, keeper, module):
    """pay and absorb as a module calls them (governance grants a test account the role).
    Called outside an auction's flow, absorb is not balanced by a tab: only the buffer's own
    books are checked here."""
    s = h.s
    b = s.buffer
    kick_weth(h, keeper, alice)
    h.govern(b, "grantRole", MODULE_ROLE, module)
    with reverts(b, "ZeroAddress"):
        b.pay(ZERO, 1, sender=module)
    surplus = b.surplus()
    keeper_before = s.debt_token.balanceOf(keeper)
    tx = b.pay(keeper, surplus + 5, sender=module)
    paid = one_event(tx, b, "IncentivePaid")
    assert (paid.amount, paid.fromSurplus, paid.newBadDebt) == (surplus + 5, surplus, 5)
    assert s.debt_token.balanceOf(keeper) == keeper_before + surplus + 5
    assert b.surplus() == 0 and b.badDebt() == 5
    h.assert_identity()  # the 5 minted are recorded as bad debt
    s.debt_token.transfer(b, 4, sender=keeper)
    tx = b.absorb(77, 10, sender=module)
    absorbed = one_event(tx, b, "ShortfallAbsorbed")
    assert (absorbed.auctionId, absorbed.shortfall, absorbed.covered, absorbed.newBadDebt) == (77, 10, 4, 11)
    assert b.surplus() == 0 and b.badDebt() == 11


def test_privileged_functions_refused_to_outsider(h, outsider, deployer, treasury, project):
    b = h.s.buffer
    for who in (outsider, deployer):  # the guardian holds no buffer powers either
        refused(b, "absorb", 1, 1, by=who, role=MODULE_ROLE)
        refused(b, "pay", who, 1, by=who, role=MODULE_ROLE)
        refused(b, "withdrawSurplus", treasury, 0, by=who, role=GOVERNOR)
        refused(b, "setSurplusFloor", 1, by=who, role=GOVERNOR)
    with reverts(b, "AccessControlUnauthorizedAccount", account=outsider.address, neededRole=MODULE_ROLE):
        b.pay(outsider, 1, sender=outsider)
    with reverts(project.LiquidityBuffer, "ZeroAddress"):
        project.LiquidityBuffer.deploy(deployer, ZERO, sender=deployer)
