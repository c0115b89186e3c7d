"""`ape run deploy` and `ape run configure` mistakes: each one `error:` line on stderr naming what
was wrong and what to do, exit status 2, no traceback (like the parameter-file errors in
test_deploy.py)."""

import json
import socket

import pytest

from tests.operator.conftest import ape_run, show
from unwind.params import DEFAULT_PARAMS_FILE, default_params
from unwind.record import deploy_to_record


def the_error(res) -> str:
    """Exit 2, and stderr is one `error:` line (Ape's INFO lines are off by default) with no traceback."""
    assert res.returncode == 2, show(res)
    lines = [line for line in res.stderr.strip().splitlines()]
    assert len(lines) == 1 and lines[0].startswith("error: "), show(res)
    assert "Traceback" not in res.stdout + res.stderr and "KeyError" not in res.stderr, show(res)
    return lines[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def record(project, accounts, chain, tmp_path_factory):
    path = tmp_path_factory.mktemp("mistakes") / "ethereum-custom.json"
    deploy_to_record(project, accounts[0], default_params(), path, network="ethereum:custom:node",
                     network_name="custom", echo=lambda *_: None)
    return path


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, record):
    """Module fixtures before Ape's per-test isolation starts."""


@pytest.mark.parametrize("alias,start,end", [
    ("nosuch", "error: --account nosuch: no Ape account has that alias (known: ",
     "); add it with `ape accounts import nosuch` or `ape accounts generate nosuch`, or use TEST::<n> on a "
     "development node"),
    ("TEST::99", "error: --account TEST::99: no such test account; there are 10, TEST::0 .. TEST::9", ""),
], ids=["unknown-alias", "test-account-out-of-range"])
def test_deploy_unknown_account(chain, tmp_path, alias, start, end):
    res = ape_run("deploy", "--network", chain.provider.uri, "--account", alias, "--out", str(tmp_path))
    line = the_error(res)
    assert line.startswith(start) and line.endswith(end), line
    assert not (tmp_path / "ethereum-custom.json").exists()


def test_configure_unknown_account(chain, record, tmp_path):
    changed = tmp_path / "changed.yaml"
    changed.write_text(DEFAULT_PARAMS_FILE.read_text().replace("  tip: 20 ", "  tip: 15 "))
    res = ape_run("configure", "--network", chain.provider.uri, "--account", "nosuch", "--deployment", str(record),
                  "--params", str(changed))
    assert the_error(res).startswith("error: --account nosuch: no Ape account has that alias")
    res = ape_run("configure", "--network", chain.provider.uri, "--account", "TEST::x", "--deployment", str(record),
                  "--execute")
    assert the_error(res) == "error: --account TEST::x: no such test account; there are 10, TEST::0 .. TEST::9"


@pytest.mark.parametrize("command", ["deploy", "configure"])
def test_no_node_at_the_url(tmp_path, command):
    url = f"http://127.0.0.1:{_free_port()}"
    rest = (["--out", str(tmp_path)] if command == "deploy" else
            ["--deployment", str(tmp_path / "x.json"), "--dry-run", "--params", "params/local.yaml"])
    res = ape_run(command, "--network", url, "--account", "TEST::0", *rest, timeout=120)
    assert the_error(res) == (
        f"error: cannot connect to the node at {url} (No (supported) node found on '{url}'): start it (for example "
        f"`anvil --port {url.rsplit(':', 1)[1]}`) or pass --network with the URL of a running node")


def test_configure_refuses_a_record_of_another_chain(chain, record, tmp_path):
    other = tmp_path / "chain1.json"
    other.write_text(json.dumps({**json.loads(record.read_text()), "chain_id": 1}))
    res = ape_run("configure", "--network", chain.provider.uri, "--deployment", str(other), "--dry-run", "--params",
                  "params/local.yaml")
    assert the_error(res) == (f"error: {other} is for chain id 1, but {chain.provider.uri} is chain id "
                              f"{chain.chain_id}: point at the node of chain 1, or use the record of chain "
                              f"{chain.chain_id}")


def test_configure_refuses_a_record_of_a_restarted_node(chain, record, tmp_path):
    data = json.loads(record.read_text())
    gone = tmp_path / "restarted.json"
    gone.write_text(json.dumps({**data, "contracts": {**data["contracts"], "vault": "0x" + "22" * 20}}))
    res = ape_run("configure", "--network", chain.provider.uri, "--deployment", str(gone), "--dry-run", "--params",
                  "params/local.yaml")
    assert the_error(res).startswith(f"error: {gone}: no contract at its vault address 0x{'22' * 20} on ")
