"""Dutch auction: curves, takes (plain and flash), dust, floor, redo, stop levels, roles, reentrancy.

The standard auction: alice's 10 WETH against 22000 of debt, liquidated whole at WETH 2700:
lot 10 WETH, tab 24200, top 2700 * 1.2 = 3240, floor 2700 * 0.8 = 2160 (linear over an hour:
the curve reaches the floor 1200 s after the start).
"""

import pytest
from liquidation_helpers import (
    ENGINE_ROLE,
    EXPONENTIAL,
    GOVERNOR,
    GUARD_DELAYED_STOPPED,
    GUARD_FROZEN,
    GUARD_NONE,
    GUARD_RECOVERY,
    GUARD_SEQUENCER_DOWN,
    GUARD_SEQUENCER_GRACE,
    GUARDIAN,
    LINEAR,
    MAX_UINT,
    RAY,
    STAIRSTEP,
    WAD,
    ZERO,
    call_reverts,
    contract_curve_price,
    curve_price,
    events,
    govern_reverts,
    linear_hour_params,
    mul_div_up,
    one_event,
    refused,
    reverts,
    rpow_nearest,
)

from unwind.params import AuctionParams, ray, wad

DUST = wad(1000)
WETH_ID = 0
WBTC_ID = 1


@pytest.fixture(scope="module")
def params():
    """This module's numbers are for the linear hour-long curve (docstring above)."""
    return linear_hour_params()


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[5]


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployer, alice, bob, carol, keeper, outsider, h):
    """Every session fixture of this module, set up with the first test (no Ape rebase)."""


@pytest.fixture(scope="module", autouse=True)
def _wide_lot_margin(_session_fixtures_first, h):
    """Pin the lot margin at 20%: this module's auctions come from whole-account liquidations
    (kick_weth), which the deployed default of 5% would turn into partial ones."""
    h.govern(h.s.engine, "setLotMargin", 2 * 10**17)


# --- helpers ---


def kick_weth(h, owner, keeper, weth=10, debt=22_000, price=2700):
    """Liquidate `owner` whole at `price`: returns the auction id."""
    s = h.s
    h.open(owner, {"WETH": weth}, debt)
    h.set_price("WETH", price)
    tx = s.engine.liquidate(owner, keeper, sender=keeper)
    kick = events(tx, s.auction, "Kick")[-1]
    h.assert_identity()
    return kick.id


def buyer(h, account, debt=150_000):
    """`account` holds `debt` debt tokens (borrowed against USDC)."""
    h.open(account, {"USDC": debt * 2}, debt)
    return account


def set_curve(h, cid, **over):
    params = AuctionParams(**over)
    h.govern(h.s.auction, "setParams", cid, params.as_tuple())
    return h.s.auction.params(cid)


def floor_of(h, token_symbol, params):
    current = h.s.oracle.peek(h.s.collateral[token_symbol]).current
    return mul_div_up(current, WAD - params.maxDiscount, WAD)


def at(chain, timestamp):
    """Mine a block at `timestamp`: views then run at that time."""
    chain.mine(1, timestamp=timestamp)
    assert chain.blocks.head.timestamp == timestamp


def check_take(h, tx, symbol="WETH"):
    """What every take must satisfy: the curve price at the take's time, paid in full (rounded
    up), never below the floor of the oracle's current price."""
    s = h.s
    ev = one_event(tx, s.auction, "Take")
    cid = s.ids[symbol]
    params = s.auction.params(cid)
    decimals = s.collateral[symbol].decimals()
    assert ev.owe * 10**decimals >= ev.slice * ev.price  # owe >= slice * price / 10**dec
    if ev.tab > 0:  # a take that does not finish the tab pays exactly the curve, rounded up
        assert ev.owe == mul_div_up(ev.slice, ev.price, 10**decimals)
    assert ev.price >= floor_of(h, symbol, params)
    return ev


# --- curves ---


def test_linear_curve_prices(h, alice, keeper, chain):
    s = h.s
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    params = s.auction.params(WETH_ID)
    assert int(params.curve) == LINEAR and sale.top == wad(3240)
    floor = floor_of(h, "WETH", params)
    assert floor == wad(2160)
    for elapsed in (0, 1, 7, 599, 1199, 1200, 1201, 1800, 3599, 3600, 3700):
        if elapsed:
            at(chain, sale.startedAt + elapsed)
        needs_redo, price, lot, tab = s.auction.getStatus(aid)
        expected = curve_price(params, sale.top, elapsed)
        assert price == expected, elapsed
        assert (lot, tab) == (10 * WAD, wad(24_200))
        # The floor binds from 1201 s (0.8 / 1.2 of the way down is at 1200 s).
        assert needs_redo == (elapsed > 1200)
    assert curve_price(params, sale.top, 1200) == floor


def test_exponential_curve_prices(h, alice, keeper, chain):
    s = h.s
    params = set_curve(h, WETH_ID, curve="exponential", cut=ray("0.999"))
    assert int(params.curve) == EXPONENTIAL and params.cut == ray("0.999")
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    floor = floor_of(h, "WETH", params)
    for elapsed in (0, 1, 2, 3, 10, 64, 100, 333, 405, 406, 1000):
        if elapsed:
            at(chain, sale.startedAt + elapsed)
        needs_redo, price, _, _ = s.auction.getStatus(aid)
        assert price == contract_curve_price(params, sale.top, elapsed), elapsed
        exact = curve_price(params, sale.top, elapsed)
        assert exact <= price <= exact + 1, elapsed  # rounded up, by at most a wei
        assert needs_redo == (price < floor)
    # 3240 * 0.999^t falls below 2160 between 405 s and 406 s.
    assert curve_price(params, sale.top, 405) >= floor > curve_price(params, sale.top, 406)


