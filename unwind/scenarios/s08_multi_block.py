"""#8 Multi-block manipulation (Inverse Finance, April 2022). With automine off, the attacker buys
WETH with 2.5M uUSD (the market roughly doubles) and HOLDS the moved price for 12 blocks (144 s)
with nobody arbitraging, then borrows against the 100 WETH it deposited, then sells back.
Unwind uses no on-chain average: the accepted price moves only with the feeds, by at most
maxJumpBps (50%) per round and only when a secondary confirms beyond that, so the market move
leaves it unchanged (0 <= the bound). Naive: NaiveTwapOracle, a 120 s TWAP of the market, unbounded
and not cross-checked: holding the price one window moves it all the way."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import buy, deposit, wad_str
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import D

PUMP = 2_500_000  # uUSD
BLOCKS = 12
BLOCK_TIME = 12
WINDOW = 120  # the naive TWAP's window [s]


def naive_twap_oracle(w):
    o = w.project.NaiveTwapOracle.deploy(WINDOW, sender=w.gov)
    for sym, token in w.s.collateral.items():
        o.setMarket(token, w.markets[sym], sender=w.gov)
    return o


class NoAutomine:
    """Send raw transactions into anvil's mempool and mine blocks by hand (evm_setAutomine false)."""

    def __init__(self, w):
        self.w = w
        self.web3 = w.chain.provider.web3
        self.t = w.now()

    def __enter__(self):
        self.w.chain.provider.make_request("evm_setAutomine", [False])
        return self

    def __exit__(self, *exc):
        self.w.chain.provider.make_request("evm_setAutomine", [True])
        return False

    def send(self, sender, contract, method: str, *args, gas: int = 1_500_000):
        data = getattr(contract, method).encode_input(*args)
        return self.web3.eth.send_transaction({"from": str(sender.address), "to": str(contract.address),
                                               "data": data, "gas": gas})

    def mine(self, n: int = 1):
        for _ in range(n):
            self.t += BLOCK_TIME
            self.w.chain.provider.make_request("evm_mine", [self.t])

    def receipt(self, tx_hash):
        rc = self.web3.eth.get_transaction_receipt(tx_hash)
        if rc["status"] != 1:
            raise RuntimeError(f"transaction {tx_hash.hex()} reverted")
        return rc


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    r.track(w.attacker)
    twap = None
    if r.naive:
        twap = naive_twap_oracle(w)
        w.install_oracle(twap, f"NaiveTwapOracle: {WINDOW} s TWAP of the market")
    weth = s.collateral["WETH"]
    m = w.markets["WETH"]

    ledger = Ledger(w)
    bought = buy(w, "WETH", 100)
    deposit(w, "WETH", bought)
    cap0 = s.vault.maxBorrow(w.attacker)
    q0 = tuple(s.oracle.peek(weth))
    if twap is not None:
        twap.poke(weth, sender=w.keeper)  # a keeper rolls the TWAP window just before
    spot0 = w.spot("WETH")

    with NoAutomine(w) as node:
        h = node.send(w.attacker, m, "swap", s.debt_token, PUMP * WAD, 0, w.attacker)
        node.mine()
        rc = node.receipt(h)
        w.count_gas(rc["gasUsed"])
        w.say("attacker", f"automine off: spend {PUMP:,} uUSD on WETH (spot {spot0:,.0f} -> {w.spot('WETH'):,.0f}), "
                          f"then hold it for {BLOCKS} blocks ({BLOCKS * BLOCK_TIME} s)")
        node.mine(BLOCKS - 1)
        # The borrow reads the market as it will be in the next block.
        cap1 = s.vault.maxBorrow(w.attacker)
        amount = cap1 * 995 // 1000
        h = node.send(w.attacker, s.vault, "borrow", w.attacker, amount, w.attacker)
        node.mine()
        rc = node.receipt(h)
        w.count_gas(rc["gasUsed"])
        w.say("attacker", f"borrow {wad_str(amount)} uUSD (maxBorrow was {wad_str(cap0)} before the pump, "
                          f"{wad_str(cap1)} after holding it)")
    q1 = tuple(s.oracle.peek(weth))
    w.say("protocol", f"adapter quote {'unchanged' if q0 == q1 else 'CHANGED'} by the held market price: "
                      f"{w.describe_quote('WETH')}")
    weth_held = weth.balanceOf(w.attacker)
    out = m.getAmountOut(weth, weth_held)
    w.act(f"sell the {w.whole('WETH', weth_held):,.2f} WETH back for {wad_str(out)} uUSD", m.swap, weth,
          weth_held, 0, w.attacker)
    pnl = ledger.close()
    move = (D(cap1) - D(cap0)) / D(cap0)
    r.figure("capacity_move", move)
    r.figure("spot_pumped", w.spot("WETH"))

    if not r.naive:
        bound = D(s.oracle.feedConfig(weth)[5]) / 10_000
        price_move = (D(q1[0]) - D(q0[0])) / D(q0[0])
        r.check("accepted price moved no more than the documented bound (maxJumpBps per round, feeds only)",
                abs(price_move) <= bound and q0 == q1, f"moved {price_move * 100:+.2f}% (bound {bound * 100:.0f}%)")
        r.check("borrow capacity unchanged by the held market price", cap0 == cap1,
                f"{wad_str(cap0)} -> {wad_str(cap1)}")
        r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=pnl.net > 0 and move > 0)


SCENARIO = Scenario(
    number=8,
    key="multi-block",
    title="Multi-block manipulation",
    incident="Inverse Finance (Apr 2022): a thin-pool TWAP moved and held across blocks",
    attack="automine off: buy 2.5M uUSD of WETH, hold the moved price for 12 blocks, borrow against 100 "
           "WETH, sell back",
    defence="no on-chain average is used at all: prices come from feeds only; an accepted price moves at most "
            "maxJumpBps (<= 50%) per round unless a second feed confirms, and reaches borrowing/liquidation "
            "only through the OSM delay",
    criterion="the accepted price moves no more than the documented bound; refuse beyond it",
    variants=[
        Variant("unwind", "real OracleAdapter"),
        Variant("naive", "NaiveTwapOracle: 120 s TWAP of the market", kind="naive"),
    ],
    run=run,
)
