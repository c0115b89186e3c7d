"""What to do this block: which accounts to liquidate and which auctions to take. Pure logic."""

from __future__ import annotations

from dataclasses import dataclass

from unwind.client import AUCTION_REFUSING_GUARDS, MAX_PAID_REDOS
from unwind.keeper.health import WAD, MarketState, health_of


@dataclass(frozen=True)
class Candidate:
    account: str
    health: int  # [wad]


def in_shard(account: str, shard: int, shards: int) -> bool:
    """Accounts are split between keepers by address, so several keepers can share the work."""
    return shards <= 1 or int(account, 16) % shards == shard


def scan(index, state: MarketState, warn_health: int, shard: int = 0, shards: int = 1):
    """(liquidatable candidates sorted worst first, accounts below the warning health)."""
    unsafe, warnings = [], []
    for account, position in index.positions.items():
        if position.art == 0 or not in_shard(account, shard, shards):
            continue
        health, liquidatable = health_of(position, state)
        if liquidatable:
            unsafe.append(Candidate(account, health))
        elif health < warn_health:
            warnings.append(Candidate(account, health))
    unsafe.sort(key=lambda c: c.health)
    warnings.sort(key=lambda c: c.health)
    return unsafe, warnings


@dataclass(frozen=True)
class Bid:
    auction_id: int
    amount: int  # collateral to ask for [token units]
    max_price: int  # [wad price]
    expected_owe: int  # [wad]
    expected_profit: int  # [wad] after gas
    bought: int = 0  # collateral the take will deliver [token units]
    proceeds: int = 0  # [wad] flash takes: what the market quoted for `bought`


def plan_bid(
    auction_id: int,
    price: int,
    lot: int,
    tab: int,
    decimals: int,
    market_price: int,
    gas_cost: int,
    min_profit: int,
    budget: int | None = None,
) -> Bid | None:
    """Bid for a whole auction (or what `budget` debt tokens pay for) when selling the collateral
    at `market_price` beats paying the auction price by at least `min_profit` after gas.

    Prices are WAD per whole token; `gas_cost` is in debt-token wei. Returns None when the bid is
    not worth it: the keeper never bids at a loss (auction-keeper's missing guard).
    """
    sized = size_take(price, lot, tab, decimals, budget)
    if sized is None:
        return None
    request, bought, owe = sized
    proceeds = bought * market_price // 10**decimals
    profit = proceeds - owe - gas_cost
    if profit < max(min_profit, 0):  # a negative --min-profit must not turn into bidding at a loss
        return None
    return Bid(auction_id, request, price, owe, profit, bought)


def size_take(price: int, lot: int, tab: int, decimals: int, budget: int | None = None):
    """(amount to ask for, collateral it buys, debt tokens it costs) at the auction's rounding,
    or None when it buys nothing."""
    if price == 0 or lot == 0 or tab == 0:
        return None
    scale = 10**decimals
    # Ask for the whole lot: the auction itself trims a take to what covers the tab (asking for
    # exactly tab/price, rounded down, would leave a sliver of tab the dust rule then refuses).
    request = bought = lot
    owe = -(-lot * price // scale)
    if owe > tab:
        owe = tab
        bought = tab * scale // price
    if budget is not None and owe > budget:
        request = bought = budget * scale // price
        owe = -(-bought * price // scale)
    if bought == 0:
        return None
    return request, bought, owe


def plan_flash_bid(auction_id: int, price: int, request: int, bought: int, owe: int, proceeds: int,
                   gas_cost: int, min_profit: int) -> Bid | None:
    """A take paid by selling the collateral in a market inside the transaction: `proceeds` is
    what the market gives for `bought`. None unless it pays `owe` and clears min_profit after gas."""
    profit = proceeds - owe - gas_cost
    if proceeds < owe or profit < max(min_profit, 0):
        return None
    return Bid(auction_id, request, price, owe, profit, bought, proceeds)


def flash_min_proceeds(bid: Bid, gas_cost: int, min_profit: int, slippage_bps: int) -> int:
    """The least a flash take may get from the market (FlashTaker's `minProceeds`; below it the
    take reverts): the quote less `slippage_bps`, and never less than owe + gas + min_profit, so
    a market moved against the take (a sandwich) cannot leave the keeper paying for its gas."""
    floor = bid.expected_owe + gas_cost + max(min_profit, 0)
    return max(floor, bid.proceeds * (10_000 - slippage_bps) // 10_000)


def gas_cost_in_debt(gas_units: int, fee_per_gas: int, native_price_wad: int) -> int:
    """Gas cost of a transaction in debt-token wei, with the native coin priced in WAD."""
    return gas_units * fee_per_gas * native_price_wad // WAD


def redo_incentive(lot: int, tab: int, decimals: int, current_price: int, dust: int, redo_tip: int,
                   redo_chip: int, paid_redos: int = 0) -> int:
    """What DutchAuction.redo pays the keeper [debt wei]: redoTip + redoChip x tab, only when
    neither the tab nor the lot's value at the current price is below the dust floor, and only for
    an auction's first MAX_PAID_REDOS paid redos (IDutchAuction REDO INCENTIVE)."""
    lot_value = lot * current_price // 10**decimals
    if tab < dust or lot_value < dust or paid_redos >= MAX_PAID_REDOS:
        return 0
    return redo_tip + tab * redo_chip // WAD


def auction_refused(guard: int) -> str | None:
    """The guard's name when the auction refuses takes and redos of its collateral now
    (IDutchAuction PRICE GUARDS): sending one would only pay gas for a revert."""
    return AUCTION_REFUSING_GUARDS.get(guard)


def floor_price(reference: int, max_discount: int) -> int:
    """The lowest price a restarted auction reaches before it needs a redo again [wad price]:
    the reference (the oracle's auction start price) less maxDiscount, as the auction rounds it."""
    return -(-reference * (WAD - max_discount) // WAD)


@dataclass(frozen=True)
class DirectOption:
    """One way to liquidate an account directly (IDirectLiquidator, DIRECT LIQUIDATION)."""

    account: str
    collateral_id: int
    repay: int  # [wad] what the engine burns from the keeper
    seized: int  # [token units]
    value: int  # [wad] what the seized collateral is worth to the keeper (market quote or oracle price)
    flash: bool  # paid by selling the collateral into a market inside the transaction
    profit: int  # [wad] value - repay - gas


def choose_direct(options: list, auction_incentive: int, gas_auction: int, gas_direct: int, min_profit: int,
                  budget: int) -> DirectOption | None:
    """The direct liquidation to send instead of starting an auction, or None.

    Direct when its profit after gas (the seized collateral's value less the repay and the gas)
    beats what starting the auction pays the keeper now (the engine's incentive less its gas share)
    and clears `min_profit`; a direct liquidation the keeper cannot pay (debt tokens below the
    repay, no flash market) is not an option. Never at a loss."""
    best = None
    for o in options:
        if not o.flash and o.repay > budget:
            continue
        profit = o.value - o.repay - gas_direct
        if best is None or profit > best.profit:
            best = DirectOption(o.account, o.collateral_id, o.repay, o.seized, o.value, o.flash, profit)
    if best is None or best.profit < max(min_profit, 0) or best.profit <= auction_incentive - gas_auction:
        return None
    return best
