"""Trading on PerpMarkets: fill prices, PnL settlement to the wei, margin rules, caps, guards.

Every expected number comes from tests/perps/perp_model.py (the NatSpec's formulas), and every
state-changing test ends with the conservation identity (Perps.assert_conserved)."""

from __future__ import annotations

from tests.perps.conftest import WBTC, WETH, WETH_MARKET, market_tuple
from tests.perps.perp_model import WAD, account_terms, apply_trade, funding_owed, requirement
from tests.protocol.vault_helpers import reverts

GUARD_DELAYED_STOPPED = 4
STATUS_LIVE = 1


def set_weth(p, **changes):
    params = dict(WETH_MARKET, **changes)
    p.markets.setMarket(WETH, market_tuple(p.tokens[WETH], params), sender=p.deployer)
    for k, v in changes.items():
        setattr(p.models[WETH], k, v)


def equity_at_initial(terms) -> int:
    return terms.margin + terms.gainsCredited - terms.losses


# --- price impact ---------------------------------------------------------------------------


def test_fill_price_both_directions(funded, alice, bob):
    p, m = funded, funded.models[WETH]
    p.deposit_margin(alice, 400_000 * WAD)
    p.deposit_margin(bob, 700_000 * WAD)
    price = p.quote(WETH).current
    buy = 1_000 * WAD
    assert p.markets.previewFillPrice(WETH, buy) == m.fill(0, buy, price)
    _, ev = p.trade(alice, WETH, buy)
    assert ev.fillPrice == m.fill(0, buy, price) == price + price * 1_000 // 200_000  # +0.5%
    assert ev.fillPrice > price  # skew-increasing buy pays a premium

    # A sell that reduces the skew gets a better price than the next buy would.
    sell = -400 * WAD
    _, ev = p.trade(bob, WETH, sell)
    assert ev.fillPrice == m.fill(buy, sell, price)
    assert ev.fillPrice < m.fill(buy, 1, price)

    # A sell across zero: (600 + -1000) / 2 = -200 -> 0.1% below the oracle price, rounded down.
    sell = -1_600 * WAD
    assert p.markets.previewFillPrice(WETH, sell) == m.fill(600 * WAD, sell, price)
    _, ev = p.trade(bob, WETH, sell)
    assert ev.fillPrice == m.fill(600 * WAD, sell, price) < price
    st = p.markets.marketState(WETH)
    assert (st.skew, st.longOI, st.shortOI) == (-1_000 * WAD, 1_000 * WAD, 2_000 * WAD)
    p.assert_conserved()


def test_fill_rounding_direction(funded, alice, bob):
    """An odd size: the buy's premium rounds up, the sell's down (the pool's favour)."""
    p, m = funded, funded.models[WETH]
    price = p.quote(WETH).current
    d = 3 * WAD + 7
    exact_num = (2 * 0 + d) * price
    assert exact_num % (2 * m.skew_scale) != 0
    assert p.markets.previewFillPrice(WETH, d) == price + exact_num // (2 * m.skew_scale) + 1
    assert p.markets.previewFillPrice(WETH, -d) == price - exact_num // (2 * m.skew_scale) - 1


def test_slippage_guard(funded, alice):
    p = funded
    fill = p.markets.previewFillPrice(WETH, 10 * WAD)
    with reverts(p.markets.SlippageExceeded, fillPrice=fill, acceptablePrice=fill - 1):
        p.markets.modifyPosition(alice, WETH, 10 * WAD, fill - 1, sender=alice)
    p.trade(alice, WETH, 10 * WAD, acceptable=fill)
    fill = p.markets.previewFillPrice(WETH, -4 * WAD)
    with reverts(p.markets.SlippageExceeded, fillPrice=fill, acceptablePrice=fill + 1):
        p.markets.modifyPosition(alice, WETH, -4 * WAD, fill + 1, sender=alice)
    p.trade(alice, WETH, -4 * WAD, acceptable=fill)
    p.assert_conserved()


# --- settlement -----------------------------------------------------------------------------


