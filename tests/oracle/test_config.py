"""OracleAdapter: construction, setFeed validation and activation, governance setters and roles."""

import pytest
from oracle_helpers import (
    CODE_REVERT,
    DAY,
    ETH,
    BTC,
    HEARTBEAT,
    HOUR,
    LIVE,
    FROZEN,
    RECOVERY_GRACE,
    UNSET,
    G_RECOVERY,
    G_NONE,
    WAD,
    ZERO,
    feed_config,
    reverts_with,
    set_code,
)


def events(receipt, event):
    return receipt.decode_logs(event)


# --- Constructor ------------------------------------------------------------------------------


def test_constructor_sets_roles_debt_token_and_default_grace(adapter, debt, deployer, outsider):
    assert adapter.debtToken() == debt.address
    assert adapter.name() == "Unwind OracleAdapter"
    assert adapter.recoveryGrace() == RECOVERY_GRACE
    assert adapter.sequencer() == (ZERO, 0)
    for role in (adapter.DEFAULT_ADMIN_ROLE(), adapter.GOVERNOR_ROLE(), adapter.GUARDIAN_ROLE()):
        assert adapter.hasRole(role, deployer)
        assert not adapter.hasRole(role, outsider)


def test_constructor_rejects_zero_addresses(project, deployer, debt):
    with reverts_with(project.OracleAdapter.ZeroAddress):
        project.OracleAdapter.deploy(ZERO, debt, sender=deployer)
    with reverts_with(project.OracleAdapter.ZeroAddress):
        project.OracleAdapter.deploy(deployer, ZERO, sender=deployer)


def test_constructor_rejects_a_debt_token_without_18_decimals(project, deployer, wbtc):
    with reverts_with(project.OracleAdapter.InvalidFeedConfig, field="debtToken"):
        project.OracleAdapter.deploy(deployer, wbtc, sender=deployer)


def test_constructor_accepts_a_debt_token_not_deployed_yet(project, deployer):
    undeployed = "0x000000000000000000000000000000000000dEaD"
    oracle = project.OracleAdapter.deploy(deployer, undeployed, sender=deployer)
    assert oracle.debtToken() == undeployed


# --- setFeed: first activation -------------------------------------------------------------------


def test_first_activation_accepts_the_primary_and_seeds_the_delayed_price(
    adapter, project, deployer, eth_feed, eth_feed2, chain
):
    token = project.MockERC20.deploy("Staked Ether", "stETH", 18, sender=deployer)
    cfg = feed_config(eth_feed, eth_feed2)
    receipt = adapter.setFeed(token, cfg, sender=deployer)

    price = ETH * 10**10
    assert adapter.status(token) == LIVE
    assert adapter.tokenDecimals(token) == 18
    assert tuple(adapter.feedConfig(token)) == cfg
    assert adapter.delayedState(token) == (price, price, receipt.timestamp, False)
    assert adapter.recoveryStartedAt(token) == 0  # a first activation is not a recovery
    q = adapter.peek(token)
    assert (q.current, q.borrowPrice, q.liquidationPrice, q.auctionStartPrice) == (price,) * 4
    assert (q.status, q.guard) == (LIVE, G_NONE)

    [configured] = events(receipt, adapter.FeedConfigured)
    assert (configured.token, configured.primary, configured.secondary) == (
        token.address,
        eth_feed.address,
        eth_feed2.address,
    )
    [changed] = events(receipt, adapter.StatusChanged)
    assert (changed["from"], changed.to) == (UNSET, LIVE)
    [accepted] = events(receipt, adapter.PriceAccepted)
    assert (accepted.token, accepted.price, accepted.status) == (token.address, price, LIVE)
    [delayed] = events(receipt, adapter.DelayedPriceUpdated)
    assert (delayed.delayed, delayed.queued) == (price, price)


@pytest.mark.parametrize("feed_decimals", [0, 6, 8, 18])
def test_activation_scales_any_feed_decimals_to_wad(adapter, project, deployer, feed_decimals):
    token = project.MockERC20.deploy("T", "T", 8, sender=deployer)
    feed = project.MockAggregator.deploy(feed_decimals, "T / USD", 3 * 10**feed_decimals, sender=deployer)
    adapter.setFeed(token, feed_config(feed), sender=deployer)
    assert adapter.peek(token).current == 3 * WAD


def test_config_without_secondary_is_stored_without_its_heartbeat(adapter, deployer, project, eth_feed):
    token = project.MockERC20.deploy("T", "T", 18, sender=deployer)
    receipt = adapter.setFeed(token, feed_config(eth_feed, secondaryHeartbeat=HEARTBEAT), sender=deployer)
    stored = feed_config(eth_feed, secondaryHeartbeat=0)
    assert tuple(adapter.feedConfig(token)) == stored
    [configured] = events(receipt, adapter.FeedConfigured)
    assert tuple(configured.config) == stored


