"""Governance of the perps contracts: every privileged setter refused to an outsider, every bound,
the events, and the set-once wiring of the pool."""

from __future__ import annotations

import pytest

from tests.perps.conftest import WBTC, WETH, WETH_MARKET, market_tuple
from tests.perps.perp_model import WAD
from tests.protocol.vault_helpers import call_reverts, reverts
from unwind.deploy import role

ZERO = "0x" + "00" * 20
GOVERNOR = role("GOVERNOR_ROLE")


def test_every_privileged_setter_refused_to_an_outsider(perps, outsider):
    p = perps
    calls = [
        (p.markets, p.markets.setMarket, (WETH, market_tuple(p.tokens[WETH], WETH_MARKET))),
        (p.markets, p.markets.setGainsHaircut, (WAD // 2,)),
        (p.pool, p.pool.setMarkets, (outsider,)),
        (p.pool, p.pool.setWithdrawalBuffer, (0,)),
    ]
    for contract, method, args in calls:
        with reverts(contract.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=GOVERNOR):
            method(*args, sender=outsider)


def test_roles_after_deploy(perps, deployer):
    for c in (perps.markets, perps.pool):
        assert c.hasRole(GOVERNOR, deployer) and c.hasRole(b"\x00" * 32, deployer)
    assert perps.markets.pool() == perps.pool.address
    assert perps.markets.debtToken() == perps.uusd.address == perps.pool.asset()
    assert perps.markets.oracle() == perps.oracle.address
    assert perps.markets.listedMarkets() == 0b11


# field index in MarketParams, name, a value out of bounds, min, max
BOUNDS = [
    (1, "minInitialMargin", 10**15 - 1, 10**15, WAD),
    (1, "minInitialMargin", WAD + 1, 10**15, WAD),
    (2, "maintenanceFraction", 10**16 - 1, 10**16, WAD),
    (3, "initialMarginScale", 10 * WAD + 1, 0, 10 * WAD),
    (4, "tradingFee", WAD // 20 + 1, 0, WAD // 20),
    (5, "maxFundingRate", WAD + 1, 0, WAD),
    (6, "skewScale", WAD - 1, WAD, 10**30),
    (6, "skewScale", 10**30 + 1, WAD, 10**30),
    (7, "maxLong", WETH_MARKET["skew_scale"] + 1, 0, WETH_MARKET["skew_scale"]),
    (8, "maxShort", WETH_MARKET["skew_scale"] + 1, 0, WETH_MARKET["skew_scale"]),
]


@pytest.mark.parametrize("index,name,value,lo,hi", BOUNDS)
def test_market_parameter_bounds(perps, index, name, value, lo, hi):
    p = perps
    params = list(market_tuple(p.tokens[WETH], WETH_MARKET))
    params[index] = value
    with reverts(p.markets.InvalidParameter, name=name, value=value, min=lo, max=hi):
        p.markets.setMarket(WETH, tuple(params), sender=p.deployer)


def test_market_listing_rules(perps):
    p = perps
    weth = market_tuple(p.tokens[WETH], WETH_MARKET)
    with reverts(p.markets.InvalidParameter, name="id", value=16, min=0, max=15):
        p.markets.setMarket(16, weth, sender=p.deployer)
    with reverts(p.markets.TokenChange, id=WETH, token=p.tokens[WETH].address, requested=p.tokens[WBTC].address):
        p.markets.setMarket(WETH, market_tuple(p.tokens[WBTC], WETH_MARKET), sender=p.deployer)
    with reverts(p.markets.ZeroAddress):
        p.markets.setMarket(3, market_tuple(ZERO, WETH_MARKET), sender=p.deployer)
    call_reverts(p.markets.UnknownMarket, p.markets.marketParams, 3, id=3)
    # A new market on the same asset: listed, evented, readable.
    tx = p.markets.setMarket(3, weth, sender=p.deployer)
    ev = tx.events.filter(p.markets.MarketSet)[0]
    assert ev.id == 3 and ev.token == p.tokens[WETH].address
    got = p.markets.marketParams(3)
    assert (got.token, got.skewScale, got.maxShort) == (p.tokens[WETH].address, weth[6], weth[8])
    assert p.markets.listedMarkets() == 0b1011


def test_gains_haircut(perps, alice, outsider):
    p = perps
    with reverts(p.markets.InvalidParameter, name="gainsHaircut", value=WAD + 1, min=0, max=WAD):
        p.markets.setGainsHaircut(WAD + 1, sender=p.deployer)
    tx = p.markets.setGainsHaircut(WAD // 2, sender=p.deployer)
    assert tx.events.filter(p.markets.GainsHaircutSet)[0].haircut == WAD // 2
    assert p.markets.gainsHaircut() == WAD // 2


def test_haircut_scales_credited_gains(perps, alice, lp):
    p = perps
    # No funding: the two reads below are a block apart, and funding would move the gains between
    # them by however many seconds anvil's clock put between the blocks (seen flaky).
    p.markets.setMarket(WETH, market_tuple(p.tokens[WETH], dict(WETH_MARKET, max_funding=0)), sender=p.deployer)
    p.fund(lp, 200_000)
    p.lp_deposit(lp, 100_000 * WAD)
    p.fund(alice, 100_000)
    p.deposit_margin(alice, 50_000 * WAD)
    p.trade(alice, WETH, 10 * WAD)
    p.set_price(WETH, 3_600)
    full = p.markets.accountTerms(alice).gainsCredited
    p.markets.setGainsHaircut(WAD * 3 // 10, sender=p.deployer)
    t = p.markets.accountTerms(alice)
    gains = full  # at the default haircut (1e18) everything is credited
    assert full > 5_000 * WAD
    assert t.gainsCredited == gains * (WAD * 3 // 10) // WAD  # rounded down
    assert t.pnl == p.markets.position(alice, WETH).unrealisedPnl
    p.assert_conserved()


def test_pool_wiring_is_set_once(perps, outsider):
    p = perps
    with reverts(p.pool.MarketsAlreadySet, markets=p.markets.address):
        p.pool.setMarkets(outsider, sender=p.deployer)
    with reverts(p.pool.InvalidParameter, name="withdrawalBuffer", value=WAD + 1, min=0, max=WAD):
        p.pool.setWithdrawalBuffer(WAD + 1, sender=p.deployer)
    # Review finding: the admin could grant MARKETS_ROLE past setMarkets (payOut to anyone) or take
    # it from the markets contract (every close with a gain reverting). The role follows `markets`.
    markets_role = p.pool.MARKETS_ROLE()
    with reverts(p.pool.MarketsRoleFixed, account=outsider.address):
        p.pool.grantRole(markets_role, outsider, sender=p.deployer)
    with reverts(p.pool.MarketsRoleFixed, account=p.markets.address):
        p.pool.revokeRole(markets_role, p.markets, sender=p.deployer)
    assert p.pool.hasRole(markets_role, p.markets) and not p.pool.hasRole(markets_role, outsider)


def test_fresh_pool_refuses_zero_markets(project, perps, deployer):
    pool = project.PerpPool.deploy(deployer, perps.uusd, sender=deployer)
    assert pool.markets() == ZERO and pool.liabilities() == 0 and pool.withdrawalBuffer() == WAD // 10
    with reverts(pool.ZeroAddress):
        pool.setMarkets(ZERO, sender=deployer)
    tx = pool.setMarkets(perps.markets, sender=deployer)
    assert tx.events.filter(pool.MarketsSet)[0].markets == perps.markets.address


def test_skew_scale_never_below_open_interest(funded, alice):
    """Review finding: governance could lower skewScale below a side's open interest, taking fills
    out of the documented factor [0, 2] (a sell's factor clamps at 0: a zero fill, no fee) and
    moving value between the pool and open positions. The new scale must cover the larger side."""
    p = funded
    p.trade(alice, WETH, 100 * WAD)
    params = list(market_tuple(p.tokens[WETH], dict(WETH_MARKET, skew_scale=99 * WAD, max_long=50 * WAD,
                                                    max_short=50 * WAD)))
    with reverts(p.markets.InvalidParameter, name="skewScale", value=99 * WAD, min=100 * WAD, max=10**30):
        p.markets.setMarket(WETH, tuple(params), sender=p.deployer)
    params[6] = 100 * WAD  # exactly the open interest: accepted (caps below it only stop increases)
    p.markets.setMarket(WETH, tuple(params), sender=p.deployer)
    p.trade(alice, WETH, -100 * WAD)
    p.assert_conserved()
