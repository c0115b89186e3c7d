"""The parameter file: the default file is today's defaults, and every invalid value gets a
one-line error naming the field and the allowed range (pure Python, no chain)."""

import copy
from pathlib import Path

import pytest
import yaml

from unwind.params import (
    RAY,
    ChainReader,
    ParamError,
    check_on_chain,
    default_params,
    dump_yaml,
    load_document,
    load_params,
    params_from_document,
    params_hash,
    to_document,
    wad,
)
from unwind.record import RecordError, decide, is_dev_chain

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "params" / "local.yaml"


@pytest.fixture(scope="module")
def doc():
    return load_document(LOCAL)


def errors_of(doc) -> list[str]:
    with pytest.raises(ParamError) as exc:
        params_from_document(doc)
    return exc.value.errors


def mutate(doc, path: str, value):
    d = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node = d
    for p in parents:
        node = node[p]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return d


DELETE = object()


def test_local_file_is_the_defaults():
    p = load_params(LOCAL)
    assert p == default_params()
    weth, wbtc, usdc = p.collaterals
    assert [c.symbol for c in p.collaterals] == ["WETH", "WBTC", "USDC"]
    assert (weth.decimals, weth.price, weth.max_ltv, weth.liquidation_threshold, weth.penalty, weth.supply_cap) == (
        18, "3000", wad("0.75"), wad("0.8"), wad("0.1"), 1_000_000)
    assert (wbtc.decimals, wbtc.price, wbtc.max_ltv, wbtc.liquidation_threshold) == (8, "60000", wad("0.7"), wad("0.78"))
    assert (usdc.decimals, usdc.penalty, usdc.supply_cap) == (6, wad("0.05"), 100_000_000)
    assert weth.token is None and weth.feed is None and weth.auction.curve == "exponential"
    assert weth.auction.cut == 999 * RAY // 1000 and weth.auction.buffer == wad("1.1")
    assert (p.dust, p.tip, p.chip, p.target_health, p.lot_margin) == (wad(1000), wad(20), wad("0.01"), wad("1.25"),
                                                                      wad("0.05"))
    assert (p.oracle_delay, p.timelock_delay, p.stability_fee, p.guardian) == (300, 0, RAY, "deployer")


def test_round_trip_through_yaml(tmp_path):
    p = default_params()
    p.stability_fee = 1_000000021979553151239153027  # needs more digits than a float holds
    p.collaterals[0].auction.cut = RAY * 9995 // 10000
    out = tmp_path / "p.yaml"
    out.write_text(dump_yaml(p))
    assert load_params(out) == p
    assert params_hash(load_params(out)) == params_hash(p)