def test_unknown_token_has_status_unset_and_empty_config(adapter, debt):
    assert adapter.status(debt) == UNSET
    assert adapter.feedConfig(debt)[0] == ZERO
    assert adapter.tokenDecimals(debt) == 0


# --- setFeed: configuration errors --------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_token(project, deployer):
    """An 18-decimal token with no feed yet (each test starts from this state)."""
    return project.MockERC20.deploy("Fresh", "FRSH", 18, sender=deployer)


@pytest.mark.parametrize(
    "field, overrides",
    [
        ("primary", dict(primary=ZERO)),
        ("primaryHeartbeat", dict(primaryHeartbeat=0)),
        ("secondary", dict(secondary="primary")),
        ("secondaryHeartbeat", dict(secondary="eth_feed2", secondaryHeartbeat=0)),
        ("maxDeviationBps", dict(maxDeviationBps=501)),
        ("maxJumpBps", dict(maxJumpBps=0)),
        ("maxJumpBps", dict(maxJumpBps=5_001)),
        ("maxAnswer", dict(minAnswer=100, maxAnswer=101)),
        ("maxAnswer", dict(minAnswer=100, maxAnswer=50)),
    ],
)
def test_set_feed_rejects_invalid_fields(adapter, deployer, fresh_token, eth_feed, eth_feed2, field, overrides):
    named = {"primary": eth_feed.address, "eth_feed2": eth_feed2.address}
    over = {k: named.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    cfg = feed_config(over.pop("primary", eth_feed), **over)
    with reverts_with(adapter.InvalidFeedConfig, field=field):
        adapter.setFeed(fresh_token, cfg, sender=deployer)


def test_set_feed_accepts_the_bounds_themselves(adapter, deployer, fresh_token, eth_feed, eth_feed2):
    cfg = feed_config(eth_feed, eth_feed2, maxDeviationBps=500, maxJumpBps=5_000, minAnswer=0, maxAnswer=2)
    # maxAnswer 2 with minAnswer 0 leaves answer 1 valid, but the feed reports 2000e8: clamped.
    with reverts_with(adapter.FeedRejectedAtActivation, feed=eth_feed.address, reason="clamped"):
        adapter.setFeed(fresh_token, cfg, sender=deployer)
    cfg = feed_config(eth_feed, eth_feed2, maxDeviationBps=500, maxJumpBps=5_000, maxAnswer=ETH + 1)
    adapter.setFeed(fresh_token, cfg, sender=deployer)
    assert adapter.status(fresh_token) == LIVE


def test_set_feed_rejects_zero_token_and_the_debt_token(adapter, deployer, debt, eth_feed):
    with reverts_with(adapter.ZeroAddress):
        adapter.setFeed(ZERO, feed_config(eth_feed), sender=deployer)
    with reverts_with(adapter.InvalidFeedConfig, field="token"):
        adapter.setFeed(debt, feed_config(eth_feed), sender=deployer)


def test_set_feed_rejects_tokens_without_usable_decimals(adapter, project, deployer, eth_feed):
    many = project.MockERC20.deploy("Many", "MNY", 19, sender=deployer)
    with reverts_with(adapter.InvalidFeedConfig, field="tokenDecimals"):
        adapter.setFeed(many, feed_config(eth_feed), sender=deployer)
    # The adapter itself has no decimals(); an EOA has no code.
    with reverts_with(adapter.InvalidFeedConfig, field="tokenDecimals"):
        adapter.setFeed(adapter, feed_config(eth_feed), sender=deployer)
    with reverts_with(adapter.InvalidFeedConfig, field="tokenDecimals"):
        adapter.setFeed(deployer, feed_config(eth_feed), sender=deployer)


def test_set_feed_rejects_feeds_with_more_than_18_decimals(adapter, project, deployer, fresh_token, eth_feed):
    wide = project.MockAggregator.deploy(19, "wide", ETH * 10**11, sender=deployer)
    with reverts_with(adapter.InvalidFeedConfig, field="primaryDecimals"):
        adapter.setFeed(fresh_token, feed_config(wide), sender=deployer)
    with reverts_with(adapter.InvalidFeedConfig, field="secondaryDecimals"):
        adapter.setFeed(fresh_token, feed_config(eth_feed, wide), sender=deployer)


# --- setFeed: activation checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    "breaker, reason",
    [
        ("stale", "stale"),
        ("zero", "non-positive answer"),
        ("negative", "non-positive answer"),
        ("round0", "malformed round"),
        ("future", "malformed round"),
        ("clamped", "clamped"),
        ("reverts", "call failed"),
        ("nocode", "call failed"),
        ("huge", "price overflow"),
    ],
)
def test_activation_rejects_an_invalid_primary(adapter, deployer, fresh_token, eth_feed, chain, breaker, reason):
    t = chain.pending_timestamp
    if breaker == "stale":
        eth_feed.setAnswerAt(ETH, t - HEARTBEAT - 1, sender=deployer)
    elif breaker == "zero":
        eth_feed.setRound(9, 0, t, t, 9, sender=deployer)
    elif breaker == "negative":
        eth_feed.setRound(9, -ETH, t, t, 9, sender=deployer)
    elif breaker == "round0":
        eth_feed.setRound(0, ETH, t, t, 0, sender=deployer)
    elif breaker == "future":
        eth_feed.setRound(9, ETH, t, t + 100, 9, sender=deployer)
    elif breaker == "clamped":
        eth_feed.setRound(9, 1, t, t, 9, sender=deployer)  # at minAnswer = 1
    elif breaker == "reverts":
        eth_feed.setReverts(True, sender=deployer)
    elif breaker == "huge":
        eth_feed.setRound(9, 2**128, t, t, 9, sender=deployer)
    cfg = feed_config(eth_feed)
    if breaker == "nocode":
        set_code(chain, eth_feed, CODE_REVERT)
        # decimals() reverts too: the decimals check comes first.
        with reverts_with(adapter.InvalidFeedConfig, field="primaryDecimals"):
            adapter.setFeed(fresh_token, cfg, sender=deployer)
        return
    with reverts_with(adapter.FeedRejectedAtActivation, feed=eth_feed.address, reason=reason):
        adapter.setFeed(fresh_token, cfg, sender=deployer)


