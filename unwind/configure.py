"""Apply a changed parameter file to an existing deployment through the timelock.

`plan_changes` compares the file with the chain (read through unwind.client) and turns every
difference into a governance call, in an order the contracts accept (a lower max LTV before a
lower threshold, the keeper incentive after the penalties and dust it is checked against, the
timelock's own delay last). `schedule` queues them as one timelock batch and writes the pending
operation next to the deployment record; `execute` runs it once the delay has passed and updates
the record's parameters. Values that cannot change (a token, its decimals) or changes the
contracts would refuse in one batch are reported as problems, and nothing is queued.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from unwind.params import RAY, WAD, ZERO_ADDRESS, SystemParams, params_hash, to_document
from unwind.record import read_record, write_record

ZERO32 = b"\x00" * 32


def _role(name: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=name)


@dataclass
class Call:
    target: str  # record key: vault, engine, oracle, auction, timelock
    method: str
    args: tuple
    why: list = field(default_factory=list)  # the changed fields it applies

    def describe(self) -> str:
        return f"{self.target}.{self.method}({', '.join(_short(a) for a in self.args)})"


@dataclass
class Plan:
    changes: list = field(default_factory=list)  # (path, old, new)
    calls: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    new_collaterals: dict = field(default_factory=dict)  # symbol -> {token, feed, id, decimals}

    def lines(self) -> list[str]:
        out = [f"  {path}: {_show(old)} -> {_show(new)}" for path, old, new in self.changes]
        return out


def _short(a) -> str:
    if isinstance(a, (bytes, bytearray)):
        return "0x" + bytes(a).hex()[:8] + ".."
    if isinstance(a, tuple):
        return "(" + ", ".join(_short(x) for x in a) + ")"
    return str(a)


def _show(x) -> str:
    if x is None:
        return "null"
    if isinstance(x, Decimal):
        return format(x.normalize(), "f")
    return str(x)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and isinstance(b, str) and a.startswith("0x") and b.startswith("0x"):
        return a.lower() == b.lower()
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except ArithmeticError:
        return str(a) == str(b)
    except ValueError:
        return str(a) == str(b)


def plan_changes(client, desired: SystemParams, record: dict) -> Plan:
    """Every difference between `desired` and the chain, as ordered governance calls."""
    plan = Plan()
    want = to_document(desired)
    have = client.parameters()
    deployer = record.get("deployer")

    def diff(path: str, old, new) -> bool:
        if _same(old, new):
            return False
        plan.changes.append((path, old, new))
        return True

    early, col_calls, late, incentive, last = [], [], [], [], []
    min_ramp_old = have["system"]["min_ramp_duration"]
    ramp = max(min_ramp_old, desired.min_ramp_duration)
    if diff("system.min_ramp_duration", min_ramp_old, desired.min_ramp_duration):
        early.append(Call("vault", "setMinRampDuration", (desired.min_ramp_duration,), ["system.min_ramp_duration"]))

    onchain_cols = have["collaterals"]
    for sym in onchain_cols:
        if sym not in want["collaterals"]:
            plan.problems.append(f"collaterals.{sym}: listed on chain but missing from the file; a collateral cannot "
                                 f"be delisted: keep it and set frozen: true")
    next_id = len(onchain_cols)
    for c in desired.collaterals:
        path = f"collaterals.{c.symbol}"
        w = want["collaterals"][c.symbol]
        h = onchain_cols.get(c.symbol)
        if h is None:
            next_id = _plan_listing(plan, c, desired, path, next_id, col_calls)
            continue
        cid = int(record["collateral"][c.symbol]["id"])
        if c.token and not _same(c.token, h["token"]):
            plan.problems.append(f"{path}.token: {c.token} differs from the listed token {h['token']}; a listed "
                                 f"token cannot change (list the new one under another symbol)")
        if c.decimals != h["decimals"]:
            plan.problems.append(f"{path}.decimals: {c.decimals} differs from the token's {h['decimals']}; "
                                 f"allowed {h['decimals']}")
        old_ltv, old_lt, old_pen = h["max_ltv"], h["liquidation_threshold"], h["penalty"]
        new_ltv, new_lt, new_pen = (Decimal(x) / WAD for x in (c.max_ltv, c.liquidation_threshold, c.penalty))
        ltv_changed = diff(f"{path}.max_ltv", old_ltv, new_ltv)
        lt_changed = diff(f"{path}.liquidation_threshold", old_lt, new_lt)
        pen_changed = diff(f"{path}.penalty", old_pen, new_pen)
        if ltv_changed and new_ltv < old_ltv:
            col_calls.append(Call("vault", "setMaxLtv", (cid, c.max_ltv), [f"{path}.max_ltv"]))
        if pen_changed and new_pen < old_pen:
            col_calls.append(Call("vault", "setPenalty", (cid, c.penalty), [f"{path}.penalty"]))
        if lt_changed:
            lowering = new_lt < old_lt
            col_calls.append(Call("vault", "setLiquidationThreshold", (cid, c.liquidation_threshold,
                                                                          ramp if lowering else 0),
                                  [f"{path}.liquidation_threshold" + (f" (ramp {ramp} s)" if lowering else "")]))
            if lowering and pen_changed and new_pen > old_pen and old_lt * (1 + new_pen) >= 1:
                plan.problems.append(
                    f"{path}.penalty: while the threshold ramps down from {_show(old_lt)} the vault checks the "
                    f"penalty against it, and {_show(old_lt)} x (1 + {_show(new_pen)}) >= 1; apply the threshold "
                    f"first and the penalty after the ramp ({ramp} s)")
        if pen_changed and new_pen > old_pen:
            col_calls.append(Call("vault", "setPenalty", (cid, c.penalty), [f"{path}.penalty"]))
        if ltv_changed and new_ltv > old_ltv:
            col_calls.append(Call("vault", "setMaxLtv", (cid, c.max_ltv), [f"{path}.max_ltv"]))
        if diff(f"{path}.supply_cap", h["supply_cap"], c.supply_cap):
            col_calls.append(Call("vault", "setSupplyCap", (cid, c.supply_cap * 10**c.decimals), [f"{path}.supply_cap"]))
        if diff(f"{path}.frozen", h["frozen"], c.frozen):
            col_calls.append(Call("vault", "setFrozen", (cid, c.frozen), [f"{path}.frozen"]))
        if diff(f"{path}.collateral_cap", h["collateral_cap"], Decimal(c.collateral_cap) / WAD):
            late.append(Call("engine", "setCollateralCap", (cid, c.collateral_cap), [f"{path}.collateral_cap"]))
        # Direct liquidation: after any penalty change (its discount is checked against the penalty).
        hd = h.get("direct") or {"max_debt": Decimal(0), "min_discount": Decimal(0), "max_discount": Decimal(0)}
        direct_changed = [k for k, new in zip(("max_debt", "min_discount", "max_discount"), c.direct.as_tuple())
                          if diff(f"{path}.direct.{k}", hd[k], Decimal(new) / WAD)]
        if direct_changed:
            late.append(Call("direct", "setDirectParams", (cid, c.direct.as_tuple()),
                             [f"{path}.direct.{k}" for k in direct_changed]))
        # The feed: one setFeed call carries every field.
        hf = h["feed"]
        feed_addr = c.feed or hf["address"]
        if c.feed is None and hf["decimals"] is not None and c.feed_decimals != hf["decimals"]:
            plan.problems.append(f"{path}.feed.decimals: {c.feed_decimals} differs from the feed's {hf['decimals']}; "
                                 f"allowed {hf['decimals']}")
        own_min, own_max = client.feed_bounds(feed_addr)
        eff_min = max(c.min_answer, own_min)
        eff_max = min(x for x in (c.max_answer, own_max) if x) if (c.max_answer or own_max) else 0
        feed_fields = [
            ("address", hf["address"], feed_addr), ("heartbeat", hf["heartbeat"], c.heartbeat),
            ("max_jump_bps", hf["max_jump_bps"], c.max_jump_bps),
            ("max_deviation_bps", hf["max_deviation_bps"], c.max_deviation_bps),
            ("secondary", hf["secondary"], c.secondary_feed),
            ("secondary_heartbeat", hf["secondary_heartbeat"], c.secondary_heartbeat),
            ("min_answer", hf["min_answer"], eff_min), ("max_answer", hf["max_answer"], eff_max),
            ("delay", hf["delay"], desired.oracle_delay),
        ]
        changed = [name for name, old, new in feed_fields if diff(f"{path}.feed.{name}", old, new)]
        if changed:
            from unwind.deploy import feed_config

            col_calls.append(Call("oracle", "setFeed", (h["token"], feed_config(c, desired, feed_addr)),
                                  [f"{path}.feed.{n}" for n in changed]))
        wa = w["auction"]
        changed = [k for k in wa if diff(f"{path}.auction.{k}", h["auction"][k], wa[k])]
        if changed:
            col_calls.append(Call("auction", "setParams", (cid, c.auction.as_tuple()),
                                  [f"{path}.auction.{k}" for k in changed]))

    hs, hl, ho = have["system"], have["liquidation"], have["oracle"]
    if diff("system.dust", hs["dust"], Decimal(desired.dust) / WAD):
        early.append(Call("vault", "setDust", (desired.dust,), ["system.dust"]))
    if diff("system.debt_ceiling", hs["debt_ceiling"], Decimal(desired.debt_ceiling) / WAD):
        late.append(Call("vault", "setDebtCeiling", (desired.debt_ceiling,), ["system.debt_ceiling"]))
    if diff("system.stability_fee", hs["stability_fee"], Decimal(desired.stability_fee) / RAY):
        late.append(Call("vault", "setStabilityFee", (desired.stability_fee,), ["system.stability_fee"]))
    for key, method, value in (("target_health", "setTargetHealth", desired.target_health),
                               ("lot_margin", "setLotMargin", desired.lot_margin),
                               ("global_cap", "setGlobalCap", desired.global_cap)):
        if diff(f"liquidation.{key}", hl[key], Decimal(value) / WAD):
            late.append(Call("engine", method, (value,), [f"liquidation.{key}"]))
    if diff("liquidation.unpause_grace", hl["unpause_grace"], desired.unpause_grace):
        late.append(Call("engine", "setUnpauseGrace", (desired.unpause_grace,), ["liquidation.unpause_grace"]))
    # Auction capacity only grows (slots ever used count too): reserve what the pool lacks.
    if hl["auction_reserve"] < desired.auction_reserve and diff(
            "liquidation.auction_reserve", hl["auction_reserve"], desired.auction_reserve):
        from unwind.deploy import RESERVE_CHUNK

        for done in range(hl["auction_reserve"], desired.auction_reserve, RESERVE_CHUNK):
            late.append(Call("auction", "reserve", (min(RESERVE_CHUNK, desired.auction_reserve - done),),
                             ["liquidation.auction_reserve"]))
    tip_c = diff("liquidation.tip", hl["tip"], Decimal(desired.tip) / WAD)
    chip_c = diff("liquidation.chip", hl["chip"], Decimal(desired.chip) / WAD)
    if tip_c or chip_c:
        # Checked against the smallest penalty and the dust floor in force: after those changes.
        incentive.append(Call("engine", "setIncentive", (desired.tip, desired.chip), ["liquidation.tip", "liquidation.chip"]))
    if diff("oracle.recovery_grace", ho["recovery_grace"], desired.recovery_grace):
        late.append(Call("oracle", "setRecoveryGrace", (desired.recovery_grace,), ["oracle.recovery_grace"]))
    seq_old = (ho["sequencer_feed"], ho["sequencer_grace"] if ho["sequencer_feed"] else None)
    seq_new = (desired.sequencer_feed, desired.sequencer_grace if desired.sequencer_feed else None)
    f_c = diff("oracle.sequencer_feed", seq_old[0], seq_new[0])
    g_c = diff("oracle.sequencer_grace", seq_old[1], seq_new[1])
    if f_c or g_c:
        late.append(Call("oracle", "setSequencerFeed", (desired.sequencer_feed or ZERO_ADDRESS,
                                                        desired.sequencer_grace if desired.sequencer_feed else 0),
                         ["oracle.sequencer_feed"]))

    # Roles: compared with the record (the chain cannot list role holders).
    old_roles = (record.get("params") or {}).get("roles", {})
    resolve = {"deployer": deployer, "anyone": ZERO_ADDRESS}
    old_guardian = resolve.get(old_roles.get("guardian"), old_roles.get("guardian")) or record.get("guardian")
    new_guardian = resolve.get(desired.guardian, desired.guardian)
    if diff("roles.guardian", old_guardian, new_guardian):
        for module in ("oracle", "buffer", "vault", "auction", "engine"):
            late.append(Call(module, "grantRole", (_role("GUARDIAN_ROLE"), new_guardian), ["roles.guardian"]))
            if old_guardian:
                late.append(Call(module, "revokeRole", (_role("GUARDIAN_ROLE"), old_guardian), ["roles.guardian"]))
    for key, roles_ in (("proposers", ("PROPOSER_ROLE", "CANCELLER_ROLE")), ("executors", ("EXECUTOR_ROLE",))):
        old = {resolve.get(a, a).lower() for a in old_roles.get(key, ["deployer"])}
        new = {resolve.get(a, a).lower() for a in getattr(desired, key)}
        if diff(f"roles.{key}", sorted(old), sorted(new)):
            for rname in roles_:
                for a in sorted(new - old):
                    late.append(Call("timelock", "grantRole", (_role(rname), client.w3.to_checksum_address(a)),
                                     [f"roles.{key}"]))
                for a in sorted(old - new):
                    late.append(Call("timelock", "revokeRole", (_role(rname), client.w3.to_checksum_address(a)),
                                     [f"roles.{key}"]))
    if diff("roles.timelock_delay", have["roles"]["timelock_delay"], desired.timelock_delay):
        last.append(Call("timelock", "updateDelay", (desired.timelock_delay,), ["roles.timelock_delay"]))
    plan.calls = early + col_calls + late + incentive + last
    return plan


def _plan_listing(plan: Plan, c, desired: SystemParams, path: str, cid: int, calls: list) -> int:
    """A collateral the chain does not have: list it (existing token and feed only)."""
    from unwind.deploy import feed_config

    if not c.token or not c.feed:
        plan.problems.append(f"{path}: not listed in this deployment; listing it through configure needs an existing "
                             f"token address and feed address (configure deploys no mocks)")
        return cid
    plan.changes.append((path, None, "listed"))
    why = [path]
    calls.append(Call("oracle", "setFeed", (c.token, feed_config(c, desired, c.feed)), why))
    calls.append(Call("vault", "listCollateral", (c.token, c.max_ltv, c.liquidation_threshold, c.penalty,
                                                  c.supply_cap * 10**c.decimals), why))
    calls.append(Call("auction", "setParams", (cid, c.auction.as_tuple()), why))
    calls.append(Call("engine", "setCollateralCap", (cid, c.collateral_cap), why))
    if c.direct.max_debt:
        calls.append(Call("direct", "setDirectParams", (cid, c.direct.as_tuple()), why))
    if c.frozen:
        calls.append(Call("vault", "setFrozen", (cid, True), why))
    plan.new_collaterals[c.symbol] = {"token": c.token, "feed": c.feed, "id": cid, "decimals": c.decimals}
    return cid + 1


# --- the timelock --------------------------------------------------------------------------------


def pending_path(record_path: str | Path) -> Path:
    p = Path(record_path)
    return p.with_name(p.stem + ".pending.json")


def encode(client, calls: list[Call]) -> tuple[list, list, list]:
    targets, values, payloads = [], [], []
    for call in calls:
        contract = client.contract(call.target)
        targets.append(contract.address)
        values.append(0)
        payloads.append(contract.encode_abi(call.method, args=list(call.args)))
    return targets, values, payloads


def schedule(client, timelock, account, plan: Plan, desired: SystemParams, record_path, params_file: str = "",
             tx_kwargs: dict | None = None) -> dict:
    """Queue the plan's calls as one timelock batch; returns the pending operation (also written to disk)."""
    pending_file = pending_path(record_path)
    if pending_file.exists():
        op = json.loads(pending_file.read_text())
        raise RuntimeError(f"operation {op['id']} is already queued ({pending_file}): run with --execute once it is "
                           f"ready, or --cancel it")
    if not timelock.hasRole(_role("PROPOSER_ROLE"), account):
        raise RuntimeError(f"{account.address} is not a proposer on the timelock {timelock.address}; "
                           f"use a proposer's --account")
    targets, values, payloads = encode(client, plan.calls)
    salt = _role(f"unwind-configure:{params_hash(desired)}:{time.time_ns()}")
    delay = timelock.getMinDelay()
    op_id = timelock.hashOperationBatch(targets, values, payloads, ZERO32, salt)
    receipt = timelock.scheduleBatch(targets, values, payloads, ZERO32, salt, delay, sender=account,
                                     **(tx_kwargs or {}))
    ready_at = timelock.getTimestamp(op_id)
    op = {
        "id": "0x" + bytes(op_id).hex(), "targets": targets, "values": values, "payloads": payloads,
        "predecessor": "0x" + ZERO32.hex(), "salt": "0x" + salt.hex(), "delay": delay, "ready_at": ready_at,
        "tx": receipt.txn_hash, "block": receipt.block_number, "params_file": params_file,
        "params": to_document(desired), "params_hash": params_hash(desired),
        "changes": [[p, _show(o), _show(n)] for p, o, n in plan.changes],
        "calls": [c.describe() for c in plan.calls], "new_collaterals": plan.new_collaterals,
    }
    write_record(pending_file, op)
    return op


