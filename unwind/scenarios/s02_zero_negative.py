"""#2 Zero / negative answer: the WETH feed answers 0, then -1 (fresh, well-formed rounds). The
attacker tries to liquidate an account at price 0 and to borrow against 1 WETH at whatever price
the answer turns into. Unwind treats both as INVALID (FROZEN): no borrow, no liquidation, the last
good price unchanged; when the feed recovers, borrowing resumes.
Naive: NaiveFeedOracle casts the answer without a sign check: -1 becomes ~2**256 and 1 WETH
borrows up to the debt ceiling."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import buy, deposit, feed_round, guard_name, try_borrow, try_liquidate, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import FROZEN, D

P0 = 3000


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    victim = w.victims[0]
    w.open(victim, {"WETH": 10}, share_of_limit="0.97")
    r.track(victim, w.attacker)
    if r.naive:
        w.install_oracle(w.naive_feed_oracle(heartbeat=0), "NaiveFeedOracle: unchecked int256 -> uint256 cast")
    weth = s.collateral["WETH"]
    feed = s.feeds["WETH"]
    last_good = s.oracle.peek(weth).current

    ledger = Ledger(w, {"WETH": D(P0)})
    bought = buy(w, "WETH", 1)
    deposit(w, "WETH", bought)
    outcomes = {}
    for answer in (0, -1):
        feed_round(w, feed, answer)
        w.poke("WETH")
        w.say("world", f"the WETH feed answers {answer} (a fresh, well-formed round)")
        w.say("protocol", w.describe_quote("WETH"))
        liq = try_liquidate(w, victim, label=f" at answer {answer}")
        cap = s.vault.maxBorrow(w.attacker)
        w.say("attacker", f"maxBorrow against 1 WETH at answer {answer}: {wad_str(cap)} uUSD")
        bor = try_borrow(w, cap if cap else 2_250 * WAD, label=f" at answer {answer}")
        outcomes[answer] = (liq, bor, s.oracle.peek(weth))
    pnl = ledger.close()

    if not r.naive:
        for answer, (liq, bor, q) in outcomes.items():
            r.check(f"answer {answer}: no borrow", not bor.ok and bor.error == "BorrowLimitExceeded",
                    f"borrow: {bor.error}")
            r.check(f"answer {answer}: no liquidation", not liq.ok and q.liquidationPrice == 0,
                    f"liquidate: {liq.error}; status {int(q.status)} guard {int(q.guard)}")
            r.check(f"answer {answer}: last good price unchanged", int(q.status) == FROZEN and q.current == last_good,
                    f"current {wad_str(q.current)}")
        r.check("zero liquidations", len(w.liquidations()) == 0)
        r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
        w.feed_price("WETH", P0)
        w.poke("WETH")
        q = w.quote("WETH")
        r.check("a valid round brings borrowing back", q.borrowPrice > 0 and s.vault.maxBorrow(w.attacker) > 0,
                f"{w.describe_quote('WETH')} (guard {guard_name(w, 'WETH')})")
    else:
        liq0 = outcomes[0][0]
        r.figure("naive_zero_liquidation", f"{liq0.error or 'ok'}")
        w.say("note", "at answer 0 the naive oracle makes every WETH account's health 0; that liquidation "
                      f"reverted only because the auction refuses a zero start price ({liq0.error})")
        r.figure("naive_borrowed", s.vault.debtOf(w.attacker))
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=outcomes[-1][1].ok and pnl.net > 0)


SCENARIO = Scenario(
    number=2,
    key="zero-negative",
    title="Zero / negative answer",
    incident="Zero or negative answers (Chainlink's answer is an int256; prices can go negative, e.g. "
             "WTI crude, April 2020); integrations that cast it unchecked",
    attack="the feed answers 0 then -1 in fresh rounds; the attacker tries to liquidate at 0 and to borrow "
           "against 1 WETH",
    defence="answer <= 0 is INVALID: FROZEN, no borrow or liquidation price, the last good price is kept "
            "(never used for new debt or liquidations); the next valid round restores it",
    criterion="no borrow or liquidation at that price; last good price unchanged",
    variants=[
        Variant("unwind", "real OracleAdapter"),
        Variant("naive", "NaiveFeedOracle: unchecked cast of the answer", kind="naive"),
    ],
    run=run,
)
