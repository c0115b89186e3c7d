"""#10 Debt-token depeg (Compound's DAI oracle, November 2020, inverted). The attacker pushes uUSD
to 1.30 USDC in the USDC/uUSD market, tries to liquidate, then pushes it to 0.70. Unwind values
debt at par (no oracle for the debt token at all): no account's health moves by a wei. A running
auction is judged by the keeper with MARKET prices (WETH's price in uUSD from the WETH/uUSD
market, which arbitrage moves with the depeg): at 1.30 a take would lose money (the 20% floor is
above WETH's uUSD price), so it waits; at 0.70 it takes and the auction clears.
Naive: NaiveDebtPricedOracle prices collateral through the debt token's market price, so at 1.30
every collateral looks 23% cheaper and accounts that are healthy at par are liquidated."""

from decimal import Decimal

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import try_liquidate, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import D

P0, P1 = 3000, 2700
HIGH, LOW = D("1.3"), D("0.7")


def push_debt_token(w, usd_per_debt: Decimal, who):
    """`who` trades the USDC/uUSD market until one uUSD costs `usd_per_debt` USDC."""
    m = w.markets["USDC"]
    token_in, amount = m.amountToReach(int(WAD / usd_per_debt))
    sym = w.symbol_of(token_in)
    what = f"{'buy' if sym == 'USDC' else 'sell'} uUSD in the USDC/uUSD market until 1 uUSD = {usd_per_debt} USDC"
    if who == w.attacker:
        w.act(what, m.swap, token_in, amount, 0, who)
    else:
        w.move_market("USDC", D(1) / usd_per_debt)
        w.say("market", what)


def keeper_view(w, aid) -> tuple:
    """(auction price, WETH's market price in uUSD, profit of taking the whole lot at market prices)."""
    need_redo, price, lot, tab = w.s.auction.getStatus(aid)
    market = w.spot("WETH")
    owe = min(D(lot) * D(price) / WAD, D(tab)) / WAD
    bought = D(lot) / WAD if owe * WAD < D(tab) else D(tab) / D(price)
    return need_redo, D(price) / WAD, market, bought * market - owe


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    v1, v2, v3 = w.victims[:3]
    w.open(v1, {"WETH": 10}, share_of_limit="0.8")
    w.open(v2, {"WETH": 10}, share_of_limit="0.9")
    w.open(v3, {"WETH": 10}, share_of_limit="0.99")
    r.track(v1, v2, v3, w.attacker)
    # An honest 10% fall: v3 becomes unsafe and is liquidated: an auction is running.
    w.feed_price("WETH", P1)
    w.move_market("WETH", P1)
    w.settle()
    w.keeper_pass([v3])
    aid = s.auction.list()[0]
    if r.naive:
        o = w.project.NaiveDebtPricedOracle.deploy(w.markets["USDC"], sender=w.gov)
        for sym, token in s.collateral.items():
            o.setFeed(token, s.feeds[sym], sender=w.gov)
        w.install_oracle(o, "NaiveDebtPricedOracle: collateral priced via uUSD's market price")
    watched = [v1, v2, w.lp]
    health0 = [s.vault.healthOf(a) for a in watched]

    ledger = Ledger(w, {"WETH": D(P1)})
    push_debt_token(w, HIGH, w.attacker)
    w.move_market("WETH", D(P1) / HIGH)  # arbitrage: WETH's uUSD price follows the depeg
    health_high = [s.vault.healthOf(a) for a in watched]
    w.say("protocol", "healths with uUSD at 1.30: " + ", ".join(f"{D(h) / WAD:.4f}" for h in health_high))
    liqs = [try_liquidate(w, v, label=" with uUSD at 1.30") for v in (v1, v2)]
    view_high = keeper_view(w, aid) if not r.naive else None
    if view_high:
        w.say("keeper", f"uUSD at 1.30: auction price {view_high[1]:,.2f}, WETH in the market {view_high[2]:,.2f} "
                        f"uUSD: a take would make {view_high[3]:+,.2f} uUSD -> waits")
    push_debt_token(w, LOW, w.attacker)
    w.move_market("WETH", D(P1) / LOW)
    health_low = [s.vault.healthOf(a) for a in watched]
    w.say("protocol", "healths with uUSD at 0.70: " + ", ".join(f"{D(h) / WAD:.4f}" for h in health_low))
    pnl = ledger.close()

    if r.naive:
        w.say("result", pnl.line())
        return r.finish(pnl, attack_succeeded=any(x.ok for x in liqs))

    need_redo, price, market, profit = keeper_view(w, aid)
    if need_redo:
        s.auction.redo(aid, w.keeper, sender=w.keeper)
        need_redo, price, market, profit = keeper_view(w, aid)
    took = False
    if profit > 0:
        _, p_wad, lot, _ = s.auction.getStatus(aid)
        s.auction.take(aid, lot, p_wad, w.keeper, b"", sender=w.keeper)
        took = True
    w.say("keeper", f"uUSD at 0.70: auction price {price:,.2f}, WETH in the market {market:,.2f} uUSD: "
                    f"profit {profit:+,.2f} -> {'takes' if took else 'waits'}")
    r.check("no account's health changes at 1.30", health_high == health0,
            ", ".join(f"{D(a) / WAD:.6f}->{D(b) / WAD:.6f}" for a, b in zip(health0, health_high)))
    r.check("no account's health changes at 0.70", health_low == health0)
    r.check("no liquidation of an account healthy at par", not any(x.ok for x in liqs) and
            all(str(e.account) == str(v3) for e in w.liquidations()))
    r.check("keeper's profit check uses the market price (declines at 1.30)", view_high[3] < 0,
            f"{view_high[3]:+,.2f} uUSD")
    r.check("auctions still clear (taken at 0.70)", took and s.auction.count() == 0)
    r.check("accounting identity holds", w.identity_holds())
    r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("note", f"limit: while uUSD trades above 1/(1 - maxDiscount) = 1.25, no rational keeper takes "
                  f"(the floor is above the collateral's uUSD price); auctions wait and clear once the premium falls")
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=any(x.ok for x in liqs))


SCENARIO = Scenario(
    number=10,
    key="debt-depeg",
    title="Debt-token depeg",
    incident="Compound (Nov 2020): DAI printed 1.30 on Coinbase Pro, Compound's oracle used it, $89M of "
             "healthy borrowers were liquidated (here inverted: the debt token itself trades off par)",
    attack="push uUSD to 1.30 in the USDC/uUSD market and liquidate, then to 0.70",
    defence="debt is valued at par: there is no price for the debt token, so health never depends on its market; "
            "keepers judge takes at market prices (above a 25% premium auctions wait)",
    criterion="no account's health changes; auctions still clear; keepers' profit checks use the market price",
    variants=[
        Variant("unwind", "real system"),
        Variant("naive", "NaiveDebtPricedOracle: collateral / uUSD market price", kind="naive"),
    ],
    run=run,
)