def test_open_increase_reduce_flip_close_to_the_wei(funded, alice):
    """Each step against the model: the cost basis, realised PnL, funding, fee and the margin."""
    p, m = funded, funded.models[WETH]
    s, c, last = 0, 0, 0
    margin = p.markets.margin(alice)
    steps = [(10 * WAD, None), (5 * WAD, 3_300), (-6 * WAD, 2_900), (-19 * WAD, 3_100), (10 * WAD, None)]
    for delta, new_price in steps:
        if new_price:
            p.set_price(WETH, new_price)
        price = p.quote(WETH).current
        skew = p.markets.marketState(WETH).skew
        _, ev = p.trade(alice, WETH, delta)
        fill = m.fill(skew, delta, price)
        assert ev.fillPrice == fill
        pos = p.markets.position(alice, WETH)
        funding = funding_owed(s, pos.lastFundingIndex - last)
        s, c, realised = apply_trade(s, c, delta, fill)
        fee = m.trade_fee(delta, fill)
        assert (ev.newSize, ev.realisedPnl, ev.funding, ev.fee) == (s, realised, funding, fee)
        assert (pos.size, pos.cost) == (s, c)
        margin += realised - funding - fee
        assert p.markets.margin(alice) == margin
        last = pos.lastFundingIndex
        p.assert_conserved()
    assert s == 0 and c == 0
    assert p.markets.accountTerms(alice).hasPositions is False
    assert p.markets.marketState(WETH).totalCost == 0


def test_gains_are_paid_from_the_pool(funded, alice):
    p = funded
    p.trade(alice, WETH, 10 * WAD)
    p.set_price(WETH, 3_600)
    pool_before = p.uusd.balanceOf(p.pool)
    margin_before = p.markets.margin(alice)
    tx, ev = p.trade(alice, WETH, -10 * WAD)
    gain = ev.realisedPnl - ev.funding - ev.fee
    assert gain > 5_000 * WAD
    assert p.markets.margin(alice) == margin_before + gain
    assert p.uusd.balanceOf(p.pool) == pool_before - gain
    paid = tx.events.filter(p.pool.PaidOut)
    assert len(paid) == 1 and paid[0].to == p.markets.address and paid[0].amount == gain
    p.assert_conserved()


def test_loss_beyond_margin_is_owed_and_repaid_first(funded, alice):
    p = funded
    p.trade(alice, WETH, 100 * WAD)  # 300k notional on 20k margin
    p.set_price(WETH, 2_700)  # -30k
    pool_before = p.uusd.balanceOf(p.pool)
    m0 = p.markets.margin(alice)
    tx, ev = p.trade(alice, WETH, -100 * WAD)  # closing is always allowed
    m1 = m0 + ev.realisedPnl - ev.funding - ev.fee
    assert m1 < 0 and p.markets.margin(alice) == m1
    owed = tx.events.filter(p.markets.LossOwed)
    assert len(owed) == 1 and owed[0].amount == -m1 and owed[0].margin == m1
    assert p.markets.totalOwed() == -m1
    assert p.uusd.balanceOf(p.pool) == pool_before + m0  # the pool got the margin there was
    p.assert_conserved()
    with reverts(p.markets.MarginBalanceShort, margin=m1, requested=1):
        p.markets.withdrawMargin(alice, 1, alice, sender=alice)
    # A deposit repays the pool first.
    tx = p.deposit_margin(alice, -m1 + 1_000 * WAD)
    ev = tx.events.filter(p.markets.MarginDeposited)[0]
    assert ev.repaid == -m1 and p.markets.margin(alice) == 1_000 * WAD and p.markets.totalOwed() == 0
    assert p.uusd.balanceOf(p.pool) == pool_before + m0 - m1
    p.assert_conserved()


# --- margin rules ---------------------------------------------------------------------------


def test_size_premium(funded, alice, bob):
    """IMR = minInitialMargin + |size| / skewScale x initialMarginScale; MMR = IMR x fraction. The
    requirement of alice's position does not move when bob trades (only its own size counts)."""
    p, m = funded, funded.models[WETH]
    for size in (0, 1, WAD, 777 * WAD + 3, -50_000 * WAD):
        assert tuple(p.markets.marginRatios(WETH, size)) == m.ratios(size)
    assert m.ratios(50_000 * WAD)[0] == int(0.55e18)
    p.trade(alice, WETH, 50 * WAD)
    before = p.markets.accountTerms(alice)
    p.deposit_margin(bob, 100_000 * WAD)
    p.trade(bob, WETH, 300 * WAD)
    after = p.markets.accountTerms(alice)
    assert after.initialRequirement == before.initialRequirement
    assert after.maintenanceRequirement == before.maintenanceRequirement
    price = p.quote(WETH).current
    imr, mmr = m.ratios(50 * WAD)
    assert after.initialRequirement == requirement(50 * WAD, price, imr)
    assert after.maintenanceRequirement == requirement(50 * WAD, price, mmr)
    p.assert_conserved()


