"""`ape run demo` as a newcomer sees it: the story, not Ape's log; words and units on every figure."""

import re

from tests.operator.conftest import ape_run, show


def test_demo_tells_the_story_quietly():
    res = ape_run("demo", timeout=600)
    assert res.returncode == 0, show(res)
    out = res.stdout + res.stderr
    # Quiet: none of Ape's ~150 `INFO: Confirmed 0x...` lines, no compiler input list, no node start/stop.
    assert "Confirmed 0x" not in out and "INFO:" not in out and "Input:" not in out, show(res)
    assert "- deploying Unwind: 79 steps (contracts and transactions); -v shows each" in res.stdout
    # From what and by how much.
    assert "- WETH feed moves from 3,000 to 2,550 uUSD (-15.0%)" in res.stdout
    assert "- WBTC feed moves from 60,000 to 51,000 uUSD (-15.0%)" in res.stdout
    # Transactions against liquidations: the word that reconciles them.
    m = re.search(r"- keeper: (\d+) transactions mined: (\d+) direct liquidations?, (\d+) liquidation transactions? "
                  r"for (\d+) accounts? to auctions \(a batch liquidates several accounts in one transaction\), "
                  r"(\d+) takes?, (\d+) redos?", res.stdout)
    assert m, show(res)
    txs, direct, liq, accounts, takes, redos = map(int, m.groups())
    assert txs >= direct + liq + takes + redos and accounts >= liq >= 1 and takes >= 1 and direct >= 1
    assert "What the keeper liquidated directly" in res.stdout
    # Profit with a unit.
    assert re.search(r"- keeper's margin: [\d,]+\.\d\d uUSD of liquidation incentives, collateral worth "
                     r"[\d,]+\.\d\d uUSD at the oracle price bought in auctions for [\d,]+\.\d\d uUSD "
                     r"\([\d,]+\.\d\d uUSD below it\), and [\d,]+\.\d\d uUSD of discount on direct "
                     r"liquidations; before gas", res.stdout), show(res)
    # Kick numbers, not raw auction ids (kick << 32 | slot, e.g. 4294967296).
    assert "kick n = the n-th auction started" in res.stdout
    rows = [line for line in res.stdout.splitlines() if re.match(r"│\s+#\d+ │", line)]
    assert len(rows) == takes and rows[0].split("│")[1].strip() == "#1", show(res)
    assert "4294967296" not in res.stdout
