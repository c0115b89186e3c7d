"""The main story: accounts open, prices fall, liquidations, auctions settle, books close.

Used by `ape run demo` and by a test, so the demo's numbers are the tested numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from unwind.deploy import System, feed_answer
from unwind.params import WAD

# symbol -> (amount of collateral, debt as a share of the borrow limit)
BORROWERS = [
    ({"WETH": 10}, "0.95"),
    ({"WETH": 6, "WBTC": "0.2"}, "0.97"),
    ({"WBTC": "0.5"}, "0.90"),
    ({"WETH": 4, "USDC": 5_000}, "0.99"),
    ({"WETH": 20}, "0.60"),
    ({"USDC": 30_000}, "0.95"),
]
PRICE_MOVES = {"WETH": "2250", "WBTC": "46000"}  # -25% and about -23%


@dataclass
class Sale:
    auction_id: int
    symbol: str
    sold: int  # token units
    paid: int  # debt wei
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
    liquidated: list = field(default_factory=list)
    auctions: int = 0
    sales: list = field(default_factory=list)
    debt_before: int = 0
    debt_after: int = 0
    repaid_by_auctions: int = 0
    buffer_surplus: int = 0
    bad_debt: int = 0
    supply: int = 0
    backing: int = 0


def _whole(token, amount) -> int:
    return int(Decimal(str(amount)) * 10 ** token.decimals())


def set_price(system: System, chain, sender, symbol: str, price: str) -> None:
    c = next(c for c in system.params.collaterals if c.symbol == symbol)
    system.feeds[symbol].setAnswer(feed_answer(price, c.feed_decimals), sender=sender)


def settle_oracle(system: System, chain, sender) -> None:
    """Let two OSM hops pass with fresh rounds so the confirmed prices move."""
    for _ in range(2):
        chain.mine(1, deltatime=system.params.oracle_delay + 1)
        for symbol, feed in system.feeds.items():
            feed.setAnswer(feed.answer(), sender=sender)
            system.oracle.poke(system.collateral[symbol], sender=sender)


def run_story(system: System, chain, operator, borrowers, keeper, bidder, log=print) -> StoryResult:
    s = system
    r = StoryResult(accounts=len(borrowers))
    for account, (basket, utilisation) in zip(borrowers, BORROWERS):
        for symbol, amount in basket.items():
            token = s.collateral[symbol]
            units = _whole(token, amount)
            token.mint(account, units, sender=account)
            token.approve(s.vault, units, sender=account)
            s.vault.deposit(account, s.ids[symbol], units, sender=account)
        limit = s.vault.maxBorrow(account)
        s.vault.borrow(account, int(limit * Decimal(utilisation)), account, sender=account)
    log(f"opened {len(borrowers)} accounts; total debt {s.vault.totalDebt() / WAD:,.2f}")

    # The bidder brings its own debt tokens (a stablecoin position), so it needs no flash loan.
    usdc = s.collateral["USDC"]
    units = _whole(usdc, 2_000_000)
    usdc.mint(bidder, units, sender=bidder)
    usdc.approve(s.vault, units, sender=bidder)
    s.vault.deposit(bidder, s.ids["USDC"], units, sender=bidder)
    s.vault.borrow(bidder, 1_000_000 * WAD, bidder, sender=bidder)
    r.debt_before = s.vault.totalDebt()

    for symbol, price in PRICE_MOVES.items():
        set_price(s, chain, operator, symbol, price)
        log(f"{symbol} feed moves to {price}")
    settle_oracle(s, chain, operator)

    unsafe = [a for a in borrowers if s.vault.healthOf(a) < WAD]
    log(f"{len(unsafe)} of {len(borrowers)} accounts unsafe at the confirmed prices")
    if unsafe:
        s.engine.liquidateBatch([a.address for a in unsafe], keeper, sender=keeper)
    r.liquidated = [a.address for a in unsafe if s.vault.debtOf(a) < r.debt_before]
    r.auctions = s.auction.count()
    log(f"liquidated {len(r.liquidated)} accounts into {r.auctions} auctions")

    # The bidder takes each auction once its price falls to the oracle's price (no premium).
    steps = 0
    while s.auction.count() > 0 and steps < 200:
        steps += 1
        chain.mine(1, deltatime=60)
        for symbol, feed in s.feeds.items():
            feed.setAnswer(feed.answer(), sender=operator)
        for auction_id in list(s.auction.list()):
            needs_redo, price, lot, tab = s.auction.getStatus(auction_id)
            sale = s.auction.sales(auction_id)
            if needs_redo:
                s.auction.redo(auction_id, bidder, sender=bidder)
                continue
            reference = s.oracle.peek(sale.token).current
            if price <= reference:
                receipt = s.auction.take(auction_id, lot, price, bidder, b"", sender=bidder)
                take = receipt.events.filter(s.auction.Take)[0]
                symbol = next(k for k, v in s.collateral.items() if v.address == sale.token)
                r.sales.append(Sale(auction_id, symbol, take.slice, take.owe, reference, sale.decimals))
    r.debt_after = s.vault.totalDebt()
    r.repaid_by_auctions = sum(x.paid for x in r.sales)
    r.buffer_surplus = s.buffer.surplus()
    r.bad_debt = s.buffer.badDebt()
    r.supply = s.debt_token.totalSupply()
    r.backing = s.vault.totalDebt() + s.auction.totalDebt() + s.buffer.badDebt()
    return r
