"""The calibration helper: numbers from a price history, each explained, and a file deploy accepts
(the deploy itself is in test_deploy.py). Pure Python, no chain."""

import math
from pathlib import Path

import pytest

from unwind import calibrate
from unwind.calibrate import CalibrationError, read_prices
from unwind.params import load_params, wad

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
                 "auction buffer ", "auction curve stairstep", "auction max_age"):
        assert word in printed, word
    text = out.read_text()
    assert text.startswith("# Unwind parameters calibrated for WBTC")
    p = load_params(out)
    wbtc = next(c for c in p.collaterals if c.symbol == "WBTC")
    cal = calibrate.calibrate(read_prices(SAMPLE))
    assert wbtc.liquidation_threshold == wad(cal.suggested["liquidation_threshold"])
    assert wbtc.penalty == wad(cal.suggested["penalty"]) and wbtc.auction.curve == "stairstep"
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
