"""PerpPool: LP share accounting (rounding in the pool's favour), PnL moving share value, and the
withdrawal limit (maxWithdraw / maxRedeem exact to the wei)."""

from __future__ import annotations

import pytest

from tests.perps.conftest import WETH, WETH_MARKET, market_tuple
from tests.perps.perp_model import OFFSET, WAD, ceil_div, to_assets, to_shares
from tests.protocol.vault_helpers import reverts


@pytest.fixture(scope="module")
def pool_setup(perps, alice, bob, lp, accounts):
    """No funding on WETH here, so nothing moves between a view and the next transaction."""
    p = perps
    p.markets.setMarket(WETH, market_tuple(p.tokens[WETH], dict(WETH_MARKET, max_funding=0)), sender=p.deployer)
    for a in (lp, accounts[6], alice, bob):
        p.fund(a, 200_000)
    for a in (alice, bob):
        p.deposit_margin(a, 50_000 * WAD)
    return p


def pool_state(p):
    return p.pool.totalSupply(), p.pool.totalAssets()


def model_liabilities(p) -> int:
    """One market with positions, funding off: max(0, ceil(skew x price / WAD) - totalCost) at the
    price less favourable to the pool (long skew: max(current, delayed))."""
    st = p.markets.marketState(WETH)
    cur, delayed = p.prices(WETH)
    price = max(cur, delayed) if st.skew > 0 else min(cur, delayed)
    return max(0, ceil_div(st.skew * price, WAD) - st.totalCost)


def test_two_lps_share_accounting(pool_setup, lp, accounts, alice):
    p, lp2 = pool_setup, accounts[6]
    a1 = 1_000 * WAD + 7
    p.lp_deposit(lp, a1)
    assert p.pool.balanceOf(lp) == to_shares(a1, 0, 0) == a1 * OFFSET
    assert p.pool.decimals() == 24
    # Fees arrive: alice trades in and out.
    p.trade(alice, WETH, 10 * WAD)
    p.trade(alice, WETH, -10 * WAD)
    S, A = pool_state(p)
    assert A > a1  # fees and the price impact went to the pool
    a2 = 333 * WAD + 1
    assert p.pool.previewDeposit(a2) == to_shares(a2, S, A)
    p.lp_deposit(lp2, a2)
    assert p.pool.balanceOf(lp2) == to_shares(a2, S, A)
    # Withdraw burns shares rounded up; redeem pays assets rounded down.
    S, A = pool_state(p)
    w = 100 * WAD + 3
    before = p.pool.balanceOf(lp2)
    p.lp_withdraw(lp2, w)
    assert before - p.pool.balanceOf(lp2) == to_shares(w, S, A, up=True)
    S, A = pool_state(p)
    half = p.pool.balanceOf(lp) // 2 + 1
    cash = p.uusd.balanceOf(lp)
    p.lp_redeem(lp, half)
    assert p.uusd.balanceOf(lp) - cash == to_assets(half, S, A)
    # Minting asks for assets rounded up.
    S, A = pool_state(p)
    assert p.pool.previewMint(10**24 + 1) == to_assets(10**24 + 1, S, A, up=True)
    # The first LP earned the fees: its remaining shares are worth more than it paid for them.
    assert p.pool.convertToAssets(p.pool.balanceOf(lp)) > a1 - to_assets(half, S, A) - 1
    p.assert_conserved()


def test_trader_pnl_moves_share_value_losses_not_counted(pool_setup, lp, alice):
    p = pool_setup
    p.lp_deposit(lp, 100_000 * WAD)
    p.trade(alice, WETH, 100 * WAD)
    base = p.pool.totalAssets()
    assert p.pool.liabilities() == model_liabilities(p) == 0  # the premium and fee favour the pool
    p.set_price(WETH, 3_300)
    L = model_liabilities(p)
    assert L > 25_000 * WAD and p.pool.liabilities() == L
    assert p.pool.totalAssets() == p.uusd.balanceOf(p.pool) - L
    assert p.pool.convertToAssets(10**24) < to_assets(10**24, p.pool.totalSupply(), base)
    # Traders in loss: the loss is not an asset until it is paid.
    p.set_price(WETH, 2_700)
    assert p.pool.liabilities() == 0 and p.pool.totalAssets() == p.uusd.balanceOf(p.pool) == base
    # Realised, it is.
    p.trade(alice, WETH, -100 * WAD)
    assert p.pool.totalAssets() > base + 29_000 * WAD
    p.assert_conserved()


def gainful_position(p, lp, alice):
    """A 50,000 uUSD pool and a trader 100 WETH long after +5%: the withdrawal limit binds."""
    p.lp_deposit(lp, 50_000 * WAD)
    p.trade(alice, WETH, 100 * WAD)
    p.set_price(WETH, 3_150)
    L = p.pool.liabilities()
    assert L == model_liabilities(p) > 0
    required = L + ceil_div(L * p.pool.withdrawalBuffer(), WAD)
    assert p.pool.requiredReserve() == required
    available = p.uusd.balanceOf(p.pool) - required
    assert p.pool.withdrawable() == available
    assert available < p.pool.convertToAssets(p.pool.balanceOf(lp))  # the limit binds
    return available


