"""The attacker's profit and loss, measured on chain.

Net worth = every token the attacker holds (its EOA and its contracts), valued at P_ref (the
honest price the harness knows), plus the equity of each vault position it owns,
max(0, collateral at P_ref - debt): a position worth less than its debt is walked away from (that
loss is the protocol's, not the attacker's). PnL = net worth after - net worth before, both valued
at the same P_ref (the honest price when the attack happens), minus gas: every attacker
transaction, reverted ones included, at `GAS_PRICE_GWEI` with ETH at P_ref(WETH).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from unwind.scenarios.world import DEBT, GAS_PRICE_GWEI, D

DEFAULT_PREF = {"WETH": D(3000), "WBTC": D(60000), "USDC": D(1), DEBT: D(1)}


@dataclass
class Holdings:
    wallet: dict = field(default_factory=dict)  # symbol -> token units (summed over addresses)
    positions: dict = field(default_factory=dict)  # account -> {symbol: units, DEBT: wad debt}


def holdings(w, addresses) -> Holdings:
    h = Holdings()
    for sym, token in w.tokens.items():
        h.wallet[sym] = sum(token.balanceOf(a) for a in addresses)
    for a in addresses:
        pos = w.position(a)
        if any(pos.values()):
            h.positions[str(a)] = pos
    return h


def net_worth(w, h: Holdings, pref: dict) -> Decimal:
    total = sum((w.whole(sym, units) * pref.get(sym, D(0)) for sym, units in h.wallet.items()), D(0))
    for pos in h.positions.values():
        collateral = sum((w.whole(sym, units) * pref.get(sym, D(0)) for sym, units in pos.items() if sym != DEBT),
                         D(0))
        equity = collateral - w.whole(DEBT, pos[DEBT])
        total += max(D(0), equity)
    return total


@dataclass
class PnL:
    before: Decimal
    after: Decimal
    gas_units: int
    gas_usd: Decimal
    txs: int
    pref: dict

    @property
    def trading(self) -> Decimal:
        return self.after - self.before

    @property
    def net(self) -> Decimal:
        return self.trading - self.gas_usd

    def line(self) -> str:
        return (f"attacker PnL {self.net:+,.2f} USD (holdings {self.trading:+,.2f}, gas {self.gas_units:,} "
                f"units in {self.txs} txs at {GAS_PRICE_GWEI} gwei = {self.gas_usd:,.2f} USD)")


class Ledger:
    """Snapshot the attacker's holdings before the attack; `close()` measures PnL after it."""

    def __init__(self, w, pref: dict | None = None, extra_addresses=()):
        self.w = w
        self.addresses = [w.attacker, w.bot, *extra_addresses]
        self.pref = dict(DEFAULT_PREF)
        if pref:
            self.pref.update(pref)
        self.start = holdings(w, self.addresses)
        self.gas_at_start = w.attacker_gas
        self.txs_at_start = w.attacker_txs

    def close(self, pref: dict | None = None) -> PnL:
        if pref:
            self.pref.update(pref)
        end = holdings(self.w, self.addresses)
        self.end = end
        gas = self.w.attacker_gas - self.gas_at_start
        gas_usd = D(gas) * GAS_PRICE_GWEI * D(10) ** -9 * self.pref["WETH"]
        return PnL(net_worth(self.w, self.start, self.pref), net_worth(self.w, end, self.pref), gas, gas_usd,
                   self.w.attacker_txs - self.txs_at_start, dict(self.pref))
