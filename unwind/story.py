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

# collateral basket (whole tokens) and debt as a share of the borrow limit. The last one owes more
# than direct liquidation's limit (params/local.yaml: 250,000): it goes through an auction; the
# keeper liquidates the small unsafe ones directly when that pays it more (ILiquidationEngine).
BORROWERS = [
    ({"WETH": 10}, "0.95"),
    ({"WETH": 6, "WBTC": "0.2"}, "0.97"),
    ({"WBTC": "0.5"}, "0.90"),
    ({"WETH": 4, "USDC": 5_000}, "0.99"),
    ({"WETH": 20}, "0.60"),
    ({"USDC": 30_000}, "0.95"),
    ({"WETH": 150}, "0.95"),
]
KEEPER_FUNDS = 1_000_000  # uUSD the keeper holds to pay for takes and direct liquidations
PRICE_MOVES = {"WETH": "2550", "WBTC": "51000"}  # both -15%


@dataclass
class Sale:
    auction_id: int
    symbol: str
    sold: int  # [token units]
    paid: int  # [debt wei]
    reference: int  # oracle price at the take [wad per whole token]
    decimals: int
    tx: str = ""  # the take's transaction

    @property
    def kick(self) -> int:
        """The auction's kick number (1 for the first auction ever started): its id >> 32."""
        return self.auction_id >> 32

    @property
    def value_at_reference(self) -> int:
        """What the collateral sold was worth at the oracle price [debt wei]."""
        return self.sold * self.reference // 10**self.decimals

    @property
    def share_of_reference(self) -> Decimal:
        if self.sold == 0:
            return Decimal(0)
        unit_price = Decimal(self.paid) / (Decimal(self.sold) / Decimal(10**self.decimals))
        return unit_price / Decimal(self.reference)


@dataclass
class DirectSale:
    """A direct liquidation (LiquidateDirect event): collateral bought at the discounted price."""

    account: str
    symbol: str
    seized: int  # [token units]
    repaid: int  # [debt wei]
    discount: int  # [wad]
    reference: int  # oracle price at it [wad per whole token]
    decimals: int

    @property
    def share_of_reference(self) -> Decimal:
        unit_price = Decimal(self.repaid) / (Decimal(self.seized) / Decimal(10**self.decimals))
        return unit_price / Decimal(self.reference)


