"""#12 Auction started at a depressed price (Black Thursday, March 2020). An account is genuinely
unsafe after an honest fall to 2,700 (P_ref). The feed is then depressed by 40% for one round
(1,620, inside the 50% jump bound, so the adapter accepts it as `current`). The attacker takes
auctions with its contract (flash-take: the callback sells the WETH in the market) at the lowest
price the auction allows.

- "unwind": the liquidation happens during the depressed round. The auction starts from
  max(current, delayed) x buffer = 2,700 x buffer (not from 1,620), the round passes after 5 minutes,
  and the attacker's best take is at the floor, P_ref x (1 - maxDiscount) = 2,160.
- "unwind-stale-auction": the auction was kicked at 2,700 and nobody took or redid it; after
  1,300 s its curve is below the floor (2,160) and it needs a redo. Then the depressed
  round arrives. The floor is computed from max(current, delayed) (the delayed price is still
  2,700), so the stale auction stays untakeable below 2,160; before this was fixed the floor came
  from `current` (1,620 x 0.8) and it sold at 1,890 = 0.70 x P_ref.
- "naive": NaiveFeedOracle (no delayed price): the depressed round liquidates an account healthy at
  P_ref and the auction starts from 1,620 x buffer."""

from unwind.curves import last_second_at_or_above
from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import D

P0, P_REF, DEPRESSED = 3000, 2700, 1620


def flash_take(w, aid, label=""):
    s = w.s
    need_redo, price, lot, tab = s.auction.getStatus(aid)
    res = w.attempt(w.bot.takeAndSell, s.auction, aid, lot, price, w.markets["WETH"], sender=w.attacker,
                    what=f"flash-take auction {aid} at {D(price) / WAD:,.2f}{label}")
    return res, D(price) / WAD


