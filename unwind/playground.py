"""A local playground: the moves a newcomer makes on a local deployment, as `ape run local` does them.

A deployment of params/local.yaml lists mock tokens (anyone may mint) and mock Chainlink feeds
(anyone may set the answer). These verbs move them the way a test would, against a node that keeps
running, so a person can watch the keeper work:

    price    set a feed: `WETH 2550` or `WETH -15%` (a new round; the confirmed price follows after hops)
    hop      let time pass by one OSM hop with fresh rounds and pokes: the delayed price catches up
    advance  move chain time (auction prices fall with it)
    wait     until the keeper liquidated an account, or its auctions ended; then what happened
    open     mint collateral, deposit it into an account and borrow against it
    fund     give an account debt tokens (uUSD) from a USDC-backed position of its own, e.g. a keeper
    status   prices, oracle state and every account's health, in human units

Only for development chains (chain id 31337/1337): time travel and minting mean nothing elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from unwind.deploy import System
from unwind.params import WAD

GUARDS = ["none", "no price", "frozen", "recovery grace", "delayed feed stopped", "sequencer down", "sequencer grace"]
STATUSES = ["unset", "live", "secondary", "frozen"]
CONTRACT_TYPES = {"debt_token": "DebtToken", "oracle": "OracleAdapter", "buffer": "LiquidityBuffer", "vault": "Vault",
                  "auction": "DutchAuction", "engine": "LiquidationEngine", "timelock": "Timelock",
                  "risk": "AdaptiveRisk", "direct": "DirectLiquidator"}


class PlaygroundError(ValueError):
    """A mistake in what was asked (one line: what was wrong and what to do)."""


def load_system(project, record: dict) -> System:
    """The deployed system of a deployment record, as Ape contracts."""
    contracts = record.get("contracts") or {}
    missing = [m for m in ("debt_token", "oracle", "buffer", "vault", "auction", "engine", "timelock") if m not in contracts]
    if missing or not record.get("collateral"):
        raise PlaygroundError(f"the deployment record has no {', '.join(missing) or 'collateral'}: "
                              "is the deployment complete? (run the same `ape run deploy` again)")
    mods = {name: getattr(project, CONTRACT_TYPES[name]).at(addr) for name, addr in contracts.items()
            if name in CONTRACT_TYPES}
    s = System(**{k: mods[k] for k in ("debt_token", "oracle", "buffer", "vault", "auction", "engine", "timelock")},
               risk=mods.get("risk"), direct=mods.get("direct"))
    for sym, c in record["collateral"].items():
        s.collateral[sym] = project.MockERC20.at(c["token"])
        s.feeds[sym] = project.MockAggregator.at(c["feed"])
        s.ids[sym] = c["id"]
    return s


def symbol_of(system: System, symbol: str) -> str:
    for sym in system.collateral:
        if sym.lower() == symbol.lower():
            return sym
    raise PlaygroundError(f"unknown collateral {symbol!r}: this deployment lists {', '.join(system.collateral)}")


def new_price(old: Decimal, spec: str) -> Decimal:
    """`2550`, `-15%`, `+10%` or `x0.8` applied to `old`."""
    spec = spec.strip().replace(",", "")
    m = re.fullmatch(r"([+-]\d+(?:\.\d+)?)%", spec)
    if m:
        return old * (1 + Decimal(m.group(1)) / 100)
    m = re.fullmatch(r"[x*](\d+(?:\.\d+)?)", spec)
    if m:
        return old * Decimal(m.group(1))
    try:
        value = Decimal(spec)
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite() or value <= 0:
        raise PlaygroundError(f"price {spec!r} is not a price: give one (2550), a change (-15%, +10%) or a factor (x0.8)")
    return value


def amount_units(amount: str, decimals: int, what: str) -> int:
    try:
        value = Decimal(str(amount).replace(",", "").replace("_", ""))
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite() or value <= 0:
        raise PlaygroundError(f"{what} {amount!r} is not a positive amount (whole tokens, e.g. 10 or 0.5)")
    return int(value * 10**decimals)


@dataclass
class PriceMove:
    symbol: str
    old: Decimal
    new: Decimal

    def line(self) -> str:
        change = (self.new / self.old - 1) * 100 if self.old else Decimal(0)
        return (f"{self.symbol} feed: {self.old:,.2f} -> {self.new:,.2f} uUSD ({change:+.1f}%); "
                f"liquidations use it once it is confirmed: `ape run local hop`")


class Playground:
    def __init__(self, system: System, chain, sender):
        self.s = system
        self.chain = chain
        self.sender = sender

    def check_dev(self) -> None:
        if self.chain.provider.chain_id not in (31337, 1337):
            raise PlaygroundError(f"chain id {self.chain.provider.chain_id} is not a local development chain: "
                                  "the playground moves mock feeds and time, only on anvil (31337)")

    # --- prices and time ---

    def feed_price(self, sym: str) -> Decimal:
        feed = self.s.feeds[sym]
        return Decimal(feed.answer()) / 10 ** feed.decimals()

    def set_price(self, symbol: str, spec: str) -> PriceMove:
        self.check_dev()
        sym = symbol_of(self.s, symbol)
        feed = self.s.feeds[sym]
        old = self.feed_price(sym)
        new = new_price(old, spec)
        feed.setAnswer(int(new * 10 ** feed.decimals()), sender=self.sender)
        self.s.oracle.poke(self.s.collateral[sym], sender=self.sender)
        return PriceMove(sym, old, new)

    def refresh(self) -> None:
        """A new round at the same answer for every feed, and a poke: nothing goes stale."""
        for sym, feed in self.s.feeds.items():
            feed.setAnswer(feed.answer(), sender=self.sender)
            self.s.oracle.poke(self.s.collateral[sym], sender=self.sender)

    def hop_seconds(self) -> int:
        return max(self.s.oracle.feedConfig(t).delay for t in self.s.collateral.values())

    def hop(self, count: int = 1) -> int:
        """Let `count` OSM hops pass (fresh rounds and pokes after each): a feed move needs two to
        be confirmed (the queued price becomes the delayed one). Returns the seconds advanced."""
        self.check_dev()
        seconds = self.hop_seconds() + 1
        for _ in range(count):
            self.advance(seconds)
            self.refresh()
        return seconds * count

    def advance(self, seconds: int) -> None:
        """Chain time forward by `seconds` and a block at it (anvil's RPC: whichever Ape provider
        is connected, a node at a URL included)."""
        self.chain.provider.make_request("evm_increaseTime", [int(seconds)])
        self.chain.provider.make_request("evm_mine", [])

    # --- accounts ---

    def mint(self, account, symbol: str, amount: str) -> int:
        self.check_dev()
        sym = symbol_of(self.s, symbol)
        token = self.s.collateral[sym]
        units = amount_units(amount, token.decimals(), f"{sym} amount")
        token.mint(account, units, sender=account)
        return units

    def open(self, account, deposits: dict, borrow: str | None) -> None:
        """Mint and deposit each of `deposits` (symbol -> whole tokens), then borrow `borrow` uUSD
        ('max' for the whole borrow limit)."""
        self.check_dev()
        for symbol, amount in deposits.items():
            sym = symbol_of(self.s, symbol)
            units = self.mint(account, sym, amount)
            self.s.collateral[sym].approve(self.s.vault, units, sender=account)
            self.s.vault.deposit(account, self.s.ids[sym], units, sender=account)
        if borrow:
            limit = self.s.vault.maxBorrow(account)
            amount = limit if borrow == "max" else amount_units(borrow, 18, "borrow")
            if amount > limit:
                raise PlaygroundError(f"cannot borrow {Decimal(amount) / WAD:,.2f} uUSD: the account's limit is "
                                      f"{Decimal(limit) / WAD:,.2f} (deposit more, or borrow less)")
            self.s.vault.borrow(account, amount, account, sender=account)

    def fund(self, account, uusd: str) -> None:
        """Debt tokens for `account` (a keeper pays takes with them): a USDC position of its own,
        twice the amount deposited, `uusd` borrowed."""
        usdc = symbol_of(self.s, "USDC")
        amount = amount_units(uusd, 18, "uUSD amount")
        price = Decimal(self.s.oracle.peek(self.s.collateral[usdc]).current) / WAD or Decimal(1)
        whole = (Decimal(amount) / WAD * 2 / price).quantize(Decimal(1))
        self.open(account, {usdc: str(whole)}, str(Decimal(amount) / WAD))

    # --- waiting for the keeper ---

    def history(self, account, since: int) -> tuple[list, list, list, list]:
        """(liquidations, direct liquidations, kicks, takes) of `account` from block `since`."""
        s, head = self.s, self.chain.blocks.head.number
        address = str(getattr(account, "address", account)).lower()
        liqs = [e for e in s.engine.Liquidate.range(since, head + 1) if str(e.account).lower() == address]
        directs = []
        if s.direct is not None:
            directs = [e for e in s.direct.LiquidateDirect.range(since, head + 1) if str(e.account).lower() == address]
        kicks = [e for e in s.auction.Kick.range(since, head + 1) if str(e.owner).lower() == address]
        ids = {k.id for k in kicks}
        takes = [e for e in s.auction.Take.range(since, head + 1) if e.id in ids]
        return liqs, directs, kicks, takes

    def wait(self, account, until: str, since: int, timeout: float, poll: float = 1.0) -> list[str]:
        """Wait (wall time) until `account` has been liquidated, by auction or directly (`until`
        'liquidated'), or has been liquidated and every auction of its collateral has ended
        ('settled'; a direct liquidation is settled when it is mined). Lines that say what
        happened; raises PlaygroundError on timeout (is the keeper running? is the account unsafe?)."""
        import time

        end = time.time() + timeout
        while True:
            liqs, directs, kicks, takes = self.history(account, since)
            running = {a for a in self.s.auction.list()}
            liquidated = bool(liqs or directs)
            done = liquidated if until == "liquidated" else liquidated and not ({k.id for k in kicks} & running)
            if done:
                return self._story(liqs, directs, kicks, takes)
            if time.time() > end:
                what = "liquidated" if until == "liquidated" else "settled (liquidated, every auction of its collateral ended)"
                raise PlaygroundError(f"{getattr(account, 'address', account)} was not {what} within {timeout:.0f} s: "
                                      "is the keeper running and the account unsafe at the confirmed price? "
                                      "(`ape run local status`; a move is confirmed after `ape run local hop 2`)")
            time.sleep(poll)

    def _story(self, liqs, directs, kicks, takes) -> list[str]:
        s = self.s
        symbol = {cid: sym for sym, cid in s.ids.items()}
        number = {k.id: n for n, k in enumerate(kicks, 1)}
        out = [f"liquidated by {e.keeper}: debt closed {Decimal(e.debtClosed) / WAD:,.2f} uUSD, penalty "
               f"{Decimal(e.penalty) / WAD:,.2f}, keeper incentive {Decimal(e.incentive) / WAD:,.2f}, health before "
               f"{Decimal(e.healthBefore) / WAD:.4f}" for e in liqs]
        for e in directs:
            sym = symbol.get(e.collateralId, str(e.collateralId))
            dec = s.collateral[sym].decimals() if sym in s.collateral else 18
            out.append(f"liquidated directly by {e.liquidator}: debt closed {Decimal(e.debtClosed) / WAD:,.2f} uUSD, "
                       f"repaid {Decimal(e.repaid) / WAD:,.2f} uUSD for {Decimal(e.seized) / 10**dec:,.4f} {sym} "
                       f"(discount {Decimal(e.discount) / WAD:.2%}), health before {Decimal(e.healthBefore) / WAD:.4f}")
        for k in kicks:
            sym = symbol.get(k.collateralId, str(k.collateralId))
            dec = s.collateral[sym].decimals() if sym in s.collateral else 18
            out.append(f"auction {number[k.id]} ({sym}): lot {Decimal(k.lot) / 10**dec:,.4f} {sym}, tab "
                       f"{Decimal(k.tab) / WAD:,.2f} uUSD, starts at {Decimal(k.top) / WAD:,.2f}")
        for t in takes:
            out.append(f"  take in auction {number[t.id]} by {t.taker}: paid {Decimal(t.owe) / WAD:,.2f} uUSD at "
                       f"{Decimal(t.price) / WAD:,.2f} per token")
        return out

    # --- reading ---

    def status_lines(self, accounts=()) -> list[str]:
        s = self.s
        now = self.chain.blocks.head.timestamp
        when = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        lines = [f"chain time {when}, block {self.chain.blocks.head.number}"]
        for sym, token in s.collateral.items():
            q = s.oracle.peek(token)
            delayed, queued, last_hop, stopped = s.oracle.delayedState(token)
            cfg = s.oracle.feedConfig(token)
            next_hop = max(0, last_hop + cfg.delay - now) if cfg.delay else 0
            guard = GUARDS[q.guard] if q.guard < len(GUARDS) else str(q.guard)
            lines.append(
                f"{sym:>5}: feed {self.feed_price(sym):,.2f}  accepted {Decimal(q.current) / WAD:,.2f}  "
                f"confirmed (liquidations) {_price(q.liquidationPrice)}  delayed {Decimal(delayed) / WAD:,.2f}, "
                f"queued {Decimal(queued) / WAD:,.2f}, next hop in {next_hop} s  "
                f"[{STATUSES[q.status]}, guard: {guard}]")
        for account in accounts:
            lines.append(self.account_line(account))
        return lines

    def account_line(self, account) -> str:
        s = self.s
        debt = s.vault.debtOf(account)
        held = [f"{Decimal(s.vault.collateralOf(account, cid)) / 10 ** s.collateral[sym].decimals():,.4f} {sym}"
                for sym, cid in s.ids.items() if s.vault.collateralOf(account, cid)]
        address = getattr(account, "address", account)
        if debt == 0:
            return f"{address}: no debt; holds {', '.join(held) or 'nothing'}"
        health = Decimal(s.vault.healthOf(account)) / WAD
        verdict = "LIQUIDATABLE" if health < 1 else "safe"
        return (f"{address}: debt {Decimal(debt) / WAD:,.2f} uUSD, health {health:.4f} ({verdict}); "
                f"holds {', '.join(held) or 'nothing'}; uUSD balance {Decimal(s.debt_token.balanceOf(account)) / WAD:,.2f}")


def _price(wad_price: int) -> str:
    return f"{Decimal(wad_price) / WAD:,.2f}" if wad_price else "none (guarded)"
