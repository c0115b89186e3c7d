"""Redos that pay nothing (issue 16, item 12): an auction whose lot is worth nothing but whose tab
is not dust pays no redo incentive and no take of it would pay, so redoing it every time it needs
it is gas for nothing; a normal auction's redo pays its incentive and is still sent. A system of
its own (module scope). Asserted from the chain (Redo events)."""

from tests.keeper.test_keeper_faults import free_port, metric_or_none, wait_until  # noqa: F401
from unwind.params import WAD
from unwind.story import drive, fund_with_debt_tokens, set_price, settle_oracle


def test_redo_only_when_the_incentive_pays_the_gas_or_the_keeper_would_take(system, accounts, chain,
                                                                            spawn_keeper):
    s = system
    operator, keeper = accounts[0], accounts[1]
    weth = s.collateral["WETH"]
    for b in (accounts[2], accounts[3]):
        weth.mint(b, 10 * 10**18, sender=b)
        weth.approve(s.vault, 10 * 10**18, sender=b)
        s.vault.deposit(b, s.ids["WETH"], 10 * 10**18, sender=b)
        s.vault.borrow(b, int(s.vault.maxBorrow(b) * 0.97), b, sender=b)
    set_price(s, chain, operator, "WETH", "2550")
    settle_oracle(s, chain, operator)
    start = chain.blocks.head.number
    s.engine.liquidateBatch([accounts[2], accounts[3]], operator, sender=operator)
    tiny, normal = s.auction.list()

    # Near the floor (top 1.1 x 2,550 falling 0.1% a second, floor 0.8 x 2,550: ~318 s), someone buys
    # all but 1e-9 WETH of one auction: what is left is a tab above dust against a lot worth nothing.
    fund_with_debt_tokens(s, operator, 60_000)
    chain.mine(1, deltatime=290)
    lot = s.auction.sales(tiny).lot
    s.auction.take(tiny, lot - 10**9, 2**256 - 1, operator, b"", sender=operator)
    _, _, lot_left, tab_left = s.auction.getStatus(tiny)
    assert lot_left == 10**9 and tab_left >= s.vault.dust(), (lot_left, tab_left)

    # A keeper that bids (but holds nothing to pay with: it would take neither auction).
    mport = free_port()
    k = spawn_keeper(keeper, extra=("--bid-only", "--metrics-port", str(mport)))
    assert k.wait_for("indexed", 60)
    assert s.debt_token.balanceOf(keeper) == 0
    redone = lambda aid: [e for e in s.auction.Redo.range(start, chain.blocks.head.number + 1)  # noqa: E731
                          if e.id == aid]
    assert drive(s, chain, operator, lambda: len(redone(normal)) >= 2, timeout=120, step=120), k.output()[-3000:]
    assert all(e.keeper == keeper.address and e.incentive > 0 for e in redone(normal)), \
        "the normal auction's redo pays, and is sent"
    assert redone(tiny) == [], "a redo that pays nothing, of an auction the keeper would never buy"
    assert s.auction.getStatus(tiny)[0], "the dust auction needs a redo all along"
    assert wait_until(lambda: (metric_or_none(mport, "unwind_keeper_redos_skipped_total") or 0) >= 1, 30, [k])
    assert f"not redoing auction {tiny}" in k.output()
    assert k.stop() == 0