def test_stairstep_curve_prices(h, alice, keeper, chain):
    s = h.s
    params = set_curve(h, WETH_ID, curve="stairstep", cut=ray("0.95"), step=90)
    assert int(params.curve) == STAIRSTEP
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    floor = floor_of(h, "WETH", params)
    previous = None
    for elapsed in (0, 1, 89, 90, 91, 179, 180, 630, 719, 720, 900):
        if elapsed:
            at(chain, sale.startedAt + elapsed)
        needs_redo, price, _, _ = s.auction.getStatus(aid)
        assert price == contract_curve_price(params, sale.top, elapsed), elapsed
        exact = curve_price(params, sale.top, elapsed)
        assert exact <= price <= exact + 1
        if previous is not None and (elapsed // 90) == (previous[0] // 90):
            assert price == previous[1]  # flat within a step
        previous = (elapsed, price)
        # 1.2 * 0.95^n >= 0.8 up to n = 7: the eighth step (720 s) is below the floor.
        assert needs_redo == (elapsed >= 720)


def test_exponential_price_never_below_the_exact_curve(h, alice, keeper, chain, bob):
    """cut 0.9999 from top 60000: at 3098 s a power rounded to the nearest (solady's rpow) gives a
    price one wei BELOW the exact curve; the curve must round up (AuctionCurves.rpowUp)."""
    s = h.s
    params = set_curve(h, WBTC_ID, curve="exponential", cut=ray("0.9999"))
    buyer(h, bob)
    h.open(alice, {"WBTC": 1}, 42_000)
    h.set_price("WBTC", 50_000)
    tx = s.engine.liquidate(alice, keeper, sender=keeper)
    aid = one_event(tx, s.auction, "Kick").id
    sale = s.auction.sales(aid)
    assert sale.top == wad(60_000)
    elapsed = 3098
    exact = curve_price(params, sale.top, elapsed)
    assert mul_div_up(sale.top, rpow_nearest(params.cut, elapsed), RAY) == exact - 1  # the trap
    # A take at that very second pays at least the exact curve.
    chain.pending_timestamp = sale.startedAt + elapsed
    tx = s.auction.take(aid, 10**7, MAX_UINT, bob, b"", sender=bob)
    assert tx.timestamp == sale.startedAt + elapsed
    ev = check_take(h, tx, "WBTC")
    assert ev.price >= exact and ev.slice == 10**7
    assert ev.owe == mul_div_up(10**7, ev.price, 10**8)
    needs_redo, price, _, _ = s.auction.getStatus(aid)  # a view in the same second
    assert not needs_redo
    assert price == ev.price == contract_curve_price(params, sale.top, elapsed)


# --- takes ---


def test_take_part_of_the_lot(h, alice, bob, keeper, chain):
    s = h.s
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    weth = s.collateral["WETH"]
    debt_before, weth_before = s.debt_token.balanceOf(bob), weth.balanceOf(bob)
    total_before = s.auction.totalDebt()
    # The lot stays in the vault (its auction custody); the auction holds no collateral.
    assert s.vault.inAuction(WETH_ID) == sale.lot == 10 * WAD and weth.balanceOf(s.auction) == 0
    vault_before = weth.balanceOf(s.vault)
    chain.pending_timestamp = sale.startedAt + 333
    tx = s.auction.take(aid, 2 * WAD, wad(3100), bob, b"", sender=bob)
    ev = check_take(h, tx)
    assert ev.price == curve_price(s.auction.params(WETH_ID), sale.top, 333)
    assert ev.slice == 2 * WAD
    assert ev.owe == mul_div_up(2 * WAD, ev.price, WAD)
    assert ev.taker == bob.address
    assert s.debt_token.balanceOf(bob) == debt_before - ev.owe
    assert weth.balanceOf(bob) == weth_before + 2 * WAD
    assert weth.balanceOf(s.vault) == vault_before - 2 * WAD and s.vault.inAuction(WETH_ID) == 8 * WAD
    after = s.auction.sales(aid)
    assert (after.lot, after.tab) == (8 * WAD, wad(24_200) - ev.owe) == (ev.lot, ev.tab)
    assert s.auction.totalDebt() == total_before - ev.owe
    assert s.auction.debtOf(WETH_ID) == after.tab
    h.assert_identity()


def test_take_paying_the_tab_returns_the_leftover(h, alice, bob, keeper, chain):
    s = h.s
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    supplied_before = s.vault.collateral(WETH_ID).totalSupplied
    chain.pending_timestamp = sale.startedAt + 600  # price 2700: the tab needs ~8.96 WETH
    tx = s.auction.take(aid, 10 * WAD, MAX_UINT, bob, b"", sender=bob)
    ev = check_take(h, tx)
    assert ev.price == wad(2700)
    assert ev.owe == wad(24_200)
    assert ev.slice == wad(24_200) * WAD // wad(2700)  # what covers the tab, rounded down
    leftover = 10 * WAD - ev.slice
    ended = one_event(tx, s.auction, "AuctionEnded")
    assert (ended.id, ended.leftover, ended.shortfall) == (aid, leftover, 0)
    assert s.vault.collateralOf(alice, WETH_ID) == leftover
    # The leftover moved from the vault's auction custody back to alice's position.
    assert s.vault.inAuction(WETH_ID) == 0
    assert s.vault.collateral(WETH_ID).totalSupplied == supplied_before + leftover
    assert s.auction.count() == 0 and s.auction.sales(aid).lot == 0
    assert s.auction.totalDebt() == 0 and s.buffer.badDebt() == 0
    h.assert_identity()
    # Alice has no debt: she withdraws the leftover.
    s.vault.withdraw(alice, WETH_ID, leftover, alice, sender=alice)
    assert s.collateral["WETH"].balanceOf(alice) == leftover
    with reverts(s.auction, "AuctionNotRunning", id=aid):
        s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)


