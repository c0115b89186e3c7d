"""End to end: accounts open, the price falls, liquidations, auctions settle, accounting closes."""

from decimal import Decimal

from unwind.params import WAD
from unwind.story import Sale, StoryResult, price_move_line


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


def test_story_wording():
    """The demo's lines: a price move says from what and by how much, an auction is its kick number,
    the keeper's transactions are reconciled with the accounts it liquidated."""
    assert price_move_line("WETH", Decimal(3000), Decimal("2550")) == \
        "WETH feed moves from 3,000 to 2,550 uUSD (-15.0%)"
    assert price_move_line("USDC", Decimal("1"), Decimal("0.97")) == "USDC feed moves from 1 to 0.97 uUSD (-3.0%)"
    sale = Sale((3 << 32) | 2, "WETH", 2 * WAD, 5_000 * WAD, 2_550 * WAD, 18, "0x01")
    assert sale.kick == 3 and sale.value_at_reference == 5_100 * WAD
    r = StoryResult(liquidated=["a", "b", "c"], sales=[sale], keeper_txs=3, liquidation_txs=2, incentives=20 * WAD)
    assert r.keeper_line() == ("keeper: 3 transactions mined: 0 direct liquidations, 2 liquidation transactions for 3 "
                               "accounts to auctions (a batch liquidates several accounts in one transaction), 1 take, "
                               "0 redos")
    assert r.margin_line() == ("keeper's margin: 20.00 uUSD of liquidation incentives, collateral worth 5,100.00 uUSD "
                               "at the oracle price bought in auctions for 5,000.00 uUSD (100.00 uUSD below it), and "
                               "0.00 uUSD of discount on direct liquidations; before gas")
