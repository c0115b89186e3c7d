"""Flash takes: a keeper holding no debt tokens buys auctions by selling the collateral in a
market inside the take (FlashTaker callee). Asserted from the chain."""

from eth_abi import encode

from tests.protocol.liquidation_helpers import _check_revert_data, revert_data
from unwind.params import WAD
from unwind.story import drive, fund_with_debt_tokens, set_price, settle_oracle

MAX_UINT = 2**256 - 1


def weth_auction(s, chain, operator, borrower, weth_amount=10):
    """One running WETH auction, just started: `borrower` borrows 97% of its limit, WETH falls
    15%, the operator liquidates. Returns (auction id, the WETH price after the fall [wad])."""
    weth = s.collateral["WETH"]
    units = weth_amount * 10**18
    weth.mint(borrower, units, sender=borrower)
    weth.approve(s.vault, units, sender=borrower)
    s.vault.deposit(borrower, s.ids["WETH"], units, sender=borrower)
    s.vault.borrow(borrower, int(s.vault.maxBorrow(borrower) * 0.97), borrower, sender=borrower)
    fallen = s.feeds["WETH"].answer() * 85 // 100
    set_price(s, chain, operator, "WETH", str(fallen / 10**8))
    settle_oracle(s, chain, operator)
    before = set(s.auction.list())
    s.engine.liquidate(borrower, operator, sender=operator)
    (aid,) = set(s.auction.list()) - before
    return aid, fallen * 10**10


def test_flash_taker_refuses_a_take_its_owner_did_not_start(system, accounts, chain, project):
    """Anyone may call take with the keeper's FlashTaker as receiver; it must not sell for them."""
    s, operator, keeper, outsider = system, accounts[0], accounts[1], accounts[9]
    aid, weth_price = weth_auction(s, chain, operator, accounts[4])
    market = project.ShortchangingMarket.deploy(s.debt_token, weth_price * 12 // 10, 0, sender=operator)
    fund_with_debt_tokens(s, operator, 100_000)
    s.debt_token.transfer(market, 100_000 * WAD, sender=operator)
    flash = project.FlashTaker.deploy(s.auction, keeper, s.debt_token, s.direct, sender=operator)
    data = encode(["address", "uint256"], [market.address, 0])
    _check_revert_data(revert_data(s.auction.take, aid, MAX_UINT, MAX_UINT, flash, data, sender=outsider),
                       flash, "NotOwner", {"taker": outsider.address})
    assert revert_data(s.auction.take, aid, MAX_UINT, MAX_UINT, flash, data, sender=keeper) is None, \
        "the same take started by the owner goes through"


def test_flash_taker_refuses_proceeds_below_the_keepers_minimum(system, accounts, chain, project):
    """A market that pays less than it quoted and ignores minOut: FlashTaker's own check stops the
    take (the keeper's minimum here is the quote less 1%; the market keeps 2%; the auction
    starts at 1.1 x the oracle, the market quotes 1.2 x)."""
    s, operator, keeper = system, accounts[0], accounts[1]
    aid, weth_price = weth_auction(s, chain, operator, accounts[5])
    market = project.ShortchangingMarket.deploy(s.debt_token, weth_price * 12 // 10, 200, sender=operator)
    fund_with_debt_tokens(s, operator, 100_000)
    s.debt_token.transfer(market, 100_000 * WAD, sender=operator)
    flash = project.FlashTaker.deploy(s.auction, keeper, s.debt_token, s.direct, sender=operator)
    _, price, lot, tab = s.auction.getStatus(aid)
    slice_ = min(lot, tab * 10**18 // price)
    quoted = market.getAmountOut(s.collateral["WETH"], slice_)
    minimum = quoted * 99 // 100
    data = encode(["address", "uint256"], [market.address, minimum])
    # eth_call sees the pending block's timestamp: the price may fall a little, the slice grow
    _check_revert_data(revert_data(s.auction.take, aid, lot, price, flash, data, sender=keeper), flash,
                       "InsufficientProceeds", {"needed": minimum})
    paid = revert_data(s.auction.take, aid, lot, price, flash, encode(["address", "uint256"], [market.address, 0]),
                       sender=keeper)
    assert paid is None, "with no minimum beyond owe the same take goes through"


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
    flash = project.FlashTaker.deploy(s.auction, keeper, s.debt_token, s.direct, sender=operator)

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


def test_flash_taker_takes_direct_liquidation_callbacks_from_its_direct_liquidator_only(system, accounts, chain, project):
    """FlashTaker serves liquidateDirect too (IUnwindLiquidator): only from the direct liquidator
    it was deployed with (NotDirectLiquidator), only for its owner (NotOwner); through it the owner liquidates an
    account with no debt tokens of its own, paid from the market sale."""
    s, operator, keeper, outsider = system, accounts[0], accounts[1], accounts[9]
    borrower = accounts[6]
    weth = s.collateral["WETH"]
    weth.mint(borrower, 10 * 10**18, sender=borrower)
    weth.approve(s.vault, 10 * 10**18, sender=borrower)
    s.vault.deposit(borrower, s.ids["WETH"], 10 * 10**18, sender=borrower)
    s.vault.borrow(borrower, int(s.vault.maxBorrow(borrower) * 0.97), borrower, sender=borrower)
    fallen = s.feeds["WETH"].answer() * 90 // 100
    set_price(s, chain, operator, "WETH", str(fallen / 10**8))
    settle_oracle(s, chain, operator)
    market = project.ShortchangingMarket.deploy(s.debt_token, fallen * 10**10, 0, sender=operator)
    fund_with_debt_tokens(s, operator, 100_000)
    s.debt_token.transfer(market, 100_000 * WAD, sender=operator)
    flash = project.FlashTaker.deploy(s.auction, keeper, s.debt_token, s.direct, sender=operator)
    data = encode(["address", "uint256"], [market.address, 0])
    # called by anyone but the engine
    _check_revert_data(revert_data(flash.onUnwindLiquidate, keeper, borrower, weth, 1, 1, data, sender=outsider),
                       flash, "NotDirectLiquidator", {"caller": outsider.address})
    # a direct liquidation someone else starts with the keeper's FlashTaker as receiver
    args = (borrower, s.ids["WETH"], MAX_UINT, 0, flash, data)
    _check_revert_data(revert_data(s.direct.liquidateDirect, *args, sender=outsider), flash, "NotOwner",
                       {"taker": outsider.address})
    assert s.debt_token.balanceOf(keeper) == 0
    tx = s.direct.liquidateDirect(*args, sender=keeper)
    ev = s.direct.LiquidateDirect.from_receipt(tx)[0]
    assert ev.liquidator == keeper.address and ev.seized > 0
    assert s.debt_token.balanceOf(keeper) == ev.seized * fallen * 10**10 // 10**18 - ev.repaid  # its profit
