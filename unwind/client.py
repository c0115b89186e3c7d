"""A small read-only client for integrators and indexers: a deployment record + exported ABIs + web3.

    from unwind.client import UnwindClient
    c = UnwindClient("http://127.0.0.1:8545", "deployments/ethereum-custom.json", abi_dir=".build/abi")
    c.health("0xabc...")      # debt, health, collateral, liquidatable
    c.auctions()              # running auctions with their current prices
    c.quote_take(aid, 10**18) # what taking 1 token of auction `aid` costs now (ids from auctions())

    python -m unwind.client --rpc-url URL --deployment FILE [--abis DIR] health 0xabc...
    python -m unwind.client --rpc-url URL --deployment FILE auctions
    python -m unwind.client --rpc-url URL --deployment FILE quote ID [AMOUNT]
    python -m unwind.client --rpc-url URL --deployment FILE direct ACCOUNT WETH [MAX_REPAY]
    python -m unwind.client --rpc-url URL --deployment FILE params
    python -m unwind.client --rpc-url URL --deployment FILE risk

The Python API's units follow the contracts: debt and values in WAD (debt-token wei), collateral
amounts in the token's own units, prices in WAD debt wei per whole token, health in WAD (1e18 =
1.0; below is liquidatable; 2**256-1 without debt). The command line prints human units (uUSD with
two decimals, whole tokens, prices per token, health as a ratio, `inf (no debt)`, UTC dates);
`--json` prints the API's integers instead. Nothing here needs Ape; ABIs come from `ape run
export_abis` (default .build/abi). Every mistake (no record, a record of another chain or of a
restarted node, a node that does not answer, a malformed address) is one `error:` line, exit 2.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from unwind.abis import DEFAULT_ABI_DIR, load_abis
from unwind.params import RAY, WAD
from unwind.record import RecordError, check_record_chain, read_record

MAX_UINT = 2**256 - 1
ZERO = "0x0000000000000000000000000000000000000000"
# IOracleAdapter.Guard values under which the auction refuses takes and redos (IDutchAuction
# PRICE GUARDS), by name; None, RecoveryGrace and SequencerGrace allow them.
AUCTION_REFUSING_GUARDS = {1: "NoPrice", 2: "Frozen", 4: "DelayedStopped", 5: "SequencerDown"}
# Redos of one auction that may pay an incentive (IDutchAuction REDO INCENTIVE, MAX_PAID_REDOS).
MAX_PAID_REDOS = 3


@dataclass
class Health:
    account: str
    debt: int  # [wad]
    health: int  # [wad]; 2**256-1 without debt
    liquidatable: bool
    max_borrow: int  # [wad] more debt the account could take now
    collateral: list  # [{symbol, id, token, amount [token units]}]


@dataclass
class Auction:
    id: int
    symbol: str
    collateral_id: int
    token: str
    owner: str
    lot: int  # [token units] collateral left
    tab: int  # [wad] debt left to raise
    price: int  # [wad per whole token] current price
    needs_redo: bool
    started_at: int  # [timestamp]
    top: int  # [wad per whole token] starting price
    paid_redos: int = 0  # redos that paid an incentive; from MAX_PAID_REDOS on, a redo pays nothing


@dataclass
class TakeQuote:
    id: int
    price: int  # [wad per whole token]
    slice: int  # [token units] collateral the take would buy
    owe: int  # [wad] debt tokens it would cost
    lot_after: int
    tab_after: int
    needs_redo: bool  # True: the take would revert until someone calls redo
    guarded: str | None = None  # a guard's name: the take (and a redo) reverts OracleGuarded until it lifts


@dataclass
class DirectQuote:
    """IDirectLiquidator.previewLiquidateDirect: a direct liquidation at the current block."""

    account: str
    collateral_id: int
    allowed: bool
    refusal: str | None  # the error liquidateDirect would revert with, by name
    health: int  # [wad]
    discount: int  # [wad]
    repay: int  # [wad] debt tokens the liquidator pays
    seized: int  # [token units] collateral it receives
    debt_closed: int  # [wad]
    to_buffer: int  # [wad]


class ClientError(ValueError):
    """A mistake the client reports in one line (no record, another chain, a malformed address...)."""


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def parse_address(text, what: str = "address") -> str:
    """A checksummed address from `text`: 0x and 40 hex digits. A mixed-case address must carry a
    valid EIP-55 checksum (a typo shows there); all lowercase (or all uppercase) is taken as is."""
    from web3 import Web3

    t = str(text).strip()
    if not _ADDRESS.fullmatch(t):
        raise ClientError(f"{what} {text!r} is not an address: expected 0x followed by 40 hex digits")
    body = t[2:]
    if body != body.lower() and body != body.upper() and not Web3.is_checksum_address(t):
        raise ClientError(f"{what} {t} has a wrong checksum (its mixed case is not EIP-55): check it for a typo, "
                          f"or give it in lowercase to skip the check")
    return Web3.to_checksum_address(t)


class UnwindClient:
    def __init__(self, rpc_url: str | None = None, deployment: str | Path | dict = None,
                 abi_dir: str | Path = DEFAULT_ABI_DIR, w3=None, abis: dict | None = None):
        from web3 import Web3

        self.rpc_url = rpc_url
        self.w3 = w3 or Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}))
        self.record_path = "the deployment record" if isinstance(deployment, dict) else str(deployment)
        self.record = deployment if isinstance(deployment, dict) else read_record(deployment)
        contracts = self.record.get("contracts")
        if not contracts or not isinstance(contracts, dict):
            raise ClientError(f"{self.record_path} lists no contracts (an unfinished deployment?): finish it by "
                              f"running the same `ape run deploy` again")
        self.abis = abis if abis is not None else load_abis(abi_dir)
        self.c = {key: self.w3.eth.contract(address=parse_address(addr, f"{self.record_path}: contracts.{key}"),
                                            abi=self.abis[key])
                  for key, addr in contracts.items() if key in self.abis}
        try:
            self.symbols = {int(v["id"]): sym for sym, v in self.record.get("collateral", {}).items()}
            self.decimals = {sym: int(v["decimals"]) for sym, v in self.record.get("collateral", {}).items()
                             if v.get("decimals") is not None}
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ClientError(f"{self.record_path}: `collateral` is malformed (each symbol needs an id and "
                              f"decimals): use the file `ape run deploy` wrote") from None

    def check(self) -> int:
        """That the node answers and is the record's chain with its contracts; returns the chain id.

        ClientError in one line otherwise (a dead RPC URL, another chain, a restarted node)."""
        where = self.rpc_url or "the node"
        try:
            chain_id = self.w3.eth.chain_id
        except Exception as exc:  # connection refused, timeout, not JSON-RPC
            reason = _short(exc)
            raise ClientError(f"cannot reach the node at {where} ({reason}): start it, or pass --rpc-url with "
                              f"the URL of a running node") from None
        try:
            check_record_chain(self.record, chain_id, path=self.record_path, node=where,
                               get_code=self.w3.eth.get_code)
        except RecordError as exc:
            raise ClientError(str(exc)) from None
        return chain_id

    def contract(self, key: str):
        return self.c[key]

    def token(self, address: str):
        return self.w3.eth.contract(address=self.w3.to_checksum_address(address), abi=self.abis["erc20"])

    # --- accounts ---

    def health(self, account: str) -> Health:
        v = self.c["vault"].functions
        account = parse_address(account, "account")
        debt = v.debtOf(account).call()
        health = v.healthOf(account).call()
        held = v.heldCollateral(account).call()
        return Health(
            account=account, debt=debt, health=health, liquidatable=debt > 0 and health < WAD,
            max_borrow=v.maxBorrow(account).call(),
            collateral=[{"symbol": self.symbols.get(h[0], str(h[0])), "id": h[0], "token": h[1], "amount": h[3]}
                        for h in held],
        )

    # --- auctions ---

    def auctions(self) -> list[Auction]:
        a = self.c["auction"].functions
        out = []
        for aid in a.list().call():
            needs_redo, price, lot, tab = a.getStatus(aid).call()
            # (lot, tab, owner, startedAt, collateralId, index, decimals, token, top, paidRedos)
            s = a.sales(aid).call()
            out.append(Auction(id=aid, symbol=self.symbols.get(s[4], str(s[4])), collateral_id=s[4], token=s[7],
                               owner=s[2], lot=lot, tab=tab, price=price, needs_redo=needs_redo, started_at=s[3],
                               top=s[8], paid_redos=s[9]))
        return out

    # --- adaptive risk ---

    def risk(self) -> list[dict]:
        """Per adapted collateral: the volatility estimate, where it sits in its band, and the
        effective parameters beside what the vault and auction hold now (AdaptiveRisk)."""
        if "risk" not in self.c:
            raise ValueError("this deployment has no AdaptiveRisk (adaptive: enabled: false)")
        r = self.c["risk"].functions
        rows = []
        for cid in r.adaptedIds().call():
            vol, pos, ltv, lt, buf, dur, cut, chip = r.effective(cid).call()
            band = r.band(cid).call()  # (volLow, volHigh, volInit, ...)
            last_sample = r.volState(cid).call()[1]
            conf = self.c["vault"].functions.collateral(cid).call()  # (token, decimals, frozen, maxLtv, lt, ...)
            rows.append({
                "collateral": self.symbols.get(cid, str(cid)), "id": cid, "volatility": _dec(vol, WAD),
                "band": [_dec(band[0], WAD), _dec(band[1], WAD)], "position": _dec(pos, WAD),
                "last_sample": last_sample, "max_ltv": _dec(ltv, WAD), "max_ltv_now": _dec(conf[3], WAD),
                "threshold_target": _dec(lt, WAD), "threshold_now": _dec(conf[4], WAD), "buffer": _dec(buf, WAD),
                "duration": dur, "cut": _dec(cut, RAY), "chip": _dec(chip, WAD),
                "why": f"volatility {float(_dec(vol, WAD)):.0%} sits {float(_dec(pos, WAD)):.0%} of the way from "
                       f"{float(_dec(band[0], WAD)):.0%} to {float(_dec(band[1], WAD)):.0%}",
            })
        return rows

    def quote_take(self, auction_id: int, amount: int | None = None) -> TakeQuote:
        """What `take(auction_id, amount, ...)` would buy and cost at the current block.

        Mirrors DutchAuction._sizeTake: the taker pays ceil(slice x price); a take buying more than
        the tab sells only what covers it (nothing, when the tab is worth less than one unit: the tab
        is paid and the lot returns to the owner); a take that would leave a tab below the dust floor
        is trimmed. `amount` defaults to the whole lot. `guarded` names the oracle guard that makes
        the take revert now (IDutchAuction PRICE GUARDS), None when it would go through.
        """
        a = self.c["auction"].functions
        needs_redo, price, lot, tab = a.getStatus(auction_id).call()
        if lot == 0:
            raise ValueError(f"auction {auction_id} is not running")
        sale = a.sales(auction_id).call()
        decimals, token = sale[6], sale[7]
        guarded = AUCTION_REFUSING_GUARDS.get(self.c["oracle"].functions.peek(token).call()[5])
        scale = 10**decimals
        amount = lot if amount is None else int(amount)
        if amount <= 0:
            raise ValueError("amount must be positive")
        slice_ = min(amount, lot)
        owe = _ceil_div(slice_ * price, scale)
        if owe >= tab:
            owe = tab
            slice_ = min(tab * scale // price, lot) if price else lot
        elif slice_ < lot:
            dust = self.c["vault"].functions.dust().call()
            if tab - owe < dust:
                if tab <= dust:
                    raise ValueError(f"auction {auction_id}: a partial take would leave {tab - owe} wei of tab, "
                                     f"below the dust floor {dust}; take the whole lot")
                slice_ = (tab - dust) * scale // price
                if slice_ == 0:
                    raise ValueError(f"auction {auction_id}: leaving the dust floor {dust} of tab, this take buys "
                                     "no collateral; take the whole lot")
                owe = _ceil_div(slice_ * price, scale)
        return TakeQuote(id=auction_id, price=price, slice=slice_, owe=owe, lot_after=lot - slice_,
                         tab_after=tab - owe, needs_redo=needs_redo, guarded=guarded)

    def quote_direct(self, account: str, collateral: str | int, max_repay: int | None = None) -> DirectQuote:
        """What liquidateDirect(account, collateral, max_repay, ...) would repay and seize now, or why
        it would be refused (the engine's own preview: one rule). `collateral` is a symbol or an id."""
        account = parse_address(account, "account")
        if isinstance(collateral, str) and not collateral.isdigit():
            ids = {sym.upper(): cid for cid, sym in self.symbols.items()}
            if collateral.upper() not in ids:
                raise ClientError(f"unknown collateral {collateral!r}: this deployment lists {', '.join(ids)}")
            cid = ids[collateral.upper()]
        else:
            cid = int(collateral)
        cap = 2**256 - 1 if max_repay is None else int(max_repay)
        if "direct" not in self.c:
            raise ClientError(f"{self.record_path} lists no direct liquidator: this deployment has the auctions only")
        p = self.c["direct"].functions.previewLiquidateDirect(account, cid, cap).call()
        refusal = None
        if not p[0]:
            refusal = self._error_names().get(bytes(p[1]).hex(), "0x" + bytes(p[1]).hex())
        return DirectQuote(account, cid, p[0], refusal, p[2], p[3], p[4], p[5], p[6], p[7])

    def _error_names(self) -> dict:
        from eth_utils import keccak

        out = {}
        for item in self.c["direct"].abi:
            if item.get("type") == "error":
                sig = f"{item['name']}({','.join(i['type'] for i in item.get('inputs', []))})"
                out[keccak(text=sig)[:4].hex()] = item["name"]
        return out

    # --- parameters as they are on chain (the layout of a parameter file) ---

    def parameters(self) -> dict:
        """The on-chain state in the parameter file's layout and units (what `configure` diffs)."""
        v, e, o, a = (self.c[k].functions for k in ("vault", "engine", "oracle", "auction"))
        tl = self.c["timelock"].functions
        seq_feed, seq_grace = o.sequencer().call()
        cols = {}
        first_delay = None
        for sym, info in self.record.get("collateral", {}).items():
            cid = int(info["id"])
            token, decimals, frozen, max_ltv, lt, pen, cap, _ = v.collateral(cid).call()
            ramp = v.thresholdRamp(cid).call()  # (from, to, start, end)
            now = self.w3.eth.get_block("latest")["timestamp"]
            target_lt = ramp[1] if ramp[3] > now else lt
            fc = o.feedConfig(token).call()
            first_delay = fc[6] if first_delay is None else first_delay
            p = a.params(cid).call()
            cols[sym] = {
                "token": token, "decimals": decimals, "max_ltv": _dec(max_ltv, WAD),
                "liquidation_threshold": _dec(target_lt, WAD), "penalty": _dec(pen, WAD),
                "supply_cap": cap // 10**decimals, "collateral_cap": _dec(e.collateralCap(cid).call(), WAD),
                "frozen": frozen,
                "feed": {"address": fc[0], "heartbeat": fc[1], "max_jump_bps": fc[5], "max_deviation_bps": fc[4],
                         "secondary": None if int(fc[2], 16) == 0 else fc[2], "secondary_heartbeat": fc[3],
                         "min_answer": fc[7], "max_answer": fc[8], "delay": fc[6],
                         "decimals": self._decimals(fc[0])},
                "auction": {"curve": ("linear", "exponential", "stairstep")[p[0]], "buffer": _dec(p[1], WAD),
                            "duration": p[2], "cut": _dec(p[3], RAY), "step": p[4], "max_age": p[5],
                            "max_discount": _dec(p[6], WAD), "redo_tip": _dec(p[7], WAD),
                            "redo_chip": _dec(p[8], WAD)},
                "direct": dict(zip(("max_debt", "min_discount", "max_discount"),
                                   (_dec(x, WAD) for x in self.c["direct"].functions.directParams(cid).call())))
                if "direct" in self.c else {"max_debt": Decimal(0), "min_discount": Decimal(0), "max_discount": Decimal(0)},
            }
        return {
            "system": {"dust": _dec(v.dust().call(), WAD), "debt_ceiling": _dec(v.debtCeiling().call(), WAD),
                       "stability_fee": _dec(v.feePerSecond().call(), RAY),
                       "min_ramp_duration": v.minRampDuration().call()},
            "liquidation": {"target_health": _dec(e.targetHealth().call(), WAD),
                            "lot_margin": _dec(e.lotMargin().call(), WAD), "tip": _dec(e.tip().call(), WAD),
                            "chip": _dec(e.chip().call(), WAD), "global_cap": _dec(e.globalCap().call(), WAD),
                            "unpause_grace": e.unpauseGrace().call(), "auction_reserve": a.poolSize().call()},
            "oracle": {"delay": first_delay, "recovery_grace": o.recoveryGrace().call(),
                       "sequencer_feed": None if int(seq_feed, 16) == 0 else seq_feed, "sequencer_grace": seq_grace},
            "roles": {"timelock_delay": tl.getMinDelay().call()},
            "collaterals": cols,
        }

    def _decimals(self, address: str) -> int | None:
        try:
            return self.w3.eth.contract(address=address, abi=self.abis["aggregator"]).functions.decimals().call()
        except Exception:  # not a feed that answers decimals()
            return None

    def feed_bounds(self, address: str) -> tuple[int, int]:
        """The feed's own (minAnswer, maxAnswer) clamp, 0 where it exposes none."""
        agg = self.w3.eth.contract(address=self.w3.to_checksum_address(address), abi=self.abis["aggregator"])
        out = []
        for fn in ("minAnswer", "maxAnswer"):
            try:
                x = getattr(agg.functions, fn)().call()
                out.append(x if 0 < x < 2**128 else 0)  # as the adapter reads them (choice 14)
            except Exception:  # the feed does not expose the bound
                out.append(0)
        return out[0], out[1]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _dec(x: int, unit: int) -> Decimal:
    return Decimal(x) / unit


def _jsonable(x):
    if isinstance(x, Decimal):
        return format(x.normalize(), "f")
    if isinstance(x, bytes):
        return "0x" + x.hex()
    raise TypeError(type(x))


def _short(exc) -> str:
    """An exception as a few words: its first line, without the library's nesting."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    m = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if m:
        return m.group(1).strip().rstrip(".").lower()
    return text


# --- human units for the command line (the API keeps integers) ---

def units(x: int, decimals: int, places: int | None = None) -> str:
    """`x` in units of 10**decimals with thousands separators: fixed `places`, or as many as needed."""
    d = Decimal(x) / Decimal(10) ** decimals
    if places is not None:
        return f"{d:,.{places}f}"
    return f"{d.normalize():,f}"


def tokens(x: int, decimals: int) -> str:
    """A collateral amount in whole tokens, at most 6 decimals (cut, not rounded up), no trailing zeros."""
    d = (Decimal(x) / Decimal(10) ** decimals).quantize(Decimal(1).scaleb(-min(decimals, 6)), rounding=ROUND_DOWN)
    return f"{d.normalize():,f}" if d else "0"


def uusd(x: int) -> str:
    return f"{units(x, 18, 2)} uUSD"


def ratio(x: int) -> str:
    return "inf (no debt)" if x == MAX_UINT else f"{Decimal(x) / WAD:.4f}"


def price(x: int, symbol: str) -> str:
    places = 2 if x >= WAD else 6
    return f"{units(x, 18, places)} uUSD per {symbol}"


def utc(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def kick_number(auction_id: int) -> int:
    """The kick an auction id belongs to (ids are `kick number << 32 | pool slot`)."""
    return int(auction_id) >> 32


def _rows(pairs) -> list[str]:
    width = max(len(k) for k, _ in pairs)
    return [f"  {k:<{width}}  {v}" for k, v in pairs]


def _extra(obj, known) -> list[tuple[str, str]]:
    """Fields a newer dataclass has that this formatter does not know: shown as they are."""
    return [(f.name.replace("_", " "), str(getattr(obj, f.name))) for f in fields(obj) if f.name not in known]


def format_health(h: Health, decimals: dict) -> list[str]:
    pairs = [("debt", uusd(h.debt) if h.debt else "0.00 uUSD (no debt)"),
             ("health", ratio(h.health) + ("" if h.health == MAX_UINT else " (liquidatable below 1.0000)")),
             ("liquidatable", "yes" if h.liquidatable else "no"),
             ("can borrow", f"{uusd(h.max_borrow)} more")]
    held = [f"{tokens(c['amount'], decimals.get(c['symbol'], 0))} {c['symbol']} (id {c['id']}, token {c['token']})"
            for c in h.collateral] or ["none"]
    pairs += [("collateral" if i == 0 else "", line) for i, line in enumerate(held)]
    pairs += _extra(h, {"account", "debt", "health", "liquidatable", "max_borrow", "collateral"})
    return [f"account {h.account}"] + _rows(pairs)


def format_auctions(auctions: list, decimals: dict) -> list[str]:
    if not auctions:
        return ["no auctions running"]
    lines = [f"{len(auctions)} auction{'s' if len(auctions) != 1 else ''} running"]
    for a in auctions:
        d = decimals.get(a.symbol, 0)
        pairs = [("lot", f"{tokens(a.lot, d)} {a.symbol} left"), ("tab", f"{uusd(a.tab)} left to raise"),
                 ("price", f"{price(a.price, a.symbol)} now (started at {units(a.top, 18, 2)})"),
                 ("needs redo", "yes: restart it with redo before a take" if a.needs_redo else "no"),
                 ("started", utc(a.started_at)), ("owner", a.owner), ("token", f"{a.token} (collateral id "
                                                                               f"{a.collateral_id})")]
        pairs += _extra(a, {"id", "symbol", "collateral_id", "token", "owner", "lot", "tab", "price", "needs_redo",
                            "started_at", "top"})
        lines += [f"kick {kick_number(a.id)}: {a.symbol} (auction id {a.id})"] + _rows(pairs)
    return lines


def format_quote(q: TakeQuote, symbol: str, decimals: int) -> list[str]:
    pairs = [("price", price(q.price, symbol)), ("buys", f"{tokens(q.slice, decimals)} {symbol}"),
             ("costs", uusd(q.owe)),
             ("leaves", f"lot {tokens(q.lot_after, decimals)} {symbol}, tab {uusd(q.tab_after)}"),
             ("needs redo", "yes: the take reverts until someone calls redo" if q.needs_redo else "no")]
    pairs += _extra(q, {"id", "price", "slice", "owe", "lot_after", "tab_after", "needs_redo"})
    return [f"take from kick {kick_number(q.id)} (auction id {q.id}), at the current block"] + _rows(pairs)


def format_direct(q: DirectQuote, symbol: str, decimals: int) -> list[str]:
    head = f"direct liquidation of {q.account} for its {symbol}, at the current block"
    if not q.allowed:
        why = {"NotLiquidatable": "the account is not liquidatable (health at or above 1)",
               "NotHeld": f"the account holds no {symbol}",
               "OracleGuarded": f"the oracle guards {symbol}'s price now",
               "DirectNotAllowed": "its debt is above this collateral's direct-liquidation limit: auctions only",
               "DirectBelowDust": "the repay cap or the holding cannot meet the dust rules"}.get(q.refusal, q.refusal)
        return [head, f"  refused: {q.refusal} ({why})"]
    pairs = [("health", ratio(q.health)), ("discount", f"{q.discount / WAD:.2%}"), ("repay", uusd(q.repay)),
             ("receives", f"{tokens(q.seized, decimals)} {symbol}"), ("closes debt", uusd(q.debt_closed)),
             ("to the buffer", uusd(q.to_buffer))]
    return [head] + _rows(pairs)


def _plain(x):
    """Parameter values for YAML: Decimals as plain numbers (no float rounding)."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if isinstance(x, Decimal):
        n = x.normalize()
        return int(n) if n == n.to_integral_value() else _Number(format(n, "f"))
    if isinstance(x, bytes):
        return "0x" + x.hex()
    return x


class _Number(str):
    """A decimal written unquoted in YAML."""


def format_parameters(doc: dict) -> list[str]:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(_Number, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))
    text = yaml.dump(_plain(doc), Dumper=Dumper, sort_keys=False, width=110)
    return ["# on-chain parameters in the parameter file's layout and units (params/local.yaml explains them)"] + \
        text.rstrip("\n").splitlines()


