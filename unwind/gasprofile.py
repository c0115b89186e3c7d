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
    frames = [to.lower()]  # address running at each depth
    pending = {}  # depth -> (gas before the CALL step, index) of a call in flight
    executed = 0
    n = len(struct_logs)
    for i, step in enumerate(struct_logs):
        depth, op, cost = step["depth"], step["op"], step["gasCost"]
        while len(frames) > depth:
            frames.pop()
        who = out[names.get(frames[-1], frames[-1])]
        if op in CALLS and i + 1 < n and struct_logs[i + 1]["depth"] == depth + 1:
            # Gas the CALL step itself used: what the caller lost across the call, less the callee's.
            j = i + 1
            while j < n and struct_logs[j]["depth"] > depth:
                j += 1
            callee_start = struct_logs[i + 1]["gas"]
            last = struct_logs[j - 1]
            callee_used = callee_start - (last["gas"] - last["gasCost"])
            after = struct_logs[j]["gas"] if j < n else last["gas"] - last["gasCost"]
            who["calls"] += step["gas"] - after - callee_used
            frames.append(_target(step))
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
    for name, kinds in out.items():
        executed += sum(kinds[k] for k in KINDS)
    return {"contracts": dict(out), "base": gas_used - executed, "total": gas_used}


def totals(p: dict) -> dict:
    """Gas per kind over every contract, plus base and the total."""
    out = dict.fromkeys((*KINDS, "cold_sloads"), 0)
    for kinds in p["contracts"].values():
        for k in out:
            out[k] += kinds[k]
    out["base"] = p["base"]
    out["total"] = p["total"]
    return out


def trace(provider, txn_hash) -> list:
    tx = txn_hash if isinstance(txn_hash, str) else txn_hash.hex()
    tx = "0x" + tx.removeprefix("0x")
    opts = {"enableMemory": False, "disableStack": False, "disableStorage": True}
    return provider.make_request("debug_traceTransaction", [tx, opts])["structLogs"]
