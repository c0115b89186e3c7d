"""#5 Clamped at minAnswer (Venus / LUNA, May 2022). The WETH aggregator has a floor of 2,000 (its
`minAnswer`); the market crashes to 200, ten times lower, and the feed stays pinned at 2,000. The
attacker buys WETH at ~200, deposits it and borrows against it.
Unwind: governance (re)configured the feed with `minAnswer = 0`, as `unwind.deploy` does, and the
adapter adopted the aggregator's own floor (OracleAdapter choice 14); an answer AT the floor is
clamped = INVALID, so WETH stops counting toward new debt. Naive: NaiveFeedOracle takes the
answer at face value."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import buy, deposit, guard_name, try_borrow, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import FROZEN, D

FLOOR, P_REF = 2000, 200
INT192_MAX = 2**191 - 1


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    weth = s.collateral["WETH"]
    feed = s.feeds["WETH"]
    mixed = w.victims[0]
    w.open(mixed, {"WETH": 10, "USDC": 10_000}, debt=1_000)
    r.track(mixed, w.attacker)

    feed.setBounds(FLOOR * 10**8, INT192_MAX, sender=w.gov)
    w.say("world", f"the WETH aggregator's floor (minAnswer) is {FLOOR}")
    cfg = w.feed_config("WETH")
    cfg[7] = 0  # minAnswer as unwind.deploy configures it: not set
    w.govern(s.oracle, "setFeed", weth, tuple(cfg))
    adopted = s.oracle.feedConfig(weth)[7]
    w.say("governance", f"setFeed(WETH, minAnswer=0): stored minAnswer {adopted / 10**8:,.0f} (adopted from the feed)")
    if r.naive:
        w.install_oracle(w.naive_feed_oracle(heartbeat=3600), "NaiveFeedOracle: no bounds check")

    w.move_market("WETH", P_REF)
    w.feed_price("WETH", P_REF)  # the aggregator clamps it to its floor
    w.poke()
    w.say("world", f"the market crashes to {P_REF}; the feed reports {feed.answer() / 10**8:,.0f} (clamped)")
    w.say("protocol", w.describe_quote("WETH"))

    ledger = Ledger(w, {"WETH": D(P_REF)})
    bought = buy(w, "WETH", 1_000)
    deposit(w, "WETH", bought)
    res = try_borrow(w, 1_000 * FLOOR * 3 // 4 * WAD, label=" (75% of 1,000 WETH at the clamped 2,000)")
    pnl = ledger.close()

    if not r.naive:
        q = w.quote("WETH")
        r.check("the adapter adopted the aggregator's floor", adopted == FLOOR * 10**8, f"{adopted}")
        r.check("an answer at the bound is clamped (INVALID)", int(q.status) == FROZEN and q.borrowPrice == 0,
                f"{w.describe_quote('WETH')}")
        mb = s.vault.maxBorrow(mixed)
        r.check("WETH stops counting toward new debt (only USDC does)",
                mb == 10_000 * WAD * 85 // 100 - 1_000 * WAD, f"maxBorrow of a WETH+USDC account {wad_str(mb)}")
        r.check("no borrow against the clamped price", not res.ok and res.error == "BorrowLimitExceeded",
                f"{res.error}")
        r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
        r.figure("guard", guard_name(w, "WETH"))
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=res.ok and pnl.net > 0)


SCENARIO = Scenario(
    number=5,
    key="clamped-min-answer",
    title="Clamped at minAnswer",
    incident="Venus / Blizz on BSC, LUNA May 2022: Chainlink's LUNA feed stuck at its 0.10 minAnswer while "
             "LUNA traded far lower",
    attack="aggregator floor 2,000; the market crashes to 200 and the feed stays at 2,000; the attacker buys "
           "1,000 WETH at ~200, deposits, borrows at 2,000",
    defence="an answer at or beyond a bound is clamped = INVALID (FROZEN): the asset gives no borrowing power; "
            "setFeed adopts the aggregator's own minAnswer/maxAnswer when the configuration is looser",
    criterion="attacker PnL <= 0",
    variants=[
        Variant("unwind", "real OracleAdapter (deployed with minAnswer 0; floor adopted from the feed)"),
        Variant("naive", "NaiveFeedOracle: no bounds check", kind="naive"),
    ],
    run=run,
)
