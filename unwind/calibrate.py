"""Calibration helper: risk parameters for one collateral from its price history.

    python -m unwind.calibrate --csv data/sample_prices.csv --out params/calibrated.yaml [--symbol WETH]
    ape run calibrate --csv data/sample_prices.csv --out params/calibrated.yaml
    python -m unwind.calibrate --make-sample data/sample_prices.csv     # the shipped sample, deterministic

The CSV has two columns, `timestamp,price` (seconds, debt tokens per whole token), oldest first; a
header line and `#` comments are allowed. From it: realised volatility, the worst falls over the
liquidation horizon (the time from an account turning unsafe to its collateral being sold) and
over the auction window, and the largest rise over one oracle hop (the base file's
`oracle.delay`). Those give a liquidation threshold, a max LTV, a penalty, an auction start buffer
and an exponential auction curve that reaches its floor in about five minutes (`--time-to-floor`;
the crash replay's evidence: slower curves left bad debt in a fast crash); each number is
explained in the output, dates in UTC. The result is the base file with this collateral's values
replaced in its text (its comments, units and ranges kept), validated exactly as `ape run deploy
--params` validates it.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

from unwind.params import DEFAULT_PARAMS_FILE, ParamError, load_document, params_from_document

YEAR = 365 * 86400
BLOCK = 12  # [s] an L1 block, to show how fast the curve falls per block
TIME_TO_FLOOR = 300  # [s] the crash replay's curve: 1.1 x the reference to its floor in about 5 minutes
CRASH_EVIDENCE = ("the crash replay (README, Benchmarks: `ape run crash`) left bad debt with slower curves in a "
                  "-50%/hour crash (a linear curve over an hour, started 20% above the reference) and none with "
                  "the default exponential curve, 0.1% a second from 1.1 x, which reaches the floor in about "
                  "5 minutes: a slow curve sells after the market has passed the price that covers the debt")


class CalibrationError(ValueError):
    pass


def read_prices(path: str | Path) -> list[tuple[int, float]]:
    """(timestamp, price) rows; CalibrationError with the line number on the first bad row."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read ({exc.strerror})")
    rows: list[tuple[int, float]] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2:
            raise CalibrationError(f"{path}:{n}: expected two columns timestamp,price; got {line!r}")
        try:
            ts, price = int(float(parts[0])), float(parts[1])
        except ValueError:
            if not rows and parts[0].lower() in ("timestamp", "time", "ts"):
                continue  # the header
            raise CalibrationError(f"{path}:{n}: timestamp and price must be numbers; got {line!r}")
        if not (price > 0 and math.isfinite(price)):
            raise CalibrationError(f"{path}:{n}: price {parts[1]} must be a positive number")
        if rows and ts <= rows[-1][0]:
            raise CalibrationError(f"{path}:{n}: timestamp {ts} is not after the previous one ({rows[-1][0]}); "
                                   f"rows must be oldest first")
        rows.append((ts, price))
    if len(rows) < 10:
        raise CalibrationError(f"{path}: {len(rows)} price rows; at least 10 are needed")
    return rows


def _window_moves(rows, horizon: int, down: bool) -> list[tuple[float, int, int]]:
    """For each start, the largest fall (or rise) within `horizon` seconds: (move, start ts, end ts)."""
    out = []
    n = len(rows)
    for i in range(n):
        t0, p0 = rows[i]
        best, best_t = 0.0, t0
        j = i + 1
        while j < n and rows[j][0] - t0 <= horizon:
            move = (1 - rows[j][1] / p0) if down else (rows[j][1] / p0 - 1)
            if move > best:
                best, best_t = move, rows[j][0]
            j += 1
        if j > i + 1:
            out.append((best, t0, best_t))
    return out


