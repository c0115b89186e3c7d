"""#15 Cap out of sync (Aave CAPO, 2026). A capped price feed (CAPO: the price may not exceed a cap
that grows at a bounded rate) was configured with a cap BELOW the live rate, so the asset was
undervalued and healthy accounts were liquidated.
Unwind's equivalent of a cap is a feed's `maxAnswer` (answers at or above it are clamped =
INVALID, never used as a price). Governance tries to set it below the live price: `setFeed`
refuses ("clamped"). A cap set above the price and later overtaken by a genuine rise freezes the
token (no liquidation, no new debt) instead of pricing it at the cap: no liquidation is ever caused
by a cap below the uncapped price.
Naive: NaiveCappedOracle serves min(feed, cap) with an unchecked cap setter."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import guard_name, try_liquidate
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import FROZEN, D

P0, LOW_CAP, HIGH_CAP, RISE = 3000, 2400, 3300, 3400


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    weth = s.collateral["WETH"]
    victims = w.victims[:2]
    w.open(victims[0], {"WETH": 10}, share_of_limit="0.9")  # health 1.19 at 3,000, 0.95 at 2,400
    w.open(victims[1], {"WETH": 10}, share_of_limit="0.97")
    r.track(*victims, w.attacker)
    ledger = Ledger(w, {"WETH": D(P0)})
    start = w.chain.blocks.head.number + 1

    if r.naive:
        o = w.project.NaiveCappedOracle.deploy(sender=w.gov)
        for sym, token in s.collateral.items():
            o.setFeed(token, s.feeds[sym], sender=w.gov)
        w.install_oracle(o, "NaiveCappedOracle: min(feed, cap), unchecked setter")
        o.setCap(weth, LOW_CAP * WAD, sender=w.gov)
        w.say("governance", f"setCap(WETH, {LOW_CAP}) while WETH trades at {P0}")
        attempts = [try_liquidate(w, v, label=f" (priced at the cap {LOW_CAP})") for v in victims]
        pnl = ledger.close()
        w.say("result", pnl.line())
        return r.finish(pnl, attack_succeeded=any(a.ok for a in attempts))

    cfg = w.feed_config("WETH")
    cfg[8] = LOW_CAP * 10**8
    low = w.attempt(lambda: w.govern(s.oracle, "setFeed", weth, tuple(cfg)), who="governance",
                    what=f"setFeed(WETH, maxAnswer {LOW_CAP}) below the live {P0}")
    attempts = [try_liquidate(w, v, label=" after the refused cap") for v in victims]
    cfg[8] = HIGH_CAP * 10**8
    w.govern(s.oracle, "setFeed", weth, tuple(cfg))
    w.say("governance", f"setFeed(WETH, maxAnswer {HIGH_CAP}) above the live price: accepted")
    w.feed_price("WETH", RISE)
    w.poke()
    q = w.quote("WETH")
    w.say("world", f"WETH genuinely rises to {RISE}, past the cap")
    w.say("protocol", w.describe_quote("WETH"))
    attempts += [try_liquidate(w, v, label=" with the price past the cap") for v in victims]
    w.settle()
    attempts += [try_liquidate(w, v, label=" an hour later") for v in victims]
    pnl = ledger.close()
    r.check("the setter refuses a cap below the live price",
            not low.ok and low.error == "FeedRejectedAtActivation" and low.inputs.get("reason") == "clamped",
            f"{low.error} {low.inputs.get('reason')}")
    r.check("a price past the cap is never served (FROZEN, not capped)",
            int(q.status) == FROZEN and q.current == P0 * WAD, f"{w.describe_quote('WETH')}; guard {guard_name(w, 'WETH')}")
    r.check("no liquidation caused by a cap below the uncapped price",
            not w.liquidations(start) and not any(a.ok for a in attempts))
    r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=bool(w.liquidations(start)))


SCENARIO = Scenario(
    number=15,
    key="cap-out-of-sync",
    title="Cap out of sync",
    incident="Aave CAPO (2026): a capped LST price adapter with its cap below the live exchange rate "
             "undervalued collateral and liquidated healthy positions",
    attack="governance sets a cap (maxAnswer) below the live rate; or the rate rises past a cap",
    defence="setFeed refuses a configuration whose bound clamps the live answer; an answer at or past a bound "
            "is INVALID (FROZEN), never served as a capped price",
    criterion="no liquidation caused by a cap below the uncapped price",
    variants=[
        Variant("unwind", "real OracleAdapter (maxAnswer as the cap)"),
        Variant("naive", "NaiveCappedOracle: min(feed, cap), unchecked setter", kind="naive"),
    ],
    run=run,
)
