"""The demo's story as a test: what `make demo` prints is what is asserted here."""

from unwind.story import BORROWERS, run_story


def test_story_books_close_exactly(h, accounts, chain, deployer):
    borrowers = [accounts[4 + i] for i in range(len(BORROWERS))]
    r = run_story(h.s, chain, deployer, borrowers, accounts[2], accounts[3], log=lambda m: None)
    assert len(r.liquidated) >= 3
    assert r.auctions >= len(r.liquidated)
    assert h.s.auction.count() == 0, "every auction settled"
    assert r.supply == r.backing, "debt supply == vault debt + auction tabs + bad debt"
    assert r.bad_debt == 0
    # no sale below the documented floor: 20% under the oracle price at the take
    assert all(sale.share_of_reference >= 0.8 for sale in r.sales)
    assert r.repaid_by_auctions > 0
    assert r.buffer_surplus > 0
    assert r.debt_after < r.debt_before
