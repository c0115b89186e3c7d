"""Gas regressions: every operation of unwind/gasbench.py (the figures `ape run gas` reports) on a
fresh deployment, against the checked-in bench/gas-snapshot.json. Fails, naming the operation,
when one costs more than 5% over its snapshot or makes more feed reads.

After an intended change: `ape run gas --snapshot bench/gas-snapshot.json` and commit the file.
"""

from pathlib import Path

import pytest

from unwind import gasbench, gasprofile

SNAPSHOT = Path(__file__).resolve().parents[2] / "bench" / "gas-snapshot.json"


@pytest.fixture(scope="module")
def snapshot():
    if not SNAPSHOT.exists():
        pytest.fail(f"no gas snapshot at {SNAPSHOT}: run `ape run gas --snapshot bench/gas-snapshot.json`")
    return gasbench.load_snapshot(SNAPSHOT)


@pytest.fixture(scope="module")
def measured(project, accounts, chain):
    op, bidder, keeper = accounts[0], accounts[4], accounts[5]
    borrowers = gasbench.fresh_accounts(accounts, chain)
    s = gasbench.deploy(project, op)
    return s, gasbench.measure(s, chain, op, borrowers, keeper, bidder)


def test_no_operation_grows_over_the_snapshot(measured, snapshot):
    _, measured = measured
    assert set(gasbench.OPERATIONS) <= set(measured["operations"])
    problems = gasbench.regressions(measured, snapshot)
    assert not problems, "gas regression:\n  " + "\n  ".join(problems)
    # A liquidation of two collateral types reads each collateral's feed once.
    assert measured["feed_reads"]["liquidate"]["count"] == 2


def _intrinsic(data: bytes) -> int:
    return 21_000 + sum(16 if b else 4 for b in data)


@pytest.mark.parametrize("name", ["deposit", "liquidate_reusing_slots", "take_full"])
def test_gas_profile_accounts_for_every_unit(measured, chain, name):
    """unwind/gasprofile.py's split is exact: its `base` is the intrinsic gas (21,000 + calldata)
    less the refunds, both worked out independently here (the refunds from what the outermost
    frame used), so no call, read or write was missed or counted twice."""
    s, m = measured
    receipt = m["receipts"][name]
    txn = chain.provider.web3.eth.get_transaction(receipt.txn_hash)
    intrinsic = _intrinsic(bytes(txn["input"]))
    logs = gasprofile.trace(chain.provider, receipt.txn_hash)
    top = [step for step in logs if step["depth"] == 1]
    executed = top[0]["gas"] - (top[-1]["gas"] - top[-1]["gasCost"])
    refund = intrinsic + executed - receipt.gas_used
    assert 0 <= refund <= receipt.gas_used // 5  # EIP-3529
    p = gasprofile.profile(logs, receipt.receiver, receipt.gas_used, gasbench.contract_names(s))
    t = gasprofile.totals(p)
    assert t["base"] == intrinsic - refund, t
    assert sum(t[k] for k in gasprofile.KINDS) + t["base"] == receipt.gas_used
    cold = sum(1 for step in logs if step["op"] == "SLOAD" and step["gasCost"] >= 2100)
    assert t["cold_sloads"] == cold > 0


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
