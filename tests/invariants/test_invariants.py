"""The whole system under random use: a hypothesis state machine over the deployed contracts.

The system is deployed once for the module (default risk parameters, a 10%/year stability fee so
that debt rounding matters, four borrowers at different utilisations and a keeper holding debt
tokens). Each example starts from a chain snapshot of that state and is reverted at the end, so
examples are independent and cost nothing to set up.

Rules: deposit, withdraw, borrow, repay, donate (tokens sent straight to a contract), plant (a
third party deposits a wei, a thousand units, or just under or over dust-worth of a collateral
into a borrower's account), price moves (expressed as the collateral ratio they give an account,
or as a factor), time passes (feeds kept fresh, or left to go stale), guard (the guardian stops a
delayed price), fill_cap (a collateral's or the global cap set to the debt under auction, full to
the wei or with room below the dust floor), liquidate, liquidate_direct (the direct path, with a
repay cap of all, half the debt or less than dust), push-and-liquidate (steers an account just
under its threshold, then liquidates it), take, redo and bounded governance changes.

After every step (see `check_invariants`):
  - tokens are conserved: each collateral's balance in the vault equals its accounting plus what
    was donated, and the auction's equals the lots of its running sales plus donations;
  - debt reconciles: debtToken.totalSupply == vault.totalDebt + auction.totalDebt + buffer.badDebt,
    the accounts' normalised debts add up to the vault's total, the tabs to the auction's totals;
  - health: vault.healthOf equals an independent model; no account goes from healthy to unhealthy
    in a step that moved no price, accrued no fee and ramped no threshold (checked by re-valuing
    the account's new holdings at the step's old prices, rate and thresholds);
  - a debt or tab a step changed is zero or at least the dust floor;
  - one rule: the keeper's planner (unwind/keeper/plan.py) equals previewLiquidate, field by field
    and seizure by seizure, for every account;
  - every auction's lot is its kicked lot less what was sold; at its end sold + returned == kicked.
The liquidate, take and redo rules also check their own outcomes: a healthy account is never
liquidated; an unsafe one is, unless a documented guard blocks it and the revert names that
guard (and the guard really holds); a take pays the curve price at its block (computed here
independently), at least price * amount and never below the floor; a take or redo refused
`OracleGuarded` names a guard that holds and is one of those that refuse them (PRICE GUARDS); a
redo pays exactly the incentive the rule gives, and at most MAX_PAID_REDOS redos of an auction
pay (REDO INCENTIVE).
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal, getcontext

import pytest
from inv_driver import MAX_UINT, RAY, WAD, Driver, Reverted
from eth_utils import keccak
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from inv_profiles import current

from types import SimpleNamespace

from unwind import curves
from unwind.client import AUCTION_REFUSING_GUARDS, MAX_PAID_REDOS
from unwind.keeper import health as keeper_health
from unwind.keeper import plan as mirror
from unwind.keeper.index import Position
from unwind.deploy import deploy_system
from unwind.params import default_params, wad

getcontext().prec = 60
PROFILE = current()
SYMBOLS = ("WETH", "WBTC", "USDC")
MOVING = ("WETH", "WBTC")  # USDC stays at par: the keeper's own position is USDC-backed
PRICE_BOUNDS = {"WETH": (wad(300), wad(30_000)), "WBTC": (wad(6_000), wad(600_000))}
FEE_10PC = int((Decimal("1.1") ** (Decimal(1) / Decimal(31_536_000))) * RAY)
TOL = 10**12  # [wad] health tolerance for one second of fee accrual or ramp (1e-6)

# Borrowers: basket (whole tokens) and utilisation of the borrow limit at the start.
BORROWERS = [
    ({"WETH": 20}, Decimal("0.85")),
    ({"WETH": 10, "WBTC": Decimal("0.5")}, Decimal("0.9")),
    ({"WBTC": 1, "USDC": 20_000}, Decimal("0.8")),
    ({"WETH": 5, "USDC": 30_000}, Decimal("0.95")),
]

# Reverts the rules accept, each only when its condition is checked to hold (see the rules).
GUARDS = {"LiquidationsPaused", "LiquidationGrace", "ShutdownActive", "OracleGuarded", "LiquidationCapReached",
          "StopLevel"}

_SALTS = itertools.count()
REFUSALS: dict = {}  # liquidateDirect's refusals by error, for the summary

COUNTS = {"runs": 0, "steps": 0, "liquidate": 0, "take": 0, "redo": 0, "short": 0, "guarded": 0, "auction_guarded": 0,
          "unpaid_redo": 0, "refused_healthy": 0, "over_limit": 0, "planted": 0, "filled": 0, "direct": 0,
          "direct_refused": 0}


# --- the deployed world ------------------------------------------------------------------------


@dataclass
class World:
    system: object
    d: Driver
    deployer: str
    borrowers: list
    keeper: str
    donor: str
    accounts: list  # every account with a vault position
    decimals: dict
    ids: dict
    answer_scale: int = 10**10  # 8-decimal feeds -> wad


@pytest.fixture(scope="module")
def world(project, chain, accounts):
    params = default_params()
    params.stability_fee = FEE_10PC
    params.oracle_delay = PROFILE.oracle_delay
    params.auction_reserve = 2  # a small pool: kicks use reserved, reused and fresh slots (rule `reserve`)
    deployer = accounts[0]
    system = deploy_system(project, deployer, params)
    d = Driver(chain.provider.web3, system)
    decimals = {s: system.collateral[s].decimals() for s in SYMBOLS}
    borrowers = [accounts[i] for i in (4, 5, 6, 7)]
    keeper, donor = accounts[8], accounts[9]
    for acct, (basket, utilisation) in zip(borrowers, BORROWERS):
        for sym, amount in basket.items():
            units = int(Decimal(amount) * 10 ** decimals[sym])
            system.collateral[sym].mint(acct, units, sender=acct)
            system.collateral[sym].approve(system.vault, MAX_UINT, sender=acct)
            system.vault.deposit(acct, system.ids[sym], units, sender=acct)
        system.vault.borrow(acct, int(system.vault.maxBorrow(acct) * utilisation), acct, sender=acct)
    # The keeper: 4M debt tokens against 10M USDC (a position the price rules never move).
    usdc = system.collateral["USDC"]
    usdc.mint(keeper, 10_000_000 * 10**6, sender=keeper)
    usdc.approve(system.vault, MAX_UINT, sender=keeper)
    system.vault.deposit(keeper, system.ids["USDC"], 10_000_000 * 10**6, sender=keeper)
    system.vault.borrow(keeper, 4_000_000 * WAD, keeper, sender=keeper)
    for acct in borrowers:
        system.debt_token.approve(system.vault, MAX_UINT, sender=acct)
    system.debt_token.approve(system.vault, MAX_UINT, sender=keeper)
    for sym in SYMBOLS:
        system.collateral[sym].approve(system.vault, MAX_UINT, sender=keeper)
    return World(
        system=system,
        d=d,
        deployer=deployer.address,
        borrowers=[a.address for a in borrowers],
        keeper=keeper.address,
        donor=donor.address,
        accounts=[a.address for a in borrowers] + [keeper.address],
        decimals=decimals,
        ids=dict(system.ids),
    )


# --- reading the state -------------------------------------------------------------------------


@dataclass
class View:
    ts: int
    rate: int
    total_art: int
    vault_debt: int
    dust: int
    supply: int
    auction_debt: int
    bad_debt: int
    surplus: int
    stop_level: int
    quotes: dict  # sym -> (current, borrow, liquidation, auctionStart, status, guard)
    config: dict  # sym -> (threshold, penalty, totalSupplied, maxLtv, frozen)
    bal_vault: dict
    bal_auction: dict
    debt_by_id: dict
    in_auction: dict  # sym -> the vault's auction custody, IVault.inAuction
    held: dict  # account -> {sym: amount}
    art: dict
    health: dict
    active: list
    engine: tuple  # targetHealth, lotMargin, tip, chip, globalCap
    caps: dict  # sym -> engine.collateralCap
    previews: dict  # account -> engine.previewLiquidate tuple
    raw_config: dict  # sym -> IVault.collateral(id) as read
    sales: dict = field(default_factory=dict)  # id -> sale tuple

    def debt(self, acct) -> int:
        return -(-self.art[acct] * self.rate // RAY)


def read(w: World) -> View:
    c = w.d.c
    v, a = c["vault"], c["auction"]
    fns = [v.functions.currentRate(), v.functions.totalNormalisedDebt(), v.functions.totalDebt(),
           v.functions.dust(), c["debt_token"].functions.totalSupply(), a.functions.totalDebt(),
           c["buffer"].functions.badDebt(), c["buffer"].functions.surplus(), a.functions.stopLevel(),
           a.functions.list()]
    e = c["engine"].functions
    fns += [e.targetHealth(), e.lotMargin(), e.tip(), e.chip(), e.globalCap()]
    fns += [e.collateralCap(w.ids[sym]) for sym in SYMBOLS]
    fns += [e.previewLiquidate(acct) for acct in w.accounts]
    for sym in SYMBOLS:
        tok = c[sym]
        fns += [c["oracle"].functions.peek(tok.address), v.functions.collateral(w.ids[sym]),
                tok.functions.balanceOf(v.address), tok.functions.balanceOf(a.address),
                a.functions.debtOf(w.ids[sym]), v.functions.inAuction(w.ids[sym])]
    for acct in w.accounts:
        fns += [v.functions.collateralOf(acct, w.ids[s]) for s in SYMBOLS]
        fns += [v.functions.normalisedDebtOf(acct), v.functions.healthOf(acct)]
    out = w.d.batch(fns)
    ts = w.d.now()
    rate, total_art, vault_debt, dust, supply, auction_debt, bad, surplus, stop, active = out[:10]
    engine = tuple(out[10:15])
    i = 15
    caps = dict(zip(SYMBOLS, out[i : i + len(SYMBOLS)]))
    i += len(SYMBOLS)
    previews = {acct: tuple(p) for acct, p in zip(w.accounts, out[i : i + len(w.accounts)])}
    i += len(w.accounts)
    quotes, config, bal_vault, bal_auction, debt_by_id, in_auction, raw_config = {}, {}, {}, {}, {}, {}, {}
    for sym in SYMBOLS:
        q, cfg, bv, ba, dbi, in_auction[sym] = out[i : i + 6]
        i += 6
        quotes[sym] = tuple(q)
        # CollateralConfig: token, decimals, frozen, maxLtv, liquidationThreshold, penalty, supplyCap, totalSupplied
        config[sym] = (cfg[4], cfg[5], cfg[7], cfg[3], cfg[2])
        raw_config[sym] = tuple(cfg)
        bal_vault[sym], bal_auction[sym], debt_by_id[sym] = bv, ba, dbi
    held, art, health = {}, {}, {}
    for acct in w.accounts:
        held[acct] = dict(zip(SYMBOLS, out[i : i + 3]))
        art[acct], health[acct] = out[i + 3], out[i + 4]
        i += 5
    view = View(ts, rate, total_art, vault_debt, dust, supply, auction_debt, bad, surplus, stop, quotes, config,
                bal_vault, bal_auction, debt_by_id, in_auction, held, art, health, list(active), engine, caps,
                previews, raw_config)
    sales = w.d.batch([a.functions.sales(aid) for aid in view.active])
    view.sales = {aid: tuple(s) for aid, s in zip(view.active, sales)}
    return view


def mirror_plan(w: World, view: View, acct: str) -> mirror.Preview:
    """The keeper's decision (unwind/keeper/health.py: its MarketState, built from the same
    contract answers read_market_state reads, and the planner unwind/keeper/plan.py)."""
    cols = [(w.ids[sym], w.system.collateral[sym].address, w.decimals[sym], view.raw_config[sym], view.quotes[sym],
             view.debt_by_id[sym], view.caps[sym]) for sym in SYMBOLS]
    state = keeper_health.market_state(0, view.rate, view.dust, view.engine, view.auction_debt, cols)
    position = Position(view.art[acct], {w.ids[sym]: amount for sym, amount in view.held[acct].items()})
    return keeper_health.preview_of(position, state)


# Sale tuple: lot, tab, owner, startedAt, collateralId, index, decimals, token, top, paidRedos
LOT, TAB, OWNER, STARTED, CID, IDX, DEC, TOKEN, TOP, PAID = range(10)


def model_health(w: World, held: dict, art: int, rate: int, quotes: dict, config: dict) -> int:
    """IVault's health, from the NatSpec: sum(floor(floor(amount * price / 10**d) * threshold)) /
    ceil(art * rate), the price being the liquidation price or, when guarded, the last one."""
    if art == 0:
        return MAX_UINT
    debt = -(-art * rate // RAY)
    weighted = 0
    for sym, amount in held.items():
        if not amount:
            continue
        q = quotes[sym]
        price = q[2] if q[2] else q[0]
        value = amount * price // 10 ** w.decimals[sym]
        weighted += value * config[sym][0] // WAD
    return weighted * WAD // debt


def curve_price(p, top: int, elapsed: int) -> int:
    """AuctionCurves, from IDutchAuction's NatSpec: linear to zero over `duration`, or `cut` per
    second / per step, every product rounded up."""
    curve, duration, cut, step = p[0], p[2], p[3], p[4]
    if curve == 0:
        return 0 if elapsed >= duration else -(-top * (duration - elapsed) // duration)
    n = elapsed if curve == 1 else elapsed // step
    z, x = RAY, cut
    while n:
        if n & 1:
            z = -(-z * x // RAY)
        n >>= 1
        if n:
            x = -(-x * x // RAY)
    return -(-top * z // RAY)


LINEAR_HOUR_FLOOR_S = 1200  # the waits below are written for a linear hour from 1.2 x: floor at 1,200 s


def floor_seconds(p, top: int) -> int:
    """Seconds from an auction's start until its curve reaches the floor (taking the reference as
    top / buffer); `p` is the params tuple."""
    ref = top * WAD // p[1]
    floor = -(-ref * (WAD - p[6]) // WAD)
    named = SimpleNamespace(curve=p[0], duration=p[2], cut=p[3], step=p[4])
    return max(0, curves.last_second_at_or_above(named, top, floor, p[5]))


def on_curve(wait: int, p, top: int) -> int:
    """A wait written in seconds of the linear hour (floor at 1,200 s) as the same share of this
    auction's own time to the floor, so a rule's early/late/past-the-floor waits keep their meaning
    whatever curve governance or the defaults chose; waits past max age stay absolute."""
    if wait == 0 or wait >= 7200:
        return wait
    return max(1, wait * floor_seconds(p, top) // LINEAR_HOUR_FLOOR_S)


# --- the machine ---------------------------------------------------------------------------------


class UnwindMachine(RuleBasedStateMachine):
    w: World = None
    chain = None

    def __init__(self):
        super().__init__()
        self.snap = self.chain.snapshot()
        self.d = self.w.d
        self.c = self.w.d.c
        COUNTS["runs"] += 1
        self.kind = "init"
        self.donated_vault = dict.fromkeys(SYMBOLS, 0)
        self.donated_auction = dict.fromkeys(SYMBOLS, 0)
        self.kicked = {}  # auction id -> [symbol, kicked lot, sold]
        self.ended = set()  # ids of auctions seen leaving the active list
        self.pool = 0  # the auction pool's size seen last (IDutchAuction CAPACITY: it never shrinks)
        self.refresh_feeds()
        self.before = read(self.w)

    def teardown(self):
        self.chain.restore(self.snap)

    # --- helpers ---

    def send(self, fn, sender, check=True):
        return self.d.send(fn, sender, check=check)

    def govern(self, target: str, method: str, *args):
        tl = self.c["timelock"]
        data = self.c[target].encode_abi(method, args=list(args))
        zero = b"\0" * 32
        salt = keccak(text=f"unwind-invariants:{next(_SALTS)}")
        self.send(tl.functions.schedule(self.c[target].address, 0, data, zero, salt, 0), self.w.deployer)
        return self.send(tl.functions.execute(self.c[target].address, 0, data, zero, salt), self.w.deployer, check=False)

    def refresh_feeds(self, symbols=SYMBOLS):
        for sym in symbols:
            feed = self.c[f"feed:{sym}"]
            self.send(feed.functions.setAnswer(feed.functions.answer().call()), self.w.deployer, check=False)

    def set_price(self, sym: str, price: int):
        lo, hi = PRICE_BOUNDS[sym]
        price = max(lo, min(hi, price))
        answer = max(1, price // self.w.answer_scale)
        self.send(self.c[f"feed:{sym}"].functions.setAnswer(answer), self.w.deployer, check=False)
        self.poke_all(sym)
        if PROFILE.oracle_delay:
            for _ in range(2):  # two OSM hops confirm it (feeds kept fresh meanwhile)
                self.d.advance(PROFILE.oracle_delay + 1)
                self.refresh_feeds()
                self.poke_all()

    def poke_all(self, *symbols):
        for sym in symbols or SYMBOLS:
            self.send(self.c["oracle"].functions.poke(self.c[sym].address), self.w.deployer, check=False)

    # --- user operations ---

    @rule(who=st.integers(0, 3), sym=st.sampled_from(SYMBOLS), whole=st.decimals("0.01", "8", places=2))
    def deposit(self, who, sym, whole):
        self.kind = "user"
        acct = self.w.borrowers[who]
        scale = {"WETH": 1, "WBTC": Decimal("0.05"), "USDC": 3000}[sym]
        units = int(whole * scale * 10 ** self.w.decimals[sym])
        if units == 0:
            return
        self.send(self.c[sym].functions.mint(acct, units), acct, check=False)
        self.send(self.c[sym].functions.approve(self.c["vault"].address, MAX_UINT), acct, check=False)
        self.send(self.c["vault"].functions.deposit(acct, self.w.ids[sym], units), acct)

    @rule(who=st.integers(0, 3), sym=st.sampled_from(SYMBOLS), frac=st.sampled_from([0.1, 0.5, 0.9, 1.0, 1.02]))
    def withdraw(self, who, sym, frac):
        self.kind = "user"
        v = self.c["vault"]
        cid = self.w.ids[sym]
        if frac > 1:
            # Steer: past the limit means an indebted account (from `who` on) holding more than its
            # limit frees; no new draw, so the other rules' sequences stay as they were.
            who = next((w for w in ((who + k) % 4 for k in range(4))
                        if self.before.art[self.w.borrowers[w]] > 0 and self.before.held[self.w.borrowers[w]][sym]
                        > v.functions.maxWithdraw(self.w.borrowers[w], cid).call()), who)
        acct = self.w.borrowers[who]
        held = self.before.held[acct][sym]
        most = v.functions.maxWithdraw(acct, cid).call()
        debt_at_view = v.functions.debtOf(acct).call()
        amount = int(most * frac) if frac <= 1 else most + max(1, (held - most) // 50)
        if amount == 0:
            return
        try:
            self.send(v.functions.withdraw(acct, cid, amount, acct), acct)
        except Reverted as r:
            # Refused only beyond maxWithdraw (exact at the same second), and then for the documented
            # reason; or because the fees that accrued between the view's second and the
            # transaction's took the room: the limit after the withdrawal still covered the debt
            # the view saw (found by the deep profile with a small room and a loaded machine).
            accrued = (r.name == "BorrowLimitExceeded"
                       and debt_at_view <= r.args_["limit"] < r.args_["debt"])
            assert amount > most * 0.999 or frac > 1 or accrued, f"withdraw {amount} <= max {most} refused: {r}"
            assert r.name in ("BorrowLimitExceeded", "InsufficientCollateral"), r
            if r.name == "BorrowLimitExceeded":
                COUNTS["over_limit"] += 1  # a withdrawal past the borrow limit, refused
            return
        assert amount <= most or held == amount and self.before.art[acct] == 0, (
            f"withdrew {amount} > maxWithdraw {most}: the health check did not hold")

    @rule(who=st.integers(0, 3), frac=st.sampled_from([0.05, 0.3, 0.7, 0.98, 1.05]))
    def borrow(self, who, frac):
        self.kind = "user"
        acct = self.w.borrowers[who]
        v = self.c["vault"]
        most = v.functions.maxBorrow(acct).call()
        amount = int(most * frac) if frac <= 1 else most + max(1, most // 20)
        if amount == 0:
            return
        try:
            self.send(v.functions.borrow(acct, amount, acct), acct)
        except Reverted as r:
            allowed = {"BorrowLimitExceeded", "DustDebt", "DebtCeilingExceeded", "BorrowingPaused"}
            assert r.name in allowed, r
            if frac <= 0.98 and r.name == "BorrowLimitExceeded":
                raise AssertionError(f"borrow of {amount} <= 0.98 * maxBorrow {most} refused: {r}")
            return
        assert frac <= 1, f"borrowed {amount} above maxBorrow {most}"

    @rule(who=st.integers(0, 3), part=st.sampled_from(["all", "half", "dust-edge", "small"]))
    def repay(self, who, part):
        self.kind = "user"
        acct = self.w.borrowers[who]
        view = self.before
        debt = self.c["vault"].functions.debtOf(acct).call()
        if debt == 0:
            return
        dust = view.dust
        amount = {"all": MAX_UINT, "half": debt // 2, "dust-edge": max(1, debt - dust + 1), "small": debt // 20 + 1}[part]
        bal = self.c["debt_token"].functions.balanceOf(acct).call()
        need = debt + debt // 1000 + WAD if amount == MAX_UINT else amount
        if bal < need:  # the keeper lends it the tokens
            self.send(self.c["debt_token"].functions.transfer(acct, need - bal), self.w.keeper)
        art_before = self.c["vault"].functions.normalisedDebtOf(acct).call()
        try:
            rcpt = self.send(self.c["vault"].functions.repay(acct, amount), acct)
        except Reverted as r:
            assert r.name == "DustDebt", r
            assert amount < debt, "a full repay was refused"
            rem = r.args_["debt"]
            assert 0 < rem < dust, f"DustDebt names {rem} outside (0, dust {dust})"
            return
        ev = self.d.events(rcpt, "vault", "Repay")[0]
        art_after = self.c["vault"].functions.normalisedDebtOf(acct).call()
        assert art_before - art_after == ev.args.normalisedDebt
        # Repaying x removes floor(x * RAY / rate): never more debt than was paid.
        rate = self.c["vault"].functions.rate().call()
        if amount != MAX_UINT and ev.args.amount < debt:
            assert ev.args.normalisedDebt * rate // RAY <= ev.args.amount, "repay removed more debt than it burned"

    @rule(sym=st.sampled_from(SYMBOLS), to_auction=st.booleans(), units=st.integers(1, 10**6))
    def donate(self, sym, to_auction, units):
        self.kind = "donate"
        target = self.c["auction"] if to_auction else self.c["vault"]
        self.send(self.c[sym].functions.mint(self.w.donor, units), self.w.donor, check=False)
        self.send(self.c[sym].functions.transfer(target.address, units), self.w.donor)
        if to_auction:
            self.donated_auction[sym] += units
        else:
            self.donated_vault[sym] += units

    @rule(who=st.integers(0, 3), sym=st.sampled_from(SYMBOLS),
          size=st.sampled_from(["wei", "wei", "thousand", "below-dust", "above-dust"]))
    def plant(self, who, sym, size):
        """A third party deposits a sliver of a collateral into a borrower's account (griefing:
        issue 16). Worth a wei, or just below or above the dust floor at the current price."""
        self.kind = "user"
        acct = self.w.borrowers[who]
        price = self.before.quotes[sym][0] or 1
        scale = 10 ** self.w.decimals[sym]
        worth = {"below-dust": self.before.dust * 9 // 10, "above-dust": self.before.dust * 11 // 10}
        units = {"wei": 1, "thousand": 1000}.get(size) or max(1, worth[size] * scale // price)
        tok, vault = self.c[sym], self.c["vault"]
        self.send(tok.functions.mint(self.w.donor, units), self.w.donor, check=False)
        self.send(tok.functions.approve(vault.address, MAX_UINT), self.w.donor, check=False)
        self.send(vault.functions.deposit(acct, self.w.ids[sym], units), self.w.donor)
        COUNTS["planted"] += 1

    @rule(sym=st.sampled_from(MOVING), on=st.sampled_from([True, False, False, False]))
    def guard(self, sym, on):
        """The guardian stops (or, three times as often, restarts) a collateral's delayed price:
        the token is guarded while it is stopped (a stop that lasted for most of a run would leave
        the liquidation, take and redo rules little to do)."""
        self.kind = "gov"
        self.send(self.c["oracle"].functions.setDelayedStopped(self.c[sym].address, on), self.w.deployer)

    @rule(sym=st.sampled_from(SYMBOLS), which=st.sampled_from(["collateral", "collateral", "global", "lift"]),
          tenths=st.integers(0, 9))
    def fill_cap(self, sym, which, tenths):
        """Governance sets a cap to the debt under auction now plus `tenths` of the dust floor (0:
        full to the wei): a crash's normal state, where a plan must go on with what has room."""
        self.kind = "gov"
        cid = self.w.ids[sym]
        room = self.before.dust * tenths // 10
        if which == "lift":
            self.govern("engine", "setCollateralCap", cid, wad(5_000_000))
            self.govern("engine", "setGlobalCap", wad(10_000_000))
        elif which == "global":
            self.govern("engine", "setGlobalCap", self.before.auction_debt + room)
        else:
            self.govern("engine", "setCollateralCap", cid, self.before.debt_by_id[sym] + room)
        COUNTS["filled"] += 1

    @rule(n=st.integers(1, 3))
    def reserve(self, n):
        """Anyone pre-pays auction storage: the pool grows, no auction changes (checked below)."""
        self.kind = "reserve"
        before = self.c["auction"].functions.poolSize().call()
        self.send(self.c["auction"].functions.reserve(n), self.w.donor)
        assert self.c["auction"].functions.poolSize().call() == before + n

    # --- prices and time ---

    def price_for_health(self, acct: str, target: int):
        """A price of the account's largest moving collateral that gives it health `target`."""
        view = read(self.w)
        art = view.art[acct]
        if art == 0:
            return None
        held = view.held[acct]
        moving = [s for s in MOVING if held[s]]
        if not moving:
            return None
        values = {s: held[s] * view.quotes[s][0] // 10 ** self.w.decimals[s] for s in moving}
        sym = max(moving, key=values.get)
        debt = view.debt(acct)
        others = {s: a for s, a in held.items() if s != sym}
        w_other = model_health(self.w, others, 1, RAY, view.quotes, view.config) if any(others.values()) else 0
        # model_health with art=1, rate=RAY returns weighted * WAD; undo it.
        w_other //= WAD
        need = target * debt // WAD - w_other
        if need <= 0:
            return None
        thr = view.config[sym][0]
        price = need * WAD * 10 ** self.w.decimals[sym] // (held[sym] * thr)
        cur = view.quotes[sym][0]
        price = max(cur * 6 // 10, min(cur * 145 // 100, price))  # inside the oracle's 50% jump limit
        return sym, price

    @rule(who=st.integers(0, 3), ratio=st.integers(70, 135))
    def price_to_ratio(self, who, ratio):
        self.kind = "price"
        found = self.price_for_health(self.w.borrowers[who], ratio * WAD // 100)
        if found:
            self.set_price(*found)

    @rule(sym=st.sampled_from(MOVING), pct=st.integers(60, 145))
    def price_moves(self, sym, pct):
        self.kind = "price"
        cur = self.before.quotes[sym][0]
        self.set_price(sym, cur * pct // 100)

    @rule(seconds=st.integers(1, 4000), stale=st.sampled_from([False] * 7 + [True]))
    def time_passes(self, seconds, stale):
        self.kind = "time"
        self.d.advance(seconds)
        if stale:
            self.d.advance(3601)
            self.poke_all()  # every feed is stale now: the adapter freezes
        self.refresh_feeds()
        self.poke_all()

    # --- liquidations and auctions ---

    def guard_holds(self, r: Reverted, acct: str) -> bool:
        """The guard a liquidation revert names really applies now."""
        c = self.c
        if r.name == "LiquidationsPaused":
            return c["engine"].functions.paused().call()
        if r.name == "LiquidationGrace":
            return self.d.now() < r.args_["until"]
        if r.name == "ShutdownActive":
            return c["vault"].functions.shutdown().call()
        if r.name == "StopLevel":
            return c["auction"].functions.stopLevel().call() >= 1
        if r.name == "OracleGuarded":
            sym = next(s for s in SYMBOLS if c[s].address.lower() == r.args_["token"].lower())
            q = c["oracle"].functions.peek(c[sym].address).call()
            # Refused only when nothing priced is left to seize (ILiquidationEngine GUARDS): the
            # mirror, checked equal to previewLiquidate after every step, says so on this state.
            blocked = mirror_plan(self.w, read(self.w), acct).blocked == mirror.GUARDED
            return q[2] == 0 and q[5] == r.args_["guard"] != 0 and blocked
        if r.name == "LiquidationCapReached":
            cid = r.args_["collateralId"]
            e, a = c["engine"].functions, c["auction"].functions
            cap, used = e.collateralCap(cid).call(), a.debtOf(cid).call()
            gcap, total = e.globalCap().call(), a.totalDebt().call()
            room = min(max(cap - used, 0), max(gcap - total, 0))
            return room == r.args_["room"]
        return False

    def do_liquidate(self, acct: str):
        if PROFILE.oracle_delay:
            self.poke_all()  # as a keeper does: a due OSM hop happens before the health is judged
        view = read(self.w)
        h = model_health(self.w, view.held[acct], view.art[acct], view.rate, view.quotes, view.config)
        eng = self.c["engine"]
        try:
            rcpt = self.send(eng.functions.liquidate(acct, self.w.keeper), self.w.keeper)
        except Reverted as r:
            if r.name == "NotLiquidatable":
                assert h >= WAD - TOL, f"unsafe account (model health {h}) refused as healthy: {r}"
                COUNTS["refused_healthy"] += 1
                return
            assert r.name in GUARDS, f"liquidation of an account at health {h} reverted with {r}"
            assert self.guard_holds(r, acct), f"{r.name} named, but the guard does not hold: {r}"
            COUNTS["guarded"] += 1
            return
        assert h < WAD + TOL, f"a healthy account (model health {h}) was liquidated"
        COUNTS["liquidate"] += 1
        liq = self.d.events(rcpt, "engine", "Liquidate")[0].args
        assert liq.healthBefore < WAD
        kicks = self.d.events(rcpt, "auction", "Kick")
        seized = self.d.events(rcpt, "vault", "CollateralConfiscated")
        assert sorted((e.args.id, e.args.amount) for e in seized) == sorted(
            (k.args.collateralId, k.args.lot) for k in kicks), "seized collateral != auction lots"
        tabs = sum(k.args.tab for k in kicks)
        assert tabs == liq.debtClosed + liq.penalty, "tabs != debt closed + penalty"
        # The penalty is at least the smallest listed penalty on the debt closed (rounded up).
        min_pen = min(view.config[s][1] for s in SYMBOLS)
        assert liq.penalty >= liq.debtClosed * min_pen // WAD, f"penalty {liq.penalty} on {liq.debtClosed} too small"
        assert liq.incentive <= liq.penalty
        sym_of = {self.w.ids[s]: s for s in SYMBOLS}
        for k in kicks:
            self.kicked[k.args.id] = [sym_of[k.args.collateralId], k.args.lot, 0]
        art = self.c["vault"].functions.normalisedDebtOf(acct).call()
        rate = self.c["vault"].functions.rate().call()
        left = -(-art * rate // RAY)
        assert left == 0 or left >= view.dust, f"liquidation left debt {left} below dust {view.dust}"

    @rule(rank=st.integers(0, 3))
    def liquidate(self, rank):
        """Liquidate a borrower: rank 0 is the weakest now (where a keeper would look first)."""
        self.kind = "liquidate"
        by_health = sorted(self.w.borrowers, key=lambda a: self.before.health[a])
        self.do_liquidate(by_health[rank])

    @rule(rank=st.integers(0, 3), which=st.integers(0, 5), cap=st.sampled_from(["all", "all", "half", "dust"]),
          ratio=st.sampled_from([85, 90, 93, 95, 97]))
    def liquidate_direct(self, rank, which, cap, ratio):
        """Direct liquidation (IDirectLiquidator, DIRECT LIQUIDATION) of a borrower by the keeper,
        paying with its debt tokens: refused only for a documented reason that holds; when it goes
        through, the collateral received is worth at most repay x (1 + discount) at the confirmed
        price, the discount is 1 - health within the collateral's bounds, and maxRepay holds."""
        self.kind = "liquidate"
        by_health = sorted(self.w.borrowers, key=lambda a: self.before.health[a])
        acct = by_health[rank]
        # Mostly a collateral the account holds (which < 3); sometimes any (NotHeld is a rule too).
        held_syms = [x for x in SYMBOLS if self.before.held[acct][x]] or list(SYMBOLS)
        sym = held_syms[which % len(held_syms)] if which < 3 else SYMBOLS[which % 3]
        if ratio is not None:
            found = self.price_for_health(acct, ratio * WAD // 100)
            if found:
                self.kind = "price"
                self.set_price(*found)
        if PROFILE.oracle_delay:
            self.poke_all()
        view = read(self.w)
        h = model_health(self.w, view.held[acct], view.art[acct], view.rate, view.quotes, view.config)
        cid = self.w.ids[sym]
        debt = view.debt(acct)
        max_repay = {"all": MAX_UINT, "half": debt // 2, "dust": view.dust // 2}[cap]
        eng = self.c["engine"]
        tok = self.c[sym]
        before_tok = tok.functions.balanceOf(self.w.keeper).call()
        before_debt = self.c["debt_token"].functions.balanceOf(self.w.keeper).call()
        try:
            rcpt = self.send(self.c["direct"].functions.liquidateDirect(acct, cid, max_repay, 0, self.w.keeper, b""), self.w.keeper)
        except Reverted as r:
            held = view.held[acct][sym]
            q = view.quotes[sym]
            params = self.c["direct"].functions.directParams(cid).call()
            reasons = {
                "NotLiquidatable": h >= WAD - TOL,
                "NotHeld": held == 0,
                "OracleGuarded": held > 0 and q[2] == 0,
                "DirectNotAllowed": debt > params[0],
                "DirectUnderwater": sum(view.held[acct][x] * (view.quotes[x][2] or view.quotes[x][0])
                                        // 10 ** self.w.decimals[x] for x in SYMBOLS)
                < -(-debt * (WAD + view.config[sym][1]) // WAD),
                # the cap (half the debt, or less than the dust floor) or the holding cannot meet the dust rules
                "DirectBelowDust": cap != "all" or held * (q[2] or q[0]) // 10 ** self.w.decimals[sym] < 2 * view.dust
                or debt < 2 * view.dust,
            }
            if r.name in reasons:
                assert reasons[r.name], f"liquidateDirect refused {r.name} but its condition does not hold: {r}"
            else:
                assert r.name in GUARDS and self.guard_holds(r, acct), f"liquidateDirect refused: {r}"
            COUNTS["direct_refused"] += 1
            REFUSALS[r.name] = REFUSALS.get(r.name, 0) + 1
            return
        ev = self.d.events(rcpt, "direct", "LiquidateDirect")[0].args
        COUNTS["direct"] += 1
        assert h < WAD + TOL, f"a healthy account (model health {h}) was liquidated directly"
        assert ev.repaid <= max_repay, f"repaid {ev.repaid} above maxRepay {max_repay}"
        price = self.c["oracle"].functions.peek(tok.address).call(block_identifier=rcpt.blockNumber)[2]
        penalty = view.config[sym][1]
        dp = self.c["direct"].functions.directParams(cid).call()
        lo, hi = min(dp[1], penalty), min(dp[2], penalty)
        assert ev.discount == min(max(WAD - ev.healthBefore, lo), hi), f"discount {ev.discount} for health {ev.healthBefore}"
        value = ev.seized * price // 10 ** self.w.decimals[sym]
        assert value <= ev.repaid * (WAD + ev.discount) // WAD + 1, f"received {value} for {ev.repaid} at {ev.discount}"
        assert ev.repaid >= ev.debtClosed, "a direct liquidation paid less than the debt it closed"
        assert tok.functions.balanceOf(self.w.keeper).call() - before_tok == ev.seized
        assert before_debt - self.c["debt_token"].functions.balanceOf(self.w.keeper).call() == ev.repaid
        if self.kind != "price":
            self.kind = "liquidate"

    @rule(who=st.integers(0, 3), ratio=st.integers(75, 99))
    def push_and_liquidate_rule(self, who, ratio):
        self.push_and_liquidate(who, ratio)

    def push_and_liquidate(self, who, ratio):
        """Steer: bring an account to health `ratio`% by a price move, then liquidate it."""
        self.kind = "price"
        acct = self.w.borrowers[who]
        found = self.price_for_health(acct, ratio * WAD // 100)
        if found:
            self.set_price(*found)
        self.do_liquidate(acct)

    @rule(who=st.integers(0, 3), ratio=st.integers(80, 99), redo_first=st.booleans(),
          wait=st.sampled_from([0, 300, 800, 1000, 1150]), frac=st.sampled_from([1.0, 0.5]))
    def keeper_round(self, who, ratio, redo_first, wait, frac):
        """Steer: what a keeper does after a fall. Push an account under, liquidate it, then
        (after a redo, when asked) take each new auction `wait` seconds into its curve."""
        known = set(self.kicked)
        self.push_and_liquidate(who, ratio)
        fresh = [aid for aid in self.kicked if aid not in known]
        if not fresh:
            return
        if redo_first:
            self.redo(0, 1300, only=fresh[0])
        for n, aid in enumerate(fresh):
            self.take(0, frac, wait if n == 0 else 0, only=aid)
        self.kind = "price"  # the step moved a price: exempt from the healthy -> unhealthy rule

    def pick_auction(self, i: int):
        active = self.c["auction"].functions.list().call()
        return active[i % len(active)] if active else None

    @rule(i=st.integers(0, 20), frac=st.sampled_from([1.0, 1.0, 0.5, 0.2]), wait=st.sampled_from([0, 0, 300, 800, 1100]))
    def take_rule(self, i, frac, wait):
        # No @precondition on chain state: hypothesis must draw the same data when it replays an
        # example (the chain's timestamps drift with wall time), so an empty auction list is a no-op.
        if self.before.active:
            self.take(i, frac, wait)

    @rule(i=st.integers(0, 20), wait=st.sampled_from([700, 900, 1100, 1150]))
    def take_late(self, i, wait):
        """Take it all late on the curve, between the price that covers the tab and the floor."""
        if self.before.active:
            self.take(i, 1.0, wait)

    def take(self, i, frac, wait, only=None):
        self.kind = "take"
        aid = only or self.pick_auction(i)
        if aid is None:
            return
        a = self.c["auction"]
        sale = a.functions.sales(aid).call()
        if sale[LOT] == 0:
            return  # ended already
        params = a.functions.params(sale[CID]).call()
        if wait:
            self.d.advance(on_curve(wait, params, sale[TOP]))
            self.refresh_feeds()
        sym = self.kicked[aid][0]
        amount = max(1, int(sale[LOT] * frac))
        needs_redo, price_now, _, _ = a.functions.getStatus(aid).call()
        tok = self.c[sym]
        bal_c = tok.functions.balanceOf(self.w.keeper).call()
        bal_d = self.c["debt_token"].functions.balanceOf(self.w.keeper).call()
        owner_held = self.c["vault"].functions.collateralOf(sale[OWNER], sale[CID]).call()
        dust = self.c["vault"].functions.dust().call()
        try:
            rcpt = self.send(a.functions.take(aid, amount, MAX_UINT, self.w.keeper, b""), self.w.keeper)
        except Reverted as r:
            if r.name == "AuctionNeedsRedo":
                assert needs_redo or self.needs_redo_model(sale, params, self.d.now() + 1), r
            elif r.name == "DustLeft":
                assert amount < sale[LOT] and sale[TAB] <= dust, r
            elif r.name == "StopLevel":
                assert a.functions.stopLevel().call() >= 3, r
            elif r.name == "OracleGuarded":
                assert self.auction_guard_holds(r, tok.address), r
            elif r.name == "ZeroAmount":
                # Only a partial take the dust rule trims can buy nothing (a take covering the tab
                # pays it even for no collateral): the tab less the dust is worth less than one unit
                # at the price. The price only falls between this view and the transaction, so it
                # held at the view.
                assert amount < sale[LOT] and dust < sale[TAB], r
                assert (sale[TAB] - dust) * 10 ** sale[DEC] < price_now, r
            else:
                raise AssertionError(
                    f"take of auction {aid} refused: {r} (lot {sale[LOT]}, tab {sale[TAB]}, price {price_now},"
                    f" decimals {sale[DEC]}, amount {amount})"
                )
            return
        COUNTS["take"] += 1
        ev = self.d.events(rcpt, "auction", "Take")[0].args
        ts = self.d.w3.eth.get_block(rcpt.blockNumber)["timestamp"]
        expected = curve_price(params, sale[TOP], ts - sale[STARTED])
        assert ev.price == expected, f"take at {ev.price}, the curve says {expected}"
        scale = 10 ** sale[DEC]
        assert ev.owe * scale >= ev.slice * ev.price, "paid below price * amount"
        if ev.tab > 0:
            assert ev.owe == -(-ev.slice * ev.price // scale)
        ref = self.c["oracle"].functions.peek(tok.address).call(block_identifier=rcpt.blockNumber)[3]
        if ref:
            floor = -(-ref * (WAD - params[6]) // WAD)
            assert ev.price >= floor, f"sold at {ev.price} below the floor {floor}"
        assert tok.functions.balanceOf(self.w.keeper).call() - bal_c == ev.slice, "collateral out != slice"
        assert bal_d - self.c["debt_token"].functions.balanceOf(self.w.keeper).call() == ev.owe, "debt in != owe"
        k = self.kicked[aid]
        k[2] += ev.slice
        assert k[2] <= k[1], f"auction {aid} sold {k[2]} of a {k[1]} lot"
        ended = self.d.events(rcpt, "auction", "AuctionEnded")
        if ended:
            e = ended[0].args
            assert k[2] + e.leftover == k[1], f"auction {aid}: sold {k[2]} + returned {e.leftover} != lot {k[1]}"
            got = self.c["vault"].functions.collateralOf(sale[OWNER], sale[CID]).call() - owner_held
            assert got == e.leftover, "leftover not credited to the owner"
            if e.shortfall > 0:
                COUNTS["short"] += 1
        else:
            assert ev.tab >= dust, f"take left a tab of {ev.tab} below dust {dust}"

    def auction_guard_holds(self, r: Reverted, token: str) -> bool:
        """A take or redo refused `OracleGuarded` names the auction's token and a guard that holds
        now and is one that refuses them (IDutchAuction PRICE GUARDS: NoPrice, Frozen,
        DelayedStopped, SequencerDown; never None or a grace period)."""
        COUNTS["auction_guarded"] += 1
        guard = self.c["oracle"].functions.peek(token).call()[5]
        return r.args_["token"].lower() == token.lower() and r.args_["guard"] == guard in AUCTION_REFUSING_GUARDS

    def needs_redo_model(self, sale, params, ts) -> bool:
        elapsed = ts - sale[STARTED]
        price = curve_price(params, sale[TOP], elapsed)
        ref = self.c["oracle"].functions.peek(sale[TOKEN]).call()[3]
        if ref == 0:
            ref = sale[TOP] * WAD // params[1]
        floor = -(-ref * (WAD - params[6]) // WAD)
        return elapsed > params[5] or price < floor

    @rule(i=st.integers(0, 20), wait=st.sampled_from([0, 1300, 1300, 2500, 7300]))
    def redo_rule(self, i, wait):
        if self.before.active:
            self.redo(i, wait)

    @rule(i=st.integers(0, 20))
    def redo_past_the_paid_ones(self, i):
        """An auction nobody buys, restarted MAX_PAID_REDOS + 1 times, each past its max age: the
        last restart pays nothing (checked in `redo`)."""
        aid = self.pick_auction(i) if self.before.active else None
        for _ in range(MAX_PAID_REDOS + 1):
            if aid is not None:
                self.redo(i, 7300, only=aid)

    def redo(self, i, wait, only=None):
        self.kind = "redo"
        aid = only or self.pick_auction(i)
        if aid is None:
            return
        a = self.c["auction"]
        sale = a.functions.sales(aid).call()
        if sale[LOT] == 0:
            return
        params = a.functions.params(sale[CID]).call()
        if wait:
            self.d.advance(on_curve(wait, params, sale[TOP]))
            self.refresh_feeds()
            self.poke_all()
        try:
            rcpt = self.send(a.functions.redo(aid, self.w.keeper), self.w.keeper)
        except Reverted as r:
            if r.name == "AuctionDoesNotNeedRedo":
                assert not self.needs_redo_model(sale, params, self.d.now() + 1), r
            elif r.name == "StopLevel":
                assert a.functions.stopLevel().call() >= 2, r
            elif r.name == "OracleGuarded":
                assert self.auction_guard_holds(r, sale[TOKEN]), r
            else:
                raise AssertionError(f"redo of auction {aid} refused: {r}")
            return
        COUNTS["redo"] += 1
        ev = self.d.events(rcpt, "auction", "Redo")[0].args
        q = self.c["oracle"].functions.peek(sale[TOKEN]).call(block_identifier=rcpt.blockNumber)
        assert ev.top == -(-q[3] * params[1] // WAD), "redo restarted from the wrong price"
        # REDO INCENTIVE: tip + chip x tab when neither the tab nor the lot is dust, and only for
        # the first MAX_PAID_REDOS paid redos of an auction: it pays at most that many over its life.
        dust = self.c["vault"].functions.dust().call(block_identifier=rcpt.blockNumber)
        worth = sale[TAB] >= dust and sale[LOT] * q[0] // 10 ** sale[DEC] >= dust
        due = params[7] + sale[TAB] * params[8] // WAD if worth and sale[PAID] < MAX_PAID_REDOS else 0
        assert ev.incentive == due, f"redo paid {ev.incentive}, the rule says {due} ({sale[PAID]} paid before)"
        paid = a.functions.sales(aid).call()[PAID]
        assert paid == sale[PAID] + (due > 0) <= MAX_PAID_REDOS, f"paid redos {sale[PAID]} -> {paid}"
        if due == 0 and sale[PAID] == MAX_PAID_REDOS:
            COUNTS["unpaid_redo"] += 1

    # --- governance within bounds ---

    @rule(what=st.sampled_from(["fee", "threshold", "dust", "target", "margin", "cap", "pause", "stop", "curve"]),
          x=st.integers(0, 100))
    def governance(self, what, x):
        self.kind = "gov"
        sym = SYMBOLS[x % 2]
        cid = self.w.ids[sym]
        if what == "fee":
            self.govern("vault", "setStabilityFee", RAY + x * 60_000_000_000_000_000 // 100)  # <= ~20%/yr
        elif what == "threshold":
            thr = self.before.config[sym][0]
            new = thr - wad("0.05") if x % 2 else thr + wad("0.02")
            try:
                self.govern("vault", "setLiquidationThreshold", cid, new, 86_400 + x * 1000)
            except Reverted:
                pass  # outside the risk bounds: refused, nothing changes
        elif what == "dust":
            self.govern("vault", "setDust", wad(500) + x * wad(30))
        elif what == "target":
            self.govern("engine", "setTargetHealth", wad("1.1") + x * wad("0.004"))
        elif what == "margin":
            self.govern("engine", "setLotMargin", x * wad("0.001"))
        elif what == "cap":
            self.govern("engine", "setCollateralCap", cid, wad(5_000_000) if x > 30 else x * wad(1000))
        elif what == "pause":  # the guardian pauses; governance lifts it (then a grace period)
            if self.c["engine"].functions.paused().call():
                self.govern("engine", "unpause")
            elif x > 50:
                self.send(self.c["engine"].functions.pause(), self.w.deployer)
        elif what == "stop":
            self.govern("auction", "setStopLevel", 0 if x > 12 else x % 4)
        elif what == "curve":
            params = list(self.c["auction"].functions.params(cid).call())
            params[0] = x % 3
            params[3] = 10**27 - 10**24 * (1 + x % 5) if x % 3 == 1 else 10**27 * 99 // 100
            params[4] = 60
            self.govern("auction", "setParams", cid, tuple(params))

    # --- invariants ---

    @invariant()
    def after_every_step(self):
        COUNTS["steps"] += 1
        after = read(self.w)
        check(self, self.before, after)
        self.before = after
        self.kind = "none"


def check(m: UnwindMachine, before: View, after: View) -> None:
    w = m.w
    # Tokens are conserved.
    for sym in SYMBOLS:
        supplied = after.config[sym][2]
        assert sum(after.held[a][sym] for a in w.accounts) == supplied, f"{sym}: positions != totalSupplied"
        # The vault keeps the lots of running auctions too (IVault.inAuction); the auction holds
        # no collateral of its own, only what was donated to it.
        lots = sum(s[LOT] for s in after.sales.values() if s[TOKEN].lower() == m.c[sym].address.lower())
        assert after.in_auction[sym] == lots, f"{sym}: vault's auction custody {after.in_auction[sym]} != lots {lots}"
        assert after.bal_vault[sym] == supplied + lots + m.donated_vault[sym], (
            f"{sym}: vault holds {after.bal_vault[sym]}, accounts {supplied} + lots {lots}"
            f" + donated {m.donated_vault[sym]}")
        assert after.bal_auction[sym] == m.donated_auction[sym], (
            f"{sym}: auction holds {after.bal_auction[sym]}, donated {m.donated_auction[sym]}")
    # Debt reconciles.
    assert after.supply == after.vault_debt + after.auction_debt + after.bad_debt, (
        f"identity: supply {after.supply} != {after.vault_debt} + {after.auction_debt} + {after.bad_debt}")
    assert sum(after.art.values()) == after.total_art, "normalised debts do not add up"
    assert sum(s[TAB] for s in after.sales.values()) == after.auction_debt, "tabs do not add up"
    for sym in SYMBOLS:
        tabs = sum(s[TAB] for s in after.sales.values() if s[CID] == w.ids[sym])
        assert tabs == after.debt_by_id[sym], f"{sym}: auction.debtOf != its tabs"
    # Auctions: lot = kicked - sold; nothing sold twice.
    for aid, sale in after.sales.items():
        k = m.kicked.get(aid)
        assert k is not None, f"auction {aid} was never seen kicked"
        assert sale[LOT] == k[1] - k[2], f"auction {aid}: lot {sale[LOT]} != kicked {k[1]} - sold {k[2]}"
        if aid in before.sales and sale[TAB] != before.sales[aid][TAB]:
            assert sale[TAB] >= after.dust, f"auction {aid} tab {sale[TAB]} below dust"
    # The active list and the sale pool (IDutchAuction IDS): each running sale sits at its list
    # position with a lot; an auction off the list is dead for good, also once a later kick has
    # reused its storage slot.
    assert len(set(after.active)) == len(after.active), f"an id listed twice: {after.active}"
    for pos, aid in enumerate(after.active):
        assert after.sales[aid][IDX] == pos and after.sales[aid][LOT] > 0, f"auction {aid} at {pos}: {after.sales[aid]}"
    m.ended.update(aid for aid in before.active if aid not in after.sales)
    if m.ended:
        dead = m.d.batch([m.c["auction"].functions.sales(aid) for aid in sorted(m.ended)])
        assert all(tuple(s)[LOT] == 0 and tuple(s)[TAB] == 0 for s in dead), "an ended auction's id still reads a sale"
    pool = m.c["auction"].functions.poolSize().call()
    assert len(after.active) <= pool and pool >= m.pool, f"pool {pool} (was {m.pool}), {len(after.active)} running"
    m.pool = pool
    if m.kind == "reserve":
        assert (after.active, after.sales) == (before.active, before.sales), "reserve changed the auctions"
    # One rule: the keeper's planner (unwind/keeper/plan.py) says what previewLiquidate says.
    for acct in w.accounts:
        diff = mirror.same_as_preview(mirror_plan(w, after, acct), after.previews[acct])
        assert diff is None, f"keeper's mirror differs from previewLiquidate({acct}) after {m.kind}: {diff}"
    # Health: the vault's view matches the model; no healthy -> unhealthy without price/fee/ramp.
    for acct in w.accounts:
        model = model_health(w, after.held[acct], after.art[acct], after.rate, after.quotes, after.config)
        assert after.health[acct] == model, f"healthOf {after.health[acct]} != model {model}"
        if after.art[acct] != before.art[acct]:
            debt = after.debt(acct)
            assert debt == 0 or debt >= after.dust or m.kind == "gov", f"debt {debt} below dust {after.dust}"
        if m.kind in ("price", "time", "gov", "init"):
            continue
        if before.health[acct] >= WAD and after.health[acct] < WAD:
            # Re-value the new holdings at the old prices, rate and thresholds.
            again = model_health(w, after.held[acct], after.art[acct], before.rate, before.quotes, before.config)
            assert again >= WAD, f"{m.kind} step made {acct} unhealthy: {before.health[acct]} -> {after.health[acct]}"


# --- the test ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _module_first(world):
    """Deploy before Ape's per-test isolation snapshot."""


def test_invariants_hold_under_random_use(world, chain, capsys):
    UnwindMachine.w = world
    UnwindMachine.chain = chain
    for k in COUNTS:
        COUNTS[k] = 0
    started = time.time()
    phases = tuple(Phase) if PROFILE.shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    run_state_machine_as_test(
        UnwindMachine,
        settings=settings(
            max_examples=PROFILE.examples,
            stateful_step_count=PROFILE.steps,
            deadline=None,
            phases=phases,
            derandomize=not PROFILE.shrink,
            suppress_health_check=list(HealthCheck),
            database=None,
            verbosity=Verbosity.verbose if os.environ.get("UNWIND_VERBOSE") else Verbosity.normal,
        ),
    )
    elapsed = time.time() - started
    summary = (
        f"invariants [{PROFILE.name}]: {COUNTS['runs']} runs, {COUNTS['steps']} steps in {elapsed:.0f} s; "
        f"liquidate {COUNTS['liquidate']} (min {PROFILE.min_liquidate}), take {COUNTS['take']} "
        f"(min {PROFILE.min_take}), redo {COUNTS['redo']} (min {PROFILE.min_redo}), ended short "
        f"{COUNTS['short']} (min {PROFILE.min_short}), withdrawals past the limit refused {COUNTS['over_limit']} "
        f"(min {PROFILE.min_over_limit}); guarded refusals {COUNTS['guarded']}, "
        f"guarded auction refusals {COUNTS['auction_guarded']}, redos past the paid ones {COUNTS['unpaid_redo']}, "
        f"healthy refusals {COUNTS['refused_healthy']}, holdings planted {COUNTS['planted']} "
        f"(min {PROFILE.min_planted}), caps filled {COUNTS['filled']} (min {PROFILE.min_filled}), direct "
        f"liquidations {COUNTS['direct']} (min {PROFILE.min_direct}, refused {COUNTS['direct_refused']}: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(REFUSALS.items())) or 'none'})"
    )
    with capsys.disabled():
        print("\n" + summary)
    assert COUNTS["liquidate"] >= PROFILE.min_liquidate, summary
    assert COUNTS["take"] >= PROFILE.min_take, summary
    assert COUNTS["redo"] >= PROFILE.min_redo, summary
    assert COUNTS["short"] >= PROFILE.min_short, summary
    assert COUNTS["over_limit"] >= PROFILE.min_over_limit, summary
    assert COUNTS["planted"] >= PROFILE.min_planted, summary
    assert COUNTS["filled"] >= PROFILE.min_filled, summary
    assert COUNTS["direct"] >= PROFILE.min_direct, summary
