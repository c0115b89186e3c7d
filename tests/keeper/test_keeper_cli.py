"""`python -m unwind.keeper` as a user meets it: the settings are documented in --help, and bad
input is one `error:` line with exit status 2, never a traceback."""

import os
import subprocess
import sys

import pytest

from unwind.keeper.process import ROOT


def keeper_cli(*args, key="0x" + "01" * 32):
    env = dict(os.environ, UNWIND_KEEPER_KEY=key) if key else {k: v for k, v in os.environ.items()
                                                              if k != "UNWIND_KEEPER_KEY"}
    return subprocess.run([sys.executable, "-m", "unwind.keeper", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_help_documents_slippage_altruism_and_the_native_price():
    res = keeper_cli("--help")
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())
    assert "--slippage-bps" in text and "below the keeper's quote" in text and "--min-profit" in text
    assert "--altruistic" in text and "incentive does not pay the gas" in text
    assert "--native-price" in text and "to weigh gas against incentives" in text


@pytest.mark.parametrize("args, message", [
    (("--slippage-bps", "10000"), "error: Invalid value for '--slippage-bps': 10000 is not in the range 0<=x<=9999."),
    (("--slippage-bps", "a lot"), "error: Invalid value for '--slippage-bps': 'a lot' is not a valid integer range."),
    (("--shard", "3/2"), "error: --shard '3/2' must be i/n with 0 <= i < n, e.g. 0/2"),
    (("--native-price", "0"), "error: Invalid value for '--native-price': 0.0 is not in the range x>0."),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    res = keeper_cli("--rpc-url", "http://127.0.0.1:9", *args)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [message]
    assert "Traceback" not in res.stderr and res.stdout == ""


# --- what is wrong with the node, the record or the key: one line at start, exit 2 ---


def test_a_key_that_is_not_one_is_named_not_shown():
    res = keeper_cli("--rpc-url", "http://127.0.0.1:9", "--deployment", "x.json", key="nonsense")
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [
        "error: UNWIND_KEEPER_KEY is not a private key: 64 hex digits, 0x optional (its value is not shown)"]
    assert "nonsense" not in res.stderr


def test_an_unreachable_node_is_said_at_start_and_given_up_on(tmp_path):
    import json

    record = tmp_path / "deployment.json"
    record.write_text(json.dumps({"chain_id": 31337, "contracts": {k: "0x" + "11" * 20 for k in (
        "vault", "engine", "auction", "oracle", "debt_token")}}))
    res = keeper_cli("--rpc-url", "http://127.0.0.1:9", "--deployment", str(record), "--connect-timeout", "3",
                     "--max-blocks", "1")
    assert res.returncode == 2, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot reach the node at http://127.0.0.1:9") and "check --rpc-url" in last
    assert "attempt 1, next in" in res.stderr  # every attempt is logged before it gives up
    assert "Traceback" not in res.stderr


def _record(tmp_path, system, **changes):
    import json

    from unwind.keeper.process import write_record

    path = write_record(system, tmp_path / "deployment.json")
    data = json.loads(path.read_text())
    data["chain_id"] = 31337
    for key, value in changes.items():
        if key == "vault":
            data["contracts"]["vault"] = value
        else:
            data[key] = value
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("case", ["other chain", "no code", "unfunded key"])
def test_a_wrong_record_or_an_unfunded_key_is_one_line(system, chain, accounts, tmp_path, case):
    key = accounts[1].private_key
    if case == "other chain":
        record = _record(tmp_path, system, chain_id=1)
        expect = "error: "
    elif case == "no code":
        record = _record(tmp_path, system, vault="0x" + "42" * 20)
        expect = "error: "
    else:
        record = _record(tmp_path, system)
        key = "0x" + "5e" * 32  # an account nobody funded
        expect = "error: the keeper's account"
    res = keeper_cli("--rpc-url", chain.provider.uri, "--deployment", str(record), "--max-blocks", "1", key=key)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines[-1].startswith(expect), res.stderr
    assert {"other chain": "is for chain id 1, but the node at", "no code": "no contract at its vault address",
            "unfunded key": "holds no native coin"}[case] in lines[-1]
    assert "Traceback" not in res.stderr
