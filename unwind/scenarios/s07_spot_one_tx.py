"""#7 Spot manipulation in one transaction (bZx, Harvest 2020). The attacker's contract, in ONE
transaction: flash-borrows 2.5M uUSD, buys WETH (the market's spot price roughly doubles), borrows
as much as the vault allows against the 100 WETH it had deposited, sells the WETH back, repays the
loan. Then, in a second transaction: flash-borrows WETH, dumps it (spot falls ~2/3), tries to
liquidate a victim, buys back, repays. Unwind's adapter never reads a market: borrow capacity does
not move and the liquidation is refused. Naive: NaiveSpotOracle prices every token at its market's
spot price."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import buy, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import D

FLASH_DEBT = 2_500_000
FLASH_WETH = 1_500
MAX_MOVE = D("0.005")  # the catalogue's bound on borrow capacity: 0.5%


def naive_spot_oracle(w):
    o = w.project.NaiveSpotOracle.deploy(sender=w.gov)
    for sym, token in w.s.collateral.items():
        o.setMarket(token, w.markets[sym], sender=w.gov)
    return o


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    bot = w.bot
    victim = w.victims[0]
    w.open(victim, {"WETH": 10}, share_of_limit="0.97")
    r.track(victim, w.attacker, bot)
    if r.naive:
        w.install_oracle(naive_spot_oracle(w), "NaiveSpotOracle: market spot price")
    weth = s.collateral["WETH"]

    ledger = Ledger(w)
    # Preparation: the attacker's contract holds a WETH position of its own (bought honestly).
    bought = buy(w, "WETH", 100)
    w.act("send 100 WETH to its contract", weth.transfer, bot, bought)
    w.act("contract approves the vault", bot.execute, weth, weth.approve.encode_input(s.vault, 2**256 - 1))
    w.act("contract deposits 100 WETH", bot.execute, s.vault,
          s.vault.deposit.encode_input(bot, s.ids["WETH"], bought))
    quote_before = tuple(s.oracle.peek(weth))
    spot0 = w.spot("WETH")

    w.act(f"ONE tx: flash-borrow {FLASH_DEBT:,} uUSD, buy WETH, borrow max, sell WETH, repay",
          bot.spotBorrow, w.lender, w.markets["WETH"], s.vault, FLASH_DEBT * WAD)
    cap0, cap1, borrowed = bot.capacityBefore(), bot.capacityDuring(), bot.borrowed()
    move = (D(cap1) - D(cap0)) / D(cap0) if cap0 else D(0)
    w.say("protocol", f"borrow capacity {wad_str(cap0)} before the pump, {wad_str(cap1)} during it "
                      f"({move * 100:+.2f}%); borrowed {wad_str(borrowed)}")
    quote_after = tuple(s.oracle.peek(weth))

    w.act(f"ONE tx: flash-borrow {FLASH_WETH:,} WETH, dump it, liquidate the victim, buy back, repay",
          bot.spotLiquidate, w.lender, w.markets["WETH"], s.engine, victim, FLASH_WETH * WAD)
    liquidated = bot.liquidated()
    err = bot.liquidationError()
    w.say("protocol", "the liquidation inside the attack " + ("WENT THROUGH" if liquidated else
                                                              f"reverted ({w._decode_raw(bytes(err)) or err.hex()})"))
    w.act("sweep the contract's debt tokens", bot.sweep, s.debt_token)
    pnl = ledger.close()
    r.figure("capacity_before", cap0)
    r.figure("capacity_during", cap1)
    r.figure("capacity_move", move)
    r.figure("spot_before", spot0)

    if not r.naive:
        r.check("borrow capacity moves <= 0.5%", abs(move) <= MAX_MOVE, f"{move * 100:+.4f}%")
        r.check("the adapter's quote is untouched by the market", quote_before == quote_after)
        r.check("no liquidation from a dumped spot price", not liquidated and len(w.liquidations()) == 0)
        r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=pnl.net > 0 and (move > MAX_MOVE or liquidated))


SCENARIO = Scenario(
    number=7,
    key="spot-one-tx",
    title="Spot manipulation in one transaction",
    incident="bZx (Feb 2020), Harvest Finance (Oct 2020): prices read from a DEX's spot reserves, moved with "
             "flash loans inside one transaction",
    attack="attacker contract: flash loan, swap big, borrow max against its collateral (or liquidate a "
           "victim), swap back, repay, all in one transaction",
    defence="the adapter never reads a market: prices come only from Chainlink-style feeds (validated, "
            "cross-checked, delayed), so a trade cannot move borrowing power or trigger a liquidation",
    criterion="borrow capacity moves <= 0.5%; attacker PnL <= 0",
    variants=[
        Variant("unwind", "real OracleAdapter"),
        Variant("naive", "NaiveSpotOracle: the market's spot price", kind="naive"),
    ],
    run=run,
)
