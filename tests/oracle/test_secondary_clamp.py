"""Review finding (fixed): the SECONDARY feed's own clamp (minAnswer/maxAnswer) is never read.

`setFeed` tightens the stored bounds with the PRIMARY's `minAnswer()`/`maxAnswer()` only (choice 14),
and those primary-unit bounds are then applied to both feeds. A secondary whose aggregator clamps at
a tighter bound than the primary keeps reporting that bound as a valid answer. Once the primary is
itself clamped (or stale, or reverting), the adapter moves to SECONDARY and serves the secondary's
pinned answer as the borrow and liquidation price: the Venus/LUNA 2022 failure (scenario 5) through
the fallback path.

Fixed: `setFeed` now tightens the stored bounds with the secondary's own clamp too. These tests
assert the safe behaviour (an answer at the secondary's own bound is INVALID); both failed before.
"""

from oracle_helpers import DELAY, FROZEN, LIVE, SECONDARY, feed_config, warp


E8 = 10**8
E10 = 10**10
INT192_MAX = 2**191 - 1


def _pair(project, deployer, adapter, price, p_bounds, s_bounds):
    """A fresh 18-decimal collateral with a primary and a secondary feed (8 decimals each), the
    feeds' own clamps set before the configuration (as a deployed aggregator has them)."""
    token = project.MockERC20.deploy("Collateral", "COL", 18, sender=deployer)
    p = project.MockAggregator.deploy(8, "COL / USD", price, sender=deployer)
    s = project.MockAggregator.deploy(8, "COL / USD (secondary)", price, sender=deployer)
    p.setBounds(*p_bounds, sender=deployer)
    s.setBounds(*s_bounds, sender=deployer)
    adapter.setFeed(token, feed_config(p, s), sender=deployer)  # jump 10%, deviation 2%, delay 1 h
    return token, p, s


def _both(p, s, answer, deployer):
    p.setAnswer(answer, sender=deployer)
    s.setAnswer(answer, sender=deployer)


def _hop_twice(adapter, token, p, s, answer, deployer, keeper, chain):
    """Two OSM hops with both feeds fresh at `answer`: the accepted price reaches `delayed`."""
    for _ in range(2):
        warp(chain, DELAY)
        _both(p, s, answer, deployer)
        adapter.poke(token, sender=keeper)


def test_secondary_pinned_at_its_floor_is_lent_against(project, adapter, deployer, keeper, chain):
    # Primary floor $1 (read by setFeed), secondary floor $1,900 (never read).
    token, p, s = _pair(project, deployer, adapter, 2_000 * E8, (1 * E8, INT192_MAX), (1_900 * E8, INT192_MAX))
    assert adapter.feedConfig(token).minAnswer == 1_900 * E8  # the tighter clamp: the secondary's

    _both(p, s, 1_950 * E8, deployer)  # both track the market
    adapter.poke(token, sender=keeper)
    assert adapter.status(token) == LIVE

    _both(p, s, 1_850 * E8, deployer)  # secondary pinned at 1,900: 2.7% apart -> FROZEN
    adapter.poke(token, sender=keeper)
    assert adapter.status(token) == FROZEN

    # Market collapses to $0.50. The primary clamps at its $1 floor (INVALID: at the bound); the
    # secondary still says $1,900 (its floor), within 10% of the last accepted 1,950.
    _both(p, s, E8 // 2, deployer)
    assert (p.answer(), s.answer()) == (1 * E8, 1_900 * E8)
    adapter.poke(token, sender=keeper)
    _hop_twice(adapter, token, p, s, E8 // 2, deployer, keeper, chain)

    q = adapter.peek(token)
    # What happens today: SECONDARY at 1,900, borrowing allowed at 1,900 for an asset worth 0.50.
    assert (q.status, q.borrowPrice) != (SECONDARY, 1_900 * E8 * E10), (
        "collateral worth $0.50 is lent against at the secondary's clamped $1,900 "
        f"(status {q.status}, borrowPrice {q.borrowPrice / 1e18}, liquidationPrice {q.liquidationPrice / 1e18})"
    )
    assert q.borrowPrice == 0


def test_secondary_pinned_at_its_ceiling_prices_liquidations_low(project, adapter, deployer, keeper, chain):
    # Secondary ceiling $2,100 (never read); the primary has none.
    token, p, s = _pair(project, deployer, adapter, 2_000 * E8, (1, INT192_MAX), (1, 2_100 * E8))
    assert adapter.feedConfig(token).maxAnswer == 2_100 * E8  # the secondary's own ceiling

    _both(p, s, 2_080 * E8, deployer)
    adapter.poke(token, sender=keeper)
    _both(p, s, 2_200 * E8, deployer)  # secondary pinned at 2,100: 4.8% apart -> FROZEN
    adapter.poke(token, sender=keeper)
    assert adapter.status(token) == FROZEN

    # The market goes on to $2,500; the primary stops answering (deprecated, reverts). The
    # secondary still says 2,100 (its ceiling), within 10% of the last accepted 2,080.
    s.setAnswer(2_500 * E8, sender=deployer)
    p.setReverts(True, sender=deployer)
    adapter.poke(token, sender=keeper)
    for _ in range(2):
        warp(chain, DELAY)
        s.setAnswer(2_500 * E8, sender=deployer)
        adapter.poke(token, sender=keeper)

    q = adapter.peek(token)
    # What happens today: liquidations (and auction starts/floors) at 2,100 for an asset worth 2,500.
    assert q.liquidationPrice != 2_100 * E8 * E10, (
        "accounts are liquidated at the secondary's clamped $2,100 while the market is $2,500 "
        f"(status {q.status}, liquidationPrice {q.liquidationPrice / 1e18})"
    )
    assert q.liquidationPrice == 0
