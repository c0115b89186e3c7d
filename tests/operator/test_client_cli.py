"""`python -m unwind.client` as an integrator runs it: human units by default, `--json` for the
API's integers, and every mistake one `error:` line with exit status 2 (no traceback)."""

import json
import socket

import pytest

from tests.operator.conftest import python_m, show
from unwind import story
from unwind.abis import abis_from_manifest, write_abis
from unwind.params import WAD, default_params
from unwind.record import RecordError, check_record_chain, deploy_to_record, read_record



@pytest.fixture(scope="module")
def deployed(project, accounts, chain, tmp_path_factory):
    path = tmp_path_factory.mktemp("client") / "ethereum-local.json"
    system, _ = deploy_to_record(project, accounts[0], default_params(), path, network="ethereum:local:test",
                                 network_name="local", echo=lambda *_: None)
    abis = tmp_path_factory.mktemp("abi")
    write_abis(abis_from_manifest(), abis)
    return system, path, abis


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployed):
    """Module fixtures before Ape's per-test isolation starts."""


def client(chain, record, abis, *args, rpc=None):
    return python_m("unwind.client", "--rpc-url", rpc or chain.provider.uri, "--deployment", str(record),
                    "--abis", str(abis), *args)


def one_error_line(res) -> str:
    """The mistake's contract: exit 2, exactly one line on stderr, `error: ...`, no traceback."""
    assert res.returncode == 2, show(res)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.stderr, show(res)
    return lines[0]


def _open(system, account, weth: int, borrow: int):
    token, vault = system.collateral["WETH"], system.vault
    token.mint(account, weth * WAD, sender=account)
    token.approve(vault, weth * WAD, sender=account)
    vault.deposit(account, system.ids["WETH"], weth * WAD, sender=account)
    vault.borrow(account, borrow * WAD, account, sender=account)


def test_health_in_human_units_and_as_json(chain, accounts, deployed):
    system, record, abis = deployed
    alice, bob = accounts[1], accounts[2]
    _open(system, alice, 10, 5_000)  # 10 WETH at 3,000, threshold 0.8: health 24,000 / 5,000
    res = client(chain, record, abis, "health", alice.address)
    assert res.returncode == 0, show(res)
    out = res.stdout.splitlines()
    assert out[0] == f"account {alice.address}"
    assert "  debt          5,000.00 uUSD" in out
    assert "  health        4.8000 (liquidatable below 1.0000)" in out
    assert "  liquidatable  no" in out
    assert "  can borrow    17,500.00 uUSD more" in out  # 10 x 3,000 x 0.75 - 5,000
    token = system.collateral["WETH"].address
    assert f"  collateral    10 WETH (id 0, token {token})" in out

    # A debt-free account: no 2**256-1 anywhere.
    res = client(chain, record, abis, "health", bob.address)
    assert res.returncode == 0, show(res)
    assert "  health        inf (no debt)" in res.stdout.splitlines()
    assert str(2**256 - 1) not in res.stdout

    # --json: the API's integers, exactly as before (before or after the subcommand).
    for args in (["--json", "health", alice.address], ["health", alice.address, "--json"]):
        res = python_m("unwind.client", "--rpc-url", chain.provider.uri, "--deployment", str(record), "--abis",
                       str(abis), *args)
        assert res.returncode == 0, show(res)
        h = json.loads(res.stdout)
        assert h["debt"] == 5_000 * WAD and h["health"] == system.vault.healthOf(alice) == 48 * WAD // 10
        assert h["collateral"] == [{"symbol": "WETH", "id": 0, "token": token, "amount": 10 * WAD}]
    res = client(chain, record, abis, "--json", "health", bob.address)
    assert json.loads(res.stdout)["health"] == 2**256 - 1


def test_auctions_and_quotes_show_the_kick_number_and_units(chain, accounts, deployed):
    system, record, abis = deployed
    gov, alice, keeper = accounts[0], accounts[1], accounts[3]
    _open(system, alice, 10, 20_000)
    story.set_price(system, chain, gov, "WETH", "2400")
    story.settle_oracle(system, chain, gov)
    system.engine.liquidate(alice, keeper, sender=keeper)
    (aid,) = system.auction.list()
    kick = aid >> 32
    res = client(chain, record, abis, "auctions")
    assert res.returncode == 0, show(res)
    assert "1 auction running" in res.stdout
    assert f"kick {kick}: WETH (auction id {aid})" in res.stdout
    assert " uUSD left to raise" in res.stdout and " uUSD per WETH now (started at " in res.stdout
    assert " WETH left" in res.stdout and "  needs redo  no\n" in res.stdout

    res = client(chain, record, abis, "quote", str(aid), str(WAD))
    assert res.returncode == 0, show(res)
    assert f"take from kick {kick} (auction id {aid})" in res.stdout
    assert "  buys        1 WETH" in res.stdout and " uUSD per WETH" in res.stdout
    raw = json.loads(client(chain, record, abis, "--json", "quote", str(aid), str(WAD)).stdout)
    assert raw["slice"] == WAD and isinstance(raw["owe"], int)

    res = client(chain, record, abis, "params")
    assert res.returncode == 0, show(res)
    assert "  liquidation_threshold: 0.8\n" in res.stdout and "  dust: 1000\n" in res.stdout


