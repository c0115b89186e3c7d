"""#1 Stale feed: the WETH feed stops updating while the market falls 30%. The attacker buys WETH
at the market price and tries to borrow against it at the stale price; a keeper tries to liquidate
on the stale price. Unwind refuses both (status FROZEN: no borrow price, no liquidation price) and
accepts nothing from a round older than its heartbeat; repay and deposit go on; when fresh rounds
return, liquidations resume at the fresh price after the recovery grace.
Naive: an adapter without a heartbeat check (NaiveFeedOracle, heartbeat 0)."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import HEARTBEAT, buy, guard_name, deposit, try_borrow, try_liquidate, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import FROZEN, D

P0, P_REF = 3000, 2100


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    victim = w.victims[0]
    w.open(victim, {"WETH": 10}, share_of_limit="0.97")  # health 1.10 at 3000, 0.77 at 2100
    r.track(victim, w.attacker)
    if r.naive:
        w.install_oracle(w.naive_feed_oracle(heartbeat=0), "NaiveFeedOracle: no heartbeat check")
    weth = s.collateral["WETH"]
    hop_before = s.oracle.delayedState(weth)
    accepted_before = s.oracle.peek(weth).current

    w.say("world", f"the WETH feed stops at {P0}; {HEARTBEAT + 60} s pass; the market falls to {P_REF}")
    stale_round = s.feeds["WETH"].roundId()
    w.advance(HEARTBEAT + 60)
    for sym in ("WBTC", "USDC"):
        w.refresh(sym)
    w.move_market("WETH", P_REF)
    w.poke()
    r.figure("weth_status", w.describe_quote("WETH"))
    w.say("protocol", w.describe_quote("WETH"))

    ledger = Ledger(w, {"WETH": D(P_REF)})
    bought = buy(w, "WETH", 100)
    deposit(w, "WETH", bought)
    stale_limit = 100 * P0 * 3 // 4 * WAD  # what the stale price would allow
    res = try_borrow(w, stale_limit, label=" (75% of 100 WETH at the stale 3000)")
    liq = try_liquidate(w, victim, label=" (unsafe at P_ref, healthy at the stale price)")
    pnl = ledger.close()

    # Users can still repay and deposit while the price is stale.
    repay = w.attempt(s.vault.repay, victim, 1_000 * WAD, sender=victim, who="victim", what="repay 1,000 uUSD")
    w.mint(victim, "WETH", 1)
    dep = w.attempt(s.vault.deposit, victim, s.ids["WETH"], 10**18, sender=victim, who="victim",
                    what="deposit 1 WETH")

    if not r.naive:
        q = w.quote("WETH")
        r.check("stale round never accepted", int(q.status) == FROZEN and q.current == accepted_before
                and s.feeds["WETH"].roundId() == stale_round,
                f"status {int(q.status)}, current {wad_str(q.current)} (was {wad_str(accepted_before)})")
        r.check("no OSM hop on a stale round", s.oracle.delayedState(weth)[2] == hop_before[2],
                f"lastHop {s.oracle.delayedState(weth)[2]} (was {hop_before[2]})")
        r.check("no borrow priced by the stale round",
                not res.ok and res.error == "BorrowLimitExceeded" and s.vault.debtOf(w.attacker) == 0,
                f"borrow: {res.error}")
        r.check("no liquidation priced by the stale round",
                not liq.ok and liq.error in ("OracleGuarded", "NotLiquidatable") and len(w.liquidations()) == 0
                and w.quote("WETH").liquidationPrice == 0,
                f"liquidate: {liq.error} (liquidation price 0, guard {guard_name(w, 'WETH')}; the engine "
                f"reports the account healthy at the last accepted price first)")
        r.check("repay and deposit still work", repay.ok and dep.ok)
        r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
        # Fresh rounds come back (a 30% move, inside the jump bound): liquidations resume at the
        # fresh price once the recovery grace and the OSM hops have passed.
        w.feed_price("WETH", P_REF)
        w.poke("WETH")
        grace = s.oracle.recoveryGrace()
        w.say("world", f"the feed resumes at {P_REF}; status")
        w.say("protocol", w.describe_quote("WETH"))
        w.settle()
        w.advance(grace)
        w.refresh_all()
        n = w.keeper_pass([victim])
        r.check("after fresh rounds, liquidation at the fresh price", n == 1,
                f"{n} liquidated at liquidation price {wad_str(w.quote('WETH').liquidationPrice)}")
    else:
        r.figure("naive_borrowed", s.vault.debtOf(w.attacker))
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=res.ok and pnl.net > 0)


SCENARIO = Scenario(
    number=1,
    key="stale-feed",
    title="Stale feed",
    incident="Stale rounds: a halted feed keeps serving its last answer (Chainlink paused LUNA/USD in "
             "May 2022); the missing updatedAt/heartbeat check",
    attack="WETH feed stops updating, time passes its 1 h heartbeat, the market falls 30%; the attacker "
           "buys WETH at 2,100 and borrows against it at the stale 3,000",
    defence="A round older than its heartbeat is INVALID: the token goes FROZEN, its borrow and liquidation "
            "prices are 0 (no new debt, no liquidation), nothing from the stale round is accepted or "
            "queued in the OSM; repay/deposit go on; fresh rounds bring it back after the recovery grace",
    criterion="no state change priced by a round older than its heartbeat",
    variants=[
        Variant("unwind", "real OracleAdapter"),
        Variant("naive", "NaiveFeedOracle without a heartbeat check", kind="naive"),
    ],
    run=run,
)