def format_risk(rows: list[dict]) -> list[str]:
    if not rows:
        return ["no collateral is adapted"]
    lines = []
    for r in rows:
        pct = lambda x: f"{float(x):.1%}"  # noqa: E731
        pairs = [("volatility", f"{pct(r['volatility'])} a year (band {pct(r['band'][0])} .. {pct(r['band'][1])}, "
                                f"position {pct(r['position'])}; last sample {utc(r['last_sample'])})"),
                 ("max LTV", f"{r['max_ltv']} (the vault holds {r['max_ltv_now']})"),
                 ("threshold", f"{r['threshold_target']} (the vault holds {r['threshold_now']})"),
                 ("auction buffer", str(r["buffer"])), ("auction duration", f"{r['duration']} s"),
                 ("auction cut", str(r["cut"])), ("keeper chip", str(r["chip"]))]
        pairs += [(k.replace("_", " "), str(v)) for k, v in r.items()
                  if k not in {"collateral", "id", "volatility", "band", "position", "last_sample", "max_ltv",
                               "max_ltv_now", "threshold_target", "threshold_now", "buffer", "duration", "cut",
                               "chip", "why"}]
        lines += [f"{r['collateral']} (id {r['id']}): {r['why']}"] + _rows(pairs)
    return lines


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m unwind.client", description=__doc__.split("\n")[0])
    ap.add_argument("--rpc-url", required=True)
    ap.add_argument("--deployment", required=True, help="deployment record written by `ape run deploy`")
    ap.add_argument("--abis", default=str(DEFAULT_ABI_DIR), help="folder written by `ape run export_abis`")
    ap.add_argument("--json", action="store_true", help="machine-readable: the API's integers (WAD, token units)")
    opt = argparse.ArgumentParser(add_help=False)
    opt.add_argument("--json", dest="json_here", action="store_true", help="machine-readable: the API's integers")
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("health", parents=[opt], help="an account's debt, health and collateral")
    h.add_argument("account")
    sub.add_parser("auctions", parents=[opt], help="running auctions with their current prices")
    q = sub.add_parser("quote", parents=[opt], help="what a take would buy and cost now")
    q.add_argument("id", type=int, help="auction id (from `auctions`)")
    q.add_argument("amount", type=int, nargs="?", default=None, help="collateral [token units]; default the lot")
    d = sub.add_parser("direct", parents=[opt], help="what a direct liquidation would repay and receive now")
    d.add_argument("account")
    d.add_argument("collateral", help="symbol (WETH) or collateral id")
    d.add_argument("max_repay", type=int, nargs="?", default=None, help="repay cap [debt wei]; default none")
    sub.add_parser("params", parents=[opt], help="the on-chain parameters in the parameter file's layout")
    sub.add_parser("risk", parents=[opt], help="adaptive risk: volatility and the effective parameters behind it")
    args = ap.parse_args(argv)
    as_json = args.json or args.json_here
    try:
        client = UnwindClient(args.rpc_url, args.deployment, args.abis)
        client.check()
        if args.cmd == "health":
            health = client.health(args.account)
            out, lines = asdict(health), format_health(health, client.decimals)
        elif args.cmd == "auctions":
            auctions = client.auctions()
            out, lines = [asdict(x) for x in auctions], format_auctions(auctions, client.decimals)
        elif args.cmd == "quote":
            quote = client.quote_take(args.id, args.amount)
            sale = client.c["auction"].functions.sales(args.id).call()  # (..., collateralId [4], ., decimals [6])
            out = asdict(quote)
            lines = format_quote(quote, client.symbols.get(sale[4], str(sale[4])), sale[6])
        elif args.cmd == "direct":
            quote = client.quote_direct(args.account, args.collateral, args.max_repay)
            out = asdict(quote)
            symbol = client.symbols.get(quote.collateral_id, str(quote.collateral_id))
            lines = format_direct(quote, symbol, client.decimals.get(symbol, 18))
        elif args.cmd == "risk":
            out = client.risk()
            lines = format_risk(out)
        else:
            out = client.parameters()
            lines = format_parameters(out)
    except (ClientError, RecordError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:  # a missing ABI folder, a refused quote, the node going away
        print(f"error: {_short(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # web3: an answer that cannot be decoded, a reverted call
        if not type(exc).__module__.startswith(("web3", "eth_", "requests", "urllib3")):
            raise
        print(f"error: the node's answer could not be used ({type(exc).__name__}: {_short(exc)}); is "
              f"{args.deployment} the record of the deployment on {args.rpc_url}?", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(out, indent=2, default=_jsonable))
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
