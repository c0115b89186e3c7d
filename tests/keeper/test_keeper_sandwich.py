"""A flash take sandwiched (issue 16, item 11): an attacker sells the collateral into the market
just before the keeper's take and buys it back just after, so the take would still pay `owe` but
leave the keeper nothing for its gas. The keeper's minimum proceeds (gas + --min-profit, within
--slippage-bps of its quote) must make that take revert instead. A module of its own: a system
of its own. Asserted from the chain (block order, receipts, FlashTake events)."""

import pytest
from eth_utils import keccak
from eth_abi import encode

from tests.keeper.test_keeper_faults import automine, automine_restored, free_port, metric_or_none, metrics  # noqa: F401
from unwind.params import WAD
from unwind.story import drive, fund_with_debt_tokens, set_price, settle_oracle

FEE_BPS = 30
MIN_PROFIT = 100  # [uUSD]
SWAP = keccak(text="swap(address,uint256,uint256,address)")[:4]
GWEI = 10**9


def amount_out(amount_in: int, r_in: int, r_out: int) -> int:
    """ConstantProductMarket.getAmountOut, in integers."""
    with_fee = amount_in * (10_000 - FEE_BPS)
    return with_fee * r_out // (r_in * 10_000 + with_fee)


def send_raw(w3, sender, to, data, nonce, max_fee, priority):
    """eth_sendTransaction through the node (anvil holds the test keys), not waiting for a block.
    anvil orders a block by fee (highest first), a sender's transactions by nonce."""
    return w3.eth.send_transaction({"from": sender, "to": to, "data": "0x" + data.hex(), "nonce": nonce,
                                    "gas": 300_000, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority})


