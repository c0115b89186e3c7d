"""A deployed Unwind system plus PerpPool and PerpMarkets, and the moves perps tests make.

The perps contracts are deployed with the deployer as admin (deploy.py does not wire them yet), so
the deployer is their governor; the rest of the system is governed through the timelock as usual.
Traders and LPs get debt tokens by borrowing in the vault against USDC (unwind.story).
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.protocol.vault_helpers import quiet_revert_traces
from tests.perps.perp_model import WAD, Ledger, MarketModel
from unwind import story
from unwind.deploy import deploy_system
from unwind.params import default_params

WETH, WBTC = 0, 1

# [wad] unless noted
WETH_MARKET = dict(min_im=int(0.05e18), mm_fraction=int(0.5e18), im_scale=int(1e18), fee=int(0.001e18),
                   max_funding=int(0.1e18), skew_scale=100_000 * WAD, max_long=50_000 * WAD, max_short=50_000 * WAD)
WBTC_MARKET = dict(min_im=int(0.1e18), mm_fraction=int(0.4e18), im_scale=int(2e18), fee=int(0.0005e18),
                   max_funding=int(0.05e18), skew_scale=5_000 * WAD, max_long=2_500 * WAD, max_short=2_000 * WAD)


def market_tuple(token, p: dict) -> tuple:
    return (token, p["min_im"], p["mm_fraction"], p["im_scale"], p["fee"], p["max_funding"], p["skew_scale"],
            p["max_long"], p["max_short"])


class Perps:
    """Verbs over the deployed perps contracts; every money move is recorded in `ledger` so the
    conservation identity can be checked after each test (`assert_conserved`)."""

    def __init__(self, system, pool, markets, chain, deployer, accounts):
        self.s = system
        self.pool = pool
        self.markets = markets
        self.chain = chain
        self.deployer = deployer
        self.uusd = system.debt_token
        self.oracle = system.oracle
        self.accounts = accounts
        self.ledger = Ledger()
        self.models = {WETH: MarketModel(**WETH_MARKET), WBTC: MarketModel(**WBTC_MARKET)}
        self.tokens = {WETH: system.collateral["WETH"], WBTC: system.collateral["WBTC"]}
        self.symbols = {WETH: "WETH", WBTC: "WBTC"}

    # --- money ---
    def fund(self, account, whole: int):
        """`whole` debt tokens borrowed in the vault (against twice as much USDC)."""
        story.fund_with_debt_tokens(self.s, account, whole)
        self.uusd.approve(self.markets, 2**256 - 1, sender=account)
        self.uusd.approve(self.pool, 2**256 - 1, sender=account)
        return whole * WAD

    def deposit_margin(self, account, amount, payer=None):
        payer = payer or account
        tx = self.markets.depositMargin(account, amount, sender=payer)
        self.ledger.margin_in += amount
        return tx

    def withdraw_margin(self, account, amount, receiver=None, sender=None):
        tx = self.markets.withdrawMargin(account, amount, receiver or account, sender=sender or account)
        self.ledger.margin_out += amount
        return tx

    def lp_deposit(self, lp, assets):
        tx = self.pool.deposit(assets, lp, sender=lp)
        self.ledger.lp_in += assets
        return tx

    def lp_withdraw(self, lp, assets):
        tx = self.pool.withdraw(assets, lp, lp, sender=lp)
        self.ledger.lp_out += assets
        return tx

    def lp_redeem(self, lp, shares):
        before = self.uusd.balanceOf(lp)
        tx = self.pool.redeem(shares, lp, lp, sender=lp)
        self.ledger.lp_out += self.uusd.balanceOf(lp) - before
        return tx

    # --- trading ---
    def trade(self, account, market, size_delta, acceptable=None, sender=None):
        if acceptable is None:
            acceptable = 2**256 - 1 if size_delta > 0 else 0
        tx = self.markets.modifyPosition(account, market, size_delta, acceptable, sender=sender or account)
        ev = tx.events.filter(self.markets.PositionModified)[0]
        self.ledger.settled += ev.fee + ev.funding - ev.realisedPnl
        return tx, ev

    # --- prices and time ---
    def set_price(self, market, price, settle=True):
        story.set_price(self.s, self.chain, self.deployer, self.symbols[market], str(price))
        if settle:
            story.settle_oracle(self.s, self.chain, self.deployer, None)
        else:
            self.oracle.poke(self.tokens[market], sender=self.deployer)

    def quote(self, market):
        return self.oracle.peek(self.tokens[market])

    def prices(self, market):
        """(current, delayed) as the oracle stores them (poked first, so they are up to date)."""
        token = self.tokens[market]
        self.oracle.poke(token, sender=self.deployer)
        q = self.oracle.peek(token)
        delayed = self.oracle.delayedState(token)[0]
        return q.current, delayed

    # --- the conservation identity ---
    def assert_conserved(self):
        """Debt tokens held by the pool and the markets contract are exactly what came in:
          markets balance == totalMargin == sum of positive margins (the traders' margin),
          pool balance == LP deposits - LP withdrawals + settled (fees + funding - realised PnL)
                          - totalOwed (losses not yet paid),
        and so pool + markets == LP net + margin net (no wei created or lost)."""
        L = self.ledger
        pool_bal = self.uusd.balanceOf(self.pool)
        mk_bal = self.uusd.balanceOf(self.markets)
        margins = [self.markets.margin(a) for a in self.accounts]
        assert mk_bal == self.markets.totalMargin() == sum(m for m in margins if m > 0)
        assert self.markets.totalOwed() == sum(-m for m in margins if m < 0)
        assert pool_bal == L.lp_in - L.lp_out + L.settled - self.markets.totalOwed()
        assert pool_bal + mk_bal == L.lp_in - L.lp_out + L.margin_in - L.margin_out


@pytest.fixture(scope="session", autouse=True)
def _accounts_first(deployer, alice, bob, keeper, outsider):
    """Session fixtures before module ones, so Ape's isolation never has to rebase."""


@pytest.fixture(scope="module")
def system(project, deployer):
    return deploy_system(project, deployer, default_params())


@pytest.fixture(scope="module")
def perps(project, system, chain, deployer, accounts):
    pool = project.PerpPool.deploy(deployer, system.debt_token, sender=deployer)
    markets = project.PerpMarkets.deploy(deployer, system.oracle, pool, sender=deployer)
    pool.setMarkets(markets, sender=deployer)
    markets.setMarket(WETH, market_tuple(system.collateral["WETH"], WETH_MARKET), sender=deployer)
    markets.setMarket(WBTC, market_tuple(system.collateral["WBTC"], WBTC_MARKET), sender=deployer)
    return Perps(system, pool, markets, chain, deployer, list(accounts))


@pytest.fixture(autouse=True)
def _ledger_follows_chain(request):
    """Ape reverts the chain after each test; the ledger (Python state) is put back with it."""
    if "perps" not in request.fixturenames:
        yield
        return
    perps = request.getfixturevalue("perps")
    saved = dataclasses.replace(perps.ledger)
    yield
    perps.ledger = saved


@pytest.fixture(scope="module", autouse=True)
def _quiet():
    with quiet_revert_traces():
        yield


@pytest.fixture(scope="module")
def lp(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def funded(perps, alice, bob, lp):
    """The pool holds 1,000,000 uUSD of LP money; alice and bob each have 1,000,000 uUSD, 20,000 as margin."""
    perps.fund(lp, 2_000_000)
    perps.lp_deposit(lp, 1_000_000 * WAD)
    for a in (alice, bob):
        perps.fund(a, 1_000_000)
        perps.deposit_margin(a, 20_000 * WAD)
    return perps