def test_a_tab_worth_less_than_one_unit_is_paid_off_and_the_lot_returned(h, alice, bob, keeper, chain):
    """With dust 0 a partial take can leave a tab of a few wei, less than one wei of WETH costs.
    Covering it buys no collateral (rounded down), so before this rule every take reverted and
    the auction, with the rest of alice's collateral, could never end. Now the tab is paid for
    nothing and the whole lot goes back to alice."""
    s = h.s
    h.govern(s.vault, "setDust", 0)
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    chain.pending_timestamp = sale.startedAt + 600  # price 2700
    price = wad(2700)
    part = sale.tab * WAD // price  # all but a sliver of the tab
    tx = s.auction.take(aid, part, MAX_UINT, bob, b"", sender=bob)
    ev = check_take(h, tx)
    assert ev.price == price and ev.slice == part
    assert 0 < ev.tab < price // WAD  # a tab worth less than one wei of WETH
    left, sliver = ev.lot, ev.tab
    weth_before = s.collateral["WETH"].balanceOf(bob)
    debt_before = s.debt_token.balanceOf(bob)
    held_before = s.vault.collateralOf(alice, WETH_ID)

    chain.pending_timestamp = sale.startedAt + 601
    tx = s.auction.take(aid, left, MAX_UINT, bob, b"", sender=bob)
    ev = one_event(tx, s.auction, "Take")
    assert (ev.slice, ev.owe, ev.tab, ev.lot) == (0, sliver, 0, left)
    ended = one_event(tx, s.auction, "AuctionEnded")
    assert (ended.id, ended.leftover, ended.shortfall) == (aid, left, 0)
    assert s.collateral["WETH"].balanceOf(bob) == weth_before  # nothing bought
    assert s.debt_token.balanceOf(bob) == debt_before - sliver
    assert s.vault.collateralOf(alice, WETH_ID) == held_before + left
    assert s.vault.inAuction(WETH_ID) == 0 and s.auction.count() == 0
    assert s.auction.totalDebt() == 0 and s.buffer.badDebt() == 0
    h.assert_identity()


def test_vault_custody_bounds_what_the_auction_can_move(h, alice, bob, keeper, accounts, chain):
    """The auction role reaches only the collateral of running auctions (IVault.inAuction),
    never the accounts' deposits: releasing or returning more reverts."""
    s = h.s
    h.open(bob, {"WETH": 50}, 1_000)  # deposits of another account, in the same vault
    aid = kick_weth(h, alice, keeper)
    lot = s.auction.sales(aid).lot
    assert s.vault.inAuction(WETH_ID) == lot
    auction = accounts[s.auction.address]  # impersonated on anvil
    chain.set_balance(auction, 10**18)
    with reverts(s.vault, "InsufficientCollateral", id=WETH_ID, held=lot, requested=lot + 1):
        s.vault.releaseCollateral(WETH_ID, auction, lot + 1, sender=auction)
    with reverts(s.vault, "InsufficientCollateral", id=WETH_ID, held=lot, requested=lot + 1):
        s.vault.returnCollateral(alice, WETH_ID, lot + 1, sender=auction)
    with reverts(s.vault, "InsufficientCollateral", id=WBTC_ID, held=0, requested=1):
        s.vault.releaseCollateral(WBTC_ID, auction, 1, sender=auction)
    assert s.vault.inAuction(WETH_ID) == lot
    h.assert_identity()


def test_an_ended_auctions_slot_is_reused_and_its_id_stays_dead(h, alice, bob, carol, keeper, chain):
    """A kick reuses the storage slot an ended sale left (IDutchAuction IDS): a new, larger id;
    the old id never reaches the new sale."""
    s = h.s
    buyer(h, bob)
    first = kick_weth(h, alice, keeper)
    chain.pending_timestamp = s.auction.sales(first).startedAt + 600
    s.auction.take(first, 10 * WAD, MAX_UINT, bob, b"", sender=bob)  # pays the tab: the auction ends
    assert s.auction.count() == 0 and s.auction.list() == []
    second = kick_weth(h, carol, keeper, debt=20_000, price=2400)
    assert second > first and second >> 32 == (first >> 32) + 1 == s.auction.kicks()
    assert second & 0xFFFFFFFF == first & 0xFFFFFFFF  # the same storage slot
    assert s.auction.list() == [second]
    sale = s.auction.sales(second)
    assert sale.lot > 0 and sale.owner == carol.address and sale.index == 0
    # The old id is dead: nothing reads or moves the sale now in its slot through it.
    empty = s.auction.sales(first)
    assert (empty.lot, empty.tab, empty.owner, empty.top) == (0, 0, ZERO, 0)
    assert s.auction.getStatus(first) == (False, 0, 0, 0)
    with reverts(s.auction, "AuctionNotRunning", id=first):
        s.auction.take(first, WAD, MAX_UINT, bob, b"", sender=bob)
    with reverts(s.auction, "AuctionNotRunning", id=first):
        s.auction.redo(first, keeper, sender=keeper)
    # Ids that never existed, in a used slot or a fresh one, are refused too.
    for bogus in (second & 0xFFFFFFFF, second + (1 << 32), 7):
        with reverts(s.auction, "AuctionNotRunning", id=bogus):
            s.auction.take(bogus, WAD, MAX_UINT, bob, b"", sender=bob)
    assert s.auction.sales(second).lot == sale.lot
    h.assert_identity()


