"""A malicious flash-take callee (ReentrantTaker) re-enters take (the same auction and another),
redo, liquidate, the module-only entry points and every kind of setter from inside
`onUnwindTake`: all refused, nothing moves. The honest control pays exactly: collateral out is
what was taken, debt in is what is owed. And self-liquidation through a second account never
profits while the auction covers its tab.
"""

import pytest
from sec_helpers import GOVERNOR, MAX_UINT, assert_reverts

from unwind import curves, story
from unwind.deploy import role
from unwind.params import WAD, AuctionParams

GUARDIAN = role("GUARDIAN_ROLE")
ENGINE_ROLE = role("ENGINE_ROLE")
AUCTION_ROLE = role("AUCTION_ROLE")
MINTER_ROLE = role("MINTER_ROLE")
MODULE_ROLE = role("MODULE_ROLE")
NONE, TAKE, REDO, LIQUIDATE, CALL, NOPAY = range(6)


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def dave(accounts):
    return accounts[6]


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployer, alice, bob, carol, dave, keeper, outsider, system,
                            scene):
    """Every session and module fixture set up before Ape's per-test isolation snapshot (so the
    scene is built once and each test starts from it)."""


def open_position(s, who, weth, debt):
    weth_token = s.collateral["WETH"]
    weth_token.mint(who, weth * WAD, sender=who)
    weth_token.approve(s.vault, MAX_UINT, sender=who)
    s.vault.deposit(who, s.ids["WETH"], weth * WAD, sender=who)
    s.vault.borrow(who, debt * WAD, who, sender=who)


def holder(s, who, debt=200_000):
    """`who` holds `debt` debt tokens, borrowed against USDC."""
    usdc = s.collateral["USDC"]
    usdc.mint(who, debt * 2 * 10**6, sender=who)
    usdc.approve(s.vault, MAX_UINT, sender=who)
    s.vault.deposit(who, s.ids["USDC"], debt * 2 * 10**6, sender=who)
    s.vault.borrow(who, debt * WAD, who, sender=who)


def crash(s, chain, deployer, price="2700"):
    story.set_price(s, chain, deployer, "WETH", price)
    story.settle_oracle(s, chain, deployer)


def kick(s, owner, keeper):
    tx = s.engine.liquidate(owner, keeper, sender=keeper)
    return [k.id for k in s.auction.Kick.from_receipt(tx)]


@pytest.fixture(scope="module")
def scene(system, chain, deployer, alice, bob, carol, dave, outsider, keeper, project):
    """alice, bob, carol and dave unsafe at WETH 2700; alice and carol liquidated (two auctions,
    for the cross-auction case); bob left for a liquidation from inside the callback; dave's is
    the self-liquidation case, with `outsider` as his second account holding debt tokens."""
    s = system
    for who in (alice, bob, carol, dave):
        open_position(s, who, 10, 22_000)
    holder(s, outsider)
    crash(s, chain, deployer)
    first = kick(s, alice, keeper)[0]
    other = kick(s, carol, keeper)[0]
    rt = project.ReentrantTaker.deploy(s.auction, s.engine, s.debt_token, sender=deployer)
    holder(s, deployer)
    s.debt_token.transfer(rt, 100_000 * WAD, sender=deployer)
    return s, rt, first, other


def state(s, rt, aid, other, bob):
    sale, sale2 = s.auction.sales(aid), s.auction.sales(other)
    weth = s.collateral["WETH"]
    return (sale.lot, sale.tab, sale2.lot, sale2.tab, weth.balanceOf(rt), s.debt_token.balanceOf(rt),
            s.vault.debtOf(bob), s.auction.totalDebt(), s.debt_token.totalSupply(), s.vault.dust(),
            s.engine.targetHealth(), s.auction.stopLevel())


