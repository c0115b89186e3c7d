"""The keeper's gas against the auction's storage reserve (issue 16, item 10): batches sent in
one block, each estimated against the head, meet a reserve the earlier ones used up.

A system of its own (module scope): a reserve of 10 sales, so 20 accounts in batches of 10 run
past it in one block. Asserted from the chain (receipts, events)."""

from dataclasses import replace

import pytest

from tests.keeper.test_keeper_faults import (  # noqa: F401 (fixtures)
    automine, automine_restored, bulk_open, free_port, metric_or_none, metrics, spawn, txs_from, unsafe_accounts,
    wait_until,
)
from unwind.deploy import deploy_system
from unwind.params import WAD, default_params
from unwind.story import set_price, settle_oracle

RESERVE = 10


@pytest.fixture(scope="module")
def system(project, accounts):
    return deploy_system(project, accounts[0], replace(default_params(), auction_reserve=RESERVE))


def test_batches_past_the_reserve_in_one_block_do_not_run_out_of_gas(system, accounts, chain, spawn,
                                                                     automine_restored):
    operator, keeper = accounts[0], accounts[1]
    s = system
    assert s.auction.poolSize() == RESERVE and s.auction.count() == 0
    # 20 accounts of 2 WETH and 4,400 uUSD each (health 1.09 at 3,000); WETH to 2,250: 0.82.
    addrs = bulk_open(s, chain, operator, 5_000, 2 * RESERVE, debt_each=4_400 * WAD)
    set_price(s, chain, operator, "WETH", "2250")
    settle_oracle(s, chain, operator)
    assert all(s.vault.healthOf(a) < WAD for a in addrs)

    automine(chain, False)
    mport = free_port()
    k = spawn(keeper, extra=("--kick-only", "--batch-size", str(RESERVE), "--metrics-port", str(mport)))
    assert k.wait_for("sent liquidate", 60, count=2), k.output()[-3000:]
    start = chain.blocks.head.number + 1
    chain.mine(1)
    automine(chain, True)
    head = chain.blocks.head.number
    assert wait_until(lambda: (metric_or_none(mport, "unwind_keeper_last_block") or 0) >= head, 30, [k])

    sent = txs_from(chain, keeper.address, start, head)
    assert len(sent) == 2, "two batches, mined in the one block"
    assert all(r["status"] == 1 for _, r in sent), \
        [(r["gasUsed"], tx["gas"]) for tx, r in sent]  # the second one meets fresh storage
    assert s.auction.count() == 2 * RESERVE and s.auction.poolSize() == 2 * RESERVE
    assert all(s.vault.healthOf(a) >= WAD for a in addrs)
    assert "lost race" not in k.output()
    assert metrics(mport).get("unwind_keeper_auctions_lost_total", 0) == 0
    assert k.stop() == 0