def test_reserved_storage_holds_no_auction_and_kicks_fill_it(h, alice, bob, carol, keeper, outsider, chain):
    """IDutchAuction CAPACITY: the deployment reserved `auction_reserve` sales. A reserved slot
    reads as no auction; kicks fill reserved slots in order without growing the pool; anyone may
    reserve more, which changes no running auction; an ended sale's slot is the next kick's."""
    s = h.s
    pool = s.auction.poolSize()
    assert pool == s.params.auction_reserve >= 3
    buyer(h, bob)
    for bogus in (0, 1, pool - 1, 1 << 32 | 1):
        assert s.auction.getStatus(bogus) == (False, 0, 0, 0)
        empty = s.auction.sales(bogus)
        assert (empty.lot, empty.tab, empty.owner, empty.top) == (0, 0, ZERO, 0)
        with reverts(s.auction, "AuctionNotRunning", id=bogus):
            s.auction.take(bogus, WAD, MAX_UINT, bob, b"", sender=bob)
    first = kick_weth(h, alice, keeper)
    second = kick_weth(h, carol, keeper, debt=20_000, price=2400)
    assert (first & 0xFFFFFFFF, second & 0xFFFFFFFF) == (0, 1) and s.auction.poolSize() == pool
    running = {i: s.auction.sales(i) for i in (first, second)}

    tx = s.auction.reserve(3, sender=outsider)
    ev = one_event(tx, s.auction, "Reserved").event_arguments
    assert ev == {"payer": outsider.address, "count": 3, "poolSize": pool + 3}
    assert s.auction.poolSize() == pool + 3 and s.auction.list() == [first, second]
    assert {i: s.auction.sales(i) for i in (first, second)} == running
    for n in (0, 257):
        with reverts(s.auction, "InvalidParameter", name="count", value=n, min=1, max=256):
            s.auction.reserve(n, sender=outsider)

    assert not s.auction.getStatus(first)[0]
    s.auction.take(first, 10 * WAD, MAX_UINT, bob, b"", sender=bob)  # pays the tab: the auction ends
    assert s.auction.list() == [second]
    third = kick_weth(h, alice, keeper, debt=18_000, price=1800)
    assert third & 0xFFFFFFFF == 0 and s.auction.list() == [second, third] and s.auction.poolSize() == pool + 3
    h.assert_identity()


@pytest.fixture
def market(h, project, deployer, bob):
    """A market paying 2900 per WETH, funded with 100k debt tokens."""
    s = h.s
    m = project.MockFixedPriceMarket.deploy(s.debt_token, sender=deployer)
    m.setPrice(s.collateral["WETH"], wad(2900), sender=deployer)
    buyer(h, bob)
    s.debt_token.transfer(m, wad(100_000), sender=bob)
    return m


def test_flash_take_sells_in_a_market(h, alice, keeper, market, project, deployer, chain):
    """The keeper holds no inventory for it: the receiver sells the lot and hands over `owe`."""
    s = h.s
    flash = project.MockFlashTaker.deploy(s.auction, s.debt_token, keeper, market, sender=deployer)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    keeper_before = s.debt_token.balanceOf(keeper)
    chain.pending_timestamp = sale.startedAt + 600  # 2700 at the auction, 2900 at the market
    tx = s.auction.take(aid, 10 * WAD, wad(2700), flash, b"\x01", sender=keeper)
    ev = check_take(h, tx)
    assert ev.owe == wad(24_200) and ev.taker == keeper.address
    assert flash.calls() == 1
    assert (flash.lastAmount(), flash.lastOwe()) == (ev.slice, ev.owe)
    assert flash.lastProceeds() == ev.slice * wad(2900) // WAD
    assert s.debt_token.balanceOf(keeper) == keeper_before  # owe came from the sale
    assert s.debt_token.balanceOf(flash) == flash.lastProceeds() - ev.owe  # the keeper's profit
    assert s.collateral["WETH"].balanceOf(market) == ev.slice
    assert s.vault.collateralOf(alice, WETH_ID) == 10 * WAD - ev.slice
    h.assert_identity()


def test_flash_take_from_prefunded_inventory(h, alice, bob, keeper, project, deployer):
    s = h.s
    flash = project.MockFlashTaker.deploy(s.auction, s.debt_token, keeper, ZERO, sender=deployer)
    buyer(h, bob)
    s.debt_token.transfer(flash, wad(30_000), sender=bob)
    aid = kick_weth(h, alice, keeper)
    keeper_before = s.debt_token.balanceOf(keeper)
    tx = s.auction.take(aid, 3 * WAD, MAX_UINT, flash, b"data", sender=keeper)
    ev = check_take(h, tx)
    assert s.collateral["WETH"].balanceOf(flash) == 3 * WAD == ev.slice
    assert s.debt_token.balanceOf(flash) == wad(30_000) - ev.owe
    assert s.debt_token.balanceOf(keeper) == keeper_before
    assert flash.calls() == 1
    h.assert_identity()


def test_flash_taker_trusts_only_the_auction_and_its_owner(h, alice, keeper, outsider, market, project, deployer):
    s = h.s
    flash = project.MockFlashTaker.deploy(s.auction, s.debt_token, keeper, market, sender=deployer)
    aid = kick_weth(h, alice, keeper)
    with reverts(flash, "NotAuction", caller=outsider.address):
        flash.onUnwindTake(outsider, s.collateral["WETH"], 1, 1, b"", sender=outsider)
    # An outsider cannot make the keeper's receiver trade for him.
    call_reverts(
        flash, "UntrustedTaker", s.auction.take, aid, WAD, MAX_UINT, flash, b"\x01", sender=outsider, taker=outsider.address
    )


def test_take_without_enough_debt_tokens_reverts(h, alice, keeper, outsider):
    s = h.s
    aid = kick_weth(h, alice, keeper)
    assert s.debt_token.balanceOf(outsider) == 0
    call_reverts(s.debt_token, "ERC20InsufficientBalance", s.auction.take, aid, WAD, MAX_UINT, outsider, b"", sender=outsider)
    assert s.auction.sales(aid).lot == 10 * WAD


# --- dust ---