def setter_calls(s, rt):
    """(name, target, calldata, expected error, inputs): every setter and module-only entry."""
    v, e, a, b, o, d = s.vault, s.engine, s.auction, s.buffer, s.oracle, s.debt_token
    gov = {"account": rt.address, "neededRole": GOVERNOR}
    return [
        ("vault.setDust", v, v.setDust.encode_input(0), gov),
        ("vault.setStabilityFee", v, v.setStabilityFee.encode_input(10**27), gov),
        ("vault.setOracle", v, v.setOracle.encode_input(rt.address), gov),
        ("vault.setLiquidationThreshold", v, v.setLiquidationThreshold.encode_input(0, 10**17, 86_400), gov),
        ("vault.confiscate", v, v.confiscate.encode_input(rt.address, [0], [1], 0),
         {"account": rt.address, "neededRole": ENGINE_ROLE}),
        ("vault.releaseCollateral", v, v.releaseCollateral.encode_input(0, rt.address, WAD),
         {"account": rt.address, "neededRole": AUCTION_ROLE}),
        ("vault.returnCollateral", v, v.returnCollateral.encode_input(rt.address, 0, WAD),
         {"account": rt.address, "neededRole": AUCTION_ROLE}),
        ("engine.setTargetHealth", e, e.setTargetHealth.encode_input(2 * WAD), gov),
        ("engine.setIncentive", e, e.setIncentive.encode_input(0, 0), gov),
        ("engine.setGlobalCap", e, e.setGlobalCap.encode_input(0), gov),
        ("engine.pause", e, e.pause.encode_input(), {"account": rt.address, "neededRole": GUARDIAN}),
        ("auction.setParams", a, a.setParams.encode_input(0, AuctionParams().as_tuple()), gov),
        ("auction.setStopLevel", a, a.setStopLevel.encode_input(3), {"account": rt.address, "neededRole": GUARDIAN}),
        ("auction.kick", a, a.kick.encode_input(0, rt.address, 18, 1, 1, 1, rt.address, rt.address),
         {"account": rt.address, "neededRole": ENGINE_ROLE}),
        ("buffer.withdrawSurplus", b, b.withdrawSurplus.encode_input(rt.address, 1), gov),
        ("buffer.pay", b, b.pay.encode_input(rt.address, WAD), {"account": rt.address, "neededRole": MODULE_ROLE}),
        ("oracle.setRecoveryGrace", o, o.setRecoveryGrace.encode_input(0), gov),
        ("debtToken.mint", d, d.mint.encode_input(rt.address, WAD), {"account": rt.address, "neededRole": MINTER_ROLE}),
    ]


@pytest.mark.parametrize("mode", ["take-same", "take-other", "redo", "liquidate"])
def test_callback_cannot_reenter_the_protocol(scene, bob, deployer, mode):
    s, rt, aid, other = scene
    target = other if mode == "take-other" else aid
    rt.arm({"take-same": TAKE, "take-other": TAKE, "redo": REDO, "liquidate": LIQUIDATE}[mode], target, bob,
           sender=deployer)
    before = state(s, rt, aid, other, bob)
    assert_reverts("ReentrancyGuardReentrantCall", s.auction.take, aid, WAD, MAX_UINT, rt, b"\x01", sender=deployer)
    assert state(s, rt, aid, other, bob) == before


def test_callback_cannot_call_setters_or_module_entries(scene, bob, deployer):
    s, rt, aid, other = scene
    before = state(s, rt, aid, other, bob)
    for name, target, data, inputs in setter_calls(s, rt):
        rt.armCall(target, data, sender=deployer)
        got = assert_reverts("AccessControlUnauthorizedAccount", s.auction.take, aid, WAD, MAX_UINT, rt, b"\x01",
                             sender=deployer, abis=(target,), **inputs)
        assert got, name
    assert state(s, rt, aid, other, bob) == before


def test_callee_that_does_not_pay_gets_nothing(scene, bob, keeper, deployer):
    s, rt, aid, other = scene
    rt.arm(NOPAY, aid, bob, sender=deployer)
    before = state(s, rt, aid, other, bob)
    # The taker (keeper here, holding no debt tokens) must pay `owe` when the callback returns.
    assert s.debt_token.balanceOf(keeper) < WAD * 3000
    assert_reverts("ERC20InsufficientBalance", s.auction.take, aid, WAD, MAX_UINT, rt, b"\x01", sender=keeper,
                   abis=(s.debt_token,))
    assert state(s, rt, aid, other, bob) == before


