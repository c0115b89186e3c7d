"""Oracle adapter fixtures: a debt token, collateral tokens with 6, 8 and 18 decimals, Chainlink-style
feeds and one configured adapter per test module (Ape reverts the chain between tests).

Base configuration (see `adapter`):
  - WETH (18 decimals): primary `eth_feed` + secondary `eth_feed2`, both 8 decimals at 2000,
    delay 1 hour.
  - WBTC (8 decimals): primary `btc_feed` only, 60_000, delay 1 hour.
  - USDC (6 decimals): primary `usdc_feed` only, 1.00, delay 0 (no delayed price).
"""

import pytest

from oracle_helpers import DAY, ETH, BTC, USD, feed_config

@pytest.fixture(scope="session", autouse=True)
def _accounts_first(deployer, alice, bob, keeper, outsider):
    """Session fixtures before module ones, so Ape's per-test isolation needs no rebasing."""


# --- Tokens and feeds -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def debt(project, deployer):
    return project.MockERC20.deploy("Unwind Dollar", "UWD", 18, sender=deployer)


@pytest.fixture(scope="module")
def weth(project, deployer):
    return project.MockERC20.deploy("Wrapped Ether", "WETH", 18, sender=deployer)


@pytest.fixture(scope="module")
def wbtc(project, deployer):
    return project.MockERC20.deploy("Wrapped Bitcoin", "WBTC", 8, sender=deployer)


@pytest.fixture(scope="module")
def usdc(project, deployer):
    return project.MockERC20.deploy("USD Coin", "USDC", 6, sender=deployer)


@pytest.fixture(scope="module")
def eth_feed(project, deployer):
    return project.MockAggregator.deploy(8, "ETH / USD", ETH, sender=deployer)


@pytest.fixture(scope="module")
def eth_feed2(project, deployer):
    return project.MockAggregator.deploy(8, "ETH / USD (secondary)", ETH, sender=deployer)


@pytest.fixture(scope="module")
def btc_feed(project, deployer):
    return project.MockAggregator.deploy(8, "BTC / USD", BTC, sender=deployer)


@pytest.fixture(scope="module")
def usdc_feed(project, deployer):
    return project.MockAggregator.deploy(8, "USDC / USD", USD, sender=deployer)


@pytest.fixture(scope="module")
def seq_feed(project, deployer):
    """An uptime feed reporting up for a day (not yet set on the adapter)."""
    return project.MockSequencerFeed.deploy(DAY, sender=deployer)


# --- The adapter ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adapter(project, deployer, debt, weth, wbtc, usdc, eth_feed, eth_feed2, btc_feed, usdc_feed):
    oracle = project.OracleAdapter.deploy(deployer, debt, sender=deployer)
    oracle.setFeed(weth, feed_config(eth_feed, eth_feed2), sender=deployer)
    oracle.setFeed(wbtc, feed_config(btc_feed), sender=deployer)
    oracle.setFeed(usdc, feed_config(usdc_feed, delay=0), sender=deployer)
    return oracle


@pytest.fixture(scope="module")
def governor(deployer):
    """Holds GOVERNOR_ROLE and GUARDIAN_ROLE (the constructor's admin)."""
    return deployer
