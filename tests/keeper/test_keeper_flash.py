"""Flash takes: a keeper holding no debt tokens buys auctions by selling the collateral in a
market inside the take (FlashTaker callee). Asserted from the chain."""

from unwind.params import WAD
from unwind.story import drive, fund_with_debt_tokens, set_price, settle_oracle


def test_flash_take_needs_no_inventory(system, accounts, chain, project, spawn_keeper):
    s = system
    operator, keeper = accounts[0], accounts[1]
    weth = s.collateral["WETH"]
    start = chain.blocks.head.number

    # The outside world: a deep WETH/uUSD market at the post-crash price (0.3% fee).
    market = project.ConstantProductMarket.deploy(weth, s.debt_token, 30, sender=operator)
    fund_with_debt_tokens(s, operator, 2_600_000)
    weth.mint(operator, 1_000 * 10**18, sender=operator)
    weth.approve(market, 2**256 - 1, sender=operator)
    s.debt_token.approve(market, 2**256 - 1, sender=operator)
    market.addLiquidity(1_000 * 10**18, 2_550_000 * WAD, sender=operator)
    flash = project.FlashTaker.deploy(s.auction, keeper, s.debt_token, sender=operator)

    borrowers = [accounts[2], accounts[3]]
    for b in borrowers:
        weth.mint(b, 10 * 10**18, sender=b)
        weth.approve(s.vault, 10 * 10**18, sender=b)
        s.vault.deposit(b, s.ids["WETH"], 10 * 10**18, sender=b)
        s.vault.borrow(b, int(s.vault.maxBorrow(b) * 0.97), b, sender=b)
    set_price(s, chain, operator, "WETH", "2550")
    settle_oracle(s, chain, operator)
    assert all(s.vault.healthOf(b) < WAD for b in borrowers)
    # Someone else liquidates (and earns the incentive); this keeper only bids, holding nothing.
    s.engine.liquidateBatch(borrowers, operator, sender=operator)
    assert s.auction.count() >= 2
    assert s.debt_token.balanceOf(keeper) == 0, "the keeper starts with no inventory"

    k = spawn_keeper(keeper, extra=("--bid-only", "--flash-taker", flash.address,
                                    "--market", f"{weth.address}={market.address}"))
    assert k.wait_for("indexed", 60)
    settled = drive(s, chain, operator, lambda: s.auction.count() == 0 and chain.blocks.head.number > start + 8
                    and all(s.vault.healthOf(b) >= WAD for b in borrowers), timeout=180)
    assert settled, k.output()[-3000:]

    head = chain.blocks.head.number
    takes = list(s.auction.Take.range(start, head + 1))
    flashes = list(flash.FlashTake.range(start, head + 1))
    assert takes and all(t.taker == keeper.address for t in takes)
    assert flashes and flashes[0].block_number == takes[0].block_number, "with no inventory, the first take is a flash take"
    assert all(f.proceeds >= f.owe for f in flashes)
    # Later takes may be paid from the profit the keeper now holds; those deliver collateral to it.
    flash_blocks = {(f.block_number, f.amount) for f in flashes}
    own = sum(t.slice for t in takes if (t.block_number, t.slice) not in flash_blocks)
    assert weth.balanceOf(keeper) == own and weth.balanceOf(flash) == 0, "no collateral left in the callee"
    assert s.debt_token.balanceOf(keeper) > 0, "the keeper kept the difference as profit"
    supply = s.debt_token.totalSupply()
    assert supply == s.vault.totalDebt() + s.auction.totalDebt() + s.buffer.badDebt()
    assert "flash: sold in the market" in k.output()
