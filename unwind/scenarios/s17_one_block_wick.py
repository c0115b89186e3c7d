"""#17 One-block wick. The WETH feed prints a 40% wick (1,800) for one round and returns to 3,000 a
minute later. The attacker makes sure the wick is read exactly when an OSM hop is due (so it is
queued) and tries to liquidate three accounts that are healthy at P_ref (3,000) but would be
unsafe at 1,800, at every step through the next two hops. Unwind triggers liquidations on
max(current, delayed): a drop must show in both, i.e. persist through a full hop; a one-round wick
never does. Naive: NaiveFeedOracle (no delayed price) liquidates on the wick, and the attacker
flash-takes the auctions that start from 1,800 x 1.2."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import try_liquidate, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import D

P0, WICK = 3000, 1800


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    weth = s.collateral["WETH"]
    victims = w.victims[:3]
    w.open(victims[0], {"WETH": 10}, share_of_limit="0.9")
    w.open(victims[1], {"WETH": 10}, share_of_limit="0.97")
    w.open(victims[2], {"WETH": 5, "USDC": 10_000}, share_of_limit="0.95")
    r.track(*victims, w.attacker, w.bot)
    if r.naive:
        w.install_oracle(w.naive_feed_oracle(heartbeat=3600), "NaiveFeedOracle: no delayed price")
    ledger = Ledger(w, {"WETH": D(P0)})

    # Time the wick to land on a hop: the attacker pokes it into the OSM queue.
    last_hop = s.oracle.delayedState(weth)[2]
    wait = max(0, last_hop + s.params.oracle_delay - w.now())
    w.advance(wait + 1)
    w.refresh_all()
    w.feed_price("WETH", WICK)
    w.act("poke WETH exactly when a hop is due (the wick is queued)", s.oracle.poke, weth)
    w.say("world", f"the feed prints a {WICK} wick")
    w.say("protocol", w.describe_quote("WETH"))
    attempts = [try_liquidate(w, v, label=" during the wick") for v in victims]
    if r.naive:
        for aid in list(s.auction.list()):
            _, price, lot, _ = s.auction.getStatus(aid)
            w.attempt(w.bot.takeAndSell, s.auction, aid, lot, price, w.markets["WETH"], sender=w.attacker,
                      what=f"flash-take auction {aid} at {wad_str(price)}")
        w.act("sweep its contract's debt tokens", w.bot.sweep, s.debt_token)
        pnl = ledger.close()
        w.say("result", pnl.line())
        return r.finish(pnl, attack_succeeded=len(w.liquidations()) > 0)

    w.advance(60)
    w.feed_price("WETH", P0)
    w.poke()
    w.say("world", f"a minute later the feed is back at {P0}")
    w.say("protocol", w.describe_quote("WETH"))
    attempts += [try_liquidate(w, v, label=" after the wick") for v in victims]
    delayed = []
    for hop in range(2):
        w.advance(s.params.oracle_delay + 1)
        w.refresh_all()
        w.act(f"poke at hop {hop + 1}", s.oracle.poke, weth)
        delayed.append(s.oracle.delayedState(weth)[0])
        w.say("protocol", f"hop {hop + 1}: {w.describe_quote('WETH')}")
        attempts += [try_liquidate(w, v, label=f" at hop {hop + 1}") for v in victims]
    n = w.keeper_pass(victims)
    pnl = ledger.close()
    r.check("the wick reached the delayed price (the attacker timed it)", WICK * WAD in delayed,
            f"delayed after the hops: {', '.join(wad_str(d) for d in delayed)}")
    r.check("zero liquidations of accounts healthy at P_ref",
            not any(a.ok for a in attempts) and n == 0 and not w.liquidations(),
            f"{len(attempts)} attempts: {sorted({a.error for a in attempts})}")
    r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=len(w.liquidations()) > 0)


SCENARIO = Scenario(
    number=17,
    key="one-block-wick",
    title="One-block wick",
    incident="One-round wicks (e.g. the Binance.US BTC flash wick, Oct 2021); the rationale of Maker's "
             "delayed OSM price",
    attack="a 40% wick for one round, timed to be queued by an OSM hop; liquidate healthy accounts",
    defence="liquidations trigger on max(current, delayed): the confirmed price falls only when the drop is "
            "in both, i.e. persisted through a full hop; a one-round wick only lowers the borrow price "
            "(min) for a while, which is conservative",
    criterion="zero liquidations of accounts healthy at P_ref",
    variants=[
        Variant("unwind", "real OracleAdapter"),
        Variant("naive", "NaiveFeedOracle: no delayed price", kind="naive"),
    ],
    run=run,
)