def test_takes_never_leave_a_dust_tab(h, alice, bob, keeper, chain):
    """Full liquidation of 10 WETH + 0.01 WBTC: the WBTC auction's tab (~548) is below dust.
    A partial take of it would leave a tab in (0, dust): DustLeft. A take of the WETH auction
    that would leave less than dust is trimmed to leave at least dust."""
    s = h.s
    buyer(h, bob)
    h.open(alice, {"WETH": 10, "WBTC": "0.01"}, 22_900)
    h.set_price("WETH", 2700)
    h.refresh_all()
    tx = s.engine.liquidate(alice, keeper, sender=keeper)
    weth_kick, wbtc_kick = events(tx, s.auction, "Kick")
    assert wbtc_kick.tab < DUST < weth_kick.tab

    # WBTC: top 72000; 0.002 WBTC costs 144: the tab would fall to ~404.
    with reverts(s.auction, "DustLeft", dust=DUST):
        s.auction.take(wbtc_kick.id, 2 * 10**5, MAX_UINT, bob, b"", sender=bob)
    # Taking the whole lot is fine (the tab is paid, or the lot runs out).
    tx = s.auction.take(wbtc_kick.id, 10**6, MAX_UINT, bob, b"", sender=bob)
    ev = check_take(h, tx, "WBTC")
    assert ev.tab == 0 or ev.lot == 0

    # WETH: 7.5 WETH at ~3240 would leave ~352: trimmed so that at least dust stays.
    sale = s.auction.sales(weth_kick.id)
    tx = s.auction.take(weth_kick.id, wad("7.5"), MAX_UINT, bob, b"", sender=bob)
    ev = check_take(h, tx)
    assert ev.slice < wad("7.5")
    assert ev.slice == (sale.tab - DUST) * WAD // ev.price
    assert DUST <= ev.tab < DUST + ev.price // WAD + 1
    h.assert_identity()


# --- floor and redo ---


def test_redo_after_max_age(h, alice, bob, keeper, chain):
    s = h.s
    params = set_curve(h, WETH_ID, max_age=600)
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    at(chain, sale.startedAt + 599)
    needs_redo, price, _, _ = s.auction.getStatus(aid)
    assert not needs_redo and price > floor_of(h, "WETH", params)
    # Exactly max_age old: not yet. The transaction's block is pinned at that second (a block mined
    # at it would leave the next one, where a transaction runs, a second or more later).
    chain.pending_timestamp = sale.startedAt + 600
    with reverts(s.auction, "AuctionDoesNotNeedRedo", id=aid):
        s.auction.redo(aid, keeper, sender=keeper)
    at(chain, sale.startedAt + 601)
    needs_redo, price, _, _ = s.auction.getStatus(aid)
    assert needs_redo and price > floor_of(h, "WETH", params)  # too old, not too cheap
    with reverts(s.auction, "AuctionNeedsRedo", id=aid):
        s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)

    keeper_before, surplus_before = s.debt_token.balanceOf(keeper), s.buffer.surplus()
    tx = s.auction.redo(aid, keeper, sender=keeper)
    incentive = params.redoTip + sale.tab * params.redoChip // WAD
    assert incentive == wad(10) + wad("24.2")
    redo = one_event(tx, s.auction, "Redo")
    assert (redo.id, redo.keeper, redo.incentive) == (aid, keeper.address, incentive)
    assert s.debt_token.balanceOf(keeper) == keeper_before + incentive
    assert s.buffer.surplus() == surplus_before - incentive  # paid from the buffer's surplus
    paid = one_event(tx, s.buffer, "IncentivePaid")
    assert (paid.amount, paid.fromSurplus, paid.newBadDebt) == (incentive, incentive, 0)
    after = s.auction.sales(aid)
    start_price = s.oracle.peek(s.collateral["WETH"]).auctionStartPrice
    assert after.top == redo.top == mul_div_up(start_price, params.buffer, WAD)
    assert after.startedAt == tx.timestamp
    assert (after.lot, after.tab) == (sale.lot, sale.tab)
    h.assert_identity()
    tx = s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    check_take(h, tx)


def test_redo_after_price_below_floor(h, alice, bob, keeper, chain):
    s = h.s
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    params = s.auction.params(WETH_ID)
    at(chain, sale.startedAt + 1199)
    chain.pending_timestamp = sale.startedAt + 1200
    with reverts(s.auction, "AuctionDoesNotNeedRedo", id=aid):
        s.auction.redo(aid, keeper, sender=keeper)
    # At exactly 1200 s the price is the floor (2160): still sold.
    chain.pending_timestamp = sale.startedAt + 1200
    tx = s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    assert check_take(h, tx).price == wad(2160) == floor_of(h, "WETH", params)
    at(chain, sale.startedAt + 1201)
    needs_redo, price, _, _ = s.auction.getStatus(aid)
    assert needs_redo and price < wad(2160)
    with reverts(s.auction, "AuctionNeedsRedo", id=aid):
        s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    tab = s.auction.sales(aid).tab
    keeper_before = s.debt_token.balanceOf(keeper)
    h.refresh_all()
    tx = s.auction.redo(aid, keeper, sender=keeper)
    assert s.debt_token.balanceOf(keeper) - keeper_before == params.redoTip + tab * params.redoChip // WAD
    assert s.auction.sales(aid).top == wad(3240)
    needs_redo, price, _, _ = s.auction.getStatus(aid)
    assert not needs_redo and price == wad(3240)
    h.assert_identity()