def take_prices(w) -> list:
    return [D(e.price) / WAD for e in w.takes()]


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    unsafe, healthy = w.victims[:2]
    w.open(unsafe, {"WETH": 10}, share_of_limit="0.99")  # unsafe after the honest fall to 2,700
    w.open(healthy, {"WETH": 10}, share_of_limit="0.85")  # health 1.25 at 3,000, 1.13 at 2,700
    r.track(unsafe, healthy, w.attacker, w.bot)
    w.feed_price("WETH", P_REF)
    w.move_market("WETH", P_REF)
    w.settle()
    w.say("world", f"an honest fall to {P_REF}: one account is unsafe")
    w.say("protocol", w.describe_quote("WETH"))
    max_discount = D(s.auction.params(s.ids["WETH"]).maxDiscount) / WAD
    bound = P_REF * (1 - max_discount)
    ledger = Ledger(w, {"WETH": D(P_REF)})

    if variant == "unwind":
        w.feed_price("WETH", DEPRESSED)
        w.poke("WETH")
        w.say("world", f"the feed prints {DEPRESSED} for one round")
        w.say("protocol", w.describe_quote("WETH"))
        w.keeper_pass([unsafe, healthy])
        aid = s.auction.list()[0]
        top = D(s.auction.sales(aid).top) / WAD
        w.say("protocol", f"auction {aid} starts at {top:,.2f} = max(current, delayed) x buffer")
        w.advance(300)
        w.feed_price("WETH", P_REF)
        w.refresh_all()
        w.say("world", f"the next round, 5 minutes later, is back at {P_REF}")
        # The attacker waits for the lowest price the auction allows: just before it needs a redo.
        ap = s.auction.params(s.ids["WETH"])
        t_floor = last_second_at_or_above(ap, s.auction.sales(aid).top, int(bound * WAD), ap.maxAge)
        elapsed = w.now() - s.auction.sales(aid).startedAt
        w.advance(max(1, t_floor - elapsed - 5))
        flash_take(w, aid, " (the lowest price allowed)")
        prices = take_prices(w)
        pnl = ledger.close()
        r.check("the auction starts from max(current, delayed) x buffer, not the depressed price",
                top == D(P_REF) * D(s.auction.params(s.ids["WETH"]).buffer) / WAD, f"top {top:,.2f}")
        r.check("no account healthy at P_ref liquidated", [str(e.account) for e in w.liquidations()] == [str(unsafe)])
        r.check(f"collateral never sold below P_ref x (1 - {max_discount}) = {bound:,.0f}",
                bool(prices) and min(prices) >= bound, f"sold at {', '.join(f'{p:,.2f}' for p in prices)}")
        r.figure("lowest_take_over_pref", min(prices) / P_REF if prices else None)
        w.say("result", pnl.line())
        return r.finish(pnl, attack_succeeded=bool(prices) and min(prices) < bound)

    if variant == "unwind-stale-auction":
        w.keeper_pass([unsafe, healthy])
        aid = s.auction.list()[0]
        top = D(s.auction.sales(aid).top) / WAD
        w.say("protocol", f"auction {aid} starts at {top:,.2f}; nobody takes it")
        w.advance(1300)
        w.refresh_all()
        w.poke()
        st = s.auction.getStatus(aid)
        w.say("protocol", f"after 1,300 s: price {D(st[1]) / WAD:,.2f}, needs redo: {st[0]} (floor {bound:,.0f})")
        needed_redo = st[0]
        w.advance(200)
        w.feed_price("WETH", DEPRESSED)
        w.refresh_all()
        w.feed_price("WETH", DEPRESSED)
        w.say("world", f"the feed prints {DEPRESSED} for one round")
        w.say("protocol", w.describe_quote("WETH"))
        res, price = flash_take(w, aid, " (stale auction, depressed floor)")
        prices = take_prices(w)
        pnl = ledger.close()
        r.check("the stale auction needed a redo before the depressed round", needed_redo)
        r.check(f"collateral never sold below P_ref x (1 - {max_discount}) = {bound:,.0f}",
                not prices or min(prices) >= bound,
                f"sold at {', '.join(f'{p:,.2f}' for p in prices) or 'nothing'} = "
                f"{(min(prices) / P_REF if prices else D(1)):.3f} x P_ref")
        r.figure("lowest_take_over_pref", min(prices) / P_REF if prices else None)
        w.say("result", pnl.line())
        return r.finish(pnl, attack_succeeded=bool(prices) and min(prices) < bound)

    # naive
    w.install_oracle(w.naive_feed_oracle(heartbeat=3600), "NaiveFeedOracle: no delayed price")
    w.feed_price("WETH", DEPRESSED)
    w.poke("WETH")
    w.say("world", f"the feed prints {DEPRESSED} for one round")
    n = w.keeper_pass([unsafe, healthy])
    taken = []
    for aid in list(s.auction.list()):
        res, price = flash_take(w, aid, " (depressed start)")
        if res.ok:
            taken.append(price)
    pnl = ledger.close()
    prices = take_prices(w)
    bad_liq = any(str(e.account) == str(healthy) for e in w.liquidations())
    w.say("protocol", f"{n} liquidated (the account healthy at P_ref: {bad_liq}); sold at "
                      f"{', '.join(f'{p:,.2f}' for p in prices)}")
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=bad_liq or (bool(prices) and min(prices) < bound))


SCENARIO = Scenario(
    number=12,
    key="depressed-auction",
    title="Auction started at a depressed price",
    incident="Maker Black Thursday (Mar 2020): collateral auctioned for ~0 DAI during a crash and congestion",
    attack="depress the feed for one round, start an auction (or find a stale one), take it at the lowest "
           "allowed price with a flash-take",
    defence="auctions start from max(current, delayed) x buffer; nothing sells more than maxDiscount (20%) "
            "below the oracle price; below that an auction needs a redo",
    criterion="collateral never sold below P_ref x (1 - documented max discount)",
    variants=[
        Variant("unwind", "real system: liquidation during a depressed round"),
        Variant("unwind-stale-auction", "real system: a stale auction meets a depressed round"),
        Variant("naive", "NaiveFeedOracle: no delayed price", kind="naive"),
    ],
    run=run,
)
