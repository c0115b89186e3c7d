"""The liquidation engine's planner in Python: what `previewLiquidate` answers, from the same state.

One rule for each decision: the keeper decides which accounts to liquidate with `plan`, not with a
simpler health check of its own, so an account the engine would liquidate is never hidden from
it (a planted wei of a guarded or capped collateral, a full queue) and an account the engine
would refuse is never sent. `tests/keeper/test_plan_mirror.py` checks that `plan` equals the
engine's `previewLiquidate` on random states, seizure by seizure. The arithmetic follows
LiquidationEngine._plan step by step, with solady's rounding (`mul_div` floors, `mul_div_up`
rounds up); the names match the contract's so the two can be read side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

WAD = 10**18
MAX_UINT = 2**256 - 1

# Why a plan cannot go ahead (the engine's Block enum).
HEALTHY, GUARDED, CAP = "healthy", "guarded", "cap"


def mul_div(a: int, b: int, d: int) -> int:
    return a * b // d


def mul_div_up(a: int, b: int, d: int) -> int:
    return -(-(a * b) // d)


@dataclass(frozen=True)
class Holding:
    """IVault.HeldCollateral: one collateral an account holds."""

    id: int
    token: str
    decimals: int
    amount: int  # [token units]
    liquidation_threshold: int  # [wad]
    penalty: int  # [wad]


@dataclass(frozen=True)
class Quote:
    """The part of IOracleAdapter.Quote a liquidation reads (prices [wad per whole token])."""

    current: int
    liquidation_price: int  # 0 while the oracle guards the token
    auction_start_price: int
    guard: int = 0  # IOracleAdapter.Guard


@dataclass(frozen=True)
class EngineConfig:
    target_health: int  # [wad]
    lot_margin: int  # [wad]
    tip: int  # [wad]
    chip: int  # [wad]
    global_cap: int  # [wad]


@dataclass(frozen=True)
class Queue:
    """Debt under auction and the caps on it: the room a liquidation may use."""

    total_debt: int  # [wad] auction.totalDebt()
    debt_of: dict  # collateral id -> auction.debtOf(id) [wad]
    collateral_cap: dict  # collateral id -> engine.collateralCap(id) [wad]

    def collateral_room(self, cid: int) -> int:
        used, cap = self.debt_of.get(cid, 0), self.collateral_cap.get(cid, 0)
        return cap - used if cap > used else 0


@dataclass(frozen=True)
class Seizure:
    collateral_id: int
    token: str
    decimals: int
    lot: int  # [token units]
    debt: int  # [wad]
    tab: int  # [wad]
    start_price: int  # [wad price]


@dataclass
class Preview:
    """ILiquidationEngine.Preview, plus why it is blocked (None, HEALTHY, GUARDED or CAP) and the
    detail the engine's revert names (the held index for GUARDED, the collateral id for CAP)."""

    liquidatable: bool = False
    guard: int = 0
    health: int = MAX_UINT
    debt: int = 0
    debt_to_close: int = 0
    penalty: int = 0
    incentive: int = 0
    seizures: list = field(default_factory=list)
    blocked: str | None = None
    detail: int = 0


@dataclass
class _Book:
    debt: int
    dust: int
    held: list
    values: list
    quotes: list
    c: EngineConfig
    queue: Queue
    guarded_value: int = 0
    global_room: int = MAX_UINT
    cap_id: int = 0
    capped: bool = False
    full: bool = False


def plan(debt: int, held: list, quotes: list, dust: int, c: EngineConfig, queue: Queue) -> Preview:
    """What the engine's `previewLiquidate` returns for an account with `debt` and `held`
    collateral (in the vault's order) at `quotes` (one per holding)."""
    p = Preview(debt=debt)
    if debt == 0:
        p.blocked = HEALTHY
        return p
    b = _Book(debt, dust, held, [0] * len(held), quotes, c, queue)
    guarded = None
    weighted = sized = 0
    for i, (h, q) in enumerate(zip(held, quotes)):
        scale = 10**h.decimals
        price = q.liquidation_price
        if price == 0:
            last_value = h.amount * q.current // scale
            if guarded is None:
                guarded = i
            b.guarded_value += last_value
            lw = mul_div(last_value, h.liquidation_threshold, WAD)
            weighted += lw
            sized += lw
            continue
        value = h.amount * price // scale
        w = mul_div(value, h.liquidation_threshold, WAD)
        weighted += w
        size = _sizing_price(q)
        if size != price:
            value = h.amount * size // scale
            w = mul_div(value, h.liquidation_threshold, WAD)
        b.values[i] = value
        sized += w
    p.health = weighted * WAD // debt
    if p.health >= WAD:
        p.blocked = HEALTHY
        return p

    b.global_room = MAX_UINT
    seizures = _seizures(b, sized)
    queued = queue.total_debt
    b.global_room = c.global_cap - queued if c.global_cap > queued else 0
    if not _fits_room(seizures, b.global_room, queue):
        b.capped = True
        seizures = _seize_all(b) if b.full else _seizures(b, sized)
    p.seizures = seizures
    if not seizures:
        if b.cap_id:
            p.blocked, p.detail = CAP, b.cap_id - 1
            return p
        if guarded is not None:
            p.guard = quotes[guarded].guard
            p.blocked, p.detail = GUARDED, guarded
            return p
    p.liquidatable = True
    for s in seizures:
        p.debt_to_close += s.debt
        p.penalty += s.tab - s.debt
    p.incentive = min(c.tip + mul_div(c.chip, p.debt_to_close, WAD), p.penalty)
    return p


