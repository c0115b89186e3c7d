"""#9 Thin-market pump of an honest feed (Mango Markets, October 2022). Governance has listed THIN,
a thinly traded token (P_ref 10; its market holds 10,000 THIN against 100,000 uUSD) with two HONEST
feeds that report what its market trades at. The attacker buys ~6,800 THIN, which pumps its market
10x; both feeds honestly follow. It holds the pump through the OSM delay (two hops, ~20 minutes,
nobody arbitrages), deposits what the supply cap lets it, borrows all it can, sells the rest and
walks away. The price returns, the account is liquidated, the auction sells the THIN at ~P_ref and
the shortfall lands in the buffer and as bad debt.
Nothing in an oracle can tell an honest pump from real demand. What bounds the loss is the supply
cap and borrowing at min(current, delayed):
    bad debt <= supplyCap x maxLtv x (highest borrow price served) + keeper incentive
and all of it is recorded (sum of shortfalls == covered by the buffer + new bad debt; the
accounting identity holds). Naive: the same listing with an effectively unlimited supply cap."""

from unwind.params import WAD, AuctionParams, wad
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import deposit, spend, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import MAX_UINT, D

P_REF, PUMP = 10, 10  # honest price, pump factor
POOL = (10_000, 100_000)  # THIN, uUSD
CAP = 2_000  # THIN supply cap [whole tokens]
MAX_LTV, LT, PENALTY = "0.5", "0.6", "0.1"
NAIVE_CAP = 10**9


def list_thin(w, cap_whole: int):
    s, gov = w.s, w.gov
    token = w.project.MockERC20.deploy("Thin Token", "THIN", 18, sender=gov)
    primary = w.project.MockAggregator.deploy(8, "THIN / USD", P_REF * 10**8, sender=gov)
    secondary = w.project.MockAggregator.deploy(8, "THIN / USD (second venue)", P_REF * 10**8, sender=gov)
    cfg = (primary.address, 3600, secondary.address, 3600, 500, 5000, s.params.oracle_delay, 0, 0)
    w.govern(s.oracle, "setFeed", token, cfg)
    w.govern(s.vault, "listCollateral", token, wad(MAX_LTV), wad(LT), wad(PENALTY), cap_whole * WAD)
    cid = s.vault.collateralId(token)
    w.govern(s.auction, "setParams", cid, AuctionParams().as_tuple())
    w.govern(s.engine, "setCollateralCap", cid, 5_000_000 * WAD)
    w.add_collateral("THIN", token, primary, cid, extra_feeds=[secondary])
    m = w.project.ConstantProductMarket.deploy(token, s.debt_token, 30, sender=w.lp)
    token.mint(w.lp, POOL[0] * WAD, sender=w.lp)
    token.approve(m, MAX_UINT, sender=w.lp)
    s.debt_token.approve(m, MAX_UINT, sender=w.lp)
    m.addLiquidity(POOL[0] * WAD, POOL[1] * WAD, sender=w.lp)
    w.markets["THIN"] = m
    for who in (w.attacker, w.keeper):
        token.approve(s.vault, MAX_UINT, sender=who)
        token.approve(m, MAX_UINT, sender=who)
        s.debt_token.approve(m, MAX_UINT, sender=who)
    w.say("governance", f"list THIN: maxLtv {MAX_LTV}, threshold {LT}, supply cap {cap_whole:,} THIN; two honest "
                        f"feeds that follow its market ({POOL[0]:,} THIN / {POOL[1]:,} uUSD)")
    return token, primary, secondary


