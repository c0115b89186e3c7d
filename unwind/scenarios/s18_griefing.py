"""#18 Griefing to avoid liquidation. The attacker owns an account that an honest 10% fall made
unsafe. Seeing the keeper coming, it front-runs: pumps the WETH market ~11%, dusts its account with
1 wei of WBTC and 1 wei of USDC (new collateral types), tries a repay that would leave dust, repays
a token's worth. None of it changes the oracle and the dust rules hold: the next keeper pass
liquidates the account.
- "unwind-guarded-dust": some collateral's oracle is guarded at that moment (here USDC, in its
  recovery grace after a one-read feed blip) and the owner holds 1 wei of it.
- "unwind-guarded-stake": the same, but the owner deposits 1,500 USDC (more than the dust floor is
  worth). A guarded holding counts at its last accepted price for health and is never seized; the
  priced collateral is liquidated, so neither shields the account (before issue 16 the second did).
In every "unwind" variant the liquidating is done by the keeper process (`python -m unwind.keeper`
over RPC, as operators run it), not by the engine called from the harness.
- "naive": NaiveSpotOracle: the market pump lifts the account's health and it escapes."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import HEARTBEAT, guard_name, sell, spend
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.s07_spot_one_tx import naive_spot_oracle
from unwind.scenarios.world import D

P0, P1 = 3000, 2700
P1_STAKE = 2500  # deeper: 1,500 USDC counted at its last price would otherwise make the account safe


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    me = w.attacker
    w.deposit(me, "WETH", 10)
    w.mint(me, "WBTC", "0.00000001")
    s.vault.borrow(me, s.vault.maxBorrow(me) * 99 // 100, me, sender=me)  # health 1.08 at 3,000
    bystander = w.victims[0]
    w.open(bystander, {"WETH": 10}, share_of_limit="0.5")
    r.track(me, bystander)
    if variant == "naive":
        w.install_oracle(naive_spot_oracle(w), "NaiveSpotOracle: market spot price")
    p1 = P1_STAKE if variant == "unwind-guarded-stake" else P1
    w.feed_price("WETH", p1)
    w.move_market("WETH", p1)
    w.settle()
    if variant.startswith("unwind-guarded"):
        # USDC's feed misses its heartbeat once (FROZEN), then recovers: LIVE in its recovery grace.
        # WETH and WBTC publish every half heartbeat meanwhile (a longer gap is an outage too).
        for _ in range(2):
            w.advance(HEARTBEAT // 2 + 1)
            w.refresh("WETH")
            w.refresh("WBTC")
            w.poke()
        w.refresh("USDC")
        w.poke()
        w.say("world", f"USDC's feed missed one heartbeat and is back")
        w.say("protocol", w.describe_quote("USDC"))
    w.say("world", f"an honest fall to {p1}: the attacker's own account is unsafe (health {w.health(me):.3f})")

    ledger = Ledger(w, {"WETH": D(p1)})
    q0 = tuple(s.oracle.peek(s.collateral["WETH"]))
    pumped = spend(w, "WETH", 300_000 * WAD, what="front-run the keeper: pump the WETH market ~11%")
    for sym in ("WBTC", "USDC"):
        w.act(f"dust its account with 1 unit of {sym}", s.vault.deposit, me, s.ids[sym], 1)
    if variant == "unwind-guarded-stake":
        stake = w.units("USDC", 1_500)
        w.act("deposit 1,500 USDC (in its recovery grace: guarded) into its account", s.vault.deposit, me,
              s.ids["USDC"], stake)
    dusty = w.attempt(s.vault.repay, me, s.vault.debtOf(me) - s.vault.dust() + 1, sender=me,
                      what="repay all but less than the dust floor")
    w.act("repay 1 uUSD", s.vault.repay, me, WAD)
    q1 = tuple(s.oracle.peek(s.collateral["WETH"]))
    w.say("protocol", f"account health now {w.health(me):.3f}; {w.describe_quote('WETH')}")
    n = w.keeper_pass([me, bystander]) if variant == "naive" else w.keeper_process_pass([me, bystander])
    liquidated = any(str(e.account) == str(me) for e in w.liquidations())
    sell(w, "WETH", pumped, what="after the keeper's block, sell the pump back")
    pnl = ledger.close()
    debt_left = s.vault.debtOf(me)
    if variant == "naive":
        w.say("result", pnl.line())
        return r.finish(pnl, attack_succeeded=not liquidated)
    r.check("the pump did not move the oracle", q0 == q1)
    r.check("a repay leaving dust is refused", not dusty.ok and dusty.error == "DustDebt", f"{dusty.error}")
    r.check("the account is liquidated in the next keeper pass", liquidated and n >= 1,
            f"{n} liquidated; USDC guard {guard_name(w, 'USDC')}")
    r.check("dust rules hold after it (debt 0 or >= dust)", debt_left == 0 or debt_left >= s.vault.dust(),
            f"debt left {D(debt_left) / WAD:,.2f}")
    r.check("the bystander (healthy) untouched", not any(str(e.account) == str(bystander) for e in w.liquidations()))
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=not liquidated)


SCENARIO = Scenario(
    number=18,
    key="griefing",
    title="Griefing to avoid liquidation",
    incident="Liquidation griefing: owners front-running keepers with market pumps, collateral dust or "
             "dust-sized repays",
    attack="the unsafe owner front-runs the keeper: pumps the market, dusts its account with new collateral "
           "types, repays to leave dust",
    defence="no market price is read; deposits and repays cannot leave debt between 0 and dust; liquidation "
            "closes at least min(debt, dust) and leaves 0 or >= dust",
    criterion="the account is still liquidated within the next keeper pass",
    variants=[
        Variant("unwind", "real system"),
        Variant("unwind-guarded-dust", "real system: dust of a collateral in its oracle's recovery grace"),
        Variant("unwind-guarded-stake", "real system: 1,500 USDC, more than dust, in its oracle's recovery grace"),
        Variant("naive", "NaiveSpotOracle: the pump lifts health", kind="naive"),
    ],
    run=run,
)