def _seizures(b: _Book, weighted: int) -> list:
    out, closed, restored = [], 0, False
    for i in range(len(b.held)):
        if b.values[i] == 0 or b.values[i] < b.dust:
            continue
        s, done, gone = _seize_from(b, i, b.debt - closed, weighted)
        if s is not None:
            out.append(s)
            closed += s.debt
        if done:
            restored = True
            break
        weighted = weighted - gone if weighted > gone else 0
    return _apply_dust(b, out, closed, restored)


def _seize_from(b: _Book, i: int, remaining_debt: int, weighted: int):
    h = b.held[i]
    x, done, k = _close_against(h, b.values[i], remaining_debt, weighted, b.c)
    fit = _fit(b, h)
    if x > fit:
        x, done = fit, False
        if b.cap_id == 0:
            b.cap_id = h.id + 1
        gone = mul_div_up(x, mul_div_up(k, h.liquidation_threshold, WAD), WAD)
    else:
        gone = mul_div(b.values[i], h.liquidation_threshold, WAD)
    s = None
    if x > 0:
        s = _seizure(h, b.quotes[i], x, k)
        b.global_room -= s.tab
    return s, done, gone


def _k(penalty: int, lot_margin: int) -> int:
    return mul_div_up(WAD + penalty, WAD, WAD - lot_margin)


def _close_against(h: Holding, value: int, remaining_debt: int, weighted: int, c: EngineConfig):
    k = _k(h.penalty, c.lot_margin)
    x = value * WAD // k
    done = False
    w = mul_div_up(k, h.liquidation_threshold, WAD)
    target = c.target_health
    if target > w:
        goal = mul_div_up(target, remaining_debt, WAD)
        need = mul_div_up(goal - weighted, WAD, target - w) if goal > weighted else 0
        if need <= x:
            x, done = need, True
    if x >= remaining_debt:
        x, done = remaining_debt, True
    return x, done, k


def _apply_dust(b: _Book, out: list, closed: int, restored: bool) -> list:
    if b.cap_id != 0:
        return _fit_dust(b, out, closed)
    dust, debt = b.dust, b.debt
    if not restored or not out or (closed < debt and debt - closed < dust):
        return _seize_all(b)
    if closed < dust and closed < debt:
        min_close = min(dust, debt)
        if min_close < debt and debt - min_close < dust:
            return _seize_all(b)
        return _bump(b, out, closed, min_close)
    return out


def _bump(b: _Book, out: list, closed: int, min_close: int) -> list:
    s = out[-1]
    j = _index_of(b.held, s.collateral_id)
    h = b.held[j]
    bumped = _seizure(h, b.quotes[j], s.debt + min_close - closed, _k(h.penalty, b.c.lot_margin))
    if bumped.lot >= h.amount:
        return _seize_all(b)
    b.global_room += s.tab
    if bumped.debt > _fit(b, h):
        b.cap_id = h.id + 1
        b.global_room -= s.tab
        return _fit_dust(b, out, closed)
    b.global_room -= bumped.tab
    out[-1] = bumped
    return out


def _sizing_price(q: Quote) -> int:
    cur = q.current
    return cur if cur != 0 and cur < q.liquidation_price else q.liquidation_price


def _seizure(h: Holding, q: Quote, x: int, k: int) -> Seizure:
    lot = mul_div_up(mul_div_up(x, k, WAD), 10**h.decimals, _sizing_price(q))
    return Seizure(h.id, h.token, h.decimals, min(lot, h.amount), x, _tab(x, h.penalty), q.auction_start_price)


def _tab(debt: int, penalty: int) -> int:
    return debt + mul_div_up(debt, penalty, WAD)


def _seize_all(b: _Book) -> list:
    b.full = True
    total_value = sum(b.values)
    n = sum(1 for h, v in zip(b.held, b.values) if h.amount > 0 and v > 0)
    to_split = b.debt
    if b.guarded_value > 0:
        kept = b.debt * b.guarded_value // (total_value + b.guarded_value)
        if kept >= b.dust:
            to_split -= kept
    out, assigned, seen, closed = [], 0, 0, 0
    for i, h in enumerate(b.held):
        if h.amount == 0 or b.values[i] == 0:
            continue
        seen += 1
        x = to_split - assigned if seen == n else to_split * b.values[i] // total_value
        if x == 0:
            continue
        assigned += x
        s = Seizure(h.id, h.token, h.decimals, h.amount, x, _tab(x, h.penalty), b.quotes[i].auction_start_price)
        fit = _fit(b, h)
        if x > fit:
            if b.cap_id == 0:
                b.cap_id = h.id + 1
            if fit == 0:
                continue
            s = replace(s, lot=mul_div_up(h.amount, fit, x), debt=fit, tab=_tab(fit, h.penalty))
        b.global_room -= s.tab
        closed += s.debt
        out.append(s)
    if b.cap_id != 0:
        return _fit_dust(b, out, closed)
    if to_split != b.debt and closed < b.dust:
        return []
    return out