def test_redo_incentives_are_bounded_on_an_auction_that_cannot_clear(h, alice, bob, keeper, chain):
    """Issue 16 item 5. Nobody buys at the floor (a depegged LST, the debt token above par), so
    the auction needs a redo every maxAge. Only its first MAX_PAID_REDOS (3) redos pay
    `redoTip + redoChip x tab`; later ones restart it all the same and pay nothing, so the buffer
    pays at most three incentives for it (before: one every maxAge, for ever). It still sells."""
    s = h.s
    params = set_curve(h, WETH_ID, max_age=600)
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    tab = s.auction.sales(aid).tab
    incentive = params.redoTip + tab * params.redoChip // WAD
    assert incentive == wad(10) + wad("24.2")
    keeper_before, surplus_before = s.debt_token.balanceOf(keeper), s.buffer.surplus()
    paid, counted = [], []
    for _ in range(5):
        at(chain, s.auction.sales(aid).startedAt + 601)
        h.refresh_all()
        tx = s.auction.redo(aid, keeper, sender=keeper)
        ev = one_event(tx, s.auction, "Redo")
        assert ev.top == mul_div_up(wad(2700), params.buffer, WAD) and s.auction.sales(aid).startedAt == tx.timestamp
        paid.append(ev.incentive)
        counted.append(getattr(s.auction.sales(aid), "paidRedos", None))
    assert paid == [incentive] * 3 + [0, 0]
    assert s.debt_token.balanceOf(keeper) - keeper_before == 3 * incentive
    assert surplus_before - s.buffer.surplus() == 3 * incentive
    assert counted == [1, 2, 3, 3, 3] and s.auction.MAX_PAID_REDOS() == 3
    check_take(h, s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob))
    h.assert_identity()


def test_floor_follows_the_oracle_current_price(h, alice, bob, keeper, chain):
    """The oracle's current price rises to 3300 after the kick: the floor becomes 2640, so an
    auction still priced above its old floor (2160) may not sell below 2640."""
    s = h.s
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    h.set_price("WETH", 3300, settle=False)
    s.oracle.poke(s.collateral["WETH"], sender=keeper)
    params = s.auction.params(WETH_ID)
    assert floor_of(h, "WETH", params) == wad(2640)
    # 3240 * (1 - t/3600) >= 2640 until t = 666 s (2640.6).
    chain.pending_timestamp = sale.startedAt + 666
    tx = s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    assert check_take(h, tx).price == wad("2640.6")
    at(chain, sale.startedAt + 667)
    needs_redo, price, _, _ = s.auction.getStatus(aid)
    assert needs_redo and wad(2160) < price < wad(2640)
    with reverts(s.auction, "AuctionNeedsRedo", id=aid):
        s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    tx = s.auction.redo(aid, keeper, sender=keeper)
    # Restarts from max(current, delayed) = 3300, times the buffer.
    assert one_event(tx, s.auction, "Redo").top == wad(3960)


