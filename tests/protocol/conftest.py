"""A deployed Unwind system and the moves tests make with it (prices, time, positions)."""

from decimal import Decimal

import pytest

from unwind import story
from unwind.deploy import deploy_system, govern
from unwind.params import WAD, default_params


class Harness:
    """Small verbs over a deployed system so tests read as stories."""

    def __init__(self, system, chain, deployer):
        self.s = system
        self.chain = chain
        self.deployer = deployer

    # --- governance ---
    def govern(self, target, method, *args):
        return govern(self.s, self.deployer, target, method, *args, chain=self.chain)

    # --- prices and time ---
    def set_price(self, symbol, price, settle=True):
        """Move the feed; with `settle`, let the delayed price catch up (two OSM hops + pokes)."""
        story.set_price(self.s, self.chain, self.deployer, symbol, str(price))
        if settle:
            self.settle(symbol)

    def settle(self, *symbols):
        story.settle_oracle(self.s, self.chain, self.deployer, symbols or None)

    def refresh(self, symbol):
        """A new round at the same answer, so the feed is not stale."""
        story.refresh_feeds(self.s, self.deployer, (symbol,))

    def refresh_all(self):
        story.refresh_feeds(self.s, self.deployer)

    def advance(self, seconds):
        self.chain.mine(1, deltatime=int(seconds))

    def advance_fresh(self, seconds, step=1800):
        """Let `seconds` pass with a fresh round of every feed at least every `step` seconds (half
        the default heartbeat): no feed goes stale, so no recovery grace starts (IOracleAdapter)."""
        left = int(seconds)
        while left > 0:
            dt = min(step, left)
            self.chain.mine(1, deltatime=dt)
            self.refresh_all()
            left -= dt

    def wait_out_recovery(self):
        """After a gap longer than a heartbeat, the rounds say the feeds were out: liquidations wait
        the recovery grace (IOracleAdapter). The return is stored (a poke of each token), then the
        grace passes, feeds kept fresh."""
        self.refresh_all()
        for token in self.s.collateral.values():
            self.s.oracle.poke(token, sender=self.deployer)
        self.advance(self.s.oracle.recoveryGrace() + 1)
        self.refresh_all()

    # --- positions ---
    def fund(self, account, symbol, amount_whole):
        token = self.s.collateral[symbol]
        amount = int(Decimal(str(amount_whole)) * 10 ** token.decimals())
        token.mint(account, amount, sender=account)
        token.approve(self.s.vault, 2**256 - 1, sender=account)
        return amount

    def deposit(self, account, symbol, amount_whole):
        amount = self.fund(account, symbol, amount_whole)
        self.s.vault.deposit(account, self.s.ids[symbol], amount, sender=account)
        return amount

    def open(self, account, collateral: dict, borrow_whole):
        for symbol, amount in collateral.items():
            self.deposit(account, symbol, amount)
        if borrow_whole:
            self.s.vault.borrow(account, int(Decimal(str(borrow_whole)) * WAD), account, sender=account)

    def identity(self):
        """debt token supply == vault debt + auction tabs + bad debt (ILiquidityBuffer)."""
        s = self.s
        return s.debt_token.totalSupply(), s.vault.totalDebt() + s.auction.totalDebt() + s.buffer.badDebt()

    def assert_identity(self):
        supply, backing = self.identity()
        assert supply == backing, f"identity broken: supply {supply} != backing {backing}"


@pytest.fixture(scope="module")
def params():
    return default_params()


@pytest.fixture(scope="module")
def system(project, deployer, params):
    return deploy_system(project, deployer, params)


@pytest.fixture(scope="module")
def h(system, chain, deployer):
    return Harness(system, chain, deployer)
