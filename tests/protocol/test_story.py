"""End to end: accounts open, the price falls, liquidations, auctions settle, accounting closes."""

from unwind.params import WAD


def test_open_borrow_repay_close(h, alice):
    s = h.s
    h.open(alice, {"WETH": 10}, 10_000)
    assert s.vault.debtOf(alice) == 10_000 * WAD
    assert s.debt_token.balanceOf(alice) == 10_000 * WAD
    h.assert_identity()
    s.vault.repay(alice, 2**256 - 1, sender=alice)
    assert s.vault.debtOf(alice) == 0
    s.vault.withdraw(alice, s.ids["WETH"], 10 * 10**18, alice, sender=alice)
    assert s.collateral["WETH"].balanceOf(alice) == 10 * 10**18
    h.assert_identity()


def test_price_fall_liquidation_and_auction_settles(h, alice, bob, keeper):
    s = h.s
    h.open(alice, {"WETH": 10}, 20_000)  # 30k of WETH at 3000; health 24k/20k = 1.2
    h.set_price("WETH", 2400)  # health 19.2k/20k = 0.96
    assert s.vault.healthOf(alice) < WAD
    preview = s.engine.previewLiquidate(alice)
    assert preview.liquidatable
    s.engine.liquidate(alice, keeper, sender=keeper)
    h.assert_identity()
    assert s.auction.count() == 1
    auction_id = s.auction.list()[0]
    sale = s.auction.sales(auction_id)
    assert s.vault.debtOf(alice) < 20_000 * WAD
    # bob buys at the current price with his own debt tokens
    h.open(bob, {"USDC": 100_000}, 50_000)
    _, price, lot, tab = s.auction.getStatus(auction_id)
    s.auction.take(auction_id, lot, price, bob, b"", sender=bob)
    assert s.auction.count() == 0
    h.assert_identity()
    assert s.buffer.badDebt() == 0
    assert s.vault.healthOf(alice) >= WAD
    del sale, tab