# (mutation, the field the error names, words the message must hold)
CASES = [
    ("collaterals.WETH.max_ltv", 0.85, "collaterals.WETH.max_ltv: 0.85 is not below liquidation_threshold 0.8; "
                                       "allowed 0 <= max_ltv < liquidation_threshold"),
    ("collaterals.WETH.penalty", 0.3, "collaterals.WETH.penalty: 0.3 is out of range; allowed 0 <= value <= 0.25"),
    ("collaterals.WETH.penalty", -0.01, "collaterals.WETH.penalty: -0.01 is out of range; allowed 0 <= value <= 0.25"),
    ("collaterals.USDC.penalty", 0.12, "collaterals.USDC.penalty: liquidation_threshold x (1 + penalty) = 1.008 must "
                                       "be below 1"),
    ("collaterals.USDC.penalty", 0.08, "collaterals.USDC.liquidation_threshold: liquidation_threshold x (1 + penalty) "
                                       "/ (1 - lot_margin) = 1.02315789"),
    ("collaterals.WETH.liquidation_threshold", 1, "collaterals.WETH.liquidation_threshold: 1 is out of range; "
                                                  "allowed 0 < value < 1"),
    ("collaterals.WETH.auction.curve", "cubic", "collaterals.WETH.auction.curve: unknown curve 'cubic'; allowed: "
                                               "linear, exponential, stairstep"),
    ("collaterals.WETH.auction.curve", "stairstepp", "(did you mean 'stairstep'?)"),
    ("collaterals.WETH.auction.buffer", 2.5, "collaterals.WETH.auction.buffer: 2.5 is out of range; allowed "
                                             "1 <= value <= 2"),
    ("collaterals.WETH.auction.max_discount", 0, "collaterals.WETH.auction.max_discount: 0 is out of range; allowed "
                                                 "0 < value <= 0.25"),
    ("collaterals.USDC.auction.duration", 30, "collaterals.USDC.auction.duration: 30 is out of range; allowed "
                                              "60 <= value <= 604800 seconds"),
    ("collaterals.WETH.auction.redo_chip", 0.02, "collaterals.WETH.auction.redo_chip: 0.02 is out of range"),
    ("collaterals.WETH.decimals", 19, "collaterals.WETH.decimals: 19 is out of range; allowed 0 <= value <= 18"),
    ("collaterals.WETH.decimals", "eighteen", "collaterals.WETH.decimals: 'eighteen' is not a whole number"),
    ("collaterals.WETH.max_ltv", "lots", "collaterals.WETH.max_ltv: 'lots' is not a number; allowed 0 <= value < 1"),
    ("collaterals.WETH.max_ltv", True, "collaterals.WETH.max_ltv: True is not a number"),
    ("collaterals.WETH.max_ltv", DELETE, "collaterals.WETH.max_ltv: is required; allowed 0 <= value < 1"),
    ("collaterals.WETH.frozen", "no", "collaterals.WETH.frozen: 'no' is not true or false"),
    ("collaterals.WETH.supply_cap", 10**30, "collaterals.WETH.supply_cap: 1000000000000000000000000000000 whole "
                                            "tokens overflow uint128"),
    ("collaterals.WETH.feed.max_jump_bps", 6000, "collaterals.WETH.feed.max_jump_bps: 6000 is out of range; allowed "
                                                 "1 <= value <= 5000 bps"),
    ("collaterals.WETH.feed.max_deviation_bps", 501, "collaterals.WETH.feed.max_deviation_bps: 501 is out of range"),
    ("collaterals.WETH.feed.heartbeat", 0, "collaterals.WETH.feed.heartbeat: 0 is out of range; allowed 1 <= value"),
    ("collaterals.WETH.feed.price", 0, "collaterals.WETH.feed.price: 0 is out of range; allowed 0 < value"),
    ("collaterals.WETH.feed.address", "0x1234", "collaterals.WETH.feed.address: '0x1234' is not an address; allowed: "
                                                "a 0x address of 20 bytes or mock"),
    ("collaterals.WETH.feed.max_answer", 1, "collaterals.WETH.feed.max_answer: 1 leaves no answer between the bounds"),
    ("collaterals.WETH.token", "0x" + "00" * 20, "collaterals.WETH.token: the zero address is not allowed"),
    ("system.dust", 2_000_000, "system.dust: 2000000 is out of range; allowed 0 <= value <= 1000000 debt tokens"),
    ("system.stability_fee", 1.5, "system.stability_fee: 1.5 is out of range; allowed 1 <= value <= "
                                  "1.000000021979553151239153027"),
    ("system.min_ramp_duration", 60, "system.min_ramp_duration: 60 is out of range; allowed 3600 <= value"),
    ("liquidation.target_health", 1, "liquidation.target_health: 1 is out of range; allowed 1 < value <= 2"),
    ("liquidation.lot_margin", 0.3, "liquidation.lot_margin: 0.3 is out of range; allowed 0 <= value <= 0.25"),
    ("liquidation.unpause_grace", 90000, "liquidation.unpause_grace: 90000 is out of range"),
    ("liquidation.auction_reserve", 5000, "liquidation.auction_reserve: 5000 is out of range; allowed 0 <= value <= "
                                         "4096 auction sales"),
    ("liquidation.tip", 41, "liquidation.tip: keeper incentive on a dust-sized position tip + chip x dust = 51 exceeds "
                            "its penalty (USDC: 0.05 x 1000 = 50); allowed tip <= 40"),
    ("liquidation.chip", 0.06, "liquidation.chip: 0.06 exceeds the smallest penalty (USDC: 0.05); allowed 0 <= chip "
                               "<= 0.05"),
    ("oracle.delay", 100000, "oracle.delay: 100000 is out of range; allowed 0 <= value <= 86400"),
    ("oracle.sequencer_feed", "nope", "oracle.sequencer_feed: 'nope' is not an address"),
    ("roles.proposers", [], "roles.proposers: must be a non-empty list of addresses or deployer"),
    ("roles.executors", ["deployer", "0xabc"], "roles.executors[1]: '0xabc' is not an address"),
    ("roles.timelock_delay", -1, "roles.timelock_delay: -1 is out of range"),
    ("collaterals.WETH.penalt", 0.1, "collaterals.WETH.penalt: unknown key (did you mean 'penalty'?)"),
    ("liquidation.tips", 5, "liquidation.tips: unknown key (did you mean 'tip'?)"),
    ("collaterals.WETH.auction.curv", "linear", "collaterals.WETH.auction.curv: unknown key (did you mean 'curve'?)"),
    ("sytem", {}, "sytem: unknown key (did you mean 'system'?)"),
]


@pytest.mark.parametrize("path,value,message", CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES])
def test_invalid_value_names_field_and_range(doc, path, value, message):
    errs = errors_of(mutate(doc, path, value))
    assert any(message in e for e in errs), errs
    assert all("\n" not in e for e in errs)


