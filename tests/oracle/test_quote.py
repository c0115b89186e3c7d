"""OracleAdapter.getQuote / getQuotes (Euler's IPriceOracle shape): exact values, rounding, errors,
and properties over amounts, answers and every token/feed decimals pair from 0 to 18."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from oracle_helpers import (
    BTC,
    ETH,
    FROZEN,
    SECONDARY,
    WAD,
    ZERO,
    feed_config,
    fuzz,
    reverts_with,
)

E10 = 10**10


# --- Exact values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token_name, amount, value",
    [
        ("weth", 10**18, 2_000 * WAD),  # 1 WETH
        ("weth", 1, 2_000),  # 1 wei of WETH = 2000 wei of debt
        ("wbtc", 10**8, 60_000 * WAD),  # 1 BTC
        ("wbtc", 1, 60_000 * WAD // 10**8),  # 1 satoshi
        ("usdc", 10**6, WAD),
        ("usdc", 1, 10**12),
        ("usdc", 0, 0),
    ],
)
def test_collateral_to_debt(adapter, debt, request, token_name, amount, value):
    token = request.getfixturevalue(token_name)
    assert adapter.getQuote(amount, token, debt) == value
    assert adapter.getQuotes(amount, token, debt) == (value, value)


@pytest.mark.parametrize(
    "token_name, debt_amount, amount",
    [
        ("weth", 2_000 * WAD, 10**18),
        ("weth", 1_999, 0),  # less than one wei of WETH: rounds down to 0
        ("wbtc", 60_000 * WAD, 10**8),
        ("wbtc", 60_000 * WAD - 1, 10**8 - 1),  # rounds down
        ("usdc", WAD, 10**6),
        ("usdc", 10**12 - 1, 0),
    ],
)
def test_debt_to_collateral(adapter, debt, request, token_name, debt_amount, amount):
    token = request.getfixturevalue(token_name)
    assert adapter.getQuote(debt_amount, debt, token) == amount
    assert adapter.getQuotes(debt_amount, debt, token) == (amount, amount)


def test_rounding_is_down(adapter, debt, wbtc, btc_feed, deployer):
    btc_feed.setAnswer(BTC + 1, sender=deployer)  # 60000.00000001
    price = (BTC + 1) * E10
    assert adapter.getQuote(3, wbtc, debt) == 3 * price // 10**8
    assert adapter.getQuote(10**18, debt, wbtc) == 10**18 * 10**8 // price


def test_same_token_is_identity(adapter, debt, weth, outsider):
    assert adapter.getQuote(123, weth, weth) == 123
    assert adapter.getQuote(123, debt, debt) == 123
    assert adapter.getQuote(123, outsider, outsider) == 123  # not a token at all


def test_quote_uses_the_price_an_update_would_accept(adapter, debt, wbtc, btc_feed, deployer):
    btc_feed.setAnswer(BTC * 95 // 100, sender=deployer)  # not poked yet
    assert adapter.getQuote(10**8, wbtc, debt) == BTC * 95 // 100 * E10


def test_secondary_price_is_served(adapter, debt, weth, eth_feed, eth_feed2, deployer):
    eth_feed.setReverts(True, sender=deployer)
    eth_feed2.setAnswer(ETH * 101 // 100, sender=deployer)
    assert adapter.peek(weth).status == SECONDARY
    assert adapter.getQuote(10**18, weth, debt) == ETH * 101 // 100 * E10


# --- Errors ----------------------------------------------------------------------------------------


def test_unknown_tokens_revert(adapter, debt, weth, wbtc, outsider):
    with reverts_with(adapter.UnknownToken, token=outsider.address):
        adapter.getQuote(1, outsider, debt)
    with reverts_with(adapter.UnknownToken, token=outsider.address):
        adapter.getQuote(1, debt, outsider)
    with reverts_with(adapter.UnknownToken, token=wbtc.address):
        adapter.getQuote(1, weth, wbtc)  # no cross quotes between collaterals
    with reverts_with(adapter.UnknownToken, token=outsider.address):
        adapter.getQuotes(1, outsider, weth)


def test_frozen_token_has_no_quote(adapter, debt, wbtc, btc_feed, deployer):
    btc_feed.setReverts(True, sender=deployer)  # no secondary: FROZEN, even before a poke
    for base, quote in ((wbtc, debt), (debt, wbtc)):
        with reverts_with(adapter.PriceUnavailable, token=wbtc.address, status=FROZEN):
            adapter.getQuote(1, base, quote)
        with reverts_with(adapter.PriceUnavailable, token=wbtc.address, status=FROZEN):
            adapter.getQuotes(1, base, quote)


# --- Properties --------------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10**40)


@fuzz(20)
@given(a=amounts, b=amounts, which=st.sampled_from(["weth", "wbtc", "usdc"]))
@example(a=0, b=1, which="usdc")
def test_quote_is_monotonic_in_amount_and_zero_gives_zero(adapter, debt, weth, wbtc, usdc, a, b, which):
    token = {"weth": weth, "wbtc": wbtc, "usdc": usdc}[which]
    lo, hi = sorted((a, b))
    assert adapter.getQuote(lo, token, debt) <= adapter.getQuote(hi, token, debt)
    assert adapter.getQuote(lo, debt, token) <= adapter.getQuote(hi, debt, token)
    assert adapter.getQuote(0, token, debt) == adapter.getQuote(0, debt, token) == 0


@pytest.fixture(scope="module")
def wide(project, adapter, deployer):
    """An 8-decimal token whose feed may move up to 50% per round (maxJumpBps = 5000)."""
    token = project.MockERC20.deploy("Wide", "WIDE", 8, sender=deployer)
    feed = project.MockAggregator.deploy(8, "WIDE / USD", 1_000 * 10**8, sender=deployer)
    adapter.setFeed(token, feed_config(feed, maxJumpBps=5_000), sender=deployer)
    return token, feed


@fuzz(20)
@given(
    a=st.integers(min_value=500 * 10**8, max_value=1_500 * 10**8),
    b=st.integers(min_value=500 * 10**8, max_value=1_500 * 10**8),
    amount=st.integers(min_value=1, max_value=10**30),
)
def test_quote_is_monotonic_in_the_answer(adapter, debt, wide, deployer, a, b, amount):
    token, feed = wide
    lo, hi = sorted((a, b))
    feed.setAnswer(lo, sender=deployer)
    to_debt_lo, from_debt_lo = adapter.getQuote(amount, token, debt), adapter.getQuote(amount, debt, token)
    feed.setAnswer(hi, sender=deployer)
    to_debt_hi, from_debt_hi = adapter.getQuote(amount, token, debt), adapter.getQuote(amount, debt, token)
    assert to_debt_lo <= to_debt_hi
    assert from_debt_lo >= from_debt_hi


@fuzz(20)
@given(
    token_decimals=st.integers(min_value=0, max_value=18),
    feed_decimals=st.integers(min_value=0, max_value=18),
    mantissa=st.integers(min_value=2, max_value=10**12),
    amount=st.integers(min_value=0, max_value=10**36),
    debt_amount=st.integers(min_value=0, max_value=10**36),
)
@example(token_decimals=0, feed_decimals=0, mantissa=2, amount=1, debt_amount=1)
@example(token_decimals=18, feed_decimals=18, mantissa=10**12, amount=10**36, debt_amount=10**36)
@example(token_decimals=0, feed_decimals=18, mantissa=3, amount=7, debt_amount=10**18)
@example(token_decimals=18, feed_decimals=0, mantissa=10**12, amount=1, debt_amount=1)
def test_quote_matches_the_formula_for_all_decimals(
    project, adapter, debt, deployer, chain, token_decimals, feed_decimals, mantissa, amount, debt_amount
):
    # The feed's answer is `mantissa` in its own units: any price from 2 units up.
    snap = chain.snapshot()
    try:
        token = project.MockERC20.deploy("G", "G", token_decimals, sender=deployer)
        feed = project.MockAggregator.deploy(feed_decimals, "G / USD", mantissa, sender=deployer)
        adapter.setFeed(token, feed_config(feed, secondary=ZERO), sender=deployer)
        price = mantissa * 10 ** (18 - feed_decimals)  # wad
        unit = 10**token_decimals
        assert adapter.peek(token).current == price
        to_debt = adapter.getQuote(amount, token, debt)
        from_debt = adapter.getQuote(debt_amount, debt, token)
        assert to_debt == amount * price // unit
        assert from_debt == debt_amount * unit // price
        # Rounding down never creates value on a round trip.
        assert adapter.getQuote(adapter.getQuote(amount, token, debt), debt, token) <= amount
        assert adapter.getQuote(0, token, debt) == adapter.getQuote(0, debt, token) == 0
    finally:
        chain.restore(snap)
