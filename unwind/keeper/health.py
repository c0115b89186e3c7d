"""Account health off-chain, from the index and one snapshot of market state per block.

A `MarketState` holds what every account's health depends on besides its own position: the
stability-fee accumulator and, per collateral, decimals, liquidation threshold, the oracle's
confirmed liquidation price and its guard. Reading it costs the same number of RPC calls whatever
the number of accounts (see runner.read_market_state). Arithmetic mirrors the contracts: debt
rounds up, collateral value rounds down.
"""

from __future__ import annotations

from dataclasses import dataclass

WAD = 10**18
RAY = 10**27
MAX_UINT = 2**256 - 1


@dataclass(frozen=True)
class CollateralState:
    token: str
    decimals: int
    liquidation_threshold: int  # [wad]
    liquidation_price: int  # [wad price], 0 when guarded
    current_price: int  # [wad price]
    guard: int  # IOracleAdapter.Guard, 0 = None


@dataclass(frozen=True)
class MarketState:
    block: int
    rate: int  # [ray]
    collaterals: dict  # id -> CollateralState


def debt_of(art: int, rate: int) -> int:
    return -(-art * rate // RAY)  # ceil, like the vault


def health_of(position, state: MarketState) -> tuple[int, bool]:
    """(health [wad], liquidatable now). Guarded collateral counts at its last price, but an
    account holding any guarded collateral is not liquidatable (the engine would revert)."""
    debt = debt_of(position.art, state.rate)
    if debt == 0:
        return MAX_UINT, False
    weighted = 0
    guarded = False
    for cid, amount in position.collateral.items():
        c = state.collaterals.get(cid)
        if c is None:
            continue
        price = c.liquidation_price
        if price == 0:
            guarded = True
            price = c.current_price
        value = amount * price // 10**c.decimals
        weighted += value * c.liquidation_threshold // WAD
    health = weighted * WAD // debt
    return health, health < WAD and not guarded
