"""The main story: accounts open, prices fall, the keeper liquidates and bids, the books close.

`ape run demo` runs it and prints its tables; tests/keeper/test_keeper_e2e.py runs the same
function and asserts on it. Everything reported is read back from the chain (events and state),
not taken from the keeper's own account of what it did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from unwind.deploy import System, feed_answer
from unwind.keeper.process import KeeperProcess, write_record
from unwind.params import WAD

# collateral basket (whole tokens) and debt as a share of the borrow limit
BORROWERS = [
    ({"WETH": 10}, "0.95"),
    ({"WETH": 6, "WBTC": "0.2"}, "0.97"),
    ({"WBTC": "0.5"}, "0.90"),
    ({"WETH": 4, "USDC": 5_000}, "0.99"),
    ({"WETH": 20}, "0.60"),
    ({"USDC": 30_000}, "0.95"),
]
PRICE_MOVES = {"WETH": "2550", "WBTC": "51000"}  # both -15%


@dataclass
class Sale:
    auction_id: int
    symbol: str
    sold: int  # [token units]
    paid: int  # [debt wei]
    reference: int  # oracle price at the take [wad per whole token]
    decimals: int

    @property
    def share_of_reference(self) -> Decimal:
        if self.sold == 0:
            return Decimal(0)
        unit_price = Decimal(self.paid) / (Decimal(self.sold) / Decimal(10**self.decimals))
        return unit_price / Decimal(self.reference)


@dataclass
class StoryResult:
    accounts: int = 0
    unsafe: list = field(default_factory=list)
    liquidated: list = field(default_factory=list)  # accounts the keeper liquidated
    auctions: int = 0
    sales: list = field(default_factory=list)
    settled: bool = False
    debt_before: int = 0
    debt_after: int = 0
    buffer_surplus: int = 0
    bad_debt: int = 0
    supply: int = 0
    backing: int = 0
    keeper_log: str = ""

    @property
    def repaid_by_auctions(self) -> int:
        return sum(s.paid for s in self.sales)


def open_accounts(system: System, borrowers) -> None:
    for account, (basket, utilisation) in zip(borrowers, BORROWERS):
        for symbol, amount in basket.items():
            token = system.collateral[symbol]
            units = int(Decimal(str(amount)) * 10 ** token.decimals())
            token.mint(account, units, sender=account)
            token.approve(system.vault, units, sender=account)
            system.vault.deposit(account, system.ids[symbol], units, sender=account)
        limit = system.vault.maxBorrow(account)
        system.vault.borrow(account, int(limit * Decimal(utilisation)), account, sender=account)


def fund_with_debt_tokens(system: System, account, debt_tokens: int) -> None:
    """A stablecoin-backed position of the keeper's own, so it can pay for takes."""
    usdc = system.collateral["USDC"]
    units = debt_tokens * 2 * 10**6
    usdc.mint(account, units, sender=account)
    usdc.approve(system.vault, units, sender=account)
    system.vault.deposit(account, system.ids["USDC"], units, sender=account)
    system.vault.borrow(account, debt_tokens * WAD, account, sender=account)


def set_price(system: System, chain, sender, symbol: str, price: str) -> None:
    c = next(c for c in system.params.collaterals if c.symbol == symbol)
    system.feeds[symbol].setAnswer(feed_answer(price, c.feed_decimals), sender=sender)


def refresh_feeds(system: System, sender, symbols=None) -> None:
    """A new round at the same answer for each feed (all by default), so none goes stale."""
    for symbol in symbols or system.feeds:
        feed = system.feeds[symbol]
        feed.setAnswer(feed.answer(), sender=sender)


def settle_oracle(system: System, chain, sender, symbols=None) -> None:
    """Let two OSM hops pass with fresh rounds so the confirmed prices move (of `symbols`, or all;
    the other feeds are left alone and may go stale)."""
    symbols = symbols or tuple(system.feeds)
    for _ in range(2):
        chain.mine(1, deltatime=system.params.oracle_delay + 1)
        refresh_feeds(system, sender, symbols)
        for symbol in symbols:
            system.oracle.poke(system.collateral[symbol], sender=sender)


def drive(system: System, chain, sender, until, timeout: float = 180.0, step: int = 60, pause: float = 0.5):
    """Advance the chain a block (`step` seconds) at a time, feeds kept fresh, until `until()`."""
    end = time.time() + timeout
    while time.time() < end:
        if until():
            return True
        refresh_feeds(system, sender)
        chain.mine(1, deltatime=step)
        time.sleep(pause)
    return until()


def run_story(system: System, chain, operator, borrowers, keeper, workdir: Path, log=print,
              timeout: float = 240.0) -> StoryResult:
    s = system
    r = StoryResult(accounts=len(borrowers))
    open_accounts(s, borrowers)
    log(f"opened {len(borrowers)} accounts; their debt {s.vault.totalDebt() / WAD:,.2f} uUSD")
    fund_with_debt_tokens(s, keeper, 500_000)
    log("keeper account holds 500,000 uUSD to pay for takes")
    r.debt_before = s.vault.totalDebt()
    start = chain.blocks.head.number

    for symbol, price in PRICE_MOVES.items():
        set_price(s, chain, operator, symbol, price)
        log(f"{symbol} feed moves to {price}")
    settle_oracle(s, chain, operator)
    r.unsafe = [a.address for a in borrowers if s.vault.healthOf(a) < WAD]
    log(f"{len(r.unsafe)} of {len(borrowers)} accounts are unsafe at the confirmed prices")

    record = write_record(s, Path(workdir) / "deployment.json")
    keeper_proc = KeeperProcess(chain.provider.uri, record, keeper.private_key, Path(workdir))
    try:
        if not keeper_proc.wait_for("indexed", 60):
            raise RuntimeError(f"keeper did not start:\n{keeper_proc.output()[-2000:]}")
        log("keeper process started; mining a block a minute of chain time until every auction settles")
        r.settled = drive(
            s, chain, operator,
            lambda: all(s.vault.healthOf(a) >= WAD for a in r.unsafe) and s.auction.count() == 0,
            timeout=timeout,
        )
    finally:
        keeper_proc.stop()
        r.keeper_log = keeper_proc.output()

    head = chain.blocks.head.number
    r.liquidated = [e.account for e in s.engine.Liquidate.range(start, head + 1) if e.keeper == keeper.address]
    kicks = list(s.auction.Kick.range(start, head + 1))
    r.auctions = len(kicks)
    symbol_of_id = {cid: sym for sym, cid in s.ids.items()}
    collateral_of_auction = {k.id: k.collateralId for k in kicks}
    for take in s.auction.Take.range(start, head + 1):
        if take.taker != keeper.address:
            continue
        symbol = symbol_of_id[collateral_of_auction[take.id]]
        token = s.collateral[symbol]
        reference = s.oracle.peek(token, block_id=take.block_number).current
        r.sales.append(Sale(take.id, symbol, take.slice, take.owe, reference, token.decimals()))
    r.debt_after = s.vault.totalDebt()
    r.buffer_surplus = s.buffer.surplus()
    r.bad_debt = s.buffer.badDebt()
    r.supply = s.debt_token.totalSupply()
    r.backing = s.vault.totalDebt() + s.auction.totalDebt() + s.buffer.badDebt()
    return r
