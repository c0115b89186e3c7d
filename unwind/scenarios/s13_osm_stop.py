"""#13 Delayed price and emergency stop (Maker's OSM). A bad price (1,600, -47%, inside the jump
bound) is pushed to the WETH source. It becomes the adapter's `current` at once but reaches the
delayed (OSM) price only after a full hop. The guardian sees it and stops WETH's delayed feed
before that: the bad value never becomes the delayed price, and while stopped consumers get no
borrow and no liquidation price (OracleGuarded DelayedStopped). The source is fixed and the
guardian restarts the feed, which re-seeds the delayed price at the current, honest one.
Naive: the same adapter with nobody at the guardian's post: after two hops the bad price is
confirmed, the attacker liquidates an account healthy at P_ref and flash-takes the auction."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import buy, deposit, guard_name, try_borrow, try_liquidate, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import D

P0, BAD = 3000, 1600


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    weth = s.collateral["WETH"]
    victim = w.victims[0]
    w.open(victim, {"WETH": 10}, share_of_limit="0.9")  # health 1.19 at 3,000, 0.63 at 1,600
    r.track(victim, w.attacker, w.bot)
    ledger = Ledger(w, {"WETH": D(P0)})
    bought = buy(w, "WETH", 1)
    deposit(w, "WETH", bought)

    w.feed_price("WETH", BAD)
    w.poke("WETH")
    w.say("world", f"a bad price {BAD} is pushed to the WETH source")
    w.say("protocol", w.describe_quote("WETH"))
    delayed_seen = [s.oracle.delayedState(weth)[0]]
    if not r.naive:
        s.oracle.setDelayedStopped(weth, True, sender=w.gov)
        w.say("guardian", "setDelayedStopped(WETH, true) before the next hop")
    attempts = []
    for hop in range(2):
        w.advance(s.params.oracle_delay + 1)
        w.refresh_all()
        w.poke()
        delayed_seen.append(s.oracle.delayedState(weth)[0])
        w.say("protocol", f"hop {hop + 1}: {w.describe_quote('WETH')}")
        attempts.append(try_liquidate(w, victim, label=f" after hop {hop + 1}"))
    bor = try_borrow(w, 1_000 * WAD, label=" against 1 WETH while stopped") if not r.naive else None
    guard_stopped = guard_name(w, "WETH")

    if r.naive:
        for aid in list(s.auction.list()):
            _, price, lot, _ = s.auction.getStatus(aid)
            w.attempt(w.bot.takeAndSell, s.auction, aid, lot, price, w.markets["WETH"], sender=w.attacker,
                      what=f"flash-take auction {aid} at {wad_str(price)} (WETH trades at {P0} outside)")
        w.act("sweep its contract's debt tokens", w.bot.sweep, s.debt_token)
        pnl = ledger.close()
        w.say("result", pnl.line())
        return r.finish(pnl, attack_succeeded=len(w.liquidations()) > 0 and pnl.net > 0)

    w.feed_price("WETH", P0)
    w.poke("WETH")
    s.oracle.setDelayedStopped(weth, False, sender=w.gov)
    restarted = s.oracle.delayedState(weth)
    w.say("guardian", f"the source is fixed; restart: delayed re-seeded at {wad_str(restarted[0])}")
    w.refresh_all()
    n = w.keeper_pass([victim])
    pnl = ledger.close()
    r.check("the bad value never becomes the delayed price", all(d != BAD * WAD for d in delayed_seen),
            f"delayed seen: {', '.join(wad_str(d) for d in delayed_seen)}")
    r.check("consumers guarded while stopped (no liquidation, no borrow)",
            guard_stopped == "DelayedStopped" and not any(a.ok for a in attempts) and bor is not None and not bor.ok,
            f"guard {guard_stopped}; liquidate {sorted({a.error for a in attempts})}; borrow {bor.error}")
    r.check("restart re-seeds the delayed price at the current one", restarted[0] == restarted[1] == P0 * WAD)
    r.check("zero liquidations", n == 0 and len(w.liquidations()) == 0)
    r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=len(w.liquidations()) > 0)


SCENARIO = Scenario(
    number=13,
    key="osm-stop",
    title="Delayed price and emergency stop",
    incident="Maker's Oracle Security Module (one-hour delay, `stop` by governance/guardians)",
    attack="push a bad price to the source; wait for it to reach the delayed price; liquidate and take",
    defence="liquidations need max(current, delayed): a bad drop must survive a full OSM hop; the guardian can "
            "stop a token's delayed feed at once, which guards every consumer until it is restarted (re-seeded "
            "at the current price)",
    criterion="the bad value never becomes the delayed price; consumers revert or fall back while stopped",
    variants=[
        Variant("unwind", "real OracleAdapter, the guardian stops the delayed feed"),
        Variant("naive", "no guardian reaction", kind="naive"),
    ],
    run=run,
)
