"""The OracleAdapter hardening the scenarios demanded (contract NatSpec choices 14-16), on a bare
adapter: feed-reported bounds (scenario 5), activation across the jump bound when a secondary
confirms (scenario 6), the delayed price as a jump anchor so an accepted wick can be undone
(scenarios 13, 17)."""

import pytest

WAD = 10**18
E10 = 10**10
ETH = 3_000 * 10**8
ZERO = "0x0000000000000000000000000000000000000000"
INT192_MAX = 2**191 - 1
UNSET, LIVE, SECONDARY, FROZEN = range(4)
DELAY = 600


@pytest.fixture(scope="session", autouse=True)
def _accounts_first(deployer, alice, bob, keeper, outsider):
    """Session fixtures before module ones, so Ape's per-test isolation needs no rebasing."""


@pytest.fixture(scope="module")
def debt(project, deployer):
    return project.MockERC20.deploy("Unwind USD", "uUSD", 18, sender=deployer)


@pytest.fixture(scope="module")
def weth(project, deployer):
    return project.MockERC20.deploy("Wrapped Ether", "WETH", 18, sender=deployer)


@pytest.fixture(scope="module")
def feed(project, deployer):
    return project.MockAggregator.deploy(8, "ETH / USD", ETH, sender=deployer)


@pytest.fixture(scope="module")
def feed2(project, deployer):
    return project.MockAggregator.deploy(8, "ETH / USD (2)", ETH, sender=deployer)


@pytest.fixture(scope="module")
def adapter(project, deployer, debt, weth, feed):
    oracle = project.OracleAdapter.deploy(deployer, debt, sender=deployer)
    oracle.setFeed(weth, config(feed), sender=deployer)
    return oracle


def config(primary, secondary=ZERO, min_answer=0, max_answer=0, max_jump=5000):
    return (primary, 3600, secondary, 3600 if secondary != ZERO else 0, 500, max_jump, DELAY, min_answer, max_answer)


def error_of(info):
    exc = info.value
    return type(exc).__name__, dict(getattr(exc, "inputs", {}) or {})


# --- choice 14: bounds the feed itself reports ---------------------------------------------------


def test_set_feed_adopts_the_aggregators_floor(adapter, deployer, weth, feed):
    feed.setBounds(2_000 * 10**8, INT192_MAX, sender=deployer)
    adapter.setFeed(weth, config(feed), sender=deployer)  # minAnswer 0, as unwind.deploy configures
    assert adapter.feedConfig(weth)[7] == 2_000 * 10**8
    feed.setAnswer(200 * 10**8, sender=deployer)  # clamped by the aggregator to 2,000
    assert feed.answer() == 2_000 * 10**8
    adapter.poke(weth, sender=deployer)
    q = adapter.peek(weth)
    assert (q.status, q.borrowPrice, q.liquidationPrice, q.current) == (FROZEN, 0, 0, ETH * E10)


def test_a_tighter_configured_bound_is_kept(adapter, deployer, weth, feed):
    feed.setBounds(10 * 10**8, 10**6 * 10**8, sender=deployer)
    adapter.setFeed(weth, config(feed, min_answer=2_500 * 10**8, max_answer=4_000 * 10**8), sender=deployer)
    assert tuple(adapter.feedConfig(weth))[7:] == (2_500 * 10**8, 4_000 * 10**8)
    adapter.setFeed(weth, config(feed, min_answer=1, max_answer=0), sender=deployer)
    assert tuple(adapter.feedConfig(weth))[7:] == (10 * 10**8, 10**6 * 10**8)  # the feed's are tighter


