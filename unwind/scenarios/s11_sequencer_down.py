"""#11 L2 sequencer down. Governance has set an uptime feed (grace 1 h). The sequencer goes down,
WETH falls 20% meanwhile (two accounts become unsafe). The attacker, with forced inclusion, tries
to liquidate while it is down and the moment it is back up. Unwind: no liquidations (and no new
debt) while down and for the grace period after `startedAt`; one borrower uses the grace to repay,
the other is liquidated right after it. An uptime round with `startedAt == 0` reads as DOWN.
Naive: NaiveFeedOracle has no sequencer check."""

from unwind.params import WAD
from unwind.scenarios.base import Recorder, Scenario, Variant
from unwind.scenarios.common import guard_name, try_borrow, try_liquidate
from unwind.scenarios.ledger import Ledger
from unwind.scenarios.world import D

GRACE = 3600
P0, P1 = 3000, 2400


def run(w, variant="unwind"):
    r = Recorder(w, SCENARIO, variant)
    s = w.s
    seq = w.project.MockSequencerFeed.deploy(86400, sender=w.gov)
    w.govern(s.oracle, "setSequencerFeed", seq, GRACE)
    w.say("governance", f"setSequencerFeed(uptime feed, grace {GRACE} s)")
    careful, careless = w.victims[:2]
    for v in (careful, careless):
        w.open(v, {"WETH": 10}, share_of_limit="0.97")  # health 1.10 at 3000, 0.88 at 2400
    r.track(careful, careless, w.attacker)
    if r.naive:
        w.install_oracle(w.naive_feed_oracle(heartbeat=3600), "NaiveFeedOracle: no sequencer check")

    ledger = Ledger(w, {"WETH": D(P1)})
    seq.setDown(True, sender=w.gov)
    w.feed_price("WETH", P1)
    w.move_market("WETH", P1)
    w.settle()
    w.say("world", f"sequencer DOWN; meanwhile WETH falls to {P1}: both accounts unsafe at P_ref. "
                   f"{w.describe_quote('WETH')}")
    down = [try_liquidate(w, v, label=" (forced inclusion, sequencer down)") for v in (careful, careless)]
    bor = try_borrow(w, 1_000 * WAD, label=" while down") if not r.naive else None
    guard_down = guard_name(w, "WETH")
    w.say("protocol", f"while down: {w.describe_quote('WETH')}")

    seq.setDown(False, sender=w.gov)
    up_at = w.now()
    w.say("world", f"sequencer UP at t={up_at} (startedAt fresh)")
    grace = [try_liquidate(w, v, label=" right after restart") for v in (careful, careless)]
    guard_grace = guard_name(w, "WETH")
    w.say("protocol", f"just restarted: {w.describe_quote('WETH')}")
    w.advance(GRACE // 2)
    w.refresh_all()
    grace += [try_liquidate(w, v, label=" half way through the grace") for v in (careful, careless)]
    in_window = [e for e in w.liquidations() if up_at <= w.chain.blocks[e.block_number].timestamp < up_at + GRACE]
    before_up = [e for e in w.liquidations() if w.chain.blocks[e.block_number].timestamp < up_at]
    pnl = ledger.close()
    if r.naive:
        w.say("result", pnl.line())
        return r.finish(pnl, attack_succeeded=len(in_window) + len(before_up) > 0)

    # The careful borrower uses the grace: repays a third of its debt.
    s.vault.repay(careful, s.vault.debtOf(careful) // 3, sender=careful)
    w.say("user", f"careful borrower repays a third during the grace: health {w.health(careful):.3f}")
    w.advance(GRACE // 2 + 1)
    w.refresh_all()
    n = w.keeper_pass([careful, careless])

    seq.setStatus(0, 0, sender=w.gov)
    w.refresh_all()
    zero = try_liquidate(w, careless, label=" with uptime startedAt == 0")
    guard_zero = guard_name(w, "WETH")

    r.check("no liquidation while the sequencer is down", not any(x.ok for x in down) and not before_up,
            f"guard {guard_down}")
    r.check("no new debt while down", bor is not None and not bor.ok, f"{bor.error if bor else ''}")
    r.check("zero liquidations inside the grace window", not any(x.ok for x in grace) and not in_window,
            f"guard {guard_grace}; attempts {sorted({x.error for x in grace})}")
    r.check("after the grace, the keeper liquidates the account that did not react", n == 1 and
            [str(e.account) for e in w.liquidations()] == [str(careless)])
    r.check("startedAt == 0 rejected (reads as down)", not zero.ok and guard_zero == "SequencerDown",
            f"guard {guard_zero}")
    r.check("attacker PnL <= 0", pnl.net <= 0, pnl.line())
    w.say("result", pnl.line())
    return r.finish(pnl, attack_succeeded=len(in_window) + len(before_up) > 0)


SCENARIO = Scenario(
    number=11,
    key="sequencer-down",
    title="L2 sequencer down",
    incident="Arbitrum / Optimism sequencer outages; Chainlink's L2 sequencer uptime feed and Aave's grace "
             "period",
    attack="uptime feed reports down (price falls meanwhile), then up with a fresh startedAt; the attacker "
           "liquidates at once",
    defence="sequencer down, or up for less than the grace period, guards every liquidation and new debt; "
            "startedAt == 0 (or a reverting/malformed uptime feed) reads as down",
    criterion="zero liquidations inside the grace window; startedAt == 0 rejected",
    variants=[
        Variant("unwind", "real OracleAdapter with an uptime feed, grace 1 h"),
        Variant("naive", "NaiveFeedOracle: no sequencer check", kind="naive"),
    ],
    run=run,
)
