"""Independent Python models of IPerpMarkets' and IPerpPool's arithmetic, from their NatSpec.

Python's `//` rounds toward -inf and `ceil_div` toward +inf, so the documented signed roundings
(a buy's fill up, a sell's down, added cost up, closed value down, funding up) read directly.
"""

from __future__ import annotations

from dataclasses import dataclass

WAD = 10**18
WAD2 = 10**36
DAY = 86_400
OFFSET = 10**6  # the pool's virtual shares (decimals offset 6)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def sign(x: int) -> int:
    return (x > 0) - (x < 0)


@dataclass
class Ledger:
    """Debt tokens that entered or left the perps contracts, and what settlements moved."""
    lp_in: int = 0
    lp_out: int = 0
    margin_in: int = 0
    margin_out: int = 0
    settled: int = 0  # sum over trades of fee + funding - realised PnL (the pool's side)


@dataclass
class MarketModel:
    min_im: int
    mm_fraction: int
    im_scale: int
    fee: int
    max_funding: int
    skew_scale: int
    max_long: int
    max_short: int

    def ratios(self, size: int) -> tuple[int, int]:
        imr = self.min_im + ceil_div(abs(size) * self.im_scale, self.skew_scale)
        return imr, ceil_div(imr * self.mm_fraction, WAD)

    def fill(self, skew: int, delta: int, price: int) -> int:
        """price x (1 + (skewBefore + skewAfter) / 2 / skewScale); buys round up, sells down."""
        num = (2 * skew + delta) * price
        den = 2 * self.skew_scale
        adj = ceil_div(num, den) if delta > 0 else num // den
        return max(price + adj, 0)

    def rate(self, skew: int) -> int:
        """[wad per day] toward zero."""
        c = min(abs(skew), self.skew_scale)
        return sign(skew) * (self.max_funding * c // self.skew_scale)

    def index_delta(self, skew: int, price: int, dt: int) -> int:
        """maxFundingRate x clamp(skew / scale) x price x dt / 1 day [x 1e36], away from zero."""
        c = min(abs(skew), self.skew_scale)
        return sign(skew) * ceil_div(self.max_funding * c * price * dt, self.skew_scale * DAY)

    def trade_fee(self, delta: int, fill: int) -> int:
        return ceil_div(ceil_div(abs(delta) * fill, WAD) * self.fee, WAD)


def funding_owed(size: int, d_index: int) -> int:
    """Positive: the trader pays (rounded up); negative: receives (rounded toward zero)."""
    return ceil_div(size * d_index, WAD2)


def apply_trade(s0: int, c0: int, delta: int, fill: int) -> tuple[int, int, int]:
    """(new size, new cost basis, realised PnL) of a trade at `fill`."""
    s1 = s0 + delta
    if s0 == 0 or sign(s0) == sign(delta):
        return s1, c0 + ceil_div(delta * fill, WAD), 0
    closed = min(abs(delta), abs(s0))
    removed = c0 if closed == abs(s0) else ceil_div(c0 * closed, abs(s0))
    realised = (sign(s0) * closed * fill) // WAD - removed
    c1 = c0 - removed
    if s1 != 0 and sign(s1) != sign(s0):
        c1 = ceil_div(s1 * fill, WAD)
    return s1, c1, realised


def requirement(size: int, price: int, ratio: int) -> int:
    return ceil_div(ceil_div(abs(size) * price, WAD) * ratio, WAD)


def account_terms(margin: int, positions: list, models: dict, prices: dict, index_now: dict, haircut: int) -> dict:
    """positions: (market, size, cost, last_index); prices: market -> (current, delayed)."""
    t = dict(margin=margin, pnl=0, gainsCredited=0, losses=0, maintenanceRequirement=0, initialRequirement=0,
             hasPositions=bool(positions))
    gains = 0
    for market, size, cost, last in positions:
        m = models[market]
        cur, delayed = prices[market]
        lo, hi = min(cur, delayed), max(cur, delayed)
        owed = funding_owed(size, index_now[market] - last)
        t["pnl"] += (size * cur) // WAD - cost - owed
        pim = (size * (lo if size > 0 else hi)) // WAD - cost - owed
        if pim > 0:
            gains += pim
        else:
            t["losses"] += -pim
        imr, mmr = m.ratios(size)
        t["initialRequirement"] += requirement(size, hi, imr)
        t["maintenanceRequirement"] += requirement(size, cur, mmr)
    t["gainsCredited"] = gains * haircut // WAD
    return t


# --- the pool (OpenZeppelin ERC4626 with a virtual offset) ---


def to_shares(assets: int, supply: int, total_assets: int, up=False) -> int:
    num, den = assets * (supply + OFFSET), total_assets + 1
    return ceil_div(num, den) if up else num // den


def to_assets(shares: int, supply: int, total_assets: int, up=False) -> int:
    num, den = shares * (total_assets + 1), supply + OFFSET
    return ceil_div(num, den) if up else num // den