def test_max_withdraw_is_exact(pool_setup, lp, alice):
    p = pool_setup
    available = gainful_position(p, lp, alice)
    assert p.pool.maxWithdraw(lp) == available
    with reverts(p.pool.ERC4626ExceededMaxWithdraw, owner=lp.address, assets=available + 1, max=available):
        p.pool.withdraw(available + 1, lp, lp, sender=lp)
    p.lp_withdraw(lp, available)
    assert p.pool.withdrawable() == 0 and p.pool.maxWithdraw(lp) == 0
    assert p.uusd.balanceOf(p.pool) == p.pool.requiredReserve()
    p.assert_conserved()


def test_max_redeem_is_exact(pool_setup, lp, alice):
    p = pool_setup
    available = gainful_position(p, lp, alice)
    S, A = pool_state(p)
    want = min(p.pool.balanceOf(lp), ceil_div((available + 1) * (S + OFFSET), A + 1) - 1)
    assert p.pool.maxRedeem(lp) == want
    assert to_assets(want, S, A) <= available < to_assets(want + 1, S, A)
    with reverts(p.pool.ERC4626ExceededMaxRedeem, owner=lp.address, shares=want + 1, max=want):
        p.pool.redeem(want + 1, lp, lp, sender=lp)
    cash = p.uusd.balanceOf(lp)
    p.lp_redeem(lp, want)
    assert p.uusd.balanceOf(lp) - cash == to_assets(want, S, A)
    p.assert_conserved()


def test_buffer_changes_the_limit(pool_setup, lp, alice):
    p = pool_setup
    gainful_position(p, lp, alice)
    L = p.pool.liabilities()
    tx = p.pool.setWithdrawalBuffer(WAD, sender=p.deployer)
    assert tx.events.filter(p.pool.WithdrawalBufferSet)[0].buffer == WAD
    assert p.pool.requiredReserve() == 2 * L
    p.pool.setWithdrawalBuffer(0, sender=p.deployer)
    assert p.pool.withdrawable() == p.uusd.balanceOf(p.pool) - L
    # With no buffer the limit is the LP's whole claim (totalAssets already nets the liability).
    assert p.pool.maxWithdraw(lp) == p.pool.convertToAssets(p.pool.balanceOf(lp))


def test_pool_cannot_pay_more_than_it_holds(pool_setup, lp, alice):
    p = pool_setup
    p.lp_deposit(lp, 1_000 * WAD)
    p.trade(alice, WETH, 100 * WAD)
    p.set_price(WETH, 3_600)
    bal = p.uusd.balanceOf(p.pool)
    with reverts(p.pool.PoolBalanceShort, balance=bal):
        p.markets.modifyPosition(alice, WETH, -100 * WAD, 0, sender=alice)
    # Insolvent: the pool owes more than it holds, so it takes no new LP money.
    assert p.pool.liabilities() > bal and p.pool.totalAssets() == 0
    assert p.pool.maxDeposit(lp) == 0 and p.pool.maxMint(lp) == 0
    with reverts(p.pool.ERC4626ExceededMaxDeposit, receiver=lp.address, assets=WAD, max=0):
        p.pool.deposit(WAD, lp, sender=lp)
    p.assert_conserved()


def test_only_the_markets_contract_pays_out(pool_setup, outsider):
    p = pool_setup
    role = p.pool.MARKETS_ROLE()
    assert p.pool.hasRole(role, p.markets) and p.pool.markets() == p.markets.address
    with reverts(p.pool.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=role):
        p.pool.payOut(outsider, 1, sender=outsider)


def test_a_deposit_between_a_hedged_pairs_closes_takes_nothing(pool_setup, lp, accounts, alice, bob):
    """Review finding (High): alice long 100 WETH, bob short 100 (a hedged pair: no skew, no
    liability at any price); WETH +10%. alice's close is paid ~30,000 by the pool, and bob's loss
    stopped counting (totalAssets counts no losses), so the share price fell by the payout. An LP
    depositing then and redeeming after bob's close took 150/(150 + ~70) of bob's ~30,000 from the
    LP already in (about 20,000 on the old pricing). Deposits now buy in at entryAssets, which counts
    bob's loss: the round trip gains nothing, and the first LP keeps what it had."""
    p, attacker = pool_setup, accounts[6]
    p.lp_deposit(lp, 100_000 * WAD)
    p.trade(alice, WETH, 100 * WAD)
    p.trade(bob, WETH, -100 * WAD)
    p.set_price(WETH, 3_300)
    p.trade(alice, WETH, -100 * WAD)  # the winner closes first
    assert p.pool.entryAssets() > p.pool.totalAssets()
    before = p.uusd.balanceOf(attacker)
    p.lp_deposit(attacker, 150_000 * WAD)
    _, ev = p.trade(bob, WETH, 100 * WAD)  # the loser pays
    shares, supply = p.pool.balanceOf(attacker), p.pool.totalSupply()
    assert p.pool.maxRedeem(attacker) == shares
    p.lp_redeem(attacker, shares)
    gain = p.uusd.balanceOf(attacker) - before
    # What an LP in the pool during bob's close earns, and nothing more: its share of the fee.
    fee_share = -(-ev.fee * shares // supply)
    assert gain <= fee_share, f"the deposit between the closes took {(gain - fee_share) / WAD:,.2f} uUSD beyond its fee share"
    assert gain > -WAD, "and it loses no more than rounding"
    # the first LP has the pool: its 100,000, the fees and bob's loss net of alice's gain
    assert p.pool.totalSupply() == p.pool.balanceOf(lp)
    p.assert_conserved()