def test_sandwiched_flash_take_reverts_instead_of_paying_nothing(system, accounts, chain, project, spawn_keeper,
                                                                 automine_restored):
    s, w3 = system, chain.provider.web3
    operator, keeper, borrower, attacker = accounts[0], accounts[1], accounts[2], accounts[7]
    weth = s.collateral["WETH"]

    # The outside world: WETH/uUSD at the post-crash price, 1,000 WETH deep, 0.3% fee; an attacker
    # holding both sides.
    market = project.ConstantProductMarket.deploy(weth, s.debt_token, FEE_BPS, sender=operator)
    fund_with_debt_tokens(s, operator, 2_600_000)
    weth.mint(operator, 1_000 * 10**18, sender=operator)
    weth.approve(market, 2**256 - 1, sender=operator)
    s.debt_token.approve(market, 2**256 - 1, sender=operator)
    market.addLiquidity(1_000 * 10**18, 2_550_000 * WAD, sender=operator)
    weth.mint(attacker, 500 * 10**18, sender=attacker)
    weth.approve(market, 2**256 - 1, sender=attacker)
    s.debt_token.approve(market, 2**256 - 1, sender=attacker)
    flash = project.FlashTaker.deploy(s.auction, keeper, s.debt_token, s.direct, sender=operator)

    weth.mint(borrower, 10 * 10**18, sender=borrower)
    weth.approve(s.vault, 10 * 10**18, sender=borrower)
    s.vault.deposit(borrower, s.ids["WETH"], 10 * 10**18, sender=borrower)
    s.vault.borrow(borrower, int(s.vault.maxBorrow(borrower) * 0.97), borrower, sender=borrower)
    set_price(s, chain, operator, "WETH", "2550")
    settle_oracle(s, chain, operator)
    s.engine.liquidate(borrower, operator, sender=operator)  # someone else liquidates; the keeper bids
    (aid,) = s.auction.list()
    assert s.debt_token.balanceOf(keeper) == 0, "the keeper holds no inventory: only flash takes"

    mport = free_port()
    k = spawn_keeper(keeper, extra=("--bid-only", "--flash-taker", flash.address, "--market",
                                    f"{weth.address}={market.address}", "--min-profit", str(MIN_PROFIT),
                                    "--replace-after", "600", "--metrics-port", str(mport)))
    assert k.wait_for("indexed", 60)
    head = chain.blocks.head.number
    assert _processed(mport, head, k)

    # Time passes until the auction is worth a flash take; blocks wait for the sandwich from here.
    automine(chain, False)
    chain.mine(1, deltatime=150)
    assert k.wait_for("sent take", 60), k.output()[-3000:]
    [keeper_tx] = [t for t in _pool(chain) if t["from"].lower() == keeper.address.lower()]

    # The attacker sizes the front-run so that the keeper's slice still pays owe, plus 20 uUSD.
    t_next = chain.blocks.head.timestamp + 1
    chain.provider.make_request("evm_setNextBlockTimestamp", [t_next])
    _, price, lot, tab = s.auction.getStatus(aid)
    price = price * 999 // 1000  # one second on (cut 0.999 a second), rounded in the market's favour
    slice_ = min(lot, tab * WAD // price)
    owe = -(-slice_ * price // WAD)
    rb, rq = market.reserveBase(), market.reserveQuote()
    lo, hi = 0, 400 * 10**18
    while hi - lo > 10**12:  # the largest sale after which the keeper's slice still fetches owe + 20
        mid = (lo + hi) // 2
        out = amount_out(mid, rb, rq)
        if amount_out(slice_, rb + mid, rq - out) >= owe + 20 * WAD:
            lo = mid
        else:
            hi = mid
    front = lo
    got = amount_out(front, rb, rq)
    assert amount_out(slice_, rb, rq) - owe > 10 * MIN_PROFIT * WAD, "without the attack the take pays well"

    n = w3.eth.get_transaction_count(attacker.address, "pending")
    sell = SWAP + encode(["address", "uint256", "uint256", "address"], [weth.address, front, 0, attacker.address])
    buy = SWAP + encode(["address", "uint256", "uint256", "address"], [s.debt_token.address, got, 0, attacker.address])
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    front_hash = send_raw(w3, attacker.address, market.address, sell, n, 100 * GWEI, 50 * GWEI)  # ahead of the keeper
    back_hash = send_raw(w3, attacker.address, market.address, buy, n + 1, base + 1, 0)  # behind it (tip 1 gwei)
    chain.mine(1)
    block = w3.eth.get_block("latest", full_transactions=True)
    order = [_hex(t["hash"]) for t in block["transactions"]]
    assert order == [_hex(front_hash), _hex(keeper_tx["hash"]), _hex(back_hash)], \
        "the sandwich: front-run, the take, back-run"
    take_receipt = w3.eth.get_transaction_receipt(keeper_tx["hash"])
    flashes = list(flash.FlashTake.range(block["number"], block["number"] + 1))
    assert take_receipt["status"] == 0 and not flashes, \
        f"the sandwiched take completed: proceeds - owe = {[(f.proceeds - f.owe) / WAD for f in flashes]}"
    automine(chain, True)
    assert _processed(mport, block["number"], k)
    assert k.wait_for("reverted: take", 30), k.output()[-3000:]
    assert "lost race" not in k.output(), "the keeper's own revert is no lost race"
    assert metrics(mport).get("unwind_keeper_auctions_lost_total", 0) == 0

    # The market is back: the next take goes through at a profit that pays for the gas and more.
    assert drive(s, chain, operator, lambda: s.auction.count() == 0, timeout=120), k.output()[-3000:]
    flashes = list(flash.FlashTake.range(block["number"], chain.blocks.head.number + 1))
    assert flashes and all(f.proceeds - f.owe >= MIN_PROFIT * WAD for f in flashes)
    assert k.stop() == 0


def _hex(h) -> str:
    return h.lower() if isinstance(h, str) else "0x" + bytes(h).hex()


def _pool(chain) -> list:
    content = chain.provider.make_request("txpool_content", [])
    return [t for txs in (content.get("pending") or {}).values() for t in txs.values()]


def _processed(port, block, k) -> bool:
    from tests.keeper.test_keeper_faults import wait_until

    return wait_until(lambda: (metric_or_none(port, "unwind_keeper_last_block") or 0) >= block, 60, [k])