@pytest.mark.parametrize(
    "curve",
    [
        dict(curve="linear", duration=1800),
        dict(curve="exponential", cut=ray("0.9995")),
        dict(curve="stairstep", cut=ray("0.97"), step=120),
    ],
    ids=["linear", "exponential", "stairstep"],
)
def test_takes_follow_the_curve_down_to_the_floor(h, alice, bob, keeper, chain, curve):
    """Takes every 150 s until the floor: each at the curve price of its second (rounded up),
    paid in full, never below the oracle floor; the first take past the floor is refused."""
    s = h.s
    params = set_curve(h, WETH_ID, **curve)
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    floor = floor_of(h, "WETH", params)
    elapsed, takes = 0, 0
    while True:
        elapsed += 150
        price = contract_curve_price(params, sale.top, elapsed)
        chain.pending_timestamp = sale.startedAt + elapsed
        if price < floor:
            with reverts(s.auction, "AuctionNeedsRedo", id=aid):
                s.auction.take(aid, WAD // 2, MAX_UINT, bob, b"", sender=bob)
            break
        tx = s.auction.take(aid, WAD // 2, MAX_UINT, bob, b"", sender=bob)
        ev = check_take(h, tx)
        assert ev.price == price >= curve_price(params, sale.top, elapsed)
        assert ev.owe == mul_div_up(WAD // 2, price, WAD)
        takes += 1
        h.assert_identity()
    assert takes >= 3


# --- guards and errors ---


def test_take_and_redo_argument_errors(h, alice, bob, keeper):
    s = h.s
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    with reverts(s.auction, "AuctionNotRunning", id=999):
        s.auction.take(999, WAD, MAX_UINT, bob, b"", sender=bob)
    with reverts(s.auction, "AuctionNotRunning", id=999):
        s.auction.redo(999, keeper, sender=keeper)
    with reverts(s.auction, "PriceAboveMax", maxPrice=wad(3000)):
        s.auction.take(aid, WAD, wad(3000), bob, b"", sender=bob)
    with reverts(s.auction, "ZeroAmount"):
        s.auction.take(aid, 0, MAX_UINT, bob, b"", sender=bob)
    with reverts(s.auction, "ZeroAddress"):
        s.auction.take(aid, WAD, MAX_UINT, ZERO, b"", sender=bob)
    with reverts(s.auction, "ZeroAddress"):
        s.auction.redo(aid, ZERO, sender=keeper)
    for receiver in (s.vault, s.debt_token, s.buffer, s.auction):
        with reverts(s.auction, "ForbiddenReceiver", receiver=receiver.address):
            s.auction.take(aid, WAD, MAX_UINT, receiver, b"", sender=bob)
    assert s.auction.sales(aid).lot == 10 * WAD


def test_redo_without_an_oracle_price(h, alice, keeper, chain):
    """An auction past maxAge whose feed went stale: the adapter is frozen, no restart price. The
    redo names the guard (it reverted `NoPrice` before the PRICE GUARDS rule: one error for take
    and redo now, the engine's)."""
    s = h.s
    set_curve(h, WETH_ID, max_age=600)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    at(chain, sale.startedAt + 3700)  # the feed's heartbeat is 3600 s
    assert s.auction.getStatus(aid)[0]  # needs a redo
    with reverts(s.auction, "OracleGuarded", token=s.collateral["WETH"].address, guard=GUARD_FROZEN):
        s.auction.redo(aid, keeper, sender=keeper)
    h.refresh_all()
    s.auction.redo(aid, keeper, sender=keeper)


# --- price guards (IDutchAuction PRICE GUARDS) ---


def test_takes_wait_while_a_jump_up_freezes_the_price(h, alice, bob, keeper, chain):
    """Issue 16 item 6. WETH jumps from 2700 to 4500 (+67%: beyond the 50% jump bound, and no
    secondary to confirm it), so the adapter freezes on the last good 2700. The auction's floor
    would stay at 2160 and its curve would sell WETH at 2700 and below while the market is at
    4500; the take and the redo are refused instead. When a price within the jump bound is
    accepted (4000), the recovery grace does not hold the auction up: the floor is 3200 now, the
    curve below it, so the auction is restarted (from 4000 x 1.2) and sells above that floor."""
    s = h.s
    weth = s.collateral["WETH"]
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    h.set_price("WETH", 4500, settle=False)
    s.oracle.poke(weth, sender=keeper)
    q = s.oracle.peek(weth)
    assert (q.guard, q.current) == (GUARD_FROZEN, wad(2700))
    at(chain, sale.startedAt + 600)  # the curve is at 2700, above the stale floor 2160
    assert s.auction.getStatus(aid)[:2] == (False, wad(2700))  # the curve, not the guard
    with reverts(s.auction, "OracleGuarded", token=weth.address, guard=GUARD_FROZEN):
        s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    with reverts(s.auction, "OracleGuarded", token=weth.address, guard=GUARD_FROZEN):
        s.auction.redo(aid, keeper, sender=keeper)
    assert s.auction.sales(aid) == sale  # a refusal changes nothing

    h.set_price("WETH", 4000, settle=False)  # within 50% of 2700: accepted, back to LIVE
    s.oracle.poke(weth, sender=keeper)
    assert s.oracle.peek(weth).guard == GUARD_RECOVERY
    with reverts(s.auction, "AuctionNeedsRedo", id=aid):
        s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    tx = s.auction.redo(aid, keeper, sender=keeper)
    assert one_event(tx, s.auction, "Redo").top == wad(4800)
    tx = s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    assert check_take(h, tx).price >= wad(3200) == floor_of(h, "WETH", s.auction.params(WETH_ID))
    h.assert_identity()


def test_takes_and_redo_wait_while_the_delayed_feed_is_stopped(h, alice, bob, keeper, deployer, chain):
    """The guardian stops WETH's delayed feed (it suspects the price): takes and redos of WETH
    auctions are refused until it restarts the feed; then both go on."""
    s = h.s
    weth = s.collateral["WETH"]
    set_curve(h, WETH_ID, max_age=600)
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    s.oracle.setDelayedStopped(weth, True, sender=deployer)  # the guardian
    for at_age in (300, 700):  # before and after maxAge
        chain.pending_timestamp = sale.startedAt + at_age
        with reverts(s.auction, "OracleGuarded", token=weth.address, guard=GUARD_DELAYED_STOPPED):
            s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
        with reverts(s.auction, "OracleGuarded", token=weth.address, guard=GUARD_DELAYED_STOPPED):
            s.auction.redo(aid, keeper, sender=keeper)
    s.oracle.setDelayedStopped(weth, False, sender=deployer)
    assert s.oracle.peek(weth).guard == GUARD_NONE
    s.auction.redo(aid, keeper, sender=keeper)
    check_take(h, s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob))
    h.assert_identity()


def test_takes_and_redo_wait_while_the_sequencer_is_down_not_in_its_grace(h, alice, bob, keeper, deployer,
                                                                          project, chain):
    """An L2 sequencer goes down: takes and redos are refused (only L1-forced transactions could
    bid, on feeds that do not update). It comes back: during its grace, when liquidations still
    wait, the auction is restarted and sold (the grace is for borrowers; this collateral is
    already seized)."""
    s = h.s
    weth = s.collateral["WETH"]
    set_curve(h, WETH_ID, max_age=600)
    seq = project.MockSequencerFeed.deploy(86_400, sender=deployer)
    h.govern(s.oracle, "setSequencerFeed", seq, 3600)
    buyer(h, bob)
    aid = kick_weth(h, alice, keeper)
    sale = s.auction.sales(aid)
    seq.setDown(True, sender=deployer)
    chain.pending_timestamp = sale.startedAt + 300
    with reverts(s.auction, "OracleGuarded", token=weth.address, guard=GUARD_SEQUENCER_DOWN):
        s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    at(chain, sale.startedAt + 700)  # past maxAge: it needs a redo, which waits as well
    h.refresh_all()
    assert s.auction.getStatus(aid)[0]
    with reverts(s.auction, "OracleGuarded", token=weth.address, guard=GUARD_SEQUENCER_DOWN):
        s.auction.redo(aid, keeper, sender=keeper)
    seq.setDown(False, sender=deployer)
    assert s.oracle.peek(weth).guard == GUARD_SEQUENCER_GRACE
    s.auction.redo(aid, keeper, sender=keeper)
    check_take(h, s.auction.take(aid, WAD, MAX_UINT, bob, b"", sender=bob))
    assert s.oracle.peek(weth).guard == GUARD_SEQUENCER_GRACE
    h.assert_identity()


def test_governance_params_and_bounds(h):
    s = h.s
    a = s.auction
    good = AuctionParams(curve="stairstep", buffer=wad("1.5"), cut=ray("0.9"), step=30, max_age=3600)
    h.govern(a, "setParams", 2, good.as_tuple())
    stored = a.params(2)
    assert (int(stored.curve), stored.buffer, stored.cut, stored.step, stored.maxAge) == (
        STAIRSTEP, wad("1.5"), ray("0.9"), 30, 3600,
    )
    # Every field at a distinctive value, the unused duration at its type's maximum: the storage
    # packing (what a take reads in one slot) round-trips each field exactly.
    edge = AuctionParams(curve="exponential", buffer=2 * WAD, duration=2**32 - 1, cut=RAY - 1, step=2**32 - 2,
                         max_age=7 * 86_400, max_discount=wad("0.25"), redo_tip=wad(10_000), redo_chip=wad("0.01"))
    h.govern(a, "setParams", 2, edge.as_tuple())
    assert tuple(int(x) for x in a.params(2)) == tuple(int(x) for x in edge.as_tuple())
    bad = [
        ("buffer", dict(buffer=WAD - 1)),
        ("buffer", dict(buffer=2 * WAD + 1)),
        ("duration", dict(curve="linear", duration=59)),
        ("duration", dict(curve="linear", duration=7 * 86_400 + 1)),
        ("cut", dict(curve="exponential", cut=ray("0.98"))),
        ("cut", dict(curve="exponential", cut=RAY)),
        ("cut", dict(curve="stairstep", cut=ray("0.49"))),
        ("step", dict(curve="stairstep", step=0)),
        ("step", dict(curve="stairstep", step=3601)),
        ("maxAge", dict(max_age=59)),
        ("maxDiscount", dict(max_discount=0)),
        ("maxDiscount", dict(max_discount=wad("0.25") + 1)),
        ("redoTip", dict(redo_tip=wad(10_001))),
        ("redoChip", dict(redo_chip=wad("0.01") + 1)),
    ]
    for name, over in bad:
        params = AuctionParams(**over).as_tuple()
        govern_reverts(h, a, "InvalidParameter", a, "setParams", 0, params, name=name)
    govern_reverts(h, a, "UnknownCollateral", a, "setParams", 3, AuctionParams().as_tuple(), id=3)
    govern_reverts(h, a, "InvalidParameter", a, "setStopLevel", 4, name="stopLevel", value=4)


def test_stop_levels(h, alice, bob, carol, keeper, deployer, outsider, chain):
    s = h.s
    a = s.auction
    buyer(h, bob)
    h.open(carol, {"WETH": 10}, 22_000)  # unsafe at 2700 too
    aid = kick_weth(h, alice, keeper)
    assert s.vault.healthOf(carol) < WAD
    refused(a, "setStopLevel", 1, by=outsider, role=GUARDIAN)

    a.setStopLevel(1, sender=deployer)  # guardian: no new auctions
    assert a.stopLevel() == 1
    call_reverts(a, "StopLevel", s.engine.liquidate, carol, keeper, sender=keeper, level=1)
    check_take(h, a.take(aid, WAD, MAX_UINT, bob, b"", sender=bob))

    a.setStopLevel(2, sender=deployer)  # no redo either
    sale = a.sales(aid)
    at(chain, sale.startedAt + 1300)
    assert a.getStatus(aid)[0]
    with reverts(a, "StopLevel", level=2):
        a.redo(aid, keeper, sender=keeper)

    with reverts(a, "InvalidParameter", name="stopLevel", value=1):
        a.setStopLevel(1, sender=deployer)  # the guardian only raises
    with reverts(a, "InvalidParameter", name="stopLevel", value=4):
        a.setStopLevel(4, sender=deployer)
    a.setStopLevel(3, sender=deployer)  # nothing at all
    with reverts(a, "StopLevel", level=3):
        a.take(aid, WAD, MAX_UINT, bob, b"", sender=bob)
    with reverts(a, "StopLevel", level=3):
        a.redo(aid, keeper, sender=keeper)

    h.govern(a, "setStopLevel", 0)  # governance lowers
    assert a.stopLevel() == 0
    h.refresh_all()
    a.redo(aid, keeper, sender=keeper)
    check_take(h, a.take(aid, WAD, MAX_UINT, bob, b"", sender=bob))
    s.engine.liquidate(carol, keeper, sender=keeper)
    h.assert_identity()


def test_privileged_functions_refused_to_outsider(h, outsider, deployer, alice):
    a = h.s.auction
    kick_args = (WETH_ID, h.s.collateral["WETH"], 18, WAD, wad(1000), wad(3000), alice, outsider)
    refused(a, "kick", *kick_args, by=outsider, role=ENGINE_ROLE)
    refused(a, "kick", *kick_args, by=deployer, role=ENGINE_ROLE)
    refused(a, "setParams", 0, AuctionParams().as_tuple(), by=outsider, role=GOVERNOR)
    refused(a, "setParams", 0, AuctionParams().as_tuple(), by=deployer, role=GOVERNOR)
    refused(a, "setStopLevel", 3, by=outsider, role=GUARDIAN)
    with reverts(a, "AccessControlUnauthorizedAccount", account=outsider.address, neededRole=ENGINE_ROLE):
        a.kick(*kick_args, sender=outsider)


# --- reentrancy ---


@pytest.mark.parametrize("mode", ["take", "redo", "liquidate"])
def test_flash_callback_cannot_reenter(h, alice, carol, keeper, project, deployer, mode):
    s = h.s
    rt = project.ReentrantTaker.deploy(s.auction, s.engine, s.debt_token, sender=deployer)
    buyer(h, deployer)
    s.debt_token.transfer(rt, wad(50_000), sender=deployer)
    h.open(carol, {"WETH": 10}, 22_000)  # unsafe at 2700: a liquidation target for the callback
    aid = kick_weth(h, alice, keeper)
    modes = {"take": 1, "redo": 2, "liquidate": 3}
    rt.arm(modes[mode], aid, carol, sender=deployer)
    with reverts(s.auction, "ReentrancyGuardReentrantCall"):
        s.auction.take(aid, WAD, MAX_UINT, rt, b"\x01", sender=deployer)
    assert rt.calls() == 0 and s.auction.sales(aid).lot == 10 * WAD
    # The control: the same receiver, not re-entering, takes fine; bob is liquidatable outside.
    rt.arm(0, aid, carol, sender=deployer)
    tx = s.auction.take(aid, WAD, MAX_UINT, rt, b"\x01", sender=deployer)
    check_take(h, tx)
    assert rt.calls() == 1
    s.engine.liquidate(carol, keeper, sender=keeper)
    h.assert_identity()
