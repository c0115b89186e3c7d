"""The auction curves of contracts/auction/AuctionCurves.sol, in exact arithmetic, for tools that
plan around an auction's price (scenarios, the crash replay's notes): the contract rounds every
step up, so its price is never below `price` here and the two agree to a few wei."""

from __future__ import annotations

from fractions import Fraction

from unwind.params import CURVES

RAY = 10**27


def price(p, top: int, elapsed: int) -> Fraction:
    """The curve price `elapsed` seconds after an auction started at `top`; `p` is the auction's
    on-chain AuctionParams (curve, duration, cut, step)."""
    if p.curve == CURVES["linear"]:
        return Fraction(0) if elapsed >= p.duration else Fraction(top * (p.duration - elapsed), p.duration)
    cut = Fraction(p.cut, RAY)
    n = elapsed if p.curve == CURVES["exponential"] else elapsed // p.step
    return top * cut**n


def last_second_at_or_above(p, top: int, bound: int, horizon: int) -> int:
    """The last elapsed second in [0, horizon] at which the curve is still at or above `bound`
    (the curves never rise); -1 if it starts below."""
    if price(p, top, 0) < bound:
        return -1
    lo, hi = 0, horizon
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if price(p, top, mid) >= bound:
            lo = mid
        else:
            hi = mid - 1
    return lo
