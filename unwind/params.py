"""Risk parameters for a deployment: the dataclasses deploy_system uses, and the YAML file format.

Units inside the dataclasses follow the contracts: WAD (1e18) for amounts and ratios, RAY (1e27)
for rates, seconds for durations. The parameter file (params/local.yaml is the default and the
reference) uses readable numbers instead: ratios as decimals (0.8 = 80%), amounts in whole debt
tokens, supply caps in whole collateral tokens, durations in seconds, rates as per-second
multipliers. `load_params(path)` reads a file, checks every value against the bounds the contracts
enforce (plus a few that only hold between values), and returns a `SystemParams`; any invalid
value raises `ParamError` with one line per problem, naming the field and the allowed range.
`check_on_chain(params, reader)` adds the checks that need a chain (code at addresses, decimals).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

WAD = 10**18
RAY = 10**27
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PARAMS_FILE = ROOT / "params" / "local.yaml"


def wad(x: float | int | str) -> int:
    """A decimal number as a WAD integer, exactly (strings avoid float rounding)."""
    return int(Decimal(str(x)) * WAD)


def ray(x: float | int | str) -> int:
    return int(Decimal(str(x)) * RAY)


CURVES = {"linear": 0, "exponential": 1, "stairstep": 2}

# Bounds the contracts enforce (kept here so a bad file fails before anything is sent).
MAX_COLLATERALS = 16  # Vault.MAX_COLLATERALS
MAX_PENALTY = Decimal("0.25")  # Vault.MAX_PENALTY
MAX_DUST = 1_000_000  # Vault.MAX_DUST [whole debt tokens]
MAX_FEE_PER_SECOND = Decimal("1.000000021979553151239153027")  # Vault: 100% a year
MAX_TARGET_HEALTH = Decimal(2)  # LiquidationEngine
MAX_LOT_MARGIN = Decimal("0.25")  # LiquidationEngine
MAX_GRACE = 86400  # OracleAdapter.MAX_GRACE, LiquidationEngine.MAX_UNPAUSE_GRACE
MAX_DEVIATION_BPS = 500  # OracleAdapter
MAX_JUMP_BPS = 5000  # OracleAdapter
MAX_DISCOUNT = Decimal("0.25")  # DutchAuction.MAX_DISCOUNT
MAX_AUCTION_RESERVE = 4096  # deploy-time bound: ~70k gas a sale, sent RESERVE_CHUNK at a time
UINT32 = 2**32 - 1
UINT128 = 2**128 - 1
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


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
class DirectParams:
    """Direct liquidation of one collateral (IDirectLiquidator, DIRECT LIQUIDATION)."""

    max_debt: int = 0  # [wad] accounts owing more go through the auctions; 0: no direct liquidation
    min_discount: int = 0  # [wad] the liquidator's discount just below health 1
    max_discount: int = 0  # [wad] its cap (discount = 1 - health, clamped); <= penalty

    def as_tuple(self) -> tuple:
        return (self.max_debt, self.min_discount, self.max_discount)


@dataclass
class CollateralParams:
    symbol: str
    decimals: int
    price: str | None  # initial mock feed price, in units of account per whole token (mock feeds only)
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
    direct: DirectParams = field(default_factory=DirectParams)
    token: str | None = None  # an existing ERC-20; None: deploy a mock token
    feed: str | None = None  # an existing Chainlink-style feed; None: deploy a mock feed at `price`
    secondary_feed: str | None = None
    secondary_heartbeat: int = 0
    min_answer: int = 0  # [feed units]
    max_answer: int = 0  # [feed units] 0: no upper bound
    frozen: bool = False


@dataclass
class AdaptiveParams:
    """contracts/risk/AdaptiveRisk.sol's estimator settings; bands come from unwind.risk.default_bands."""

    enabled: bool = False  # deploy AdaptiveRisk and give it RISK_ROLE
    half_life: int = 6 * 3600  # [s] EWMA half-life
    min_interval: int = 300  # [s] least time between samples
    max_interval: int = 900  # [s] one sample weighs at most w(max_interval)
    var_cap: int = wad(4)  # [wad] cap on one sample's annualised variance (4 = 200% vol)
    max_threshold_drop_per_hour: int = wad("0.01")  # [wad] the threshold falls at most this fast
    tolerance: int = wad("0.005")  # [wad] relative changes below this are not written

    def as_tuple(self) -> tuple:
        """IAdaptiveRisk.EstimatorConfig."""
        return (self.half_life, self.min_interval, self.max_interval, self.var_cap,
                self.max_threshold_drop_per_hour // 3600, self.tolerance)


@dataclass
class SystemParams:
    collaterals: list[CollateralParams]
    dust: int = wad(1_000)
    debt_ceiling: int = wad(100_000_000)
    stability_fee: int = RAY  # per second; RAY = no fee
    min_ramp_duration: int = 86400  # [s] the vault's own default
    target_health: int = wad("1.25")
    lot_margin: int = wad("0.05")  # must stay below 1 - threshold*(1+penalty) for partial closes
    tip: int = wad(20)
    chip: int = wad("0.01")
    global_cap: int = wad(10_000_000)
    oracle_delay: int = 600  # OSM hop [s]
    recovery_grace: int = 1800  # [s]
    unpause_grace: int = 1800  # [s]
    auction_reserve: int = 0  # auction sales whose storage the deploy pre-pays (DutchAuction.reserve)
    sequencer_feed: str | None = None  # L2 sequencer uptime feed
    sequencer_grace: int = 3600  # [s]
    timelock_delay: int = 0  # [s]; live networks use a day or more
    guardian: str = "deployer"  # "deployer" or an address
    proposers: list[str] = field(default_factory=lambda: ["deployer"])
    executors: list[str] = field(default_factory=lambda: ["deployer"])
    adaptive: AdaptiveParams = field(default_factory=AdaptiveParams)


class ParamError(ValueError):
    """Invalid parameters: `errors` holds one line per problem."""

    def __init__(self, errors: list[str], source: str = ""):
        self.errors = list(errors)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__("\n".join(f"{head}{e}" for e in self.errors))


# --- the file format ------------------------------------------------------------------------
# Each entry: yaml key -> (kind, bounds...). Kinds turn readable values into contract units.

_AUCTION_KEYS = ("curve", "buffer", "duration", "cut", "step", "max_age", "max_discount", "redo_tip", "redo_chip")
_FEED_KEYS = ("address", "price", "decimals", "heartbeat", "max_jump_bps", "max_deviation_bps", "secondary",
              "secondary_heartbeat", "min_answer", "max_answer")
_COLLATERAL_KEYS = ("token", "decimals", "max_ltv", "liquidation_threshold", "penalty", "supply_cap",
                    "collateral_cap", "frozen", "feed", "auction", "direct")
_DIRECT_KEYS = ("max_debt", "min_discount", "max_discount")
_TOP_KEYS = ("system", "liquidation", "oracle", "roles", "collaterals", "adaptive")
_ADAPTIVE_KEYS = ("enabled", "half_life", "min_interval", "max_interval", "var_cap", "max_threshold_drop_per_hour",
                  "tolerance")
_SYSTEM_KEYS = ("dust", "debt_ceiling", "stability_fee", "min_ramp_duration")
_LIQUIDATION_KEYS = ("target_health", "lot_margin", "tip", "chip", "global_cap", "unpause_grace", "auction_reserve")
_ORACLE_KEYS = ("delay", "recovery_grace", "sequencer_feed", "sequencer_grace")
_ROLES_KEYS = ("guardian", "proposers", "executors", "timelock_delay")


def _fmt(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s


class _Reader:
    """Reads one section of the document, collecting errors instead of stopping at the first."""

    def __init__(self, errors: list[str]):
        self.errors = errors

    def err(self, path: str, msg: str) -> None:
        self.errors.append(f"{path}: {msg}")

    def section(self, doc, path: str, allowed: tuple, required: bool = True) -> dict:
        if doc is None and not required:
            return {}
        if not isinstance(doc, dict):
            self.err(path, f"must be a mapping of {', '.join(allowed)}")
            return {}
        for key in doc:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                extra = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.err(f"{path}.{key}" if path else str(key), f"unknown key{extra}; allowed keys: {', '.join(allowed)}")
        return doc

    def decimal(self, doc: dict, key: str, path: str, default, lo=None, hi=None, lo_open=False, hi_open=False,
                unit: str = "") -> Decimal | None:
        p = f"{path}.{key}"
        raw = doc.get(key, default)
        if raw is None and key not in doc:
            self.err(p, f"is required{_range(lo, hi, lo_open, hi_open, unit)}")
            return None
        if isinstance(raw, bool) or raw is None or not isinstance(raw, (int, float, str, Decimal)):
            self.err(p, f"{raw!r} is not a number{_range(lo, hi, lo_open, hi_open, unit)}")
            return None
        try:
            value = Decimal(str(raw).replace("_", ""))
        except InvalidOperation:
            self.err(p, f"{raw!r} is not a number{_range(lo, hi, lo_open, hi_open, unit)}")
            return None
        if not value.is_finite():
            self.err(p, f"{raw!r} is not a finite number{_range(lo, hi, lo_open, hi_open, unit)}")
            return None
        bad = (lo is not None and (value < lo or (lo_open and value == lo))) or (
            hi is not None and (value > hi or (hi_open and value == hi)))
        if bad:
            self.err(p, f"{_fmt(value)} is out of range{_range(lo, hi, lo_open, hi_open, unit)}")
            return None
        return value

    def integer(self, doc: dict, key: str, path: str, default, lo=None, hi=None, unit: str = "") -> int | None:
        p = f"{path}.{key}"
        raw = doc.get(key, default)
        if raw is None and key not in doc:
            self.err(p, f"is required{_range(lo, hi, False, False, unit)}")
            return None
        if isinstance(raw, str):
            try:
                raw = int(raw.replace("_", ""))
            except ValueError:
                pass
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.err(p, f"{raw!r} is not a whole number{_range(lo, hi, False, False, unit)}")
            return None
        if (lo is not None and raw < lo) or (hi is not None and raw > hi):
            self.err(p, f"{raw} is out of range{_range(lo, hi, False, False, unit)}")
            return None
        return raw

    def boolean(self, doc: dict, key: str, path: str, default) -> bool | None:
        raw = doc.get(key, default)
        if not isinstance(raw, bool):
            self.err(f"{path}.{key}", f"{raw!r} is not true or false")
            return None
        return raw

    def address(self, doc: dict, key: str, path: str, default, special: tuple = ()) -> str | None:
        """An 0x address, or one of the `special` words (returned as is); None stays None."""
        return self.address_value(doc.get(key, default), f"{path}.{key}", special)

    def address_value(self, raw, p: str, special: tuple = ()) -> str | None:
        if raw is None or raw in special:
            return raw
        words = f" or {' / '.join(special)}" if special else ""
        try:
            ok = isinstance(raw, str) and raw.startswith("0x") and len(raw) == 42 and int(raw, 16) >= 0
        except ValueError:
            ok = False
        if not ok:
            self.err(p, f"{raw!r} is not an address; allowed: a 0x address of 20 bytes{words}")
            return None
        if int(raw, 16) == 0:
            self.err(p, f"the zero address is not allowed; allowed: a 0x address of 20 bytes{words}")
            return None
        return raw


def _range(lo, hi, lo_open, hi_open, unit) -> str:
    if lo is None and hi is None:
        return ""
    u = f" {unit}" if unit else ""
    lo_s = "" if lo is None else f"{_fmt(Decimal(lo))}{' <' if lo_open else ' <='} "
    hi_s = "" if hi is None else f" {'<' if hi_open else '<='} {_fmt(Decimal(hi))}"
    return f"; allowed {lo_s}value{hi_s}{u}"


def params_from_document(doc, source: str = "") -> SystemParams:
    """A `SystemParams` from a parsed parameter document, or ParamError listing every problem."""
    errors: list[str] = []
    r = _Reader(errors)
    if not isinstance(doc, dict):
        raise ParamError([f"the file must be a mapping with keys {', '.join(_TOP_KEYS)}"], source)
    r.section(doc, "", _TOP_KEYS)
    d = SystemParams(collaterals=[])  # the defaults for anything the file leaves out
    da = AuctionParams()

    sysd = r.section(doc.get("system"), "system", _SYSTEM_KEYS, required=False)
    dust = r.decimal(sysd, "dust", "system", d.dust / Decimal(WAD), 0, MAX_DUST, unit="debt tokens")
    ceiling = r.decimal(sysd, "debt_ceiling", "system", d.debt_ceiling / Decimal(WAD), 0, None, unit="debt tokens")
    fee = r.decimal(sysd, "stability_fee", "system", d.stability_fee / Decimal(RAY), 1, MAX_FEE_PER_SECOND,
                    unit="(per-second multiplier; 1 = no fee, the maximum is 100% a year)")
    ramp = r.integer(sysd, "min_ramp_duration", "system", d.min_ramp_duration, 3600, 30 * 86400, unit="seconds")

    liq = r.section(doc.get("liquidation"), "liquidation", _LIQUIDATION_KEYS, required=False)
    target = r.decimal(liq, "target_health", "liquidation", d.target_health / Decimal(WAD), 1, MAX_TARGET_HEALTH,
                       lo_open=True)
    margin = r.decimal(liq, "lot_margin", "liquidation", d.lot_margin / Decimal(WAD), 0, MAX_LOT_MARGIN)
    tip = r.decimal(liq, "tip", "liquidation", d.tip / Decimal(WAD), 0, None, unit="debt tokens")
    chip = r.decimal(liq, "chip", "liquidation", d.chip / Decimal(WAD), 0, MAX_PENALTY)
    gcap = r.decimal(liq, "global_cap", "liquidation", d.global_cap / Decimal(WAD), 0, None, unit="debt tokens")
    ugrace = r.integer(liq, "unpause_grace", "liquidation", d.unpause_grace, 0, MAX_GRACE, unit="seconds")
    reserve = r.integer(liq, "auction_reserve", "liquidation", d.auction_reserve, 0, MAX_AUCTION_RESERVE,
                        unit="auction sales")

    orc = r.section(doc.get("oracle"), "oracle", _ORACLE_KEYS, required=False)
    delay = r.integer(orc, "delay", "oracle", d.oracle_delay, 0, MAX_GRACE, unit="seconds (0 disables the delayed price)")
    rgrace = r.integer(orc, "recovery_grace", "oracle", d.recovery_grace, 0, MAX_GRACE, unit="seconds")
    seq = r.address(orc, "sequencer_feed", "oracle", None)
    sgrace = r.integer(orc, "sequencer_grace", "oracle", d.sequencer_grace, 0, MAX_GRACE, unit="seconds")

    roles = r.section(doc.get("roles"), "roles", _ROLES_KEYS, required=False)
    guardian = r.address(roles, "guardian", "roles", "deployer", special=("deployer",))
    proposers = _address_list(r, roles, "proposers", ("deployer",))
    executors = _address_list(r, roles, "executors", ("deployer", "anyone"))
    tl_delay = r.integer(roles, "timelock_delay", "roles", d.timelock_delay, 0, 30 * 86400, unit="seconds")

    ad = r.section(doc.get("adaptive"), "adaptive", _ADAPTIVE_KEYS, required=False)
    dad = AdaptiveParams()
    a_enabled = r.boolean(ad, "enabled", "adaptive", dad.enabled)
    a_half = r.integer(ad, "half_life", "adaptive", dad.half_life, 3600, 30 * 86400, unit="seconds")
    a_min = r.integer(ad, "min_interval", "adaptive", dad.min_interval, 12, 86400, unit="seconds")
    a_max = r.integer(ad, "max_interval", "adaptive", dad.max_interval, a_min or 12, 86400,
                      unit="seconds, at least min_interval")
    a_cap = r.decimal(ad, "var_cap", "adaptive", dad.var_cap / Decimal(WAD), 0, 25, lo_open=True,
                      unit="(annualised variance)")
    a_speed = r.decimal(ad, "max_threshold_drop_per_hour", "adaptive", dad.max_threshold_drop_per_hour / Decimal(WAD),
                        Decimal(3600) / WAD, 1)
    a_tol = r.decimal(ad, "tolerance", "adaptive", dad.tolerance / Decimal(WAD), 0, Decimal("0.05"))

    cols = doc.get("collaterals")
    collaterals: list[CollateralParams] = []
    if not isinstance(cols, dict) or not cols:
        r.err("collaterals", "must map each collateral's symbol to its settings (at least one collateral)")
        cols = {}
    elif len(cols) > MAX_COLLATERALS:
        r.err("collaterals", f"{len(cols)} collaterals; allowed at most {MAX_COLLATERALS}")
    tokens_seen: dict[str, str] = {}
    for symbol, c in cols.items():
        path = f"collaterals.{symbol}"
        if not isinstance(symbol, str) or not symbol.isidentifier():
            r.err(path, "a collateral's symbol must be a word of letters, digits and _")
        if not isinstance(c, dict):
            r.err(path, f"must be a mapping of {', '.join(_COLLATERAL_KEYS)}")
            continue
        r.section(c, path, _COLLATERAL_KEYS)
        token = r.address(c, "token", path, "mock", special=("mock",))
        if token not in (None, "mock"):
            if token.lower() in tokens_seen:
                r.err(f"{path}.token", f"{token} is already listed as {tokens_seen[token.lower()]}; each token once")
            tokens_seen[token.lower()] = symbol
        decimals = r.integer(c, "decimals", path, None, 0, 18)
        ltv = r.decimal(c, "max_ltv", path, None, 0, 1, hi_open=True)
        lt = r.decimal(c, "liquidation_threshold", path, None, 0, 1, lo_open=True, hi_open=True)
        pen = r.decimal(c, "penalty", path, None, 0, MAX_PENALTY)
        if ltv is not None and lt is not None and ltv >= lt:
            r.err(f"{path}.max_ltv", f"{_fmt(ltv)} is not below liquidation_threshold {_fmt(lt)}; "
                                     f"allowed 0 <= max_ltv < liquidation_threshold")
        if lt is not None and pen is not None:
            seized = lt * (1 + pen)
            if seized >= 1:
                r.err(f"{path}.penalty", f"liquidation_threshold x (1 + penalty) = {_fmt(seized)} must be below 1 "
                                         f"(a liquidation must improve health); allowed penalty < "
                                         f"{_fmt(1 / lt - 1)} with this threshold")
            elif margin is not None and seized / (1 - margin) >= 1:
                r.err(f"{path}.liquidation_threshold",
                      f"liquidation_threshold x (1 + penalty) / (1 - lot_margin) = {_fmt(seized / (1 - margin))} "
                      f"must be below 1 (partial closes need room for the lot margin); allowed lot_margin < "
                      f"{_fmt(1 - seized)} or a lower threshold/penalty")
        supply = r.integer(c, "supply_cap", path, None, 0, None, unit="whole tokens")
        if supply is not None and decimals is not None and supply * 10**decimals > UINT128:
            r.err(f"{path}.supply_cap", f"{supply} whole tokens overflow uint128 in token units; "
                                        f"allowed 0 <= value <= {UINT128 // 10**decimals}")
        ccap = r.decimal(c, "collateral_cap", path, Decimal(wad(5_000_000)) / WAD, 0, None, unit="debt tokens")
        frozen = r.boolean(c, "frozen", path, False)

        feed = r.section(c.get("feed"), f"{path}.feed", _FEED_KEYS)
        fpath = f"{path}.feed"
        faddr = r.address(feed, "address", fpath, "mock", special=("mock",))
        fdec = r.integer(feed, "decimals", fpath, 8, 0, 18)
        price = None
        if faddr == "mock":
            price = r.decimal(feed, "price", fpath, None, 0, None, lo_open=True, unit="debt tokens per whole token")
        elif "price" in feed:
            r.err(f"{fpath}.price", "only a mock feed takes a price; remove it or set address: mock")
        hb = r.integer(feed, "heartbeat", fpath, 3600, 1, 7 * 86400, unit="seconds")
        jump = r.integer(feed, "max_jump_bps", fpath, 5000, 1, MAX_JUMP_BPS, unit="bps")
        dev = r.integer(feed, "max_deviation_bps", fpath, 500, 0, MAX_DEVIATION_BPS, unit="bps")
        sec = r.address(feed, "secondary", fpath, None)
        shb = r.integer(feed, "secondary_heartbeat", fpath, 0, 1 if sec else 0, 7 * 86400 if sec else 0,
                        unit="seconds" + ("" if sec else " (no secondary feed: 0)"))
        if sec and faddr and sec.lower() == str(faddr).lower():
            r.err(f"{fpath}.secondary", "must differ from the primary feed")
        mina = r.integer(feed, "min_answer", fpath, 0, 0, UINT128, unit="feed units")
        maxa = r.integer(feed, "max_answer", fpath, 0, 0, UINT128, unit="feed units (0: no upper bound)")
        if mina is not None and maxa and maxa <= mina + 1:
            r.err(f"{fpath}.max_answer", f"{maxa} leaves no answer between the bounds; allowed 0 or > {mina + 1}")
        if price is not None and fdec is not None and mina is not None and maxa is not None:
            answer = int(price * 10**fdec)
            if answer <= mina or (maxa and answer >= maxa):
                r.err(f"{fpath}.price", f"{_fmt(price)} is {answer} in feed units, at or beyond the bounds; "
                                        f"allowed {mina} < answer{f' < {maxa}' if maxa else ''}")
            elif answer == 0:
                r.err(f"{fpath}.price", f"{_fmt(price)} is 0 at {fdec} feed decimals; allowed a price of at least "
                                        f"{_fmt(Decimal(1) / 10**fdec)}")

        au = r.section(c.get("auction"), f"{path}.auction", _AUCTION_KEYS, required=False)
        apath = f"{path}.auction"
        curve = au.get("curve", da.curve)
        if curve not in CURVES:
            hint = difflib.get_close_matches(str(curve), CURVES, n=1)
            r.err(f"{apath}.curve", f"unknown curve {curve!r}{f' (did you mean {hint[0]!r}?)' if hint else ''}; "
                                    f"allowed: {', '.join(CURVES)}")
            curve = None
        buf = r.decimal(au, "buffer", apath, da.buffer / Decimal(WAD), 1, 2)
        dur = r.integer(au, "duration", apath, da.duration, 60 if curve == "linear" else 0,
                        7 * 86400 if curve == "linear" else UINT32, unit="seconds")
        cut_lo = Decimal("0.99") if curve == "exponential" else Decimal("0.5")
        cut = r.decimal(au, "cut", apath, da.cut / Decimal(RAY), cut_lo if curve != "linear" else 0, 1,
                        hi_open=True, unit="(price multiplier per second/step)")
        step = r.integer(au, "step", apath, da.step, 1 if curve == "stairstep" else 0,
                         3600 if curve == "stairstep" else UINT32, unit="seconds")
        age = r.integer(au, "max_age", apath, da.max_age, 60, 7 * 86400, unit="seconds")
        disc = r.decimal(au, "max_discount", apath, da.max_discount / Decimal(WAD), 0, MAX_DISCOUNT, lo_open=True)
        rtip = r.decimal(au, "redo_tip", apath, da.redo_tip / Decimal(WAD), 0, 10_000, unit="debt tokens")
        rchip = r.decimal(au, "redo_chip", apath, da.redo_chip / Decimal(WAD), 0, Decimal("0.01"))

        di = r.section(c.get("direct"), f"{path}.direct", _DIRECT_KEYS, required=False)
        dpath = f"{path}.direct"
        dmax = r.decimal(di, "max_debt", dpath, Decimal(0), 0, Decimal(UINT128) / WAD,
                         unit="debt tokens (0: no direct liquidation; accounts owing more go through the auctions)")
        dhi = r.decimal(di, "max_discount", dpath, Decimal(0), 0, pen if pen is not None else MAX_PENALTY,
                        unit="(at most the penalty)")
        dlo = r.decimal(di, "min_discount", dpath, Decimal(0), 0, dhi if dhi is not None else MAX_PENALTY,
                        unit="(at most max_discount)")
        if dmax and dhi == 0:
            r.err(f"{dpath}.max_discount", "is 0 with max_debt set: nobody would liquidate for no discount; "
                                           "allowed 0 < max_discount <= penalty, or max_debt 0 to turn it off")

        values = (token, decimals, ltv, lt, pen, supply, ccap, frozen, faddr, fdec, hb, jump, dev, shb, mina, maxa,
                  curve, buf, dur, cut, step, age, disc, rtip, rchip, dmax, dhi, dlo)
        if any(v is None for v in values) or (faddr == "mock" and price is None):
            continue
        collaterals.append(CollateralParams(
            symbol=str(symbol), decimals=decimals, price=_fmt(price) if price is not None else None,
            max_ltv=_to(ltv, WAD), liquidation_threshold=_to(lt, WAD), penalty=_to(pen, WAD), supply_cap=supply,
            collateral_cap=_to(ccap, WAD), feed_decimals=fdec, heartbeat=hb, max_jump_bps=jump,
            max_deviation_bps=dev,
            auction=AuctionParams(curve=curve, buffer=_to(buf, WAD), duration=dur, cut=_to(cut, RAY), step=step,
                                  max_age=age, max_discount=_to(disc, WAD), redo_tip=_to(rtip, WAD),
                                  redo_chip=_to(rchip, WAD)),
            direct=DirectParams(max_debt=_to(dmax, WAD), min_discount=_to(dlo, WAD), max_discount=_to(dhi, WAD)),
            token=None if token == "mock" else token, feed=None if faddr == "mock" else faddr,
            secondary_feed=sec, secondary_heartbeat=shb, min_answer=mina, max_answer=maxa, frozen=frozen,
        ))

    # The keeper incentive must never exceed the penalty on a dust-sized position (engine.setIncentive).
    if not errors and collaterals and dust is not None and tip is not None and chip is not None:
        min_pen = min(Decimal(c.penalty) / WAD for c in collaterals)
        lowest = min(collaterals, key=lambda c: c.penalty).symbol
        if chip > min_pen:
            r.err("liquidation.chip", f"{_fmt(chip)} exceeds the smallest penalty ({lowest}: {_fmt(min_pen)}); "
                                      f"allowed 0 <= chip <= {_fmt(min_pen)}")
        else:
            incentive, cap = tip + chip * dust, min_pen * dust
            if incentive > cap:
                r.err("liquidation.tip", f"keeper incentive on a dust-sized position tip + chip x dust = "
                                         f"{_fmt(incentive)} exceeds its penalty ({lowest}: {_fmt(min_pen)} x "
                                         f"{_fmt(dust)} = {_fmt(cap)}); allowed tip <= {_fmt(cap - chip * dust)}")
    if errors:
        raise ParamError(errors, source)
    return SystemParams(
        collaterals=collaterals, dust=_to(dust, WAD), debt_ceiling=_to(ceiling, WAD), stability_fee=_to(fee, RAY),
        min_ramp_duration=ramp, target_health=_to(target, WAD), lot_margin=_to(margin, WAD), tip=_to(tip, WAD),
        chip=_to(chip, WAD), global_cap=_to(gcap, WAD), oracle_delay=delay, recovery_grace=rgrace,
        unpause_grace=ugrace, auction_reserve=reserve, sequencer_feed=seq, sequencer_grace=sgrace, timelock_delay=tl_delay,
        guardian=guardian, proposers=proposers, executors=executors,
        adaptive=AdaptiveParams(enabled=a_enabled, half_life=a_half, min_interval=a_min, max_interval=a_max,
                                var_cap=_to(a_cap, WAD), max_threshold_drop_per_hour=_to(a_speed, WAD),
                                tolerance=_to(a_tol, WAD)),
    )


def _to(value: Decimal, unit: int) -> int:
    return int(value * unit)


def _address_list(r: _Reader, doc: dict, key: str, special: tuple) -> list[str] | None:
    raw = doc.get(key, ["deployer"])
    if not isinstance(raw, list) or not raw:
        r.err(f"roles.{key}", f"must be a non-empty list of addresses or {' / '.join(special)}")
        return None
    out = []
    for i, item in enumerate(raw):
        if item is None:
            r.err(f"roles.{key}[{i}]", f"is empty; allowed an address or {' / '.join(special)}")
        out.append(r.address_value(item, f"roles.{key}[{i}]", special))
    return out if all(out) else None


class _UniqueKeyLoader:
    """yaml.SafeLoader that refuses a key given twice in one mapping (YAML would keep the last)."""

    @staticmethod
    def make():
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def construct_mapping(loader, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = loader.construct_object(key_node, deep=deep)
                if key in seen:
                    raise ParamError([f"line {key_node.start_mark.line + 1}: key {key!r} appears twice"])
                seen.add(key)
            return yaml.SafeLoader.construct_mapping(loader, node, deep)

        Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
        return Loader


def load_document(path: str | Path):
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ParamError([f"cannot read the parameter file ({exc.strerror})"], str(path))
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader.make())  # noqa: S506 (a SafeLoader)
    except ParamError as exc:
        raise ParamError(exc.errors, str(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ParamError([f"{where}not valid YAML ({getattr(exc, 'problem', None) or exc})"], str(path))


def load_params(path: str | Path = DEFAULT_PARAMS_FILE) -> SystemParams:
    """Read and validate a parameter file (no chain needed)."""
    return params_from_document(load_document(path), str(path))


def default_params() -> SystemParams:
    """params/local.yaml: three collateral types of 18, 8 and 6 decimals, priced like ETH, BTC and a stablecoin."""
    return load_params(DEFAULT_PARAMS_FILE)


# --- back to a document (calibration output, deployment records, diffs) ---------------------


def _num(x: int, unit: int):
    d = Decimal(x) / unit
    if d == d.to_integral_value():
        return int(d)
    s = _fmt(d)
    return float(s) if len(s.replace(".", "").lstrip("0")) <= 15 and Decimal(repr(float(s))) == d else s


def to_document(p: SystemParams) -> dict:
    """The parameter file for `p` (`params_from_document(to_document(p)) == p`)."""
    cols = {}
    for c in p.collaterals:
        feed = {"address": c.feed or "mock"}
        if c.feed is None:
            feed["price"] = _num(wad(c.price), WAD)
        feed.update(decimals=c.feed_decimals, heartbeat=c.heartbeat, max_jump_bps=c.max_jump_bps,
                    max_deviation_bps=c.max_deviation_bps, secondary=c.secondary_feed,
                    secondary_heartbeat=c.secondary_heartbeat, min_answer=c.min_answer, max_answer=c.max_answer)
        a = c.auction
        cols[c.symbol] = {
            "token": c.token or "mock", "decimals": c.decimals, "max_ltv": _num(c.max_ltv, WAD),
            "liquidation_threshold": _num(c.liquidation_threshold, WAD), "penalty": _num(c.penalty, WAD),
            "supply_cap": c.supply_cap, "collateral_cap": _num(c.collateral_cap, WAD), "frozen": c.frozen,
            "feed": feed,
            "auction": {"curve": a.curve, "buffer": _num(a.buffer, WAD), "duration": a.duration,
                        "cut": _num(a.cut, RAY), "step": a.step, "max_age": a.max_age,
                        "max_discount": _num(a.max_discount, WAD), "redo_tip": _num(a.redo_tip, WAD),
                        "redo_chip": _num(a.redo_chip, WAD)},
            "direct": {"max_debt": _num(c.direct.max_debt, WAD), "min_discount": _num(c.direct.min_discount, WAD),
                       "max_discount": _num(c.direct.max_discount, WAD)},
        }
    return {
        "system": {"dust": _num(p.dust, WAD), "debt_ceiling": _num(p.debt_ceiling, WAD),
                   "stability_fee": _num(p.stability_fee, RAY), "min_ramp_duration": p.min_ramp_duration},
        "liquidation": {"target_health": _num(p.target_health, WAD), "lot_margin": _num(p.lot_margin, WAD),
                        "tip": _num(p.tip, WAD), "chip": _num(p.chip, WAD), "global_cap": _num(p.global_cap, WAD),
                        "unpause_grace": p.unpause_grace, "auction_reserve": p.auction_reserve},
        "oracle": {"delay": p.oracle_delay, "recovery_grace": p.recovery_grace, "sequencer_feed": p.sequencer_feed,
                   "sequencer_grace": p.sequencer_grace},
        "roles": {"guardian": p.guardian, "proposers": list(p.proposers), "executors": list(p.executors),
                  "timelock_delay": p.timelock_delay},
        "collaterals": cols,
        "adaptive": {"enabled": p.adaptive.enabled, "half_life": p.adaptive.half_life,
                     "min_interval": p.adaptive.min_interval, "max_interval": p.adaptive.max_interval,
                     "var_cap": _num(p.adaptive.var_cap, WAD),
                     "max_threshold_drop_per_hour": _num(p.adaptive.max_threshold_drop_per_hour, WAD),
                     "tolerance": _num(p.adaptive.tolerance, WAD)},
    }


def dump_yaml(p: SystemParams, header: str = "") -> str:
    import yaml

    body = yaml.safe_dump(to_document(p), sort_keys=False, default_flow_style=False, width=110)
    return header + body


def params_hash(p: SystemParams) -> str:
    """A fingerprint of the parameters (a resumed deployment must use the same ones)."""
    return hashlib.sha256(json.dumps(to_document(p), sort_keys=True, default=str).encode()).hexdigest()


# --- checks that need a chain -----------------------------------------------------------------


class ChainReader:
    """What check_on_chain asks of a chain; see ApeChainReader / Web3ChainReader, or a fake in tests."""

    def code(self, address: str) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def decimals(self, address: str) -> int | None:
        """decimals() of a token or feed, None when the call fails."""
        raise NotImplementedError

    def latest_round(self, address: str) -> tuple | None:
        """latestRoundData() as (roundId, answer, startedAt, updatedAt, answeredInRound), None on failure."""
        raise NotImplementedError

    def timestamp(self) -> int:
        raise NotImplementedError


class Web3ChainReader(ChainReader):
    def __init__(self, w3):
        self.w3 = w3

    def code(self, address):
        return bytes(self.w3.eth.get_code(self.w3.to_checksum_address(address)))

    def _call(self, address, selector: str):
        try:
            return bytes(self.w3.eth.call({"to": self.w3.to_checksum_address(address), "data": selector}))
        except Exception:  # a revert or a malformed answer: the caller reports it
            return None

    def decimals(self, address):
        out = self._call(address, "0x313ce567")
        return int.from_bytes(out[:32], "big") if out and len(out) >= 32 else None

    def latest_round(self, address):
        out = self._call(address, "0xfeaf968c")
        if not out or len(out) < 160:
            return None
        words = [int.from_bytes(out[i:i + 32], "big") for i in range(0, 160, 32)]
        words[1] = words[1] - 2**256 if words[1] >= 2**255 else words[1]
        return tuple(words)

    def timestamp(self):
        return int(self.w3.eth.get_block("latest")["timestamp"])


def check_on_chain(p: SystemParams, reader: ChainReader) -> None:
    """Addresses in the parameters must hold the contracts they claim to be; ParamError otherwise."""
    errors: list[str] = []
    now = None
    for c in p.collaterals:
        path = f"collaterals.{c.symbol}"
        if c.token:
            if not reader.code(c.token):
                errors.append(f"{path}.token: no contract code at {c.token}; allowed: an ERC-20 on this chain or mock")
            else:
                dec = reader.decimals(c.token)
                if dec is None:
                    errors.append(f"{path}.token: {c.token} does not answer decimals(); allowed: an ERC-20 token")
                elif dec != c.decimals:
                    errors.append(f"{path}.decimals: {c.decimals} disagrees with the token, which has {dec} decimals; "
                                  f"allowed {dec}")
        for key, addr, declared, heartbeat in (("address", c.feed, c.feed_decimals, c.heartbeat),
                                               ("secondary", c.secondary_feed, None, c.secondary_heartbeat)):
            if not addr:
                continue
            fpath = f"{path}.feed.{key}"
            if not reader.code(addr):
                errors.append(f"{fpath}: no contract code at {addr}; allowed: a Chainlink-style feed on this chain")
                continue
            dec = reader.decimals(addr)
            if dec is None:
                errors.append(f"{fpath}: {addr} does not answer decimals(); allowed: a Chainlink-style feed")
                continue
            if declared is not None and dec != declared:
                errors.append(f"{path}.feed.decimals: {declared} disagrees with the feed, which has {dec} decimals; "
                              f"allowed {dec}")
            rnd = reader.latest_round(addr)
            if rnd is None:
                errors.append(f"{fpath}: {addr} does not answer latestRoundData(); allowed: a Chainlink-style feed")
                continue
            if rnd[1] <= 0:
                errors.append(f"{fpath}: the feed's latest answer {rnd[1]} is not positive; allowed a live feed")
            now = reader.timestamp() if now is None else now
            if rnd[3] == 0 or now - rnd[3] > heartbeat:
                errors.append(f"{fpath}: the feed's latest round is {now - rnd[3]} s old, older than its heartbeat "
                              f"{heartbeat} s; allowed a fresh feed (or a longer heartbeat)")
    if p.sequencer_feed and not reader.code(p.sequencer_feed):
        errors.append(f"oracle.sequencer_feed: no contract code at {p.sequencer_feed}; allowed: a sequencer uptime "
                      f"feed on this chain or null")
    if errors:
        raise ParamError(errors)