def _quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return 0.0
    k = (len(xs) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _worst_episodes(moves, count: int = 3) -> list[tuple[float, int, int]]:
    """The `count` largest moves whose windows do not overlap."""
    picked: list[tuple[float, int, int]] = []
    for m in sorted(moves, reverse=True):
        if m[0] <= 0:
            break
        if all(m[2] < p[1] or m[1] > p[2] for p in picked):
            picked.append(m)
        if len(picked) == count:
            break
    return picked


def _down(x: float, step: str = "0.01") -> Decimal:
    return Decimal(repr(x)).quantize(Decimal(step), rounding=ROUND_FLOOR)


def _up(x: float, step: str = "0.01") -> Decimal:
    return Decimal(repr(x)).quantize(Decimal(step), rounding=ROUND_CEILING)


def _clamp(x: Decimal, lo: str, hi: str) -> Decimal:
    return max(Decimal(lo), min(Decimal(hi), x))


@dataclass
class Calibration:
    rows: int
    interval: float  # [s] median sampling interval
    volatility: float  # annualised
    horizon: int
    worst_fall: float
    fall_q99: float
    auction_window: int
    auction_fall_q99: float
    hop: int  # [s] the oracle hop (oracle.delay)
    rise_q99: float
    episodes: list
    rise_window: int = 0  # [s] what rises were measured over: the hop, or the sampling interval if coarser
    suggested: dict = field(default_factory=dict)  # yaml key -> value
    notes: list = field(default_factory=list)  # one explanation per number


def calibrate(rows, *, horizon: int = 7200, auction_window: int = 1800, oracle_delay: int | None = None,
              lot_margin: Decimal = Decimal("0.05"), max_discount: Decimal = Decimal("0.2"),
              time_to_floor: int = TIME_TO_FLOOR, max_age: int | None = None) -> Calibration:
    """Suggestions for one collateral from (timestamp, price) rows.

    `oracle_delay` is the OSM hop (default: params/local.yaml's `oracle.delay`); `max_age` the base
    file's auction max_age (kept unless shorter than 1.5 x the time to the floor).
    """
    if oracle_delay is None or max_age is None:
        from unwind.params import default_params

        base = default_params()
        oracle_delay = base.oracle_delay if oracle_delay is None else oracle_delay
        max_age = base.collaterals[0].auction.max_age if max_age is None else max_age
    times = [t for t, _ in rows]
    interval = statistics.median(b - a for a, b in zip(times, times[1:]))
    rets = [math.log(b[1] / a[1]) for a, b in zip(rows, rows[1:])]
    sigma_step = statistics.pstdev(rets)
    vol = sigma_step * math.sqrt(YEAR / interval)
    horizon = max(horizon, int(interval))  # a window holds at least one move
    falls = _window_moves(rows, horizon, down=True)
    worst = max(f[0] for f in falls)
    q99 = _quantile([f[0] for f in falls], 0.99)
    afalls = _window_moves(rows, max(auction_window, int(interval)), down=True)
    a_q99 = _quantile([f[0] for f in afalls], 0.99)
    hop = int(oracle_delay)
    rise_window = max(hop, int(interval))  # a window holds at least one move
    rises = _window_moves(rows, rise_window, down=False)
    r_q99 = _quantile([r[0] for r in rises], 0.99)
    cal = Calibration(rows=len(rows), interval=interval, volatility=vol, horizon=horizon, worst_fall=worst,
                      fall_q99=q99, auction_window=auction_window, auction_fall_q99=a_q99, hop=hop, rise_q99=r_q99,
                      episodes=_worst_episodes(falls), rise_window=rise_window)
    s, notes = cal.suggested, cal.notes

    penalty = _clamp(_up(a_q99 + 0.02), "0.03", "0.15")
    notes.append(f"penalty {penalty}: the 99th-percentile fall over the auction window ({auction_window} s) is "
                 f"{a_q99:.2%}; the penalty is that plus 2% for keeper incentives and gas (bounded to 3%..15%), so "
                 f"it pays for auctions clearing that far below the oracle price.")
    lt_raw = (1 - worst) / (1 + float(penalty))
    lt_margin = (1 - float(lot_margin)) / (1 + float(penalty)) - 0.005
    lt = _clamp(_down(min(lt_raw, lt_margin)), "0.3", "0.95")
    notes.append(f"liquidation_threshold {lt}: the worst fall over the liquidation horizon ({horizon} s) was "
                 f"{worst:.2%}; a position liquidated at the threshold must still cover its debt plus penalty after "
                 f"such a fall: threshold <= (1 - {worst:.4f}) / (1 + {penalty}) = {lt_raw:.4f}"
                 + (f"; the lot margin {lot_margin} caps it at {lt_margin:.4f}" if lt_margin < lt_raw else "")
                 + ", rounded down.")
    gap = max(Decimal("0.03"), _up(q99))
    ltv = max(Decimal("0.05"), lt - gap)
    notes.append(f"max_ltv {ltv}: the threshold minus {gap}, the 99th-percentile fall over the horizon ({q99:.2%}, "
                 f"at least 3 points): a position opened at max LTV survives a typical bad horizon unliquidated.")
    buffer = _clamp(_up(1 + max(0.05, 2 * r_q99)), "1.05", "1.5")
    measured = (f"{hop} s, oracle.delay" if rise_window == hop else
                f"{hop} s, oracle.delay; the prices are {interval:.0f} s apart, so measured over {rise_window} s, "
                f"which can only overstate a {hop}-s rise")
    notes.append(f"auction buffer {buffer}: the price rose up to {r_q99:.2%} (99th percentile) within one oracle "
                 f"hop ({measured}); auctions start at twice that above the oracle price (at least 5%, at most "
                 f"50%) so the first takes never undersell a market that moved up since the last update.")
    floor = 1 - float(max_discount)
    # Round the per-second cut down (a curve at least as fast as asked), at most 0.99 (the contracts' bound).
    exact = (floor / float(buffer)) ** (1 / time_to_floor)
    cut = max(Decimal("0.99"), Decimal(repr(exact)).quantize(Decimal("0.00001"), rounding=ROUND_FLOOR))
    to_floor = math.ceil(math.log(floor / float(buffer)) / math.log(float(cut)))
    per_block = 1 - float(cut) ** BLOCK
    noise = 2 * sigma_step * math.sqrt(BLOCK / interval)
    notes.append(f"auction curve exponential, cut {cut.normalize()} a second: from the buffer ({buffer} x the "
                 f"oracle price) to the floor ({1 - max_discount} x) in {to_floor} s (asked: about {time_to_floor} s, "
                 f"--time-to-floor), {per_block:.2%} per {BLOCK}-s block against the market's own noise over a block "
                 f"(two standard deviations: {noise:.3%}). Why this fast: {CRASH_EVIDENCE}.")
    age = int(max(max_age, math.ceil(to_floor * 1.5 / 60) * 60))
    notes.append(f"auction max_age {age} s: " + (
        f"the base file's, kept: at least 1.5 x the time to the floor ({to_floor} s), so an auction reaches its floor "
        f"before it can need a redo." if age == max_age else
        f"1.5 x the time to the floor ({to_floor} s), rounded up to a minute, so an auction reaches its floor before "
        f"it can need a redo."))
    s.update(liquidation_threshold=lt, max_ltv=ltv, penalty=penalty, curve="exponential", buffer=buffer, cut=cut,
             max_age=age, time_to_floor=to_floor)
    return cal


def utc(ts: int) -> str:
    """A timestamp as a UTC date, as the README promises (2026-01-05T10:30:00Z)."""
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(cal: Calibration) -> list[str]:
    lines = [
        f"{cal.rows} prices, one every {cal.interval:.0f} s; realised volatility {cal.volatility:.1%} a year",
        f"falls over the liquidation horizon ({cal.horizon} s): worst {cal.worst_fall:.2%}, "
        f"99th percentile {cal.fall_q99:.2%}",
    ]
    for m, t0, t1 in cal.episodes:
        lines.append(f"  worst episode: {m:.2%} from {utc(t0)} to {utc(t1)}")
    window = "" if cal.rise_window in (0, cal.hop) else f", measured over {cal.rise_window} s"
    lines.append(f"falls over the auction window ({cal.auction_window} s): 99th percentile {cal.auction_fall_q99:.2%}; "
                 f"rises over one oracle hop ({cal.hop} s{window}): 99th percentile {cal.rise_q99:.2%}")
    return lines + cal.notes


def build_document(cal: Calibration, base_doc: dict, symbol: str | None, last_price: float) -> tuple[dict, str]:
    """The base parameter document with one collateral's values replaced by the suggestions."""
    cols = base_doc.get("collaterals") or {}
    if symbol is None:
        symbol = next(iter(cols), None)
    if symbol not in cols:
        raise CalibrationError(f"--symbol {symbol!r} is not a collateral of the base file; "
                               f"allowed: {', '.join(cols) or 'none'}")
    c = cols[symbol]
    for path, value in changes(cal, base_doc, symbol, last_price).items():
        node = base_doc
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    del c
    return base_doc, symbol


def changes(cal: Calibration, base_doc: dict, symbol: str, last_price: float) -> dict[tuple, object]:
    """{path in the parameter file: new value} for one collateral's calibrated values."""
    s = cal.suggested
    c = ("collaterals", symbol)
    out: dict[tuple, object] = {c + (key,): float(s[key]) for key in ("liquidation_threshold", "max_ltv", "penalty")}
    out.update({c + ("auction", "curve"): s["curve"], c + ("auction", "buffer"): float(s["buffer"]),
                c + ("auction", "cut"): float(s["cut"]), c + ("auction", "max_age"): s["max_age"]})
    # Direct liquidation's discounts stay within the new penalty (IDirectLiquidator, DIRECT LIQUIDATION).
    direct = (base_doc["collaterals"][symbol] or {}).get("direct") or {}
    if direct:
        pen = float(s["penalty"])
        hi = min(float(direct.get("max_discount", 0)), pen)
        lo = min(float(direct.get("min_discount", 0)), hi)
        if hi != float(direct.get("max_discount", 0)):
            out[c + ("direct", "max_discount")] = hi
        if lo != float(direct.get("min_discount", 0)):
            out[c + ("direct", "min_discount")] = lo
    feed = (base_doc["collaterals"][symbol] or {}).get("feed") or {}
    if feed.get("address", "mock") == "mock":
        out[c + ("feed", "price")] = float(_down(last_price, "0.01")) or last_price
    return out


# --- writing values into the base file's text (its comments kept) ---------------------------

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_]+):(?P<rest>.*)$")