def test_keeper_incentive_with_a_lower_dust():
    """tip + chip x dust <= min penalty x dust: a small dust floor makes the flat tip too large."""
    errs = errors_of(mutate(load_document(LOCAL), "system.dust", 300))
    assert errs == ["liquidation.tip: keeper incentive on a dust-sized position tip + chip x dust = 23 exceeds its "
                    "penalty (USDC: 0.05 x 300 = 15); allowed tip <= 12"]


def test_every_problem_is_reported_at_once(doc):
    d = mutate(doc, "collaterals.WETH.max_ltv", 0.9)
    d = mutate(d, "collaterals.WBTC.auction.curve", "quadratic")
    d = mutate(d, "liquidation.target_health", 3)
    errs = errors_of(d)
    assert len(errs) == 3, errs
    text = str(ParamError(errs, "x.yaml"))
    assert text.count("\n") == 2 and all(line.startswith("x.yaml: ") for line in text.splitlines())


def test_no_collaterals_and_too_many(doc):
    assert errors_of(mutate(doc, "collaterals", {})) == [
        "collaterals: must map each collateral's symbol to its settings (at least one collateral)"]
    many = {f"T{i}": copy.deepcopy(doc["collaterals"]["WETH"]) for i in range(17)}
    assert "collaterals: 17 collaterals; allowed at most 16" in errors_of(mutate(doc, "collaterals", many))


def test_same_token_twice(doc):
    addr = "0x" + "11" * 20
    d = mutate(doc, "collaterals.WETH.token", addr)
    d = mutate(d, "collaterals.WBTC.token", addr)
    assert any("collaterals.WBTC.token: " + addr + " is already listed as WETH" in e for e in errors_of(d))


def test_price_only_for_mock_feeds(doc):
    d = mutate(doc, "collaterals.WETH.feed.address", "0x" + "22" * 20)
    assert any("collaterals.WETH.feed.price: only a mock feed takes a price" in e for e in errors_of(d))


def test_file_level_errors(tmp_path):
    dup = tmp_path / "dup.yaml"
    dup.write_text("system:\n  dust: 1\n  dust: 2\n")
    with pytest.raises(ParamError, match=r"dup.yaml: line 3: key 'dust' appears twice"):
        load_params(dup)
    bad = tmp_path / "bad.yaml"
    bad.write_text("system: [1, 2\n")
    with pytest.raises(ParamError, match=r"bad.yaml: line \d+: not valid YAML"):
        load_params(bad)
    with pytest.raises(ParamError, match=r"missing.yaml: cannot read the parameter file"):
        load_params(tmp_path / "missing.yaml")
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n")
    with pytest.raises(ParamError, match=r"the file must be a mapping with keys system, liquidation"):
        load_params(lst)


# --- checks against a chain, with a fake chain -------------------------------------------------

TOKEN, FEED, SECONDARY, EMPTY = ("0x" + c * 40 for c in "abce")


class FakeChain(ChainReader):
    def __init__(self, now=10_000, token_decimals=18, feed_decimals=8, answer=3000 * 10**8, updated=9_000):
        self.now, self.dec = now, {TOKEN: token_decimals, FEED: feed_decimals, SECONDARY: feed_decimals}
        self.answer, self.updated = answer, updated

    def code(self, address):
        return b"" if address == EMPTY else b"\x60\x80"

    def decimals(self, address):
        return self.dec.get(address)

    def latest_round(self, address):
        return (1, self.answer, self.updated, self.updated, 1)

    def timestamp(self):
        return self.now


def live_params(doc, **over):
    d = mutate(doc, "collaterals.WETH.token", over.get("token", TOKEN))
    d = mutate(d, "collaterals.WETH.feed.address", over.get("feed", FEED))
    d = mutate(d, "collaterals.WETH.feed.price", DELETE)
    if "secondary" in over:
        d = mutate(d, "collaterals.WETH.feed.secondary", over["secondary"])
        d = mutate(d, "collaterals.WETH.feed.secondary_heartbeat", 3600)
    return params_from_document(d)


def chain_errors(p, chain) -> list[str]:
    with pytest.raises(ParamError) as exc:
        check_on_chain(p, chain)
    return exc.value.errors


def test_real_addresses_pass_when_they_match(doc):
    check_on_chain(live_params(doc), FakeChain())
    check_on_chain(default_params(), FakeChain())  # mocks: nothing to check


def test_feed_address_with_no_code(doc):
    assert chain_errors(live_params(doc, feed=EMPTY), FakeChain()) == [
        f"collaterals.WETH.feed.address: no contract code at {EMPTY}; allowed: a Chainlink-style feed on this chain"]
    assert chain_errors(live_params(doc, secondary=EMPTY), FakeChain()) == [
        f"collaterals.WETH.feed.secondary: no contract code at {EMPTY}; allowed: a Chainlink-style feed on this chain"]