def feeds_follow_market(w, primary, secondary):
    price = w.spot("THIN")
    for f in (primary, secondary):
        w.feed_price("THIN", price, feed=f)
    return price


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    cap = NAIVE_CAP if r.naive else CAP
    token, primary, secondary = list_thin(w, cap)
    if r.naive:
        w.say("governance", "[naive setup] THIN's supply cap is effectively unlimited")
    r.track(w.attacker)
    ledger = Ledger(w, {"THIN": D(P_REF)})
    bad0 = s.buffer.badDebt()
    start = w.chain.blocks.head.number + 1

    m = w.markets["THIN"]
    _, need = m.amountToReach(P_REF * PUMP * WAD)
    got = spend(w, "THIN", need, what=f"buy THIN with {wad_str(need)} uUSD: its market goes {P_REF} -> ~{P_REF * PUMP}")
    price = feeds_follow_market(w, primary, secondary)
    w.poke("THIN")
    w.say("world", f"both honest feeds report {price:,.2f}")
    w.say("protocol", w.describe_quote("THIN"))
    for _ in range(2):  # hold the pump through two OSM hops
        w.advance(s.params.oracle_delay + 1)
        w.refresh_all()
        w.poke()
    q = w.quote("THIN")
    p_borrow = q.borrowPrice
    w.say("protocol", f"after holding ~20 min: {w.describe_quote('THIN')}")
    room = cap * WAD - s.vault.collateral(s.ids["THIN"]).totalSupplied
    put = min(got, room)
    deposit(w, "THIN", put)
    cap_borrow = s.vault.maxBorrow(w.attacker)
    w.act(f"borrow {wad_str(cap_borrow)} uUSD against {w.whole('THIN', put):,.0f} THIN", s.vault.borrow,
          w.attacker, cap_borrow, w.attacker)
    rest = token.balanceOf(w.attacker)
    if rest:
        w.act(f"sell the other {w.whole('THIN', rest):,.0f} THIN back", m.swap, token, rest, 0, w.attacker)

    # The price returns: arbitrage restores the market, the feeds follow.
    w.move_market("THIN", P_REF)
    feeds_follow_market(w, primary, secondary)
    w.poke("THIN")
    w.say("world", f"the pump ends: market and feeds back at ~{P_REF}")
    w.say("protocol", w.describe_quote("THIN"))
    w.settle()
    n = w.keeper_pass([w.attacker])
    ids = list(s.auction.list())
    w.advance(700)  # the auction price falls to about the market price
    w.refresh_all()
    for aid in ids:
        need_redo, price_now, lot, tab = s.auction.getStatus(aid)
        if need_redo:
            s.auction.redo(aid, w.keeper, sender=w.keeper)
            need_redo, price_now, lot, tab = s.auction.getStatus(aid)
        s.auction.take(aid, lot, price_now, w.keeper, b"", sender=w.keeper)
        w.say("keeper", f"take auction {aid}: {w.whole('THIN', lot):,.0f} THIN at {wad_str(price_now)}")
    pnl = ledger.close()

    head = w.chain.blocks.head.number
    absorbed = list(s.buffer.ShortfallAbsorbed.range(start, head + 1))
    ended = list(s.auction.AuctionEnded.range(start, head + 1))
    shortfall = sum(e.shortfall for e in ended)
    covered = sum(e.covered for e in absorbed)
    bad_new = s.buffer.badDebt() - bad0
    incentive = sum(e.incentive for e in w.liquidations(start))
    bound = D(cap if not r.naive else CAP) * D(MAX_LTV) * D(p_borrow) / WAD + D(incentive) / WAD
    r.figure("debt_borrowed", cap_borrow)
    r.figure("bad_debt", bad_new)
    r.figure("bound", bound)
    r.figure("max_borrow_price", p_borrow)
    w.say("protocol", f"liquidated {n}; shortfall {wad_str(shortfall)}, covered by the buffer {wad_str(covered)}, "
                      f"new bad debt {wad_str(bad_new)}; bound {bound:,.2f}")
    if not r.naive:
        r.check("bad debt <= supplyCap x maxLtv x max borrow price + incentive", D(bad_new) / WAD <= bound,
                f"{wad_str(bad_new)} <= {bound:,.2f} (cap {CAP:,} THIN, maxLtv {MAX_LTV}, borrow price "
                f"{wad_str(p_borrow)})")
        r.check("all of it recorded: shortfall == covered + new bad debt", shortfall == covered + bad_new and shortfall > 0,
                f"{wad_str(shortfall)} == {wad_str(covered)} + {wad_str(bad_new)}")
        r.check("accounting identity holds", w.identity_holds())
        r.check("the account was liquidated once the price returned", n == 1 and len(ended) == len(ids) > 0)
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=D(bad_new) / WAD > bound and pnl.net > 0)


SCENARIO = Scenario(
    number=9,
    key="thin-market-pump",
    title="Thin-market pump of an honest feed",
    incident="Mango Markets (Oct 2022): MNGO pumped ~10x on thin venues, honest oracles followed, $110M "
             "borrowed against it",
    attack="buy THIN in its thin market (10x), hold through the OSM delay, deposit, borrow all, walk away",
    defence="borrowing uses min(current, delayed) (the pump must be held through the OSM hops) and the "
            "supply cap bounds the exposure; the loss is liquidated and recorded (buffer, then bad debt)",
    criterion="bad debt after the price returns <= the exposure the asset's caps allow (supplyCap x maxLtv x "
              "max borrow price + incentive), and all of it is recorded",
    variants=[
        Variant("unwind", "real system, THIN listed with a 2,000-token supply cap"),
        Variant("naive", "supply cap effectively unlimited", kind="naive"),
    ],
    run=run,
)
