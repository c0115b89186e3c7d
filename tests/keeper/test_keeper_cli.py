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
