"""Configure an existing deployment through the timelock: diff, queue, wait, execute; and the
integrator client's auction views and take quotes against real takes."""

import copy

import pytest
from eth_utils import keccak

from unwind import configure as cfg
from unwind import story
from unwind.abis import abis_from_project
from unwind.client import UnwindClient
from unwind.deploy import DeployInterrupted
from unwind.params import WAD, default_params, params_from_document, to_document
from unwind.record import deploy_to_record, read_record


@pytest.fixture(scope="module")
def deployed(project, accounts, chain, tmp_path_factory):
    """A recorded deployment, made in two halves: an injected failure after 20 steps, then the resume."""
    path = tmp_path_factory.mktemp("dep") / "ethereum-local.json"
    kw = dict(network="ethereum:local:test", network_name="local")
    with pytest.raises(DeployInterrupted, match="injected failure after 20 steps"):
        deploy_to_record(project, accounts[0], default_params(), path, fail_after=20, echo=lambda *_: None, **kw)
    half = read_record(path)
    assert len(half["deployments"]) + len(half["steps"]) == 20 and half["complete"] is False
    said = []
    system, record = deploy_to_record(project, accounts[0], default_params(), path, echo=said.append, **kw)
    assert said[0].startswith(f"resuming the interrupted deployment in {path}")
    assert (system.steps_reused, system.steps_sent) == (20, 79 - 20)
    assert record["contracts"]["vault"] == half["deployments"]["vault"]["address"]
    return system, path


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployed):
    """Module fixtures before Ape's per-test isolation starts."""


@pytest.fixture
def own_record(deployed, tmp_path):
    """A copy of the record for one test: Ape's isolation reverts the chain after each test, not files."""
    import shutil

    system, path = deployed
    copy_ = tmp_path / path.name
    shutil.copy(path, copy_)
    return system, copy_


def client_for(project, chain, path):
    return UnwindClient(deployment=read_record(path), w3=chain.provider.web3, abis=abis_from_project(project))


def changed(doc_changes: dict):
    doc = to_document(default_params())
    for path, value in doc_changes.items():
        node = doc
        *parents, last = path.split(".")
        for p in parents:
            node = node[p]
        node[last] = value
    return params_from_document(doc)


def test_same_file_means_no_change(project, chain, deployed):
    system, path = deployed
    plan = cfg.plan_changes(client_for(project, chain, path), default_params(), read_record(path))
    assert (plan.changes, plan.calls, plan.problems) == ([], [], [])


