"""The keeper as a real process over RPC: every assertion reads the chain, not the keeper's word."""

import time

from tests.keeper.conftest import fund_keeper
from unwind.params import WAD
from unwind.story import BORROWERS, set_price, settle_oracle


def open_borrowers(system, accounts, first=4):
    borrowers = [accounts[first + i] for i in range(len(BORROWERS))]
    for account, (basket, utilisation) in zip(borrowers, BORROWERS):
        for symbol, amount in basket.items():
            token = system.collateral[symbol]
            units = int(float(amount) * 10 ** token.decimals())
            token.mint(account, units, sender=account)
            token.approve(system.vault, units, sender=account)
            system.vault.deposit(account, system.ids[symbol], units, sender=account)
        limit = system.vault.maxBorrow(account)
        system.vault.borrow(account, int(limit * float(utilisation)), account, sender=account)
    return borrowers


def crash(system, chain, operator):
    set_price(system, chain, operator, "WETH", "2250")
    set_price(system, chain, operator, "WBTC", "46000")
    settle_oracle(system, chain, operator)


def drive(chain, system, operator, until, timeout=180, step=60):
    """Mine a block every half second (60 s of chain time each), refreshing feeds, until `until()`."""
    end = time.time() + timeout
    while time.time() < end:
        if until():
            return True
        for feed in system.feeds.values():
            feed.setAnswer(feed.answer(), sender=operator)
        chain.mine(1, deltatime=step)
        time.sleep(0.5)
    return until()


def test_price_drop_every_unsafe_account_liquidated_and_auctions_settled(system, accounts, chain, spawn_keeper):
    operator, keeper = accounts[0], accounts[1]
    borrowers = open_borrowers(system, accounts)
    fund_keeper(system, keeper)
    crash(system, chain, operator)
    unsafe = [b.address for b in borrowers if system.vault.healthOf(b) < WAD]
    assert len(unsafe) >= 3
    start_block = chain.blocks.head.number

    k = spawn_keeper(keeper)
    assert k.wait_for("indexed", 60), k.output()
    assert drive(chain, system, operator, lambda: all(system.vault.healthOf(a) >= WAD for a in unsafe)
                 and system.auction.count() == 0), k.output()[-4000:]

    liquidations = list(system.engine.Liquidate.range(start_block, chain.blocks.head.number + 1))
    assert {log.account for log in liquidations} == set(unsafe)
    assert all(log.keeper == keeper.address for log in liquidations)
    takes = list(system.auction.Take.range(start_block, chain.blocks.head.number + 1))
    assert takes and all(log.taker == keeper.address for log in takes)
    assert system.buffer.badDebt() == 0
    supply = system.debt_token.totalSupply()
    assert supply == system.vault.totalDebt() + system.auction.totalDebt() + system.buffer.badDebt()
    assert k.stop() == 0
    assert "summary:" in k.output()


def test_dry_run_sends_nothing(system, accounts, chain, spawn_keeper):
    operator, keeper = accounts[0], accounts[1]
    open_borrowers(system, accounts)
    crash(system, chain, operator)
    nonce_before = keeper.nonce
    k = spawn_keeper(keeper, extra=("--dry-run",))
    assert k.wait_for("[dry run]", 60), k.output()
    drive(chain, system, operator, lambda: False, timeout=5)
    assert keeper.nonce == nonce_before
    assert system.auction.count() == 0
    assert k.stop() == 0
    assert "DRY RUN" in k.output()