@dataclass
class StoryResult:
    accounts: int = 0
    unsafe: list = field(default_factory=list)
    liquidated: list = field(default_factory=list)  # accounts the keeper liquidated (either path)
    direct: list = field(default_factory=list)  # DirectSale: the accounts liquidated directly
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
    keeper_txs: int = 0  # transactions the keeper sent while it ran (its nonce moved by this much)
    liquidation_txs: int = 0  # of those, transactions that liquidated (one may liquidate several accounts)
    redos: int = 0
    incentives: int = 0  # liquidation incentives paid to the keeper [debt wei]
    price_moves: list = field(default_factory=list)  # (symbol, old price, new price)

    @property
    def repaid_by_auctions(self) -> int:
        return sum(s.paid for s in self.sales)

    @property
    def bought_below_reference(self) -> int:
        """How far under the oracle price the keeper bought [debt wei]: its margin on the takes."""
        return sum(s.value_at_reference - s.paid for s in self.sales)

    def keeper_line(self) -> str:
        """The keeper's transactions, with the word that reconciles them with the liquidation count."""
        takes = len({s.tx for s in self.sales if s.tx}) or len(self.sales)
        direct = len(self.direct)
        other = self.keeper_txs - self.liquidation_txs - direct - takes - self.redos
        accounts = len(self.liquidated) - direct
        line = (f"keeper: {self.keeper_txs} transactions mined: {direct} direct liquidation{'s' if direct != 1 else ''}, "
                f"{self.liquidation_txs} liquidation transaction{'s' if self.liquidation_txs != 1 else ''} for "
                f"{accounts} account{'s' if accounts != 1 else ''} to auctions (a batch liquidates several accounts "
                f"in one transaction), {takes} take{'s' if takes != 1 else ''}, "
                f"{self.redos} redo{'s' if self.redos != 1 else ''}")
        return line + (f", {other} other (reverted or lost races)" if other > 0 else "")

    @property
    def direct_margin(self) -> int:
        """What the directly seized collateral was worth at the oracle price, less the repays [debt wei]."""
        return sum(d.seized * d.reference // 10**d.decimals - d.repaid for d in self.direct)

    def margin_line(self) -> str:
        return (f"keeper's margin: {_uusd(self.incentives)} of liquidation incentives, collateral worth "
                f"{_uusd(self.repaid_by_auctions + self.bought_below_reference)} at the oracle price bought in "
                f"auctions for {_uusd(self.repaid_by_auctions)} ({_uusd(self.bought_below_reference)} below it), and "
                f"{_uusd(self.direct_margin)} of discount on direct liquidations; before gas")


def _uusd(x: int) -> str:
    return f"{Decimal(x) / WAD:,.2f} uUSD"


def _price(x: Decimal) -> str:
    return f"{x:,.2f}" if x != x.to_integral_value() else f"{x:,.0f}"


def price_move_line(symbol: str, old: Decimal, new: Decimal) -> str:
    """`WETH feed moves from 3,000 to 2,550 uUSD (-15.0%)`."""
    old, new = Decimal(str(old)), Decimal(str(new))
    change = (new / old - 1) if old else Decimal(0)
    return f"{symbol} feed moves from {_price(old)} to {_price(new)} uUSD ({change:+.1%})"


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


def feed_price(system: System, symbol: str) -> Decimal:
    """A mock feed's current answer [debt tokens per whole token]."""
    c = next(c for c in system.params.collaterals if c.symbol == symbol)
    return Decimal(system.feeds[symbol].answer()) / 10**c.feed_decimals


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
    fund_with_debt_tokens(s, keeper, KEEPER_FUNDS)
    log(f"keeper account holds {KEEPER_FUNDS:,} uUSD to pay for takes and direct liquidations")
    r.debt_before = s.vault.totalDebt()
    start = chain.blocks.head.number

    for symbol, price in PRICE_MOVES.items():
        before = feed_price(s, symbol)
        set_price(s, chain, operator, symbol, price)
        r.price_moves.append((symbol, before, Decimal(price)))
        log(price_move_line(symbol, before, Decimal(price)))
    settle_oracle(s, chain, operator)
    r.unsafe = [a.address for a in borrowers if s.vault.healthOf(a) < WAD]
    log(f"{len(r.unsafe)} of {len(borrowers)} accounts are unsafe at the confirmed prices")

    nonce_before = keeper.nonce
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
    r.keeper_txs = keeper.nonce - nonce_before
    liquidations = [e for e in s.engine.Liquidate.range(start, head + 1) if e.keeper == keeper.address]
    symbol_of_id = {cid: sym for sym, cid in s.ids.items()}
    for e in s.direct.LiquidateDirect.range(start, head + 1):
        if e.liquidator != keeper.address:
            continue
        token = s.collateral[symbol_of_id[e.collateralId]]
        r.direct.append(DirectSale(e.account, symbol_of_id[e.collateralId], e.seized, e.repaid, e.discount,
                                   s.oracle.peek(token, block_id=e.block_number).current, token.decimals()))
    r.liquidated = [e.account for e in liquidations] + [d.account for d in r.direct]
    r.liquidation_txs = len({e.transaction_hash for e in liquidations})
    r.incentives = sum(e.incentive for e in liquidations)
    r.redos = len({e.transaction_hash for e in s.auction.Redo.range(start, head + 1) if e.keeper == keeper.address})
    kicks = list(s.auction.Kick.range(start, head + 1))
    r.auctions = len(kicks)
    collateral_of_auction = {k.id: k.collateralId for k in kicks}
    for take in s.auction.Take.range(start, head + 1):
        if take.taker != keeper.address:
            continue
        symbol = symbol_of_id[collateral_of_auction[take.id]]
        token = s.collateral[symbol]
        reference = s.oracle.peek(token, block_id=take.block_number).current
        r.sales.append(Sale(take.id, symbol, take.slice, take.owe, reference, token.decimals(),
                            str(take.transaction_hash)))
    r.debt_after = s.vault.totalDebt()
    r.buffer_surplus = s.buffer.surplus()
    r.bad_debt = s.buffer.badDebt()
    r.supply = s.debt_token.totalSupply()
    r.backing = s.vault.totalDebt() + s.auction.totalDebt() + s.buffer.badDebt()
    return r