def test_not_an_address(chain, deployed):
    system, record, abis = deployed
    assert "Unknown format" not in (line := one_error_line(client(chain, record, abis, "health", "0xabc")))
    assert line == "error: account '0xabc' is not an address: expected 0x followed by 40 hex digits"


def test_wrong_checksum_refused_lowercase_accepted(chain, accounts, deployed):
    system, record, abis = deployed
    alice = accounts[1].address
    # One letter's case flipped: a mixed-case address whose EIP-55 checksum is wrong is refused...
    flip = next(i for i, ch in enumerate(alice) if ch.isalpha() and i > 1)
    typo = alice[:flip] + alice[flip].swapcase() + alice[flip + 1:]
    assert one_error_line(client(chain, record, abis, "health", typo)) == (
        f"error: account {typo} has a wrong checksum (its mixed case is not EIP-55): check it for a typo, or give "
        f"it in lowercase to skip the check")
    # ...all lowercase is taken as it is.
    res = client(chain, record, abis, "health", alice.lower())
    assert res.returncode == 0 and res.stdout.startswith(f"account {alice}\n"), show(res)


def test_missing_record(chain, deployed, tmp_path):
    system, record, abis = deployed
    missing = tmp_path / "nosuch.json"
    assert one_error_line(client(chain, missing, abis, "auctions")) == (
        f"error: deployment record {missing} not found: run `ape run deploy` first, or pass the record it wrote")


def test_malformed_record(chain, deployed, tmp_path):
    system, record, abis = deployed
    broken = tmp_path / "broken.json"
    broken.write_text(record.read_text()[:200])
    assert one_error_line(client(chain, broken, abis, "auctions")).startswith(
        f"error: deployment record {broken} is not valid JSON (")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    assert one_error_line(client(chain, listed, abis, "auctions")) == (
        f"error: deployment record {listed} is not a deployment record (a JSON object is expected): use the file "
        f"`ape run deploy` wrote")


def test_record_of_another_chain(chain, deployed, tmp_path):
    """Edited to chain id 1: refused, not read from chain 31337 silently."""
    system, record, abis = deployed
    other = tmp_path / "chain1.json"
    other.write_text(json.dumps({**read_record(record), "chain_id": 1}))
    assert one_error_line(client(chain, other, abis, "auctions")) == (
        f"error: {other} is for chain id 1, but {chain.provider.uri} is chain id {chain.chain_id}: point at the node "
        f"of chain 1, or use the record of chain {chain.chain_id}")


def test_record_without_code_at_its_addresses(chain, deployed, tmp_path):
    """The same chain id, no code at the addresses (a restarted anvil): no BadFunctionCallOutput."""
    system, record, abis = deployed
    data = read_record(record)
    empty = tmp_path / "restarted.json"
    nowhere = {k: "0x" + f"{i + 1:040x}" for i, k in enumerate(data["contracts"])}
    empty.write_text(json.dumps({**data, "contracts": nowhere}))
    line = one_error_line(client(chain, empty, abis, "health", "0x" + "11" * 20))
    assert line.startswith(f"error: {empty}: no contract at its debt_token address {nowhere['debt_token']} on ")
    assert "BadFunctionCallOutput" not in line and "deploy again with `ape run deploy`" in line


def test_a_dead_rpc_url_is_one_line(chain, deployed):
    system, record, abis = deployed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    url = f"http://127.0.0.1:{port}"
    assert one_error_line(client(chain, record, abis, "auctions", rpc=url)) == (
        f"error: cannot reach the node at {url} (connection refused): start it, or pass --rpc-url with the URL of "
        f"a running node")


def test_check_record_chain_is_the_shared_helper(deployed, chain):
    """What the keeper will call too: one line per mismatch, nothing for a matching record."""
    system, record, abis = deployed
    data = read_record(record)
    check_record_chain(data, chain.chain_id, path=record, get_code=chain.provider.get_code)
    with pytest.raises(RecordError, match=r"is for chain id 31337, but the node is chain id 1: point at the node "
                                          r"of chain 31337, or use the record of chain 1"):
        check_record_chain(data, 1, path=record)
    with pytest.raises(RecordError, match=r"lists no contracts \(an unfinished deployment\?\)"):
        check_record_chain({**data, "contracts": {}}, chain.chain_id, path=record)
    with pytest.raises(RecordError, match="no contract at its vault address"):
        check_record_chain(data, chain.chain_id, path=record, get_code=lambda a: b"" if a == data["contracts"][
            "vault"] else b"\x01")