def test_open_beyond_initial_margin_refused(funded, alice):
    p, m = funded, funded.models[WETH]
    price = p.quote(WETH).current
    size = 200 * WAD  # 600k notional x 5.2% = 31.2k > 20k margin
    fill = m.fill(0, size, price)
    _, cost, _ = apply_trade(0, 0, size, fill)
    equity = p.markets.margin(alice) - m.trade_fee(size, fill) + (size * price // WAD - cost)
    required = requirement(size, price, m.ratios(size)[0])
    assert equity < required
    with reverts(p.markets.InitialMarginViolated, equity=equity, required=required):
        p.markets.modifyPosition(alice, WETH, size, 2**256 - 1, sender=alice)
    # A position within the requirement opens; a flip is checked like an open.
    p.trade(alice, WETH, 100 * WAD)
    with reverts(p.markets.InitialMarginViolated):
        p.markets.modifyPosition(alice, WETH, -400 * WAD, 0, sender=alice)
    p.assert_conserved()


def test_withdraw_margin_exactly_to_the_initial_requirement(funded, alice):
    """Without funding (rate 0) nothing moves between the view and the transaction: the largest
    withdrawal is margin + gainsCredited - losses - initialRequirement, to the wei."""
    p = funded
    set_weth(p, max_funding=0)
    p.trade(alice, WETH, 50 * WAD)
    t = p.markets.accountTerms(alice)
    room = equity_at_initial(t) - t.initialRequirement
    assert 0 < room < t.margin
    with reverts(p.markets.InitialMarginViolated, equity=equity_at_initial(t) - room - 1,
                 required=t.initialRequirement):
        p.markets.withdrawMargin(alice, room + 1, alice, sender=alice)
    p.withdraw_margin(alice, room)
    t = p.markets.accountTerms(alice)
    assert equity_at_initial(t) == t.initialRequirement
    # Reducing stays allowed at the limit.
    p.trade(alice, WETH, -10 * WAD)
    p.assert_conserved()
    # With no positions only the balance bounds a withdrawal.
    p.trade(alice, WETH, -40 * WAD)
    margin = p.markets.margin(alice)
    with reverts(p.markets.MarginBalanceShort, margin=margin, requested=margin + 1):
        p.markets.withdrawMargin(alice, margin + 1, alice, sender=alice)
    p.withdraw_margin(alice, margin)
    p.assert_conserved()


def test_unconfirmed_gains_give_no_initial_margin(funded, alice):
    """Mango Markets, Oct 2022: a price pumped for one round moves `current` only; gains count at
    the delayed price (the less favourable), so they buy neither withdrawals nor size."""
    p = funded
    set_weth(p, max_funding=0)
    p.trade(alice, WETH, 50 * WAD)
    before = p.markets.accountTerms(alice)
    p.set_price(WETH, 4_000, settle=False)
    cur, delayed = p.prices(WETH)
    assert cur > delayed
    t = p.markets.accountTerms(alice)
    assert t.pnl > 40_000 * WAD  # at the mark
    assert t.gainsCredited == before.gainsCredited and t.losses == before.losses
    room = equity_at_initial(t) - t.initialRequirement
    with reverts(p.markets.InitialMarginViolated):
        p.markets.withdrawMargin(alice, room + 1, alice, sender=alice)


def test_a_gain_realised_at_an_unconfirmed_price_is_locked_for_two_hops(funded, alice):
    """Review finding: closing after one oracle round moved `current` realised the gain at that
    price, and all of it could be withdrawn at once: the Mango path the initial rule closes for
    open positions. The part beyond the delayed price, 50 x (current - delayed), now stays locked
    (it covers losses, it does not leave) until two OSM hops have confirmed or undone the price."""
    p = funded
    set_weth(p, max_funding=0)
    p.trade(alice, WETH, 50 * WAD)
    p.set_price(WETH, 3_300, settle=False)
    cur, delayed = p.prices(WETH)
    assert cur > delayed
    _, ev = p.trade(alice, WETH, -50 * WAD)  # closed: no position, no initial rule to stop it
    assert ev.realisedPnl > 0
    locked = 50 * (cur - delayed)  # |closed| x (current - delayed): 50 x 300 uUSD
    margin = p.markets.margin(alice)
    free = margin - locked
    with reverts(p.markets.MarginLocked):
        p.markets.withdrawMargin(alice, free + 1, alice, sender=alice)
    p.withdraw_margin(alice, free)
    p.chain.mine(1, deltatime=2 * p.oracle.feedConfig(p.tokens[WETH]).delay)
    p.withdraw_margin(alice, locked)
    assert p.markets.margin(alice) == 0
    p.assert_conserved()


def test_open_interest_caps_each_side(funded, alice, bob):
    p = funded
    set_weth(p, max_long=100 * WAD, max_short=50 * WAD)
    p.trade(alice, WETH, 100 * WAD)
    with reverts(p.markets.OpenInterestCapExceeded, id=WETH, long=True, cap=100 * WAD, wouldBe=101 * WAD):
        p.markets.modifyPosition(bob, WETH, WAD, 2**256 - 1, sender=bob)
    p.trade(bob, WETH, -50 * WAD)
    with reverts(p.markets.OpenInterestCapExceeded, id=WETH, long=False, cap=50 * WAD, wouldBe=51 * WAD):
        p.markets.modifyPosition(bob, WETH, -WAD, 0, sender=bob)
    # A flip adds to the other side and is capped there: alice's long of 100 to a short of 1.
    with reverts(p.markets.OpenInterestCapExceeded, id=WETH, long=False, cap=50 * WAD, wouldBe=51 * WAD):
        p.markets.modifyPosition(alice, WETH, -101 * WAD, 0, sender=alice)
    # Caps lowered below the open interest: reducing is still allowed.
    set_weth(p, max_long=10 * WAD, max_short=10 * WAD)
    p.trade(alice, WETH, -1 * WAD)
    p.trade(bob, WETH, 1 * WAD)
    st = p.markets.marketState(WETH)
    assert (st.longOI, st.shortOI) == (99 * WAD, 49 * WAD)
    p.assert_conserved()


def test_guarded_market_refuses_increase_allows_reduce_and_close(funded, alice, bob, deployer):
    p = funded
    p.trade(alice, WETH, 10 * WAD)
    p.trade(alice, WBTC, WAD)
    p.oracle.setDelayedStopped(p.tokens[WETH], True, sender=deployer)  # the guardian
    for who, delta in ((alice, WAD), (bob, WAD), (bob, -WAD), (alice, -11 * WAD)):
        with reverts(p.markets.MarketGuarded, id=WETH, guard=GUARD_DELAYED_STOPPED, status=STATUS_LIVE):
            p.markets.modifyPosition(who, WETH, delta, 0 if delta < 0 else 2**256 - 1, sender=who)
    p.trade(bob, WBTC, WAD)  # another market is not affected for an account without a WETH position
    # Review finding: alice's WETH position, worth its last accepted price, backs nothing new: not
    # an increase on another market, not a margin withdrawal (it did both before).
    with reverts(p.markets.MarketGuarded, id=WETH, guard=GUARD_DELAYED_STOPPED, status=STATUS_LIVE):
        p.markets.modifyPosition(alice, WBTC, WAD, 2**256 - 1, sender=alice)
    with reverts(p.markets.MarketGuarded, id=WETH, guard=GUARD_DELAYED_STOPPED, status=STATUS_LIVE):
        p.markets.withdrawMargin(alice, WAD, alice, sender=alice)
    p.trade(alice, WETH, -4 * WAD)
    p.trade(alice, WETH, -6 * WAD)
    assert p.markets.position(alice, WETH).size == 0
    p.trade(alice, WBTC, WAD)  # with the WETH position closed, she trades again
    p.withdraw_margin(alice, WAD)
    p.assert_conserved()


# --- access and arguments -------------------------------------------------------------------


def test_authorization_and_operators(funded, alice, bob):
    p = funded
    with reverts(p.markets.NotAuthorized, caller=bob.address, account=alice.address):
        p.markets.modifyPosition(alice, WETH, WAD, 2**256 - 1, sender=bob)
    with reverts(p.markets.NotAuthorized, caller=bob.address, account=alice.address):
        p.markets.withdrawMargin(alice, 1, bob, sender=bob)
    tx = p.markets.setOperator(bob, True, sender=alice)
    ev = tx.events.filter(p.markets.OperatorSet)[0]
    assert (ev.account, ev.operator, ev.approved) == (alice.address, bob.address, True)
    assert p.markets.isOperator(alice, bob)
    p.trade(alice, WETH, WAD, sender=bob)
    cash = p.uusd.balanceOf(bob)
    tx = p.withdraw_margin(alice, WAD, receiver=bob, sender=bob)
    ev = tx.events.filter(p.markets.MarginWithdrawn)[0]
    assert (ev.account, ev.receiver, ev.amount) == (alice.address, bob.address, WAD)
    assert p.uusd.balanceOf(bob) == cash + WAD
    p.markets.setOperator(bob, False, sender=alice)
    with reverts(p.markets.NotAuthorized):
        p.markets.modifyPosition(alice, WETH, WAD, 2**256 - 1, sender=bob)
    # Anyone may deposit for anyone.
    margin = p.markets.margin(alice)
    tx = p.deposit_margin(alice, 5 * WAD, payer=bob)
    ev = tx.events.filter(p.markets.MarginDeposited)[0]
    assert (ev.account, ev.payer, ev.amount, ev.repaid) == (alice.address, bob.address, 5 * WAD, 0)
    assert p.markets.margin(alice) == margin + 5 * WAD
    p.assert_conserved()


def test_argument_errors(funded, alice):
    p = funded
    with reverts(p.markets.ZeroSize):
        p.markets.modifyPosition(alice, WETH, 0, 0, sender=alice)
    with reverts(p.markets.UnknownMarket, id=5):
        p.markets.modifyPosition(alice, 5, WAD, 2**256 - 1, sender=alice)
    with reverts(p.markets.ZeroAmount):
        p.markets.depositMargin(alice, 0, sender=alice)
    with reverts(p.markets.ZeroAmount):
        p.markets.withdrawMargin(alice, 0, alice, sender=alice)
    with reverts(p.markets.ZeroAddress):
        p.markets.depositMargin("0x" + "00" * 20, WAD, sender=alice)
    with reverts(p.markets.ZeroAddress):
        p.markets.withdrawMargin(alice, WAD, "0x" + "00" * 20, sender=alice)


def test_account_terms_two_markets(funded, alice, bob):
    p = funded
    p.trade(alice, WETH, 30 * WAD)
    p.trade(alice, WBTC, -2 * WAD)
    p.trade(bob, WETH, -5 * WAD)
    p.set_price(WETH, 3_150, settle=False)
    p.set_price(WBTC, 57_000, settle=False)
    prices = {k: p.prices(k) for k in (WETH, WBTC)}
    positions = []
    index = {}
    for k in (WETH, WBTC):
        pos = p.markets.position(alice, k)
        positions.append((k, pos.size, pos.cost, pos.lastFundingIndex))
        index[k] = p.markets.marketState(k).fundingIndex
    want = account_terms(p.markets.margin(alice), positions, p.models, prices, index, p.markets.gainsHaircut())
    got = p.markets.accountTerms(alice)
    assert {k: getattr(got, k) for k in want} == want
    p.assert_conserved()


def test_frozen_and_recovering_oracle(funded, alice, bob):
    """A stale feed freezes the token (status FROZEN): no increase, but reducing and closing run at
    the last accepted price. Back to LIVE, the recovery grace still refuses increases."""
    p, m = funded, funded.models[WETH]
    p.trade(alice, WETH, 10 * WAD)
    last = p.quote(WETH).current
    p.chain.mine(1, deltatime=3_700)  # past the heartbeat, no new round
    q = p.quote(WETH)
    assert (q.status, q.guard) == (3, 2)  # Frozen, Frozen
    with reverts(p.markets.MarketGuarded, id=WETH, guard=2, status=3):
        p.markets.modifyPosition(bob, WETH, WAD, 2**256 - 1, sender=bob)
    skew = p.markets.marketState(WETH).skew
    _, ev = p.trade(alice, WETH, -3 * WAD)
    assert ev.fillPrice == m.fill(skew, -3 * WAD, last)
    for feed in p.s.feeds.values():
        feed.setAnswer(feed.answer(), sender=p.deployer)
    q = p.quote(WETH)
    assert (q.status, q.guard) == (STATUS_LIVE, 3)  # Live, RecoveryGrace
    with reverts(p.markets.MarketGuarded, id=WETH, guard=3, status=STATUS_LIVE):
        p.markets.modifyPosition(alice, WETH, WAD, 2**256 - 1, sender=alice)
    p.trade(alice, WETH, -7 * WAD)
    assert p.markets.accountTerms(alice).hasPositions is False
    p.assert_conserved()
