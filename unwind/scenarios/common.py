"""Moves several scenarios share: the attacker trading in the markets, borrowing, liquidating."""

from __future__ import annotations

from decimal import Decimal

from unwind.params import WAD
from unwind.scenarios.world import DEBT, MAX_UINT, D, World

HEARTBEAT = 3600  # unwind.params default for every collateral
PRICE_WAD = lambda x: int(D(x) * WAD)  # noqa: E731


def money(x) -> str:
    return f"{D(x):,.2f}"


def wad_str(x: int) -> str:
    return f"{D(x) / WAD:,.2f}"


def buy(w: World, sym: str, whole, who=None, what: str | None = None) -> int:
    """The attacker buys `whole` tokens of `sym` with debt tokens in its market."""
    who = who or w.attacker
    m = w.markets[sym]
    units = w.units(sym, whole)
    cost = m.getAmountIn(w.s.debt_token, units)
    w.act(what or f"buy {whole} {sym} in the market for {wad_str(cost)} uUSD", m.swap, w.s.debt_token, cost, units,
          who, sender=who)
    return units


def sell(w: World, sym: str, units: int, who=None, what: str | None = None) -> int:
    who = who or w.attacker
    m = w.markets[sym]
    out = m.getAmountOut(w.tokens[sym], units)
    w.act(what or f"sell {w.whole(sym, units):,.4f} {sym} in the market for {wad_str(out)} uUSD", m.swap,
          w.tokens[sym], units, 0, who, sender=who)
    return out


def spend(w: World, sym: str, debt_wad: int, who=None, what: str | None = None) -> int:
    """The attacker sells `debt_wad` debt tokens for `sym` (pumping its market)."""
    who = who or w.attacker
    m = w.markets[sym]
    out = m.getAmountOut(w.s.debt_token, debt_wad)
    w.act(what or f"spend {wad_str(debt_wad)} uUSD on {sym} (spot {w.spot(sym):,.2f} ->)", m.swap, w.s.debt_token,
          debt_wad, 0, who, sender=who)
    return out


def deposit(w: World, sym: str, units: int, who=None):
    who = who or w.attacker
    w.act(f"deposit {w.whole(sym, units):,.4f} {sym} into its vault account", w.s.vault.deposit, who,
          w.s.ids[sym], units, sender=who)


def try_borrow(w: World, amount_wad: int, who=None, label: str = "") -> object:
    who = who or w.attacker
    return w.attempt(w.s.vault.borrow, who, amount_wad, who, sender=who,
                     what=f"borrow {wad_str(amount_wad)} uUSD{label}")


def borrow_max(w: World, who=None, label: str = "") -> int:
    """Borrow what the vault says the account may (0 if nothing)."""
    who = who or w.attacker
    cap = w.s.vault.maxBorrow(who)
    if cap == 0:
        w.say("attacker", f"maxBorrow is 0{label}: nothing to borrow")
        return 0
    res = try_borrow(w, cap, who, label)
    return cap if res.ok else 0


def try_liquidate(w: World, account, who=None, label: str = "") -> object:
    """Liquidate `account` through the auctions; when that is refused, try the direct path too,
    collateral by collateral (IDirectLiquidator, DIRECT LIQUIDATION): a scenario that shows a
    liquidation refused shows it for both paths (a direct one that went through is a liquidation
    in w.liquidations(), which the scenarios' checks count). Returns the auction path's attempt."""
    who = who or w.attacker
    attempt = w.attempt(w.s.engine.liquidate, account, who, sender=who, what=f"liquidate {str(account)[:10]}{label}")
    if not attempt.ok:
        for sym, cid in w.s.ids.items():
            if w.s.vault.collateralOf(account, cid) == 0:
                continue
            direct = w.attempt(w.s.direct.liquidateDirect, account, cid, MAX_UINT, 0, who, b"", sender=who,
                               what=f"liquidate {str(account)[:10]} directly for its {sym}{label}")
            if direct.ok:
                check_direct_price(w, direct.receipt)
    return attempt


def check_direct_price(w: World, receipt) -> None:
    """A direct liquidation never sells below the confirmed price less the largest discount
    (IDirectLiquidator, DIRECT LIQUIDATION): checked on every one a scenario makes."""
    for e in w.s.direct.LiquidateDirect.from_receipt(receipt):
        sym = next(s for s, cid in w.s.ids.items() if cid == e.collateralId)
        token = w.s.collateral[sym]
        confirmed = w.s.oracle.peek(token, block_id=e.block_number).liquidationPrice
        max_discount = w.s.direct.directParams(e.collateralId).maxDiscount
        paid_per_unit = e.repaid * 10 ** token.decimals() // max(e.seized, 1)
        floor = confirmed * WAD // (WAD + max_discount)
        w.say("protocol", f"direct liquidation sold {sym} at {paid_per_unit / WAD:,.2f} per token "
                          f"(confirmed {confirmed / WAD:,.2f}, floor {floor / WAD:,.2f})")
        if paid_per_unit + 1 < floor:
            raise AssertionError(f"a direct liquidation sold {sym} at {paid_per_unit} below its floor {floor}")


def guard_name(w: World, sym: str) -> str:
    from unwind.scenarios.world import GUARDS

    return GUARDS[int(w.quote(sym).guard)]


def liquidated_accounts(w: World) -> list:
    return [str(e.account) for e in w.liquidations()]


def max_borrow_share(w: World, account, share) -> int:
    return int(w.s.vault.maxBorrow(account) * D(share))


def approve_all(w: World, who, spender):
    for t in w.tokens.values():
        t.approve(spender, MAX_UINT, sender=who)


def feed_round(w: World, feed, answer: int, started: int | None = None, updated: int | None = None,
               round_id: int | None = None):
    """Overwrite a feed's latest round verbatim (zero, negative, malformed rounds)."""
    t = w.now()
    rid = feed.roundId() + 1 if round_id is None else round_id
    feed.setRound(rid, answer, t if started is None else started, t if updated is None else updated, rid,
                  sender=w.gov)


def decimal_price(w: World, sym: str, x_wad: int) -> Decimal:
    return D(x_wad) / WAD


__all__ = ["DEBT", "HEARTBEAT", "PRICE_WAD", "buy", "sell", "spend", "deposit", "try_borrow", "borrow_max",
           "try_liquidate", "guard_name", "liquidated_accounts", "money", "wad_str", "feed_round"]
