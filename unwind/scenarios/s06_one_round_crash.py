"""#6 One-round crash > 50% (Liquity's rule). WETH has a primary and a secondary feed. The primary
drops 60% in one round while the secondary holds at the honest price: Unwind FREEZES (the feeds
disagree by more than maxDeviation = 5%): no liquidation. The primary comes back: LIVE after the
recovery grace. Then a genuine crash: both feeds drop 60% together; the secondary confirms it, the
move is accepted in one round, and liquidations proceed at the confirmed price once it persisted
through the OSM hops. Every liquidation happens at a price within X = maxDeviationBps (5%) of
P_ref. Naive: NaiveFeedOracle reads the primary alone (no cross-check, no jump breaker)."""

from decimal import Decimal

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import guard_name, try_borrow, try_liquidate, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import FROZEN, LIVE, D

P0, CRASH = 3000, 1200
X_BPS = 500  # maxDeviationBps: the documented bound on how far an accepted price is from P_ref


def add_secondary(w, sym: str, price):
    """Governance gives `sym` a second, independent feed (fresh, at `price`)."""
    feed = w.project.MockAggregator.deploy(8, f"{sym} / USD (secondary)", int(D(price) * 10**8), sender=w.gov)
    cfg = w.feed_config(sym)
    cfg[2], cfg[3] = feed.address, 3600
    w.govern(w.s.oracle, "setFeed", w.s.collateral[sym], tuple(cfg))
    w.extra_feeds.append(feed)
    w.say("governance", f"setFeed({sym}): secondary feed {str(feed.address)[:10]} added (max deviation "
                        f"{cfg[4] / 100:.0f}%, max jump {cfg[5] / 100:.0f}%)")
    return feed


def liquidation_prices(w, since: int) -> list:
    """(account, liquidation price used) for every liquidation since `since` (read at that block)."""
    out = []
    for e in w.liquidations(since):
        q = w.s.oracle.peek(w.s.collateral["WETH"], block_id=e.block_number)
        out.append((str(e.account), q.liquidationPrice))
    return out


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    weth = s.collateral["WETH"]
    second = add_secondary(w, "WETH", P0)
    victims = w.victims[:2]
    w.open(victims[0], {"WETH": 10}, share_of_limit="0.97")  # health 1.10 at 3000
    w.open(victims[1], {"WETH": 10}, share_of_limit="0.6")  # health 1.78 at 3000, 0.71 at 1200
    r.track(*victims, w.attacker)
    if r.naive:
        w.install_oracle(w.naive_feed_oracle(heartbeat=3600), "NaiveFeedOracle: primary only, no cross-check")

    ledger = Ledger(w, {"WETH": D(P0)})
    start = w.chain.blocks.head.number + 1
    # Phase A: a bogus one-round crash of the primary.
    w.feed_price("WETH", CRASH)
    w.poke("WETH")
    w.say("world", f"primary drops 60% to {CRASH}; the secondary holds at {P0}")
    w.say("protocol", w.describe_quote("WETH"))
    liq_a = [try_liquidate(w, v, label=" (primary says 1,200)") for v in victims]
    bor = try_borrow(w, 1_000 * WAD, label=" during the freeze") if not r.naive else None
    for _ in range(2):  # it persists for two OSM hops: still frozen
        w.advance(s.params.oracle_delay + 1)
        w.refresh_all()
        w.poke()
        liq_a += [try_liquidate(w, v, label=" (primary still at 1,200)") for v in victims]
    frozen_a = int(w.quote("WETH").status) == FROZEN
    pnl = ledger.close()
    bogus = liquidation_prices(w, start)

    if r.naive:
        w.say("result", pnl.line())
        return r.finish(pnl, attack_succeeded=len(bogus) > 0)

    # Phase B: the primary comes back; LIVE again after the recovery grace.
    w.feed_price("WETH", P0)
    w.poke("WETH")
    back = int(w.quote("WETH").status) == LIVE
    w.say("world", f"primary back at {P0}")
    w.say("protocol", w.describe_quote("WETH"))
    w.advance(s.oracle.recoveryGrace() + 1)
    w.refresh_all()
    w.poke()
    # Phase C: a genuine crash, both feeds agree.
    phase_c = w.chain.blocks.head.number + 1
    w.feed_price("WETH", CRASH)
    w.feed_price("WETH", CRASH, feed=second)
    w.poke("WETH")
    q = w.quote("WETH")
    w.say("world", f"genuine crash: both feeds at {CRASH}")
    w.say("protocol", w.describe_quote("WETH"))
    confirmed = int(q.status) == LIVE and q.current == CRASH * WAD
    w.settle()
    n = w.keeper_pass(victims)
    genuine = liquidation_prices(w, phase_c)

    r.check("bogus primary crash: FROZEN (feeds disagree)", frozen_a, w.describe_quote("WETH") if not frozen_a else "")
    r.check("zero liquidations while the secondary disagrees", len(bogus) == 0 and not any(x.ok for x in liq_a),
            f"attempts: {sorted({x.error for x in liq_a})}")
    r.check("no new debt while frozen", bor is not None and not bor.ok, f"{bor.error if bor else ''}")
    r.check("returns to LIVE only when both agree", back, "")
    r.check("a crash the secondary confirms is accepted in one round", confirmed, f"current {wad_str(q.current)}")
    r.check("liquidations proceed once confirmed", n == 2, f"{n} liquidated")
    worst = max((abs(D(p) / WAD - CRASH) / CRASH for _, p in genuine), default=Decimal(0))
    r.check(f"every liquidation within {X_BPS / 100:.0f}% of P_ref", worst * 10_000 <= X_BPS,
            f"worst {worst * 100:.2f}% off P_ref over {len(genuine)} liquidations")
    r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    r.figure("guard_after", guard_name(w, "WETH"))
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=len(bogus) > 0)


SCENARIO = Scenario(
    number=6,
    key="one-round-crash",
    title="One-round crash > 50%",
    incident="Liquity v1's PriceFeed rule (Chainlink moves > 50% in one round: distrust it unless the "
             "fallback confirms)",
    attack="the primary drops 60% in one round while the secondary holds; the attacker liquidates at the "
           "crashed price",
    defence="two valid feeds that disagree by > maxDeviation (5%) FREEZE the token; a move > maxJump (50%) "
            "needs the secondary's confirmation; LIVE again only when both agree (then a recovery grace); "
            "a confirmed crash liquidates after one OSM hop",
    criterion="no liquidation at a price > X% off P_ref (X = maxDeviationBps = 5%); if the secondary "
              "confirms, liquidations proceed",
    variants=[
        Variant("unwind", "real OracleAdapter with a secondary feed"),
        Variant("naive", "NaiveFeedOracle on the primary alone", kind="naive"),
    ],
    run=run,
)