def _scalar(value) -> str:
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _split_comment(rest: str) -> tuple[str, str]:
    """' 0.8   # a comment' -> (' 0.8   ', '# a comment') (no quoted # in these files' values)."""
    at = rest.find(" #")
    return (rest, "") if at < 0 else (rest[:at + 1], rest[at + 1:])


def _brace_end(text: str, start: int) -> int:
    depth = 0
    for k in range(start, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return -1


def set_values(text: str, values: dict[tuple, object]) -> str | None:
    """`text` (a YAML parameter file) with the value at each path replaced in place: block lines keep
    their comment and its column, flow mappings (`auction: {curve: ..., cut: ...}`) their layout.
    None when a path cannot be found this way (the caller then writes the document instead)."""
    lines = text.splitlines(keepends=True)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in `text`
    found: set[tuple] = set()
    stack: list[tuple[int, str]] = []
    skip_until = -1  # inside a flow mapping's continuation lines
    for n, line in enumerate(lines):
        if offsets[n] <= skip_until:
            continue
        m = _KEY.match(line.rstrip("\n"))
        if not m or line.lstrip().startswith("#"):
            continue
        indent = len(m["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = tuple(k for _, k in stack) + (m["key"],)
        stack.append((indent, m["key"]))
        value_part, comment = _split_comment(m["rest"])
        start = offsets[n] + len(m["indent"]) + len(m["key"]) + 1
        if value_part.strip().startswith("{"):
            brace = text.index("{", start)
            end = _brace_end(text, brace)
            if end < 0:
                return None
            skip_until = end
            for target, value in values.items():
                if target[:-1] != path:
                    continue
                flow = text[brace:end + 1]
                hit = re.search(rf"([{{,]\s*){re.escape(target[-1])}:\s*([^,}}\n]*[^,}}\s])", flow)
                if not hit:
                    return None
                edits.append((brace + hit.start(2), brace + hit.end(2), _scalar(value)))
                found.add(target)
        elif path in values:
            old = value_part
            new = " " + _scalar(values[path])
            if comment:
                new = new.ljust(len(old) - 1) + " " if len(new) < len(old) else new + " "
            edits.append((start, start + len(old), new))
            found.add(path)
    if found != set(values):
        return None
    for begin, end, new in sorted(edits, reverse=True):
        text = text[:begin] + new + text[end:]
    return text


def write_file(out: Path, doc: dict, cal: Calibration, csv: str, symbol: str, base_text: str | None = None,
               values: dict | None = None) -> bool:
    """Write the calibrated file: the base file's text with the values replaced when it can be edited
    in place (True), else the document dumped (False: its comments lost)."""
    import yaml

    header = [f"# Unwind parameters calibrated for {symbol} from {csv} (python -m unwind.calibrate).", "#"]
    header += [f"# {line}" for line in report(cal)]
    body = None
    if base_text is not None and values:
        body = set_values(base_text, values)
        if body is not None and yaml.safe_load(body) != doc:  # the edit must mean exactly the document
            body = None
    kept = body is not None
    if body is None:
        body = yaml.safe_dump(doc, sort_keys=False, width=110)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(header) + "\n#\n# The base file follows" + (", its comments kept" if kept else "")
                   + ", with the values above for " + symbol + ".\n\n" + body)
    return kept


def make_sample(path: str | Path, seed: int = 7, rows: int = 672, interval: int = 900) -> Path:
    """A deterministic ETH-like history: 7 days of 15-minute prices, 70% volatility, one 2-hour crash."""
    rng = random.Random(seed)
    sigma = 0.70 * math.sqrt(interval / YEAR)
    price, t = 3000.0, 1_767_225_600  # 2026-01-01T00:00:00Z
    lines = [f"# sample prices made by: python -m unwind.calibrate --make-sample {path} "
             f"(seed {seed}, {rows} rows, {interval} s, 70% volatility, one crash)", "timestamp,price"]
    crash = range(rows * 3 // 5, rows * 3 // 5 + 8)
    for i in range(rows):
        shock = rng.gauss(0.0, sigma)
        if i in crash:
            shock -= 0.025  # eight 2.5% steps down: about -18% in two hours
        elif crash.stop <= i < crash.stop + 16:
            shock += 0.004  # half of it recovers over the next four hours
        price *= math.exp(shock)
        lines.append(f"{t + i * interval},{price:.2f}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m unwind.calibrate", description=__doc__.split("\n")[0])
    ap.add_argument("--csv", help="price history: timestamp,price rows, oldest first")
    ap.add_argument("--out", help="parameter file to write (YAML)")
    ap.add_argument("--symbol", default=None, help="the collateral to calibrate (default: the base file's first)")
    ap.add_argument("--base", default=str(DEFAULT_PARAMS_FILE), help="parameter file the others come from")
    ap.add_argument("--horizon", type=int, default=7200, help="liquidation horizon [s]: unsafe to sold")
    ap.add_argument("--auction-window", type=int, default=1800, help="how long an auction takes to clear [s]")
    ap.add_argument("--time-to-floor", type=int, default=TIME_TO_FLOOR,
                    help="seconds the auction curve takes from its start to its floor (default: the crash replay's)")
    ap.add_argument("--make-sample", metavar="CSV", help="write the deterministic sample price history and stop")
    args = ap.parse_args(argv)
    try:
        if args.make_sample:
            print(f"wrote {make_sample(args.make_sample)}")
            return 0
        if not args.csv or not args.out:
            ap.error("--csv and --out are required (or --make-sample CSV)")
        if args.horizon <= 0 or args.auction_window <= 0 or args.time_to_floor <= 0:
            raise CalibrationError("--horizon, --auction-window and --time-to-floor must be positive numbers of "
                                   "seconds")
        rows = read_prices(args.csv)
        base = params_from_document(load_document(args.base), args.base)
        base_doc = load_document(args.base)
        symbol = args.symbol if args.symbol is not None else next(iter(base_doc.get("collaterals") or {}), None)
        col = next((c for c in base.collaterals if c.symbol == symbol), None)
        cal = calibrate(rows, horizon=args.horizon, auction_window=args.auction_window,
                        oracle_delay=base.oracle_delay, lot_margin=Decimal(base.lot_margin) / 10**18,
                        max_discount=Decimal(col.auction.max_discount) / 10**18 if col else Decimal("0.2"),
                        time_to_floor=args.time_to_floor, max_age=col.auction.max_age if col else 7200)
        doc, symbol = build_document(cal, base_doc, symbol, rows[-1][1])
        params_from_document(doc, args.out)  # what deploy will check: refuse to write a file it rejects
        values = changes(cal, load_document(args.base), symbol, rows[-1][1])
        kept = write_file(Path(args.out), doc, cal, args.csv, symbol, Path(args.base).read_text(), values)
    except (CalibrationError, ParamError) as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    for line in report(cal):
        print(line)
    print(f"wrote {args.out} ({symbol} calibrated; the rest from {args.base}"
          + (", its comments kept)" if kept else "; its comments could not be kept)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