def _fit_dust(b: _Book, out: list, closed: int) -> list:
    debt, dust = b.debt, b.dust
    total = closed
    out = list(out)
    for i in range(len(out) - 1, -1, -1):
        if not (total < debt and debt - total < dust):
            break
        out[i], added = _grow(b, out[i], debt - total)
        total, closed = total + added, closed + added
    if total < debt and debt - total < dust:
        total = debt - dust if debt > dust else 0
    if total == 0 or total < min(dust, debt):
        return []
    while closed > total:
        s = out[-1]
        excess = closed - total
        if s.debt <= excess:
            closed -= s.debt
            out.pop()
            continue
        part = s.debt - excess
        penalty = b.held[_index_of(b.held, s.collateral_id)].penalty
        out[-1] = replace(s, lot=mul_div_up(s.lot, part, s.debt), debt=part, tab=_tab(part, penalty))
        closed = total
    return out


def _grow(b: _Book, s: Seizure, more: int):
    h = b.held[_index_of(b.held, s.collateral_id)]
    if s.lot != h.amount:
        return s, 0
    room = b.queue.collateral_room(h.id)
    room = room - s.tab if room > s.tab else 0
    room = min(room, b.global_room)
    grown = mul_div(s.tab + room, WAD, WAD + h.penalty)
    if grown > 0 and _tab(grown, h.penalty) > s.tab + room:
        grown -= 1
    if grown <= s.debt:
        return s, 0
    added = min(grown - s.debt, more)
    tab = _tab(s.debt + added, h.penalty)
    b.global_room -= tab - s.tab
    return replace(s, debt=s.debt + added, tab=tab), added


def _fit(b: _Book, h: Holding) -> int:
    if not b.capped:
        return MAX_UINT
    room = min(b.queue.collateral_room(h.id), b.global_room)
    x = mul_div(room, WAD, WAD + h.penalty)
    if x > 0 and _tab(x, h.penalty) > room:
        x -= 1
    return x


def _fits_room(seizures: list, global_room: int, queue: Queue) -> bool:
    for s in seizures:
        room = min(queue.collateral_room(s.collateral_id), global_room)
        if s.tab > room:
            return False
        global_room -= s.tab
    return True


def _index_of(held: list, cid: int) -> int:
    return next(i for i, h in enumerate(held) if h.id == cid)


# --- from a position and one read of the market ---


@dataclass(frozen=True)
class Terms:
    """One listed collateral as every plan of a block sees it."""

    token: str
    decimals: int
    liquidation_threshold: int  # [wad] the current (ramped) one, IVault.collateral(id)
    penalty: int  # [wad]
    quote: Quote


@dataclass(frozen=True)
class Market:
    """Everything a plan reads besides the account itself, read once per block."""

    dust: int  # [wad]
    config: EngineConfig
    queue: Queue
    collaterals: dict  # collateral id -> Terms


def plan_position(collateral: dict, debt: int, market: Market) -> Preview:
    """`plan` for an account holding `collateral` (id -> amount) with `debt`: its holdings in id
    order, the ones it holds any of (IVault.heldCollateral)."""
    held, quotes = [], []
    for cid in sorted(collateral):
        amount = collateral[cid]
        terms = market.collaterals.get(cid)
        if amount <= 0 or terms is None:
            continue
        held.append(Holding(cid, terms.token, terms.decimals, amount, terms.liquidation_threshold, terms.penalty))
        quotes.append(terms.quote)
    return plan(debt, held, quotes, market.dust, market.config, market.queue)


def same_as_preview(mine: Preview, onchain) -> str | None:
    """None when `mine` equals the engine's Preview tuple `onchain` (as web3 decodes it:
    liquidatable, guard, health, debt, debtToClose, penalty, incentive, seizures); else what differs."""
    fields = ("liquidatable", "guard", "health", "debt", "debt_to_close", "penalty", "incentive")
    diffs = [f"{name}: mirror {getattr(mine, name)} != engine {theirs}"
             for name, theirs in zip(fields, onchain[:7]) if getattr(mine, name) != theirs]
    if diffs:
        return "; ".join(diffs) + f" (mirror blocked: {mine.blocked} {mine.detail})"
    ours = [(s.collateral_id, s.token.lower(), s.decimals, s.lot, s.debt, s.tab, s.start_price) for s in mine.seizures]
    theirs = [(s[0], str(s[1]).lower(), s[2], s[3], s[4], s[5], s[6]) for s in onchain[7]]
    if ours != theirs:
        return f"seizures: mirror {ours} != engine {theirs}"
    return None
