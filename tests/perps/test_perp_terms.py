"""accountTerms against the independent model (tests/perps/perp_model.account_terms) over random
positions, funding, prices (current apart from the delayed price) and haircuts."""

from __future__ import annotations

import dataclasses
import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.perps.conftest import WBTC, WETH
from tests.perps.perp_model import WAD, account_terms

FIELDS = ("margin", "pnl", "gainsCredited", "losses", "maintenanceRequirement", "initialRequirement", "hasPositions")


@pytest.fixture(scope="module")
def terms_setup(funded, alice, bob):
    for a in (alice, bob):
        funded.deposit_margin(a, 600_000 * WAD)
    return funded


def model_terms(p, account):
    prices = {k: p.prices(k) for k in (WETH, WBTC)}
    positions, index = [], {}
    for k in (WETH, WBTC):
        pos = p.markets.position(account, k)
        if pos.size:
            positions.append((k, pos.size, pos.cost, pos.lastFundingIndex))
        index[k] = p.markets.marketState(k).fundingIndex
    return account_terms(p.markets.margin(account), positions, p.models, prices, index, p.markets.gainsHaircut())


def model_liabilities(p, accounts) -> int:
    """IPerpMarkets.unrealisedLiabilities from the positions: per market max(0, ceil(skew x price)
    - sum of costs - floor(sum of size x (index - last index) / 1e36)), the price the less
    favourable to the pool (long skew: max(current, delayed); short: min)."""
    total = 0
    prices = {k: p.prices(k) for k in (WETH, WBTC)}  # the pokes first: then every read sees one block
    for k in (WETH, WBTC):
        st_ = p.markets.marketState(k)
        cur, delayed = prices[k]
        price = max(cur, delayed) if st_.skew > 0 else min(cur, delayed)
        positions = [p.markets.position(a, k) for a in accounts]
        assert sum(x.size for x in positions) == st_.skew
        funding = sum(x.size * (st_.fundingIndex - x.lastFundingIndex) for x in positions) // 10**36
        net = -(-st_.skew * price // WAD) - sum(x.cost for x in positions) - funding
        total += max(0, net)
    return total


trade = st.tuples(st.sampled_from([WETH, WBTC]), st.integers(-150, 150), st.integers(-150, 150), st.integers(0, 600))


# 12 examples in the default (fast) profile, 100 with `make fuzz` (UNWIND_PROFILE=deep)
EXAMPLES = 100 if os.environ.get("UNWIND_PROFILE") == "deep" else 12


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure prints its example
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trades=st.lists(trade, min_size=1, max_size=4), weth=st.integers(2_200, 3_800), wbtc=st.integers(45_000, 75_000),
       haircut=st.integers(0, WAD))
def test_account_terms_match_the_model(terms_setup, alice, bob, trades, weth, wbtc, haircut):
    p = terms_setup
    snap = p.chain.snapshot()
    ledger = dataclasses.replace(p.ledger)
    try:
        p.markets.setGainsHaircut(haircut, sender=p.deployer)
        for market, a_units, b_units, dt in trades:
            scale = WAD if market == WETH else WAD // 20  # WBTC positions up to 7.5 BTC
            if dt:
                p.chain.mine(1, deltatime=dt)
            if a_units:
                p.trade(alice, market, a_units * scale + 1)
            if b_units:
                p.trade(bob, market, b_units * scale - 1)
        p.set_price(WETH, weth, settle=False)
        p.set_price(WBTC, wbtc, settle=False)
        for account in (alice, bob):
            want = model_terms(p, account)
            got = p.markets.accountTerms(account)
            assert {k: getattr(got, k) for k in FIELDS} == want
            pnl = sum(p.markets.position(account, k).unrealisedPnl for k in (WETH, WBTC))
            assert got.pnl == pnl
        want = model_liabilities(p, (alice, bob))  # first: its oracle pokes mine a block
        assert p.pool.liabilities() == want
        p.assert_conserved()
    finally:
        p.chain.restore(snap)
        p.ledger = ledger
