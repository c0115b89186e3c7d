"""#16 Frozen last good price exploited (Liquity v2). WETH has two feeds. The market falls 30%
(P_ref 2,100); the primary follows, the secondary is stuck at 3,000 (fresh rounds from a broken
upstream): the feeds disagree and WETH freezes with 3,000 as its last good price. The attacker
tries every way to trade against that stale 3,000: borrow against WETH bought at 2,100, withdraw
WETH from a position that is safe only at 3,000, liquidate. Unwind allows only de-risking (repay,
deposit); none of that moves value to the attacker.
Naive: NaiveLastGoodOracle serves the last good price for everything while frozen."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import buy, deposit, guard_name, try_borrow, try_liquidate, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.s06_one_round_crash import add_secondary
from unwind.scenarios.world import FROZEN, D

P0, P_REF = 3000, 2100


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    weth = s.collateral["WETH"]
    add_secondary(w, "WETH", P0)
    victim = w.victims[0]
    w.open(victim, {"WETH": 10}, share_of_limit="0.97")
    # The attacker's own position, opened before the freeze: 100 WETH, 200,000 debt.
    units = w.mint(w.lp, "WETH", 100)
    w.tokens["WETH"].transfer(w.attacker, units, sender=w.lp)
    s.vault.deposit(w.attacker, s.ids["WETH"], units, sender=w.attacker)
    s.vault.borrow(w.attacker, 200_000 * WAD, w.attacker, sender=w.attacker)
    r.track(victim, w.attacker)
    if r.naive:
        w.install_oracle(w.project.NaiveLastGoodOracle.deploy(s.oracle, sender=w.gov),
                         "NaiveLastGoodOracle: last good price for everything")

    w.feed_price("WETH", P_REF)
    w.move_market("WETH", P_REF)
    w.refresh_all()
    w.poke()
    w.say("world", f"the market falls to {P_REF}; the primary follows, the secondary is stuck at {P0}")
    w.say("protocol", w.describe_quote("WETH"))

    ledger = Ledger(w, {"WETH": D(P_REF)})
    bought = buy(w, "WETH", 200)
    deposit(w, "WETH", bought)
    cap = s.vault.maxBorrow(w.attacker)
    bor = try_borrow(w, cap if cap else 300_000 * WAD, label=" against WETH at the frozen 3,000")
    wd_amount = s.vault.maxWithdraw(w.attacker, s.ids["WETH"]) or 50 * WAD
    wd = w.attempt(s.vault.withdraw, w.attacker, s.ids["WETH"], wd_amount, w.attacker, sender=w.attacker,
                   what=f"withdraw {wad_str(wd_amount)} WETH")
    if wd.ok:
        sell_units = wd_amount
        w.act("sell the withdrawn WETH", w.markets["WETH"].swap, weth, sell_units, 0, w.attacker)
    liq = try_liquidate(w, victim, label=" (unsafe at P_ref)")
    repay = w.attempt(s.vault.repay, w.attacker, 1_000 * WAD, sender=w.attacker, what="repay 1,000 (de-risking)")
    pnl = ledger.close()

    if not r.naive:
        q = w.quote("WETH")
        r.check("WETH is FROZEN with the last good price kept but unusable",
                int(q.status) == FROZEN and q.current == P0 * WAD and q.borrowPrice == 0 and q.liquidationPrice == 0,
                f"{w.describe_quote('WETH')} ({guard_name(w, 'WETH')})")
        r.check("no borrow at the frozen price", not bor.ok, f"{bor.error}")
        r.check("no withdrawal priced at the frozen price", not wd.ok, f"{wd.error}")
        r.check("no liquidation at the frozen price", not liq.ok and not w.liquidations(), f"{liq.error}")
        r.check("de-risking (repay) still works", repay.ok)
        r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=pnl.net > 0 and (bor.ok or wd.ok))


SCENARIO = Scenario(
    number=16,
    key="frozen-last-good",
    title="Frozen last good price exploited",
    incident="Liquity v2: a branch whose oracle fails shuts down on its last good price, and the gap "
             "between that frozen price and the market can be traded against",
    attack="feeds disagree (the secondary is stuck) and WETH freezes at 3,000 while the market is at 2,100: "
           "borrow against cheap WETH, withdraw, liquidate at the frozen price",
    defence="FROZEN keeps the last good price only for reporting: no borrow price (frozen collateral gives no "
            "borrowing power), no liquidation price; only repay and deposit (and withdrawals the rest of the "
            "basket covers) go on",
    criterion="attacker PnL <= 0",
    variants=[
        Variant("unwind", "real OracleAdapter with a secondary feed"),
        Variant("naive", "NaiveLastGoodOracle: last good price for everything", kind="naive"),
    ],
    run=run,
)