def test_token_with_no_code(doc):
    assert chain_errors(live_params(doc, token=EMPTY), FakeChain()) == [
        f"collaterals.WETH.token: no contract code at {EMPTY}; allowed: an ERC-20 on this chain or mock"]


def test_decimals_disagreeing_with_the_token_and_the_feed(doc):
    assert chain_errors(live_params(doc), FakeChain(token_decimals=6)) == [
        "collaterals.WETH.decimals: 18 disagrees with the token, which has 6 decimals; allowed 6"]
    assert chain_errors(live_params(doc), FakeChain(feed_decimals=18)) == [
        "collaterals.WETH.feed.decimals: 8 disagrees with the feed, which has 18 decimals; allowed 18"]


def test_stale_or_negative_feed(doc):
    assert chain_errors(live_params(doc), FakeChain(updated=1_000)) == [
        "collaterals.WETH.feed.address: the feed's latest round is 9000 s old, older than its heartbeat 3600 s; "
        "allowed a fresh feed (or a longer heartbeat)"]
    assert chain_errors(live_params(doc), FakeChain(answer=-1)) == [
        "collaterals.WETH.feed.address: the feed's latest answer -1 is not positive; allowed a live feed"]


def test_sequencer_feed_with_no_code(doc):
    p = params_from_document(mutate(doc, "oracle.sequencer_feed", EMPTY))
    assert chain_errors(p, FakeChain()) == [
        f"oracle.sequencer_feed: no contract code at {EMPTY}; allowed: a sequencer uptime feed on this chain or null"]


# --- when a record may be replaced or resumed ----------------------------------------------------


def test_dev_chains():
    assert is_dev_chain("local", 1) and is_dev_chain("custom", 31337)
    assert not is_dev_chain("sepolia", 11155111) and not is_dev_chain("custom", 11155111)


def _decide(existing, **kw):
    args = dict(network_name="sepolia", chain_id=11155111, deployer="0xD", fingerprint="h", force=False,
                has_code=lambda a: True)
    args.update(kw)
    return decide(existing, **args)


def test_live_record_is_not_overwritten_without_force():
    complete = {"chain_id": 11155111, "complete": True, "deployments": {"vault": {"address": "0x1"}}}
    with pytest.raises(RecordError, match="a complete deployment is already recorded for this live network; pass "
                                          "--force"):
        _decide(complete)
    assert _decide(complete, force=True) == "fresh"
    assert _decide(dict(complete, chain_id=31337), network_name="custom", chain_id=31337) == "fresh"
    assert _decide(None) == "fresh"


def test_interrupted_record_resumes_only_when_the_same():
    partial = {"chain_id": 11155111, "complete": False, "params_hash": "h", "deployer": "0xd",
               "deployments": {"debt_token": {"address": "0x1"}}}
    assert _decide(partial) == "resume"
    with pytest.raises(RecordError, match="used other parameters; rerun it with the same --params file"):
        _decide(partial, fingerprint="other")
    with pytest.raises(RecordError, match="was sent by 0xd; resume it with that --account"):
        _decide(partial, deployer="0xE")
    with pytest.raises(RecordError, match="no code at the recorded addresses"):
        _decide(partial, has_code=lambda a: False)
    with pytest.raises(RecordError, match="the record is for chain id 11155111, this network is 5"):
        _decide(partial, chain_id=5)
    # On a development chain a stale record is simply replaced.
    dev = dict(partial, chain_id=31337)
    assert _decide(dev, network_name="custom", chain_id=31337, has_code=lambda a: False) == "fresh"


def test_yaml_document_is_what_the_record_stores(doc):
    p = params_from_document(doc)
    assert yaml.safe_load(dump_yaml(p)) == to_document(p)
    assert params_from_document(to_document(p)) == p


def test_adaptive_section_is_validated_and_round_trips():
    from unwind.params import ParamError, load_document, params_from_document, to_document

    from unwind.params import DEFAULT_PARAMS_FILE as path

    doc = load_document(path)
    doc["adaptive"].update(enabled=True, half_life=60, max_interval=100, min_interval=300, var_cap=0)
    with pytest.raises(ParamError) as info:
        params_from_document(doc)
    text = str(info.value)
    assert "adaptive.half_life: 60 is out of range" in text
    assert "adaptive.max_interval: 100 is out of range" in text
    assert "adaptive.var_cap: 0 is out of range" in text
    doc["adaptive"].update(half_life=7200, max_interval=600, var_cap=2)
    p = params_from_document(doc)
    assert p.adaptive.enabled and p.adaptive.half_life == 7200
    assert params_from_document(to_document(p)) == p