def test_diff_queue_wait_execute(project, accounts, chain, own_record):
    system, path = own_record
    gov = accounts[0]
    desired = changed({
        "collaterals.WETH.max_ltv": 0.7, "collaterals.WETH.liquidation_threshold": 0.79, "system.dust": 500,
        "liquidation.tip": 10, "collaterals.WBTC.auction.curve": "stairstep", "collaterals.WBTC.auction.cut": 0.99,
        "oracle.delay": 900, "collaterals.USDC.supply_cap": 5_000_000, "roles.timelock_delay": 3600,
    })
    client = client_for(project, chain, path)
    plan = cfg.plan_changes(client, desired, read_record(path))
    assert plan.problems == []
    assert [c[0] for c in plan.changes] == [
        "collaterals.WETH.max_ltv", "collaterals.WETH.liquidation_threshold", "collaterals.WETH.feed.delay",
        "collaterals.WBTC.feed.delay", "collaterals.WBTC.auction.curve", "collaterals.WBTC.auction.cut",
        "collaterals.USDC.supply_cap", "collaterals.USDC.feed.delay", "system.dust", "liquidation.tip",
        "roles.timelock_delay"]
    assert "  collaterals.WETH.max_ltv: 0.75 -> 0.7" in plan.lines()
    methods = [f"{c.target}.{c.method}" for c in plan.calls]
    # Order the contracts accept: the lower max LTV before the lower threshold; the incentive after
    # the dust it is checked against; the timelock's own delay last.
    assert methods.index("vault.setMaxLtv") < methods.index("vault.setLiquidationThreshold")
    assert methods.index("vault.setDust") < methods.index("engine.setIncentive")
    assert methods[-1] == "timelock.updateDelay"
    lt_call = next(c for c in plan.calls if c.method == "setLiquidationThreshold")
    assert lt_call.args == (0, 79 * WAD // 100, 86400)  # lowered along the minimum ramp

    op = cfg.schedule(client, system.timelock, gov, plan, desired, path, "changed.yaml")
    assert cfg.pending_path(path).exists()
    with pytest.raises(RuntimeError, match="is already queued"):
        cfg.schedule(client, system.timelock, gov, plan, desired, path)
    assert system.vault.dust() == 1000 * WAD  # nothing applied before execution
    cfg.execute(system.timelock, gov, path, chain.blocks.head.timestamp)
    assert not cfg.pending_path(path).exists()
    v = system.vault.collateral(0)
    ramp_to = client.contract("vault").functions.thresholdRamp(0).call()[1]  # (Ape cannot decode a field "from")
    assert (v.maxLtv, ramp_to) == (70 * WAD // 100, 79 * WAD // 100)
    assert system.vault.dust() == 500 * WAD and system.engine.tip() == 10 * WAD
    assert system.auction.params(1).curve == 2 and system.oracle.feedConfig(system.collateral["USDC"]).delay == 900
    assert system.timelock.getMinDelay() == 3600
    record = read_record(path)
    assert record["params"]["system"]["dust"] == 500 and record["governance"][0]["id"] == op["id"]
    # Chain and file agree now.
    assert cfg.plan_changes(client, desired, record).changes == []

    # With a delay, execution waits for it.
    later = changed({"collaterals.WETH.max_ltv": 0.7, "collaterals.WETH.liquidation_threshold": 0.79,
                     "system.dust": 500, "liquidation.tip": 10, "collaterals.WBTC.auction.curve": "stairstep",
                     "collaterals.WBTC.auction.cut": 0.99, "oracle.delay": 900,
                     "collaterals.USDC.supply_cap": 5_000_000, "roles.timelock_delay": 3600,
                     "liquidation.global_cap": 20_000_000})
    plan = cfg.plan_changes(client, later, record)
    assert [c.describe() for c in plan.calls] == [f"engine.setGlobalCap({20_000_000 * WAD})"]
    op = cfg.schedule(client, system.timelock, gov, plan, later, path)
    with pytest.raises(RuntimeError, match=r"is ready at timestamp \d+, in \d+ s"):
        cfg.execute(system.timelock, gov, path, chain.blocks.head.timestamp)
    chain.mine(1, deltatime=3600)
    cfg.execute(system.timelock, gov, path, chain.blocks.head.timestamp)
    assert system.engine.globalCap() == 20_000_000 * WAD


def test_auction_capacity_only_grows(project, accounts, chain, own_record):
    """`liquidation.auction_reserve` above the pool's size reserves the difference (in chunks of
    RESERVE_CHUNK); below it, nothing: reserved and used storage stays paid for."""
    system, path = own_record
    gov = accounts[0]
    client = client_for(project, chain, path)
    pool = system.auction.poolSize()
    assert pool == default_params().auction_reserve
    desired = changed({"liquidation.auction_reserve": pool + 140})
    plan = cfg.plan_changes(client, desired, read_record(path))
    assert plan.changes == [("liquidation.auction_reserve", pool, pool + 140)]
    assert [c.describe() for c in plan.calls] == ["auction.reserve(128)", "auction.reserve(12)"]
    cfg.schedule(client, system.timelock, gov, plan, desired, path)
    cfg.execute(system.timelock, gov, path, chain.blocks.head.timestamp)
    assert system.auction.poolSize() == pool + 140
    assert cfg.plan_changes(client, desired, read_record(path)).changes == []
    smaller = changed({"liquidation.auction_reserve": 1})
    plan = cfg.plan_changes(client, smaller, read_record(path))
    assert (plan.changes, plan.calls) == ([], [])


def test_problems_queue_nothing(project, chain, deployed):
    system, path = deployed
    doc = to_document(default_params())
    del doc["collaterals"]["USDC"]
    doc["collaterals"]["WETH"]["decimals"] = 8
    doc["collaterals"]["LINK"] = copy.deepcopy(doc["collaterals"]["WBTC"])
    plan = cfg.plan_changes(client_for(project, chain, path), params_from_document(doc), read_record(path))
    assert plan.problems == [
        "collaterals.USDC: listed on chain but missing from the file; a collateral cannot be delisted: keep it and "
        "set frozen: true",
        "collaterals.WETH.decimals: 8 differs from the token's 18; allowed 18",
        "collaterals.LINK: not listed in this deployment; listing it through configure needs an existing token "
        "address and feed address (configure deploys no mocks)",
    ]


def _weth_auction_on_a_stairstep(project, chain, deployed, accounts, salt: bytes):
    """Alice (10 WETH, 20,000 borrowed) liquidated at 2400 on a stair-step WETH curve, which holds
    the price between blocks; bob holds 30,000 debt tokens. Returns (system, client, the auction)."""
    system, path = deployed
    gov, alice, bob, keeper = accounts[0], accounts[1], accounts[2], accounts[3]
    cid = system.ids["WETH"]
    a = default_params().collaterals[0].auction
    step = (2, a.buffer, a.duration, 9 * 10**26, 3600, 7200, a.max_discount, a.redo_tip, a.redo_chip)
    tl = system.timelock
    data = system.auction.setParams.encode_input(cid, step)
    tl.schedule(system.auction, 0, data, b"\x00" * 32, salt, tl.getMinDelay(), sender=gov)
    chain.mine(1, deltatime=tl.getMinDelay())
    tl.execute(system.auction, 0, data, b"\x00" * 32, salt, sender=gov)

    weth, vault = system.collateral["WETH"], system.vault
    weth.mint(alice, 10 * WAD, sender=alice)
    weth.approve(vault, 10 * WAD, sender=alice)
    vault.deposit(alice, cid, 10 * WAD, sender=alice)
    vault.borrow(alice, 20_000 * WAD, alice, sender=alice)
    story.fund_with_debt_tokens(system, bob, 30_000)
    story.set_price(system, chain, gov, "WETH", "2400")
    story.settle_oracle(system, chain, gov)
    client = client_for(project, chain, path)
    assert client.health(alice.address).liquidatable is True
    system.engine.liquidate(alice, keeper, sender=keeper)
    (auction,) = client.auctions()
    return system, client, auction


def test_client_auctions_and_take_quotes(project, accounts, chain, deployed):
    """Quotes equal what the take then does (a stair-step curve holds the price between blocks)."""
    system, client, auction = _weth_auction_on_a_stairstep(project, chain, deployed, accounts, b"\x01" * 32)
    alice, bob = accounts[1], accounts[2]
    status = system.auction.getStatus(auction.id)
    assert (auction.symbol, auction.owner, auction.needs_redo) == ("WETH", alice.address, False)
    assert (auction.price, auction.lot, auction.tab) == (status.price, status.lot, status.tab)

    for amount in (WAD, None):  # a part of the lot, then all of it (only what covers the tab sells)
        quote = client.quote_take(auction.id, amount)
        tx = system.auction.take(auction.id, amount or 2**128, quote.price, bob, b"", sender=bob)
        ev = next(iter(system.auction.Take.from_receipt(tx)))
        assert (ev.price, ev.slice, ev.owe, ev.tab, ev.lot) == (quote.price, quote.slice, quote.owe,
                                                                quote.tab_after, quote.lot_after)
    assert client.auctions() == []
    with pytest.raises(ValueError, match="is not running"):
        client.quote_take(auction.id)


def test_take_trimmed_to_nothing_by_the_dust_rule_is_refused_clearly(project, accounts, chain, deployed):
    """A partial take must leave at least the dust floor; when the tab is less than one unit's price
    above dust, that trim leaves nothing to buy: the auction refuses it (ZeroAmount) and the client
    says so before anything is sent. Taking the whole lot still works."""
    system, client, auction = _weth_auction_on_a_stairstep(project, chain, deployed, accounts, b"\x02" * 32)
    bob = accounts[2]
    dust, price, tab = system.vault.dust(), auction.price, auction.tab  # the stair-step holds the price

    # Leave a tab just above dust: less than one wei of WETH's price above it.
    part = (tab - dust - 1) * WAD // price
    system.auction.take(auction.id, part, price, bob, b"", sender=bob)
    left = system.auction.getStatus(auction.id)
    assert left.price == price and dust < left.tab and (left.tab - dust) * WAD < price

    with pytest.raises(ValueError, match="buys no collateral; take the whole lot"):
        client.quote_take(auction.id, 1)
    call = {"to": system.auction.address, "from": bob.address,
            "data": system.auction.take.encode_input(auction.id, 1, price, bob, b"")}
    with pytest.raises(Exception) as refused:
        chain.provider.web3.eth.call(call)
    data = getattr(refused.value, "data", None)
    assert isinstance(data, str) and data[:10] == "0x" + keccak(text="ZeroAmount()")[:4].hex(), refused.value
    tx = system.auction.take(auction.id, left.lot, price, bob, b"", sender=bob)
    ev = next(iter(system.auction.Take.from_receipt(tx)))
    assert ev.owe == left.tab and ev.slice == left.tab * WAD // price and ev.tab == 0


def test_take_quote_names_the_oracle_guard_that_refuses_the_take(project, accounts, chain, deployed):
    """While the guardian has stopped WETH's delayed feed the auction refuses takes (IDutchAuction
    PRICE GUARDS): the quote says which guard, and the take reverts OracleGuarded; restarted, the
    quote is clear and the take goes through."""
    system, client, auction = _weth_auction_on_a_stairstep(project, chain, deployed, accounts, b"\x03" * 32)
    gov, bob = accounts[0], accounts[2]
    weth = system.collateral["WETH"]
    assert client.quote_take(auction.id, WAD).guarded is None
    system.oracle.setDelayedStopped(weth, True, sender=gov)  # the guardian
    quote = client.quote_take(auction.id, WAD)
    assert quote.guarded == "DelayedStopped" and not quote.needs_redo
    call = {"to": system.auction.address, "from": bob.address,
            "data": system.auction.take.encode_input(auction.id, WAD, quote.price, bob, b"")}
    with pytest.raises(Exception) as refused:
        chain.provider.web3.eth.call(call)
    data = getattr(refused.value, "data", None)
    selector = "0x" + keccak(text="OracleGuarded(address,uint8)")[:4].hex()
    assert isinstance(data, str) and data[:10] == selector, refused.value
    system.oracle.setDelayedStopped(weth, False, sender=gov)
    quote = client.quote_take(auction.id, WAD)
    assert quote.guarded is None
    ev = next(iter(system.auction.Take.from_receipt(
        system.auction.take(auction.id, WAD, quote.price, bob, b"", sender=bob))))
    assert (ev.price, ev.slice, ev.owe) == (quote.price, quote.slice, quote.owe)


def test_list_a_new_collateral_and_move_the_guardian(project, accounts, chain, own_record):
    system, path = own_record
    gov, new_guardian = accounts[0], accounts[6]
    link = project.MockERC20.deploy("Chainlink", "LINK", 18, sender=gov)
    feed = project.MockAggregator.deploy(8, "LINK / USD", 15 * 10**8, sender=gov)
    doc = to_document(default_params())
    doc["collaterals"]["LINK"] = copy.deepcopy(doc["collaterals"]["WBTC"])
    doc["collaterals"]["LINK"].update(token=link.address, decimals=18, max_ltv=0.5, liquidation_threshold=0.6)
    doc["collaterals"]["LINK"]["feed"].update(address=link.address)  # a token is no feed...
    del doc["collaterals"]["LINK"]["feed"]["price"]
    doc["roles"]["guardian"] = new_guardian.address
    from unwind.params import ParamError, Web3ChainReader, check_on_chain

    with pytest.raises(ParamError, match="collaterals.LINK.feed.address: .* does not answer latestRoundData"):
        check_on_chain(params_from_document(doc), Web3ChainReader(chain.provider.web3))
    doc["collaterals"]["LINK"]["feed"]["address"] = feed.address
    desired = params_from_document(doc)
    check_on_chain(desired, Web3ChainReader(chain.provider.web3))

    client = client_for(project, chain, path)
    plan = cfg.plan_changes(client, desired, read_record(path))
    assert plan.problems == [] and plan.changes == [("collaterals.LINK", None, "listed"),
                                                    ("roles.guardian", gov.address, new_guardian.address)]
    assert [c.describe().split("(")[0] for c in plan.calls][:4] == [
        "oracle.setFeed", "vault.listCollateral", "auction.setParams", "engine.setCollateralCap"]
    cfg.schedule(client, system.timelock, gov, plan, desired, path)
    cfg.execute(system.timelock, gov, path, chain.blocks.head.timestamp)

    assert system.vault.collateralId(link) == 3 and system.vault.collateral(3).liquidationThreshold == 6 * WAD // 10
    guardian_role = system.vault.GUARDIAN_ROLE()
    for module in (system.oracle, system.buffer, system.vault, system.auction, system.engine):
        assert module.hasRole(guardian_role, new_guardian) and not module.hasRole(guardian_role, gov)
    record = read_record(path)
    assert record["collateral"]["LINK"] == {"token": link.address, "feed": feed.address, "id": 3, "decimals": 18}
    assert cfg.plan_changes(client_for(project, chain, path), desired, record).changes == []
