"""Adaptive risk parameters: the Python reference of contracts/risk/AdaptiveRisk.sol.

The estimator is an exponentially weighted moving average of squared log returns of ACCEPTED
oracle prices, weighted by time (half-life in seconds), annualised with a 365-day year:

    v  = min(r**2 * YEAR / dt, var_cap)            r = ln(p / p_prev), dt = seconds since last sample
    w  = 1 - 2 ** (-min(dt, max_interval) / half_life)
    variance += w * (v - variance)

The contract computes the same in fixed point (solady's lnWad/expWad/sqrtWad); tests compare the
two over the same price series. Bands and defaults for a deployment live here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from unwind.params import RAY, WAD, SystemParams, wad
from unwind.params import AdaptiveParams

YEAR = 365 * 24 * 3600


@dataclass
class Band:
    vol_low: int
    vol_high: int
    vol_init: int
    ltv_at_low: int
    ltv_at_high: int
    lt_at_low: int
    lt_at_high: int
    buffer_at_low: int
    buffer_at_high: int
    duration_at_low: int
    duration_at_high: int
    cut_at_low: int
    cut_at_high: int
    chip_at_low: int
    chip_at_high: int

    def as_tuple(self) -> tuple:
        return (
            self.vol_low,
            self.vol_high,
            self.vol_init,
            self.ltv_at_low,
            self.ltv_at_high,
            self.lt_at_low,
            self.lt_at_high,
            self.buffer_at_low,
            self.buffer_at_high,
            self.duration_at_low,
            self.duration_at_high,
            self.cut_at_low,
            self.cut_at_high,
            self.chip_at_low,
            self.chip_at_high,
        )


# Annualised volatility regimes per collateral symbol: (low, high, initial).
VOL_REGIMES = {
    "WETH": ("0.4", "1.2", "0.6"),
    "WBTC": ("0.3", "1.0", "0.5"),
    "USDC": ("0.02", "0.2", "0.03"),
}


def default_bands(params: SystemParams) -> dict[int, Band]:
    """A band per collateral around its static parameters: at low volatility the static values,
    at high volatility 10 points less LTV, 5 points less threshold, a 15% higher start buffer, a
    curve twice as fast and twice the keeper chip."""
    bands = {}
    for i, c in enumerate(params.collaterals):
        low, high, init = VOL_REGIMES.get(c.symbol, ("0.4", "1.2", "0.6"))
        a = c.auction
        bands[i] = Band(
            vol_low=wad(low),
            vol_high=wad(high),
            vol_init=wad(init),
            ltv_at_low=c.max_ltv,
            ltv_at_high=c.max_ltv - wad("0.1"),
            lt_at_low=c.liquidation_threshold,
            lt_at_high=c.liquidation_threshold - wad("0.05"),
            buffer_at_low=a.buffer,
            buffer_at_high=a.buffer + wad("0.15"),
            duration_at_low=a.duration,
            duration_at_high=a.duration // 2,
            cut_at_low=a.cut,
            cut_at_high=RAY - 2 * (RAY - a.cut),
            chip_at_low=params.chip,
            chip_at_high=2 * params.chip,
        )
    return bands


@dataclass
class Estimator:
    """Float reference of the on-chain estimator for one collateral."""

    config: AdaptiveParams
    variance: float  # annualised
    last_price: float | None = None
    last_time: int | None = None
    samples: list[tuple[int, float, float]] = field(default_factory=list)

    def weight(self, dt: int) -> float:
        return 1 - 2 ** (-min(dt, self.config.max_interval) / self.config.half_life)

    def sample(self, t: int, price: float) -> bool:
        """Feed one accepted price at time t; returns whether it was taken as a sample."""
        if self.last_time is not None and t < self.last_time + self.config.min_interval:
            return False
        if self.last_time is not None:
            dt = t - self.last_time
            r = math.log(price / self.last_price)
            v = min(r * r * YEAR / dt, self.config.var_cap / WAD)
            self.variance += self.weight(dt) * (v - self.variance)
        self.last_price, self.last_time = price, t
        self.samples.append((t, price, self.variance))
        return True

    @property
    def volatility(self) -> float:
        return math.sqrt(self.variance)

    def wick_bound(self) -> float:
        """The most a one-round wick (two samples) can move the variance."""
        return 2 * self.weight(self.config.max_interval) * self.config.var_cap / WAD


def position(band: Band, vol: float) -> float:
    lo, hi = band.vol_low / WAD, band.vol_high / WAD
    return min(1.0, max(0.0, (vol - lo) / (hi - lo)))


def effective(band: Band, vol: float) -> dict[str, float]:
    """The effective parameters at annualised volatility `vol` (floats, in readable units)."""
    s = position(band, vol)

    def lerp(a, b):
        return a + s * (b - a)

    return {
        "volatility": vol,
        "position": s,
        "max_ltv": lerp(band.ltv_at_low, band.ltv_at_high) / WAD,
        "threshold": lerp(band.lt_at_low, band.lt_at_high) / WAD,
        "buffer": lerp(band.buffer_at_low, band.buffer_at_high) / WAD,
        "duration": lerp(band.duration_at_low, band.duration_at_high),
        "cut": lerp(band.cut_at_low, band.cut_at_high) / RAY,
        "chip": lerp(band.chip_at_low, band.chip_at_high) / WAD,
    }

