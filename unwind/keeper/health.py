"""Account health off-chain, from the index and one snapshot of market state per block.

A `MarketState` holds what every account's liquidation depends on besides its own position: the
stability-fee accumulator, the dust floor, the engine's parameters, the queue's room under its
caps and, per collateral, decimals, liquidation threshold, penalty and the oracle's quote.
Reading it costs the same number of RPC calls whatever the number of accounts (see
runner.read_market_state). Whether an account is liquidatable is decided by the engine's own
planner (unwind/keeper/plan.py, checked equal to previewLiquidate): one rule, not a second one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from unwind.keeper import plan as planner

WAD = 10**18
RAY = 10**27
MAX_UINT = 2**256 - 1

# Used when a state is built without the engine's parameters (unit tests): no caps, no incentive.
NO_LIMITS = planner.EngineConfig(target_health=125 * WAD // 100, lot_margin=5 * WAD // 100, tip=0, chip=0,
                                 global_cap=MAX_UINT)


@dataclass(frozen=True)
class CollateralState:
    token: str
    decimals: int
    liquidation_threshold: int  # [wad]
    liquidation_price: int  # [wad price], 0 when guarded
    current_price: int  # [wad price]
    guard: int  # IOracleAdapter.Guard, 0 = None
    penalty: int = 0  # [wad]
    auction_start_price: int = 0  # [wad price]


@dataclass(frozen=True)
class MarketState:
    block: int
    rate: int  # [ray]
    collaterals: dict  # id -> CollateralState
    dust: int = 0  # [wad]
    engine: planner.EngineConfig = NO_LIMITS
    queue: planner.Queue | None = None  # None: no caps
    _market: list = field(default_factory=list, compare=False, repr=False)  # the planner's view, built once

    def market(self) -> planner.Market:
        if not self._market:
            terms = {cid: planner.Terms(c.token, c.decimals, c.liquidation_threshold, c.penalty,
                                        planner.Quote(c.current_price, c.liquidation_price, c.auction_start_price,
                                                      c.guard))
                     for cid, c in self.collaterals.items()}
            queue = self.queue or planner.Queue(0, {}, dict.fromkeys(self.collaterals, MAX_UINT))
            self._market.append(planner.Market(self.dust, self.engine, queue, terms))
        return self._market[0]


def market_state(block: int, rate: int, dust: int, engine: tuple, total_debt: int, collaterals: list) -> MarketState:
    """A MarketState from the contracts' answers, as read_market_state reads them: `engine` is
    (targetHealth, lotMargin, tip, chip, globalCap); each of `collaterals` is (id, token, decimals,
    IVault.collateral(id), IOracleAdapter.peek(token), auction.debtOf(id), engine.collateralCap(id))."""
    cols, debt_of_id, caps = {}, {}, {}
    for cid, token, decimals, conf, q, used, cap in collaterals:
        # CollateralConfig: token, decimals, frozen, maxLtv, liquidationThreshold, penalty, ...
        # Quote: current, borrowPrice, liquidationPrice, auctionStartPrice, status, guard
        cols[cid] = CollateralState(token, decimals, conf[4], q[2], q[0], q[5], conf[5], q[3])
        debt_of_id[cid], caps[cid] = used, cap
    return MarketState(block, rate, cols, dust, planner.EngineConfig(*engine),
                       planner.Queue(total_debt, debt_of_id, caps))


def debt_of(art: int, rate: int) -> int:
    return -(-art * rate // RAY)  # ceil, like the vault


def preview_of(position, state: MarketState) -> planner.Preview:
    """What the engine's previewLiquidate answers for this position in this state."""
    return planner.plan_position(position.collateral, debt_of(position.art, state.rate), state.market())


def health_of(position, state: MarketState) -> tuple[int, bool]:
    """(health [wad], liquidatable now). Guarded collateral counts at its last price (IVault). An
    unsafe account is liquidatable when the engine's plan for it goes ahead (preview_of): a guarded
    holding blocks only when nothing priced is left to seize, a full cap only when less than the
    dust rules need fits. The health is computed first, so a healthy account costs no plan."""
    debt = debt_of(position.art, state.rate)
    if debt == 0:
        return MAX_UINT, False
    weighted = 0
    for cid, amount in position.collateral.items():
        c = state.collaterals.get(cid)
        if c is None or amount <= 0:
            continue
        price = c.liquidation_price or c.current_price
        value = amount * price // 10**c.decimals
        weighted += value * c.liquidation_threshold // WAD
    health = weighted * WAD // debt
    if health >= WAD:
        return health, False
    return health, preview_of(position, state).liquidatable
