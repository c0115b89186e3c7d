"""Every benchmark figure against its target (issue 8), from the JSON files under bench/results/.

    ape run bench_report [--results bench/results] [--markdown]

A missing file or key is reported as missing, not as a pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from unwind import gasprofile


@dataclass
class Row:
    area: str
    figure: str
    value: str
    target: str
    ok: bool | None  # None: not measured


def write_json(path: Path, obj) -> None:
    """Indented JSON whose innermost lists and objects (per-block series, one sale) sit on one
    line each, so a committed result stays readable and its diffs short."""
    text = json.dumps(obj, indent=1)
    flat = lambda m: m.group(1) + " ".join(m.group(2).split()) + m.group(3)  # noqa: E731
    text = re.sub(r"(\[)\s*([^\[\]{}]*?)\s*(\])", flat, text)
    text = re.sub(r"(\{)\s*([^\[\]{}]*?)\s*(\})", flat, text)
    if json.loads(text) != obj:  # a bracket inside a string was squeezed: keep the plain form
        text = json.dumps(obj, indent=1)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text + "\n")


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _fmt(x, digits=3) -> str:
    if x is None:
        return "missing"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def rows(results: Path) -> list[Row]:
    out = []
    gas = _load(results / "gas.json")
    ops = (gas or {}).get("operations", {})
    liq, take = ops.get("liquidate"), ops.get("take_full")
    out.append(Row("gas", "liquidate", _fmt(liq), "<= 170,000", None if liq is None else liq <= 170_000))
    out.append(Row("gas", "take_full", _fmt(take), "<= 110,000", None if take is None else take <= 110_000))
    both = liq + take if liq is not None and take is not None else None
    out.append(Row("gas", "liquidate + take_full", _fmt(both), "<= 250,000", None if both is None else both <= 250_000))
    for name, label, limit in (("liquidate_direct", "direct liquidation, one collateral", 150_000),
                               ("liquidate_direct_two", "direct liquidation, two collaterals (one seized)", 195_000)):
        g = ops.get(name)
        if g is not None:
            out.append(Row("gas", label, _fmt(g), f"<= {limit:,}", g <= limit))
    for name, label in (("liquidate_reusing_slots", "liquidate on a running system (sales reuse storage)"),
                        ("liquidate_batch_10", "liquidate in a batch of 10, per account"),
                        ("liquidate_beyond_reserve", "liquidate with every reserved slot in use (fresh storage)"),
                        ("reserve_per_sale", "reserving one sale's storage (once, ahead of time)")):
        if ops.get(name) is not None:
            out.append(Row("gas", label, _fmt(ops[name]), "", None))
    # What the layout pays before any computation: storage, events and the base cost (gas.json by_kind).
    for name, label in (("liquidate_reusing_slots", "liquidate on a running system"), ("take_full", "take_full")):
        t = (gas or {}).get("by_kind", {}).get(name)
        if t:
            out.append(Row("gas", f"{label}: storage + events + base only", _fmt(gasprofile.floor(t)), "", None))

    scale = _load(results / "keeper_scale.json")
    runs = {r["accounts"]: r for r in (scale or {}).get("runs", [])}
    big, small = runs.get(10_000), runs.get(1_000)
    for n, r in sorted(runs.items()):
        out.append(Row("keeper", f"{n:,} accounts: unsafe / liquidated", f"{r['unsafe']:,} / {r['liquidated']:,}",
                       "all", r["unsafe"] == r["liquidated"]))
        out.append(Row("keeper", f"{n:,} accounts: startup_s", _fmt(r["startup_s"], 2),
                       "<= 20" if n == 10_000 else "", r["startup_s"] <= 20 if n == 10_000 else None))
        btc, mbp = r.get("blocks_to_clear"), r.get("min_blocks_possible")
        ok = btc is not None and mbp is not None and btc <= mbp + 2
        out.append(Row("keeper", f"{n:,} accounts: blocks_to_clear (min possible)", f"{_fmt(btc)} ({_fmt(mbp)})",
                       "<= min + 2" if n == 10_000 else "", ok if n == 10_000 else None))
        out.append(Row("keeper", f"{n:,} accounts: rpc_calls_per_block", _fmt(r["rpc_calls_per_block"], 1), "", None))
    if big and small:
        a, b = small["rpc_calls_per_block"], big["rpc_calls_per_block"]
        growth = (b - a) / a if a else None
        out.append(Row("keeper", "rpc_calls_per_block 10,000 vs 1,000", f"{growth:+.1%}" if growth is not None else "missing",
                       "within 50%", None if growth is None else abs(growth) <= 0.5))
    else:
        out.append(Row("keeper", "keeper_scale.json (1,000 and 10,000)", "missing", "both runs", None))

    crash = _load(results / "crash.json")
    for name, r in sorted((crash or {}).get("runs", {}).items()):
        area = f"crash ({name})"
        floor = r.get("floor_over_ref")
        out.append(Row(area, "accounts / auctions", f"{r['accounts']:,} / {r['auctions']:,}", ">= 500 / >= 100",
                       r["accounts"] >= 500 and r["auctions"] >= 100))
        out.append(Row(area, "debt_liquidated [uUSD]", _fmt(r["debt_liquidated"], 0), "", None))
        running = r.get("auctions_running_at_end", 0)
        if running:  # a run cut short: bad debt and recovery are not final, so nothing passes
            out.append(Row(area, "auctions still running at the end", _fmt(running), "0", False))
        out.append(Row(area, "bad_debt [uUSD]", _fmt(r["bad_debt"], 2), "= 0", r["bad_debt"] == 0 and not running))
        out.append(Row(area, "recovery_ratio", _fmt(r["recovery_ratio"], 4), ">= 0.95",
                       None if r["recovery_ratio"] is None else r["recovery_ratio"] >= 0.95 and not running))
        m = r.get("min_sale_over_ref")
        out.append(Row(area, "min_sale_over_ref", _fmt(m, 4), f">= {floor:.2f}",
                       None if m is None else m >= floor - 1e-9))
        out.append(Row(area, "auctions redone", _fmt(r["auctions_redone"]), "(reported)", None))
    if not crash:
        out.append(Row("crash", "crash.json", "missing", "a run", None))
    return out


def print_table(results: Path, markdown: bool = False) -> bool:
    """Print the table; True when no target is missed (missing figures count as missed)."""
    table = rows(results)
    verdict = {True: "yes", False: "NO", None: ""}
    if markdown:
        print("| area | figure | value | target | met |")
        print("|---|---|---|---|---|")
        for r in table:
            print(f"| {r.area} | {r.figure} | {r.value} | {r.target} | {verdict[r.ok]} |")
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"Unwind benchmarks ({results})")
        for col in ("area", "figure", "value", "target", "met"):
            t.add_column(col, justify="right" if col == "value" else "left")
        for r in table:
            style = {True: "green", False: "bold red", None: ""}[r.ok]
            t.add_row(r.area, r.figure, r.value, r.target, f"[{style}]{verdict[r.ok]}[/]" if style else "")
        Console(width=max(Console().width, 110)).print(t)
    missing = any(r.value == "missing" for r in table)
    return not missing and all(r.ok is not False for r in table)
