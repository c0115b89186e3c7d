"""OracleAdapter against a Python model of the interface's rules, over random sequences of feed
rounds, broken feeds and time (waits up to 90 min between reads, so a primary can return from an
outage no read stored: choice 5's gap rule). WETH: primary + secondary, 8 decimals, heartbeat 1 h,
max deviation 2%, max jump 10%, delay 1 h, recovery grace 30 min (see conftest)."""

from dataclasses import dataclass

from hypothesis import example, given
from hypothesis import strategies as st
from oracle_helpers import (
    DELAY,
    ETH,
    FROZEN,
    G_FROZEN,
    G_NONE,
    G_RECOVERY,
    HEARTBEAT,
    LIVE,
    MAX_DEV_BPS,
    MAX_JUMP_BPS,
    RECOVERY_GRACE,
    SECONDARY,
    fuzz,
)

E10 = 10**10


@dataclass
class Feed:
    answer: int
    updated: int
    broken: bool = False

    def valid(self, now):
        return not self.broken and self.answer > 1 and now - self.updated <= HEARTBEAT


@dataclass
class Model:
    status: int
    current: int
    delayed: int
    queued: int
    last_hop: int
    round_at: int  # updatedAt of the last accepted primary round
    since: int = 0

    def step(self, now, primary, secondary):
        p = primary.answer * E10 if primary.valid(now) else None
        s = secondary.answer * E10 if secondary.valid(now) else None
        last = self.current

        def within(x, ref, bps):
            return abs(x - ref) * 10_000 <= ref * bps

        def near(x):
            # within the jump bound of the last accepted price or of the delayed price
            return within(x, last, MAX_JUMP_BPS) or within(x, self.delayed, MAX_JUMP_BPS)

        def agree(x, y):
            return (max(x, y) - min(x, y)) * 10_000 <= min(x, y) * MAX_DEV_BPS

        # The interface's rules: disagreement freezes; a valid primary within the jump bound (of the
        # last accepted or the delayed price), or confirmed by the secondary, is LIVE; else the
        # secondary within the jump bound; else FROZEN.
        if p is not None and s is not None and not agree(p, s):
            status, price = FROZEN, last
        elif p is not None and (near(p) or s is not None):
            status, price = LIVE, p
        elif s is not None and near(s):
            status, price = SECONDARY, s
        else:
            status, price = FROZEN, last
        if status == LIVE:
            if self.status != LIVE:
                self.since = now  # a stored return
            elif primary.updated > self.round_at + HEARTBEAT:
                # A return nobody stored: the rounds show the gap. (Every step reads, and a feed
                # makes at most one round a step, so no round is missed: k == 1 in choice 5.)
                self.since = primary.updated
            self.round_at = primary.updated
        self.status, self.current = status, price
        if status != FROZEN and now >= self.last_hop + DELAY:
            self.delayed, self.queued, self.last_hop = self.queued, price, now

    def guard(self, now):
        if self.status == FROZEN:
            return G_FROZEN
        if self.status == LIVE and now < self.since + RECOVERY_GRACE:
            return G_RECOVERY
        return G_NONE


# One step: seconds to wait, then what each feed does: a new round at a move (in %) from ETH,
# nothing (the round ages), or break (revert).
feed_action = st.one_of(
    st.tuples(st.just("round"), st.integers(min_value=-14, max_value=14)),
    st.tuples(st.just("keep"), st.just(0)),
    st.tuples(st.just("break"), st.just(0)),
)
steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=90 * 60), feed_action, feed_action),
    min_size=3,
    max_size=7,
)


# An outage nobody stored: 70 min without a round (heartbeat 1 h) between two reads that both
# find the token LIVE (issue 16, item 3).
UNSTORED_OUTAGE = [
    (60, ("round", 0), ("round", 0)),
    (70 * 60, ("round", 1), ("round", 1)),
    (60, ("keep", 0), ("keep", 0)),
]


@fuzz(12)
@given(plan=steps)
@example(plan=UNSTORED_OUTAGE)
def test_adapter_follows_the_model(adapter, weth, eth_feed, eth_feed2, deployer, keeper, chain, plan):
    snap = chain.snapshot()
    try:
        delayed, queued, last_hop, _ = adapter.delayedState(weth)
        feeds = {}
        for contract in (eth_feed, eth_feed2):
            _, answer, _, updated, _ = contract.latestRoundData()
            feeds[contract.address] = Feed(answer, updated)
        model = Model(LIVE, ETH * E10, delayed, queued, last_hop, feeds[eth_feed.address].updated)
        t = chain.pending_timestamp
        for wait, *actions in plan:
            t += wait
            chain.pending_timestamp = t
            for contract, (kind, move) in zip((eth_feed, eth_feed2), actions):
                feed = feeds[contract.address]
                if kind == "break" and not feed.broken:
                    contract.setReverts(True, sender=deployer)
                    feed.broken = True
                elif kind == "round":
                    if feed.broken:
                        contract.setReverts(False, sender=deployer)
                        feed.broken = False
                    answer = ETH * (100 + move) // 100
                    feed.answer, feed.updated = answer, contract.setAnswer(answer, sender=deployer).timestamp
            now = adapter.update(weth, sender=keeper).timestamp
            model.step(now, feeds[eth_feed.address], feeds[eth_feed2.address])
            t = now
            chain.pending_timestamp = now
            chain.mine()  # calls now run at `now`
            q = adapter.peek(weth)
            assert (adapter.status(weth), q.status) == (model.status, model.status), plan
            assert q.current == model.current, plan
            assert adapter.delayedState(weth)[:3] == (model.delayed, model.queued, model.last_hop), plan
            assert q.guard == model.guard(now), plan
            lo, hi = sorted((model.current, model.delayed))
            assert q.auctionStartPrice == hi
            assert q.liquidationPrice == (hi if q.guard == G_NONE else 0)
            assert q.borrowPrice == (lo if q.guard in (G_NONE, G_RECOVERY) else 0)
    finally:
        chain.restore(snap)
