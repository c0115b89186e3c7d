"""#14 Misconfigured composite feed (Moonwell cbETH, 2026). Governance activates a feed that returns
a ratio (1.12, cbETH/ETH) where a USD price (~3,000) is expected. Unwind: `setFeed` refuses it
(FeedRejectedAtActivation "jump": more than maxJumpBps from the last accepted price). Then the
live feed itself starts returning the ratio (an upstream misconfiguration): the jump breaker
freezes WETH, and for the hour the price stays > 50% off the last accepted one there is no
liquidation and no new debt.
Naive: NaiveFeedOracle (no sanity check at activation, no jump breaker) takes 1.12 as the USD
price and every WETH account is liquidatable."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import buy, deposit, guard_name, try_borrow, try_liquidate
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import D

P0 = 3000
RATIO = D("1.12")


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    weth = s.collateral["WETH"]
    victims = w.victims[:2]
    w.open(victims[0], {"WETH": 10}, share_of_limit="0.5")
    w.open(victims[1], {"WETH": 10, "USDC": 20_000}, share_of_limit="0.5")
    r.track(*victims, w.attacker)
    ledger = Ledger(w, {"WETH": D(P0)})
    bought = buy(w, "WETH", 1)
    deposit(w, "WETH", bought)

    ratio_feed = w.project.MockAggregator.deploy(8, "cbETH / USD (composite, misconfigured)", int(RATIO * 10**8),
                                                 sender=w.gov)
    activation = None
    if not r.naive:
        cfg = w.feed_config("WETH")
        cfg[0] = ratio_feed.address
        cfg[7] = 0
        activation = w.attempt(lambda: w.govern(s.oracle, "setFeed", weth, tuple(cfg)), who="governance",
                               what="setFeed(WETH, composite feed answering 1.12)")
    else:
        w.install_oracle(w.naive_feed_oracle(heartbeat=3600, feeds={"WETH": ratio_feed}),
                         "NaiveFeedOracle reading the composite feed")

    # The live feed itself starts answering the ratio (upstream misconfiguration).
    debt0 = s.vault.totalDebt()
    start = w.chain.blocks.head.number + 1
    w.feed_price("WETH", RATIO)
    w.poke()
    w.say("world", f"the live WETH feed answers {RATIO}")
    w.say("protocol", w.describe_quote("WETH"))
    attempts, borrows, guards = [], [], []
    for _ in range(3):  # an hour of rounds at the wrong value
        attempts += [try_liquidate(w, v, label=" at 1.12") for v in victims]
        if not r.naive:
            borrows.append(try_borrow(w, 100 * WAD, label=" with WETH at 1.12"))
            guards.append(guard_name(w, "WETH"))
        w.advance(20 * 60)
        w.refresh_all()
        w.poke()
    liquidations = w.liquidations(start)
    new_debt = [e for e in s.vault.Borrow.range(start, w.chain.blocks.head.number + 1)]
    pnl = ledger.close()

    if not r.naive:
        r.check("setFeed refuses a ratio as a USD price",
                activation is not None and not activation.ok and activation.error == "FeedRejectedAtActivation"
                and activation.inputs.get("reason") == "jump", f"{activation.error} {activation.inputs.get('reason')}")
        r.check("zero liquidations while > 50% off the last accepted price", not liquidations
                and not any(a.ok for a in attempts), f"guards {sorted(set(guards))}")
        r.check("zero new debt while > 50% off", not new_debt and not any(b.ok for b in borrows)
                and s.vault.totalDebt() == debt0)
        r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=len(liquidations) > 0)


SCENARIO = Scenario(
    number=14,
    key="composite-feed",
    title="Misconfigured composite feed",
    incident="Moonwell (2026): a cbETH composite oracle returned the cbETH/ETH ratio (~1.12) as a USD price; "
             "positions were liquidated",
    attack="governance activates a feed returning 1.12 as WETH's USD price; then the live feed returns it",
    defence="setFeed refuses a primary more than maxJumpBps from the last accepted price unless a second feed "
            "confirms it; on a live feed the jump breaker freezes the token (no liquidation, no new debt)",
    criterion="zero liquidations and zero new debt while the price is > 50% off the last accepted one",
    variants=[
        Variant("unwind", "real OracleAdapter"),
        Variant("naive", "NaiveFeedOracle: no activation check, no jump breaker", kind="naive"),
    ],
    run=run,
)