def execute(timelock, account, record_path, now: int, tx_kwargs: dict | None = None) -> dict:
    """Execute the queued operation if its delay has passed; updates the record's parameters."""
    pending_file = pending_path(record_path)
    if not pending_file.exists():
        raise RuntimeError(f"nothing queued for {record_path} ({pending_file} not found)")
    op = json.loads(pending_file.read_text())
    if not timelock.isOperationPending(op["id"]):
        raise RuntimeError(f"operation {op['id']} is not pending on the timelock (executed or cancelled already?); "
                           f"remove {pending_file} if so")
    if now < op["ready_at"]:
        raise RuntimeError(f"operation {op['id']} is ready at timestamp {op['ready_at']}, in {op['ready_at'] - now} s")
    receipt = timelock.executeBatch(op["targets"], op["values"], op["payloads"], op["predecessor"], op["salt"],
                                    sender=account, **(tx_kwargs or {}))
    record = read_record(record_path)
    record["params"] = op["params"]
    record["params_hash"] = op["params_hash"]
    record.setdefault("collateral", {}).update(op.get("new_collaterals") or {})
    record.setdefault("governance", []).append({"id": op["id"], "scheduled_tx": op["tx"], "executed_tx": receipt.txn_hash,
                                                "block": receipt.block_number, "changes": op["changes"]})
    write_record(record_path, record)
    pending_file.unlink()
    return op


def cancel(timelock, account, record_path, tx_kwargs: dict | None = None) -> dict:
    pending_file = pending_path(record_path)
    if not pending_file.exists():
        raise RuntimeError(f"nothing queued for {record_path}")
    op = json.loads(pending_file.read_text())
    if timelock.isOperationPending(op["id"]):
        timelock.cancel(op["id"], sender=account, **(tx_kwargs or {}))
    pending_file.unlink()
    return op