def test_honest_callee_collateral_out_equals_taken_debt_in_equals_owed(scene, bob, deployer, chain):
    s, rt, aid, other = scene
    rt.arm(NONE, aid, bob, sender=deployer)
    weth = s.collateral["WETH"]
    sale = s.auction.sales(aid)
    c0, d0, dd0 = weth.balanceOf(rt), s.debt_token.balanceOf(rt), s.debt_token.balanceOf(deployer)
    supply0 = s.debt_token.totalSupply()
    tx = s.auction.take(aid, WAD, MAX_UINT, rt, b"\x01", sender=deployer)
    ev = s.auction.Take.from_receipt(tx)[0]
    assert rt.calls() == 1
    assert weth.balanceOf(rt) - c0 == ev.slice == WAD  # collateral out == what was taken
    assert d0 - s.debt_token.balanceOf(rt) == ev.owe  # the callee paid exactly what is owed
    assert s.debt_token.balanceOf(deployer) == dd0  # passed through the taker, burned
    assert supply0 - s.debt_token.totalSupply() == ev.owe
    assert ev.owe == -(-ev.slice * ev.price // WAD)  # owe = ceil(slice * price)
    assert s.auction.sales(aid).tab == sale.tab - ev.owe and s.auction.sales(aid).lot == sale.lot - ev.slice


# --- self-liquidation ---


def wealth(s, people) -> int:
    """What `people` own together at the oracle's current prices, net of their vault debt [wad]."""
    total = 0
    for who in people:
        for sym, tok in s.collateral.items():
            price = s.oracle.peek(tok).current
            amount = tok.balanceOf(who) + s.vault.collateralOf(who, s.ids[sym])
            total += amount * price // 10 ** tok.decimals()
        total += s.debt_token.balanceOf(who) - s.vault.debtOf(who)
    return total


@pytest.mark.parametrize("wait", [0, 0.5, 1.0, 1.15])
def test_self_liquidation_through_a_second_account_never_profits(scene, chain, deployer, dave, outsider, wait):
    """dave's main account is unsafe; dave liquidates it from his second account (`outsider`) as
    keeper and buys the whole lot back at the curve price `wait` x (the time the curve takes to
    fall from top to the reference price) in. While the take covers the tab, the pair loses
    exactly penalty - incentive (>= 0), whatever the price."""
    s = scene[0]
    me, alt = dave, outsider
    w0 = wealth(s, (me, alt))
    tx = s.engine.liquidate(me, alt, sender=alt)
    liq = s.engine.Liquidate.from_receipt(tx)[0]
    assert liq.incentive <= liq.penalty
    for k in s.auction.Kick.from_receipt(tx):
        if wait:
            p = s.auction.params(k.collateralId)
            to_ref = curves.last_second_at_or_above(p, k.top, k.top * WAD // p.buffer, p.maxAge)
            chain.mine(1, deltatime=max(1, int(wait * to_ref)))
        s.debt_token.approve(s.auction, MAX_UINT, sender=alt)
        take = s.auction.take(k.id, k.lot, MAX_UINT, alt, b"", sender=alt)
        ended = s.auction.AuctionEnded.from_receipt(take)[0]
        assert ended.shortfall == 0, "this case is about takes that cover the tab"
    w1 = wealth(s, (me, alt))
    assert w1 <= w0, f"self-liquidation profited {w1 - w0}"
    # Exactly the penalty less the incentive (a few wei of value rounding aside).
    assert abs((w0 - w1) - (liq.penalty - liq.incentive)) <= 10**6


def test_self_liquidation_gain_bounded_by_the_auction_discount(scene, chain, deployer, dave, outsider):
    """If nobody bids until the curve is below the price that covers the tab, the self-taker buys
    at a discount any keeper could have taken first; the pair's gain is at most that discount
    less (penalty - incentive)."""
    s = scene[0]
    me, alt = dave, outsider
    w0 = wealth(s, (me, alt))
    tx = s.engine.liquidate(me, alt, sender=alt)
    liq = s.engine.Liquidate.from_receipt(tx)[0]
    k = s.auction.Kick.from_receipt(tx)[0]
    p = s.auction.params(k.collateralId)
    ref = k.top * WAD // p.buffer
    floor_at = curves.last_second_at_or_above(p, k.top, ref * (WAD - p.maxDiscount) // WAD, p.maxAge)
    chain.mine(1, deltatime=floor_at - 10)  # just above the floor
    story.refresh_feeds(s, deployer)
    take = s.auction.take(k.id, k.lot, MAX_UINT, alt, b"", sender=alt)
    ev = s.auction.Take.from_receipt(take)[0]
    ref = s.oracle.peek(s.collateral["WETH"]).current
    discount = ev.slice * (ref - ev.price) // WAD
    w1 = wealth(s, (me, alt))
    assert w1 - w0 <= discount - (liq.penalty - liq.incentive) + 10**6