def test_activation_requires_the_secondary_valid_and_agreeing(adapter, deployer, fresh_token, eth_feed, eth_feed2):
    cfg = feed_config(eth_feed, eth_feed2)
    eth_feed2.setAnswer(ETH * 103 // 100, sender=deployer)  # 3% off, max deviation is 2%
    with reverts_with(adapter.FeedRejectedAtActivation, feed=eth_feed2.address, reason="deviation"):
        adapter.setFeed(fresh_token, cfg, sender=deployer)
    eth_feed2.setReverts(True, sender=deployer)
    with reverts_with(adapter.FeedRejectedAtActivation, feed=eth_feed2.address, reason="call failed"):
        adapter.setFeed(fresh_token, cfg, sender=deployer)
    eth_feed2.setReverts(False, sender=deployer)
    eth_feed2.setAnswer(ETH * 102 // 100, sender=deployer)  # exactly 2%: accepted
    adapter.setFeed(fresh_token, cfg, sender=deployer)
    assert adapter.peek(fresh_token).current == ETH * 10**10


def test_replacing_a_feed_rejects_a_primary_that_jumps(adapter, project, deployer, wbtc):
    # A feed that reports a ratio where a USD price is expected (Moonwell cbETH): far off.
    ratio = project.MockAggregator.deploy(18, "cbETH / ETH", 11 * 10**17, sender=deployer)
    with reverts_with(adapter.FeedRejectedAtActivation, feed=ratio.address, reason="jump"):
        adapter.setFeed(wbtc, feed_config(ratio), sender=deployer)
    # An 11% move is beyond maxJumpBps = 10%; 10% is accepted.
    other = project.MockAggregator.deploy(8, "BTC / USD 2", BTC * 111 // 100, sender=deployer)
    with reverts_with(adapter.FeedRejectedAtActivation, feed=other.address, reason="jump"):
        adapter.setFeed(wbtc, feed_config(other), sender=deployer)
    other.setAnswer(BTC * 110 // 100, sender=deployer)
    adapter.setFeed(wbtc, feed_config(other), sender=deployer)
    assert adapter.peek(wbtc).current == BTC * 110 // 100 * 10**10


def test_replacing_a_feed_keeps_the_delayed_price(adapter, project, deployer, wbtc, chain):
    before = adapter.delayedState(wbtc)
    other = project.MockAggregator.deploy(8, "BTC / USD 2", BTC * 95 // 100, sender=deployer)
    receipt = adapter.setFeed(wbtc, feed_config(other), sender=deployer)
    assert adapter.delayedState(wbtc) == before  # the new price goes through the queue
    new = BTC * 95 // 100 * 10**10
    q = adapter.peek(wbtc)
    assert (q.current, q.borrowPrice, q.liquidationPrice) == (new, new, BTC * 10**10)
    assert [e.price for e in events(receipt, adapter.PriceAccepted)] == [new]
    assert events(receipt, adapter.StatusChanged) == []  # already LIVE: no recovery grace
    assert adapter.recoveryStartedAt(wbtc) == 0


def test_replacing_the_feed_of_a_frozen_token_starts_the_recovery_grace(
    adapter, project, deployer, keeper, wbtc, btc_feed, chain
):
    btc_feed.setReverts(True, sender=deployer)
    adapter.poke(wbtc, sender=keeper)
    assert adapter.status(wbtc) == FROZEN
    other = project.MockAggregator.deploy(8, "BTC / USD 2", BTC, sender=deployer)
    receipt = adapter.setFeed(wbtc, feed_config(other), sender=deployer)
    [changed] = events(receipt, adapter.StatusChanged)
    assert (changed["from"], changed.to) == (FROZEN, LIVE)
    assert adapter.recoveryStartedAt(wbtc) == receipt.timestamp
    assert adapter.peek(wbtc).guard == G_RECOVERY


def test_switching_the_delay_off_makes_the_delayed_price_follow(adapter, project, deployer, wbtc, btc_feed):
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)
    adapter.setFeed(wbtc, feed_config(btc_feed, delay=0), sender=deployer)
    p = BTC * 95 // 100 * 10**10
    assert adapter.delayedState(wbtc)[:2] == (p, p)
    q = adapter.peek(wbtc)
    assert q.liquidationPrice == q.borrowPrice == p


# --- Other governance setters ---------------------------------------------------------------------


def test_set_recovery_grace(adapter, deployer):
    receipt = adapter.setRecoveryGrace(DAY, sender=deployer)
    assert adapter.recoveryGrace() == DAY
    assert [e.grace for e in events(receipt, adapter.RecoveryGraceSet)] == [DAY]
    adapter.setRecoveryGrace(0, sender=deployer)
    assert adapter.recoveryGrace() == 0
    with reverts_with(adapter.InvalidGrace, grace=DAY + 1):
        adapter.setRecoveryGrace(DAY + 1, sender=deployer)


def test_set_sequencer_feed(adapter, deployer, seq_feed, chain):
    receipt = adapter.setSequencerFeed(seq_feed, HOUR, sender=deployer)
    assert adapter.sequencer() == (seq_feed.address, HOUR)
    [e] = events(receipt, adapter.SequencerFeedSet)
    assert (e.feed, e.grace) == (seq_feed.address, HOUR)
    seq_feed.setDown(True, sender=deployer)  # a down sequencer can still be configured
    adapter.setSequencerFeed(seq_feed, DAY, sender=deployer)
    adapter.setSequencerFeed(ZERO, 0, sender=deployer)  # disable
    assert adapter.sequencer() == (ZERO, 0)
    with reverts_with(adapter.InvalidGrace, grace=DAY + 1):
        adapter.setSequencerFeed(seq_feed, DAY + 1, sender=deployer)
    seq_feed.setReverts(True, sender=deployer)
    with reverts_with(adapter.InvalidFeedConfig, field="sequencerFeed"):
        adapter.setSequencerFeed(seq_feed, HOUR, sender=deployer)
    with reverts_with(adapter.InvalidFeedConfig, field="sequencerFeed"):
        adapter.setSequencerFeed(deployer, HOUR, sender=deployer)  # no code


def test_set_delayed_stopped_on_an_unknown_token(adapter, deployer, debt):
    with reverts_with(adapter.UnknownToken, token=debt.address):
        adapter.setDelayedStopped(debt, True, sender=deployer)


# --- Roles -----------------------------------------------------------------------------------------


def test_governance_functions_refuse_outsiders(adapter, outsider, weth, eth_feed, seq_feed):
    governor = adapter.GOVERNOR_ROLE()
    guardian = adapter.GUARDIAN_ROLE()
    calls = [
        (lambda: adapter.setFeed(weth, feed_config(eth_feed), sender=outsider), governor),
        (lambda: adapter.setSequencerFeed(seq_feed, HOUR, sender=outsider), governor),
        (lambda: adapter.setRecoveryGrace(HOUR, sender=outsider), governor),
        (lambda: adapter.setDelayedStopped(weth, True, sender=outsider), guardian),
    ]
    for call, role in calls:
        with reverts_with(adapter.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=role):
            call()


def test_a_guardian_alone_cannot_govern_and_a_governor_alone_cannot_stop(adapter, deployer, alice, bob, weth):
    adapter.grantRole(adapter.GUARDIAN_ROLE(), alice, sender=deployer)
    adapter.grantRole(adapter.GOVERNOR_ROLE(), bob, sender=deployer)
    with reverts_with(adapter.AccessControlUnauthorizedAccount, account=alice.address):
        adapter.setRecoveryGrace(HOUR, sender=alice)
    with reverts_with(adapter.AccessControlUnauthorizedAccount, account=bob.address):
        adapter.setDelayedStopped(weth, True, sender=bob)
    adapter.setDelayedStopped(weth, True, sender=alice)
    adapter.setRecoveryGrace(HOUR, sender=bob)
