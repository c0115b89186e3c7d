"""Gas regressions: every operation of unwind/gasbench.py (the figures `ape run gas` reports) on a
fresh deployment, against the checked-in bench/gas-snapshot.json. Fails, naming the operation,
when one costs more than 5% over its snapshot or makes more feed reads.

After an intended change: `ape run gas --snapshot bench/gas-snapshot.json` and commit the file.
"""

from pathlib import Path

import pytest

from unwind import gasbench
from unwind.deploy import deploy_system

SNAPSHOT = Path(__file__).resolve().parents[2] / "bench" / "gas-snapshot.json"


@pytest.fixture(scope="module")
def snapshot():
    if not SNAPSHOT.exists():
        pytest.fail(f"no gas snapshot at {SNAPSHOT}: run `ape run gas --snapshot bench/gas-snapshot.json`")
    return gasbench.load_snapshot(SNAPSHOT)


def test_no_operation_grows_over_the_snapshot(project, accounts, chain, snapshot):
    op, bidder, keeper = accounts[0], accounts[4], accounts[5]
    borrowers = gasbench.fresh_accounts(accounts, chain)
    s = deploy_system(project, op)
    measured = gasbench.measure(s, chain, op, borrowers, keeper, bidder)
    assert set(gasbench.OPERATIONS) <= set(measured["operations"])
    problems = gasbench.regressions(measured, snapshot)
    assert not problems, "gas regression:\n  " + "\n  ".join(problems)
    # A liquidation of two collateral types reads each collateral's feed once.
    assert measured["feed_reads"]["liquidate"]["count"] == 2


def test_regression_check_names_the_operation():
    base = {"operations": {"liquidate": 100_000, "take_full": 100_000}, "feed_reads": {"liquidate": {"count": 2}}}
    within = {"operations": {"liquidate": 105_000, "take_full": 90_000}, "feed_reads": {"liquidate": {"count": 2}}}
    assert gasbench.regressions(within, base) == []
    over = {"operations": {"liquidate": 105_001, "take_full": 100_000}, "feed_reads": {"liquidate": {"count": 3}}}
    problems = gasbench.regressions(over, base)
    assert len(problems) == 2
    assert problems[0].startswith("liquidate: 105,001 gas is 5.0% over the snapshot's 100,000")
    assert problems[1] == "liquidate: 3 feed reads, the snapshot has 2"
    missing = {"operations": {"liquidate": 100_000, "redo": 1}}
    assert gasbench.regressions(missing, base) == [
        "take_full: in the snapshot but not measured",
        "redo: measured but not in the snapshot",
    ]
