"""The calibration helper: numbers from a price history, each explained, and a file deploy accepts
(the deploy itself is in test_deploy.py). Pure Python, no chain."""

import math
import re
from pathlib import Path

import pytest

from unwind import calibrate
from unwind.calibrate import CalibrationError, read_prices
from unwind.params import DEFAULT_PARAMS_FILE, default_params, load_params, wad

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample_prices.csv"


def test_sample_is_what_the_generator_makes(tmp_path):
    made = calibrate.make_sample(tmp_path / "s.csv")
    shipped, regenerated = SAMPLE.read_text().splitlines(), made.read_text().splitlines()
    assert shipped[1:] == regenerated[1:]  # the first line names the output path
    assert "python -m unwind.calibrate --make-sample" in shipped[0]
    assert 300 <= len(read_prices(SAMPLE)) <= 1000


def test_statistics_on_a_known_series():
    """A steady fall of 1% per 15 minutes: every 2-hour window falls 1 - 0.99^8."""
    rows = [(i * 900, 1000 * 0.99**i) for i in range(100)]
    cal = calibrate.calibrate(rows, horizon=7200, auction_window=1800)
    assert cal.interval == 900
    assert cal.worst_fall == pytest.approx(1 - 0.99**8)
    assert cal.fall_q99 == pytest.approx(1 - 0.99**8)
    assert cal.volatility == pytest.approx(0.0, abs=1e-9)  # constant log returns: no dispersion
    assert cal.rise_q99 == 0
    # threshold <= (1 - fall) / (1 + penalty), rounded down to 0.01
    pen = cal.suggested["penalty"]
    assert pen == calibrate._clamp(calibrate._up(1 - 0.99**2 + 0.02), "0.03", "0.15")
    assert float(cal.suggested["liquidation_threshold"]) == math.floor((0.99**8) / (1 + float(pen)) * 100) / 100


def test_sample_suggestions_are_explained_and_deployable(tmp_path, capsys):
    out = tmp_path / "cal.yaml"
    assert calibrate.main(["--csv", str(SAMPLE), "--out", str(out), "--symbol", "WBTC"]) == 0
    printed = capsys.readouterr().out
    for word in ("realised volatility", "worst episode", "penalty ", "liquidation_threshold ", "max_ltv ",
                 "auction buffer ", "auction curve exponential", "auction max_age"):
        assert word in printed, word
    text = out.read_text()
    assert text.startswith("# Unwind parameters calibrated for WBTC")
    p = load_params(out)
    wbtc = next(c for c in p.collaterals if c.symbol == "WBTC")
    cal = calibrate.calibrate(read_prices(SAMPLE))
    assert wbtc.liquidation_threshold == wad(cal.suggested["liquidation_threshold"])
    assert wbtc.penalty == wad(cal.suggested["penalty"]) and wbtc.auction.curve == "exponential"
    assert wbtc.max_ltv < wbtc.liquidation_threshold
    assert cal.worst_fall > 0.15  # the sample's crash is found...
    assert wbtc.liquidation_threshold * (10**18 + wbtc.penalty) // 10**18 <= wad(1 - cal.worst_fall)  # ...and survived


@pytest.mark.parametrize("body,message", [
    ("timestamp,price\n1,2\n", "at least 10 are needed"),
    ("1,2\n2,-1\n", ":2: price -1 must be a positive number"),
    ("1,2\n1,3\n", ":2: timestamp 1 is not after the previous one (1); rows must be oldest first"),
    ("1,2,3\n", ":1: expected two columns timestamp,price"),
    ("1,2\nx,y\n", ":2: timestamp and price must be numbers"),
])
def test_bad_csv_lines(tmp_path, body, message):
    f = tmp_path / "p.csv"
    f.write_text(body)
    with pytest.raises(CalibrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_prices(f)


def test_unknown_symbol(tmp_path, capsys):
    assert calibrate.main(["--csv", str(SAMPLE), "--out", str(tmp_path / "x.yaml"), "--symbol", "DOGE"]) == 2
    assert "error: --symbol 'DOGE' is not a collateral of the base file; allowed: WETH, WBTC, USDC" in \
        capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()


def test_report_agrees_with_the_parameters(tmp_path, capsys):
    """The hop is the base file's oracle.delay (300 s, not the sampling interval), and dates are UTC dates."""
    assert calibrate.main(["--csv", str(SAMPLE), "--out", str(tmp_path / "c.yaml")]) == 0
    printed = capsys.readouterr().out
    assert default_params().oracle_delay == 300
    assert "rises over one oracle hop (300 s, measured over 900 s): 99th percentile" in printed
    assert "within one oracle hop (300 s, oracle.delay; the prices are 900 s apart, so measured over 900 s" in printed
    assert "t=" not in printed
    assert "  worst episode: 17.06% from 2026-01-05T04:30:00Z to 2026-01-05T06:30:00Z" in printed
    # Another base file's hop is the one reported.
    base = tmp_path / "base.yaml"
    base.write_text(DEFAULT_PARAMS_FILE.read_text().replace("  delay: 300  ", "  delay: 1800 "))
    assert calibrate.main(["--csv", str(SAMPLE), "--out", str(tmp_path / "d.yaml"), "--base", str(base)]) == 0
    assert "rises over one oracle hop (1800 s): 99th percentile" in capsys.readouterr().out


def test_curve_follows_the_crash_replay(tmp_path, capsys):
    """An exponential curve from the buffer to the floor in about 5 minutes (the crash replay's), and the
    reason printed; not a stair-step taking an hour."""
    out = tmp_path / "c.yaml"
    assert calibrate.main(["--csv", str(SAMPLE), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    weth = load_params(out).collaterals[0]
    a = weth.auction
    assert a.curve == "exponential"
    floor, buffer, cut = 1 - a.max_discount / 10**18, a.buffer / 10**18, a.cut / 10**27  # cut: a RAY per second
    reached = math.ceil(math.log(floor / buffer) / math.log(cut))
    assert 240 <= reached <= 330, reached  # about 5 minutes, as the default curve
    assert a.max_age >= 1.5 * reached
    assert "Why this fast: the crash replay (README, Benchmarks: `ape run crash`) left bad debt with slower curves" \
        in printed
    # --time-to-floor asks for another speed.
    assert calibrate.main(["--csv", str(SAMPLE), "--out", str(out), "--time-to-floor", "600"]) == 0
    assert re.search(r"to the floor \(0\.8 x\) in (59\d|600) s \(asked: about 600 s", capsys.readouterr().out)


def test_written_file_keeps_the_base_files_comments(tmp_path):
    """Every unit and range comment of the base file survives; only the calibrated values change."""
    out = tmp_path / "c.yaml"
    assert calibrate.main(["--csv", str(SAMPLE), "--out", str(out), "--symbol", "WBTC"]) == 0
    text = out.read_text()
    base = DEFAULT_PARAMS_FILE.read_text()
    comments = [line.split("#", 1)[1] for line in base.splitlines() if "#" in line]
    assert comments and all(c in text for c in comments)
    body = text[text.index("\n\n") + 2:]
    changed = [(a, b) for a, b in zip(base.splitlines(), body.splitlines()) if a != b]
    assert len(base.splitlines()) == len(body.splitlines())
    assert all("WBTC" not in a for a, _ in changed) and 1 <= len(changed) <= 6  # the WBTC lines only
    assert "    auction: {curve: exponential, buffer: " in body and "max_discount: 0.2," in body
