"""Risk parameters for a deployment, with the defaults a local chain uses.

Units follow the contracts: WAD (1e18) for amounts and ratios, RAY (1e27) for rates, seconds for
durations. Helpers below turn readable numbers into those units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WAD = 10**18
RAY = 10**27


def wad(x: float | int | str) -> int:
    """A decimal number as a WAD integer, exactly (strings avoid float rounding)."""
    from decimal import Decimal

    return int(Decimal(str(x)) * WAD)


def ray(x: float | int | str) -> int:
    from decimal import Decimal

    return int(Decimal(str(x)) * RAY)


CURVES = {"linear": 0, "exponential": 1, "stairstep": 2}


@dataclass
class AuctionParams:
    curve: str = "linear"
    buffer: int = wad("1.2")  # start at reference x 1.2
    duration: int = 3600  # linear: reaches zero after an hour
    cut: int = ray("0.99")  # exponential: per second; stairstep: per step
    step: int = 60  # stairstep step
    max_age: int = 2 * 3600  # older auctions need a redo
    max_discount: int = wad("0.2")  # never sell more than 20% below the oracle price
    redo_tip: int = wad(10)
    redo_chip: int = wad("0.001")

    def as_tuple(self) -> tuple:
        return (
            CURVES[self.curve],
            self.buffer,
            self.duration,
            self.cut,
            self.step,
            self.max_age,
            self.max_discount,
            self.redo_tip,
            self.redo_chip,
        )


@dataclass
class CollateralParams:
    symbol: str
    decimals: int
    price: str  # initial mock feed price, in units of account per whole token
    max_ltv: int
    liquidation_threshold: int
    penalty: int
    supply_cap: int  # whole tokens
    collateral_cap: int = wad(5_000_000)  # debt under auction for this collateral
    feed_decimals: int = 8
    heartbeat: int = 3600
    max_jump_bps: int = 5000
    max_deviation_bps: int = 500
    auction: AuctionParams = field(default_factory=AuctionParams)


@dataclass
class SystemParams:
    collaterals: list[CollateralParams]
    dust: int = wad(1_000)
    debt_ceiling: int = wad(100_000_000)
    stability_fee: int = RAY  # per second; RAY = no fee
    target_health: int = wad("1.25")
    lot_margin: int = wad("0.05")  # must stay below 1 - threshold*(1+penalty) for partial closes
    tip: int = wad(20)
    chip: int = wad("0.01")
    global_cap: int = wad(10_000_000)
    oracle_delay: int = 600  # OSM hop [s]
    recovery_grace: int = 1800  # [s]
    unpause_grace: int = 1800  # [s]
    timelock_delay: int = 0  # [s]; live networks use a day or more


def default_params() -> SystemParams:
    """Three collateral types of 18, 8 and 6 decimals, priced like ETH, BTC and a stablecoin."""
    return SystemParams(
        collaterals=[
            CollateralParams("WETH", 18, "3000", wad("0.75"), wad("0.8"), wad("0.1"), 1_000_000),
            CollateralParams("WBTC", 8, "60000", wad("0.7"), wad("0.78"), wad("0.1"), 50_000),
            CollateralParams("USDC", 6, "1", wad("0.85"), wad("0.9"), wad("0.05"), 100_000_000),
        ]
    )
