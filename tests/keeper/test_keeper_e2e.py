"""The keeper as a real process over RPC: every assertion reads the chain, not the keeper's word."""

from unwind.params import WAD
from unwind.story import BORROWERS, drive, open_accounts, run_story, set_price, settle_oracle


def test_price_drop_every_unsafe_account_liquidated_and_auctions_settled(system, accounts, chain, tmp_path):
    """The demo's story: what `make demo` prints is what is asserted here."""
    borrowers = [accounts[2 + i] for i in range(len(BORROWERS))]
    r = run_story(system, chain, accounts[0], borrowers, accounts[1], tmp_path, log=lambda m: None)
    assert r.settled, r.keeper_log[-4000:]
    assert len(r.unsafe) >= 3
    assert sorted(r.liquidated) == sorted(r.unsafe), "the keeper liquidated every unsafe account"
    assert system.auction.count() == 0, "every auction settled"
    # Both paths: the large account (above direct liquidation's limit) through an auction the keeper
    # then buys, the small ones directly, where that pays the keeper more than an auction's incentive.
    large = borrowers[-1].address
    assert large in r.unsafe and large not in [d.account for d in r.direct], "the large account goes to auction"
    assert r.direct, "no direct liquidation"
    assert all(d.share_of_reference < 1 and d.discount <= 8 * WAD // 100 for d in r.direct)
    assert r.sales and r.auctions >= len(r.unsafe) - len(r.direct)
    assert r.supply == r.backing, "debt supply == vault debt + auction tabs + bad debt"
    assert r.bad_debt == 0
    assert all(sale.share_of_reference >= 0.8 for sale in r.sales), "no sale below the 20% floor"
    assert r.debt_after < r.debt_before
    assert "summary:" in r.keeper_log


def test_dry_run_sends_nothing(system, accounts, chain, spawn_keeper):
    operator, keeper = accounts[0], accounts[1]
    open_accounts(system, [accounts[2 + i] for i in range(len(BORROWERS))])
    for symbol, price in (("WETH", "2250"), ("WBTC", "46000")):
        set_price(system, chain, operator, symbol, price)
    settle_oracle(system, chain, operator)
    nonce_before = keeper.nonce
    k = spawn_keeper(keeper, extra=("--dry-run",))
    assert k.wait_for("[dry run]", 60), k.output()
    drive(system, chain, operator, lambda: False, timeout=5)
    assert keeper.nonce == nonce_before
    assert system.auction.count() == 0
    assert k.stop() == 0
    assert "DRY RUN" in k.output()
