"""A small read-only client for integrators and indexers: a deployment record + exported ABIs + web3.

    from unwind.client import UnwindClient
    c = UnwindClient("http://127.0.0.1:8545", "deployments/ethereum-custom.json", abi_dir=".build/abi")
    c.health("0xabc...")      # debt, health, collateral, liquidatable
    c.auctions()              # running auctions with their current prices
    c.quote_take(aid, 10**18) # what taking 1 token of auction `aid` costs now (ids from auctions())

    python -m unwind.client --rpc-url URL --deployment FILE [--abis DIR] health 0xabc...
    python -m unwind.client --rpc-url URL --deployment FILE auctions
    python -m unwind.client --rpc-url URL --deployment FILE quote ID [AMOUNT]
    python -m unwind.client --rpc-url URL --deployment FILE params
    python -m unwind.client --rpc-url URL --deployment FILE risk

Units follow the contracts: debt and values in WAD (debt-token wei), collateral amounts in the
token's own units, prices in WAD debt wei per whole token, health in WAD (1e18 = 1.0; below is
liquidatable). Nothing here needs Ape; ABIs come from `ape run export_abis` (default .build/abi).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

from unwind.abis import DEFAULT_ABI_DIR, load_abis
from unwind.params import RAY, WAD

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


class UnwindClient:
    def __init__(self, rpc_url: str | None = None, deployment: str | Path | dict = None,
                 abi_dir: str | Path = DEFAULT_ABI_DIR, w3=None, abis: dict | None = None):
        from web3 import Web3

        self.w3 = w3 or Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}))
        self.record = deployment if isinstance(deployment, dict) else json.loads(Path(deployment).read_text())
        if not self.record.get("contracts"):
            raise ValueError("the deployment record lists no contracts (an unfinished deployment?)")
        self.abis = abis if abis is not None else load_abis(abi_dir)
        self.c = {key: self.w3.eth.contract(address=Web3.to_checksum_address(addr), abi=self.abis[key])
                  for key, addr in self.record["contracts"].items() if key in self.abis}
        self.symbols = {int(v["id"]): sym for sym, v in self.record.get("collateral", {}).items()}

    def contract(self, key: str):
        return self.c[key]

    def token(self, address: str):
        return self.w3.eth.contract(address=self.w3.to_checksum_address(address), abi=self.abis["erc20"])

    # --- accounts ---

    def health(self, account: str) -> Health:
        v = self.c["vault"].functions
        account = self.w3.to_checksum_address(account)
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


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m unwind.client", description=__doc__.split("\n")[0])
    ap.add_argument("--rpc-url", required=True)
    ap.add_argument("--deployment", required=True, help="deployment record written by `ape run deploy`")
    ap.add_argument("--abis", default=str(DEFAULT_ABI_DIR), help="folder written by `ape run export_abis`")
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("health", help="an account's debt, health and collateral")
    h.add_argument("account")
    sub.add_parser("auctions", help="running auctions with their current prices")
    q = sub.add_parser("quote", help="what a take would buy and cost now")
    q.add_argument("id", type=int)
    q.add_argument("amount", type=int, nargs="?", default=None, help="collateral [token units]; default the lot")
    sub.add_parser("params", help="the on-chain parameters in the parameter file's layout")
    sub.add_parser("risk", help="adaptive risk: volatility and the effective parameters behind it")
    args = ap.parse_args(argv)
    try:
        client = UnwindClient(args.rpc_url, args.deployment, args.abis)
        if args.cmd == "health":
            out = asdict(client.health(args.account))
        elif args.cmd == "auctions":
            out = [asdict(x) for x in client.auctions()]
        elif args.cmd == "quote":
            out = asdict(client.quote_take(args.id, args.amount))
        elif args.cmd == "risk":
            out = client.risk()
        else:
            out = client.parameters()
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2, default=_jsonable))
    return 0


if __name__ == "__main__":
    sys.exit(main())
