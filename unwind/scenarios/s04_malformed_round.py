"""#4 Malformed round: `updatedAt` 0, `updatedAt` in the future, `roundId` 0, `startedAt` 0 — each
carrying a tempting price (+30%). Unwind rejects each (INVALID, never "fresh": FROZEN, no borrow,
no liquidation) and is not stuck: the next valid round brings the token back to LIVE (liquidations
after the recovery grace).
The attack story both variants play: the feed publishes a round dated a year in the future at
3,000 and then stops; the market falls 30%; two hours later the attacker buys WETH at 2,100 and
borrows against it. Naive: NaiveFeedOracle writes the heartbeat check as
`updatedAt + heartbeat >= now`, so a future-dated round is fresh for a year."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import HEARTBEAT, buy, deposit, feed_round, guard_name, try_borrow, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import FROZEN, LIVE, D

P0, P_REF = 3000, 2100
YEAR = 365 * 86400


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    weth = s.collateral["WETH"]
    feed = s.feeds["WETH"]
    holder = w.victims[0]
    w.open(holder, {"WETH": 10}, share_of_limit="0.5")
    r.track(holder, w.attacker)

    if not r.naive:
        tempting = P0 * 13 // 10 * 10**8
        for label, kwargs in (
            ("updatedAt = 0", dict(updated=0)),
            ("updatedAt in the future", dict(updated=w.now() + 3600)),
            ("roundId = 0", dict(round_id=0)),
            ("startedAt = 0", dict(started=0)),
        ):
            feed_round(w, feed, tempting, **kwargs)
            w.poke("WETH")
            q = w.quote("WETH")
            cap = s.vault.maxBorrow(holder)
            r.check(f"{label}: invalid, never fresh", int(q.status) == FROZEN and q.current == P0 * WAD
                    and q.borrowPrice == 0 and q.liquidationPrice == 0 and cap == 0,
                    f"status {int(q.status)}, current {wad_str(q.current)}, maxBorrow {wad_str(cap)}")
            w.feed_price("WETH", P0)
            w.poke("WETH")
            q = w.quote("WETH")
            r.check(f"{label}: not stuck (next valid round is LIVE, borrowing back)",
                    int(q.status) == LIVE and q.borrowPrice == P0 * WAD and s.vault.maxBorrow(holder) > 0,
                    f"{w.describe_quote('WETH')}")
            w.say("protocol", f"{label}: rejected; a valid round restores LIVE ({guard_name(w, 'WETH')})")
        w.advance(s.oracle.recoveryGrace() + 1)
        w.refresh_all()
        w.poke()
        r.check("after the recovery grace liquidations are allowed again", guard_name(w, "WETH") == "None")
    else:
        w.install_oracle(w.naive_feed_oracle(heartbeat=HEARTBEAT),
                         "NaiveFeedOracle: heartbeat as updatedAt + heartbeat >= now")

    # The attack: a round dated a year ahead, then the feed stops; the market falls.
    feed_round(w, feed, P0 * 10**8, updated=w.now() + YEAR)
    w.say("world", "the WETH feed publishes a round dated a year in the future at 3,000, then stops")
    w.advance(2 * HEARTBEAT)
    for sym in ("WBTC", "USDC"):
        w.refresh(sym)
    w.move_market("WETH", P_REF)
    w.poke()
    w.say("protocol", w.describe_quote("WETH") if not r.naive else "naive oracle still prices WETH at 3,000")
    ledger = Ledger(w, {"WETH": D(P_REF)})
    bought = buy(w, "WETH", 100)
    deposit(w, "WETH", bought)
    res = try_borrow(w, 100 * P0 * 3 // 4 * WAD, label=" (75% of 100 WETH at the future-dated 3,000)")
    pnl = ledger.close()
    if not r.naive:
        r.check("future-dated round: no borrow", not res.ok and res.error == "BorrowLimitExceeded", f"{res.error}")
        r.check("zero liquidations", len(w.liquidations()) == 0)
        r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=res.ok and pnl.net > 0)


SCENARIO = Scenario(
    number=4,
    key="malformed-round",
    title="Malformed round",
    incident="Malformed rounds: `updatedAt` 0 or in the future, `roundId` 0, `startedAt` 0 (incomplete "
             "rounds; the round checks Chainlink's own guidance asks for)",
    attack="each malformed round with a +30% price; then a round dated a year ahead at 3,000 while the "
           "market falls 30%: the attacker buys at 2,100 and borrows at 3,000",
    defence="a round is VALID only with roundId != 0, startedAt != 0, 0 < updatedAt <= now and within the "
            "heartbeat; anything else is INVALID (FROZEN) and the next valid round restores LIVE",
    criterion="revert or fallback; nothing stuck for good",
    variants=[
        Variant("unwind", "real OracleAdapter"),
        Variant("naive", "NaiveFeedOracle: heartbeat check that accepts future timestamps", kind="naive"),
    ],
    run=run,
)
