"""#3 Feed reverts (a deprecated aggregator): the WETH feed's code is replaced by one that reverts
(`anvil_setCode`). Unwind catches it (FROZEN): a borrower can still repay, deposit, withdraw the
collateral its other assets cover, and close the position (repay all, withdraw all); no
liquidation happens on a made-up price.
Naive: NaiveFeedOracle calls the feed unwrapped, so every price read reverts: de-risking
(withdrawing USDC that alone covers the debt) is blocked for anyone holding WETH."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import try_liquidate
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import FROZEN, MAX_UINT

CODE_REVERT = "0x60006000fd"  # revert(0, 0)


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    user, unsafe = w.victims[0], w.victims[1]
    w.open(user, {"WETH": 10, "USDC": 30_000}, debt=20_000)  # USDC alone backs 25,500 at 85%
    w.open(unsafe, {"WETH": 10}, share_of_limit="0.99")
    r.track(user, unsafe, w.attacker)
    if r.naive:
        w.install_oracle(w.naive_feed_oracle(heartbeat=3600), "NaiveFeedOracle: feed call not wrapped")
    ledger = Ledger(w)

    w.chain.provider.make_request("anvil_setCode", [str(s.feeds["WETH"].address), CODE_REVERT])
    w.say("world", "the WETH aggregator is deprecated: its code now reverts (anvil_setCode)")
    if not r.naive:
        w.poke()
        w.say("protocol", w.describe_quote("WETH"))
    liq = try_liquidate(w, unsafe, label=" while the feed reverts")

    usdc = s.ids["USDC"]
    weth = s.ids["WETH"]
    ops = {}
    ops["repay"] = w.attempt(s.vault.repay, user, 2_000 * WAD, sender=user, who="user", what="repay 2,000 uUSD")
    w.mint(user, "USDC", 1_000)
    ops["deposit"] = w.attempt(s.vault.deposit, user, usdc, 1_000 * 10**6, sender=user, who="user",
                               what="deposit 1,000 USDC")
    ops["withdraw covered"] = w.attempt(s.vault.withdraw, user, usdc, 5_000 * 10**6, user, sender=user, who="user",
                                        what="withdraw 5,000 USDC (the rest of the USDC still covers the debt)")
    # Close: repay everything (the user tops up its debt tokens), withdraw everything.
    s.debt_token.transfer(user, 5_000 * WAD, sender=w.lp)
    ops["repay all"] = w.attempt(s.vault.repay, user, MAX_UINT, sender=user, who="user", what="repay all")
    ops["withdraw all WETH"] = w.attempt(s.vault.withdraw, user, weth, s.vault.collateralOf(user, weth), user,
                                         sender=user, who="user", what="withdraw all WETH")
    ops["withdraw all USDC"] = w.attempt(s.vault.withdraw, user, usdc, s.vault.collateralOf(user, usdc), user,
                                         sender=user, who="user", what="withdraw all USDC")
    pnl = ledger.close()
    r.figure("operations", {k: (v.ok, v.error) for k, v in ops.items()})

    if not r.naive:
        r.check("the adapter caught the revert (FROZEN, no liquidation price)",
                int(w.quote("WETH").status) == FROZEN and w.quote("WETH").liquidationPrice == 0)
        for name, res in ops.items():
            r.check(f"{name} works", res.ok, res.error or "ok")
        r.check("zero liquidations on a made-up price", not liq.ok and len(w.liquidations()) == 0,
                f"liquidate: {liq.error}")
        r.check("position closed", s.vault.debtOf(user) == 0 and s.vault.collateralOf(user, weth) == 0
                and s.vault.collateralOf(user, usdc) == 0)
        attack = None
    else:
        attack = not ops["withdraw covered"].ok
        w.say("note", "naive: the de-risking withdrawal reverted with the feed's own revert "
                      f"({ops['withdraw covered'].error}); repay, deposit and a full close still work because "
                      "the vault does not price them")
    return r.finish(pnl, attack_succeeded=attack)


SCENARIO = Scenario(
    number=3,
    key="feed-reverts",
    title="Feed reverts (deprecated aggregator)",
    incident="Deprecated aggregators: a feed that reverts takes every consumer that calls it unwrapped "
             "down with it (why Liquity v1 wraps each Chainlink call in try/catch)",
    attack="the WETH feed's code is replaced by `revert(0,0)` (anvil_setCode); a borrower de-risks and "
           "closes, the attacker tries to liquidate",
    defence="each feed read is a gas-capped staticcall that never reverts the caller: a reverting feed is "
            "INVALID (FROZEN); repay, deposit, covered withdrawals and closing never need that price",
    criterion="repay, deposit and closing (repay all, withdraw all) succeed; zero liquidations on a made-up price",
    variants=[
        Variant("unwind", "real OracleAdapter"),
        Variant("naive", "NaiveFeedOracle: unwrapped feed call (denial of service)", kind="naive"),
    ],
    run=run,
)