def test_bounds_are_read_behind_a_proxy(adapter, project, deployer, weth, feed):
    feed.setBounds(2_000 * 10**8, 5_000 * 10**8, sender=deployer)
    proxy = project.FeedProxy.deploy(feed, sender=deployer)
    adapter.setFeed(weth, config(proxy), sender=deployer)
    assert tuple(adapter.feedConfig(weth))[7:] == (2_000 * 10**8, 5_000 * 10**8)
    feed.setAnswer(9_000 * 10**8, sender=deployer)  # clamped at its max
    adapter.poke(weth, sender=deployer)
    assert adapter.peek(weth).status == FROZEN


def test_a_feed_bound_that_clamps_the_live_answer_is_refused(adapter, deployer, weth, feed):
    import ape

    feed.setBounds(ETH, INT192_MAX, sender=deployer)  # the live answer sits on the floor
    with ape.reverts() as info:
        adapter.setFeed(weth, config(feed), sender=deployer)
    assert error_of(info) == ("FeedRejectedAtActivation", {"feed": feed.address, "reason": "clamped"})


# --- choice 15: activation across the jump bound ----------------------------------------------------


def test_activation_beyond_the_jump_needs_a_confirming_secondary(adapter, project, deployer, weth, feed2):
    import ape

    crashed = project.MockAggregator.deploy(8, "ETH / USD (new)", ETH * 40 // 100, sender=deployer)
    with ape.reverts() as info:
        adapter.setFeed(weth, config(crashed), sender=deployer)
    assert error_of(info)[1].get("reason") == "jump"
    with ape.reverts() as info:  # a secondary that does not agree does not confirm
        adapter.setFeed(weth, config(crashed, feed2), sender=deployer)
    assert error_of(info)[1].get("reason") == "deviation"
    feed2.setAnswer(ETH * 41 // 100, sender=deployer)
    adapter.setFeed(weth, config(crashed, feed2), sender=deployer)
    q = adapter.peek(weth)
    assert (q.status, q.current) == (LIVE, ETH * 40 // 100 * E10)


# --- choice 16: the delayed price anchors the jump bound -------------------------------------------


def test_an_accepted_wick_can_be_undone(adapter, deployer, weth, feed, chain):
    feed.setAnswer(ETH * 60 // 100, sender=deployer)  # -40%: inside the 50% bound, accepted
    adapter.poke(weth, sender=deployer)
    assert (adapter.peek(weth).status, adapter.peek(weth).current) == (LIVE, ETH * 60 // 100 * E10)
    feed.setAnswer(ETH, sender=deployer)  # +67% from the wick, but equal to the delayed price
    adapter.poke(weth, sender=deployer)
    q = adapter.peek(weth)
    assert (q.status, q.current, q.liquidationPrice) == (LIVE, ETH * E10, ETH * E10)


def test_a_price_far_from_both_anchors_still_freezes(adapter, deployer, weth, feed):
    feed.setAnswer(ETH * 60 // 100, sender=deployer)
    adapter.poke(weth, sender=deployer)
    feed.setAnswer(ETH * 200 // 100, sender=deployer)  # +233% from last, +100% from delayed
    adapter.poke(weth, sender=deployer)
    assert adapter.peek(weth).status == FROZEN
    feed.setAnswer(ETH * 112 // 100, sender=deployer)  # within 50% of the delayed price again
    adapter.poke(weth, sender=deployer)
    assert adapter.peek(weth).status == LIVE


def test_a_confirmed_drop_is_the_new_anchor(adapter, deployer, weth, feed, chain):
    feed.setAnswer(ETH * 60 // 100, sender=deployer)
    adapter.poke(weth, sender=deployer)
    for _ in range(2):  # the drop persists through two hops: delayed == current == 1,800
        chain.mine(1, deltatime=DELAY + 1)
        feed.setAnswer(ETH * 60 // 100, sender=deployer)
        adapter.poke(weth, sender=deployer)
    assert adapter.delayedState(weth)[0] == ETH * 60 // 100 * E10
    feed.setAnswer(ETH, sender=deployer)  # +67% from both: a jump now
    adapter.poke(weth, sender=deployer)
    assert adapter.peek(weth).status == FROZEN
