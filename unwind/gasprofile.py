"""Where a transaction's gas goes, by contract and by kind, from anvil's opcode trace.

Used by `ape run gas_profile` (scripts/gas_profile.py). For each contract the transaction ran:
storage reads (`sload`, and how many were cold), storage writes (`sstore`), events (`log`),
calls it made (`calls`: account access, value and memory of the CALL itself, not the callee's
gas) and everything else (`compute`: arithmetic, memory, ABI coding, jumps). `base` is the
transaction's intrinsic gas (21,000 plus calldata) less the storage refunds; the parts add up to
the receipt's gasUsed exactly.

A gas floor for a layout follows from it: the storage, events and base a transaction cannot
avoid without keeping less state or making fewer calls.
"""

from __future__ import annotations

from collections import defaultdict

CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}
KINDS = ("sload", "sstore", "log", "calls", "compute")
COLD_SLOAD = 2100


def _target(step) -> str:
    word = step["stack"][-2]
    return "0x" + word.removeprefix("0x").rjust(40, "0")[-40:].lower()


def profile(struct_logs: list, to: str, gas_used: int, names: dict[str, str]) -> dict:
    """{"contracts": {name: {kind: gas, "cold_sloads": n}}, "base": gas, "total": gas_used}."""
    out = defaultdict(lambda: dict.fromkeys((*KINDS, "cold_sloads"), 0))
    # One entry per running frame: its address, and for a called frame what its CALL step needs
    # to be charged once the frame returns (the caller's record, gas before the CALL, the callee's
    # first gas figure).
    frames = [(to.lower(), None)]
    prev = None
    for i, step in enumerate(struct_logs):
        depth, op, cost = step["depth"], step["op"], step["gasCost"]
        if depth < len(frames):  # the frame above returned (one level per step)
            _, (caller, before, start) = frames.pop()
            callee_used = start - (prev["gas"] - prev["gasCost"])
            caller["calls"] += before - step["gas"] - callee_used
        who = out[names.get(frames[-1][0], frames[-1][0])]
        prev = step
        if op in CALLS:
            nxt = struct_logs[i + 1] if i + 1 < len(struct_logs) else None
            if nxt is not None and nxt["depth"] == depth + 1:  # into code: charged when it returns
                frames.append((_target(step), (who, step["gas"], nxt["gas"])))
            elif nxt is not None:  # no code to run (or refused): what the caller lost
                who["calls"] += step["gas"] - nxt["gas"]
            else:
                who["calls"] += cost
            continue
        if op == "SLOAD":
            who["sload"] += cost
            who["cold_sloads"] += cost >= COLD_SLOAD
        elif op == "SSTORE":
            who["sstore"] += cost
        elif op.startswith("LOG"):
            who["log"] += cost
        else:
            who["compute"] += cost
    executed = sum(kinds[k] for kinds in out.values() for k in KINDS)
    return {"contracts": dict(out), "base": gas_used - executed, "total": gas_used}


def of_receipt(provider, receipt, names: dict[str, str]) -> dict:
    """`profile` of a mined transaction, traced through `provider`."""
    return profile(trace(provider, receipt.txn_hash), receipt.receiver, receipt.gas_used, names)


def totals(p: dict) -> dict:
    """Gas per kind over every contract, plus base and the total."""
    out = dict.fromkeys((*KINDS, "cold_sloads"), 0)
    for kinds in p["contracts"].values():
        for k in out:
            out[k] += kinds[k]
    out["base"] = p["base"]
    out["total"] = p["total"]
    return out


def floor(t: dict) -> int:
    """What `totals` says the layout pays before any computation: storage, events and base."""
    return t["sload"] + t["sstore"] + t["log"] + t["base"]


def trace(provider, txn_hash) -> list:
    tx = txn_hash if isinstance(txn_hash, str) else txn_hash.hex()
    tx = "0x" + tx.removeprefix("0x")
    opts = {"enableMemory": False, "disableStack": False, "disableStorage": True}
    return provider.make_request("debug_traceTransaction", [tx, opts])["structLogs"]
