"""Liquidations that cost more gas than they pay (issue 16, item 14): at 100 gwei a dust-sized
account's incentive (tip 20 + 1% of 1,300 closed = 33 uUSD) is less than its gas, a large
account's is not. The keeper skips the first (counted, logged) unless --altruistic. A system of
its own (module scope). Asserted from the chain (Liquidate events) and the keeper's metrics."""

import os
import signal
from decimal import Decimal

from tests.keeper.test_keeper_faults import free_port, metric_or_none, metrics, wait_until  # noqa: F401
from unwind.params import WAD
from unwind.story import set_price, settle_oracle

GWEI = 10**9


def open_weth(s, account, weth, debt):
    units = int(Decimal(str(weth)) * 10**18)
    token = s.collateral["WETH"]
    token.mint(account, units, sender=account)
    token.approve(s.vault, units, sender=account)
    s.vault.deposit(account, s.ids["WETH"], units, sender=account)
    s.vault.borrow(account, debt * WAD, account, sender=account)


def high_gas_block(chain, base_fee=100 * GWEI):
    chain.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(base_fee)])
    chain.mine(1)
    assert chain.provider.web3.eth.get_block("latest")["baseFeePerGas"] == base_fee


def test_dust_liquidation_at_high_gas_is_skipped_unless_altruistic(system, accounts, chain, spawn_keeper):
    s = system
    operator, keeper, dusty, large = accounts[0], accounts[1], accounts[2], accounts[3]
    open_weth(s, dusty, "0.6", 1_300)  # 1,800 of WETH at 3,000; at 2,250: health 0.83
    open_weth(s, large, 20, 44_000)  # at 2,250: health 0.82
    start = chain.blocks.head.number

    mport = free_port()
    k = spawn_keeper(keeper, extra=("--kick-only", "--metrics-port", str(mport)))
    assert k.wait_for("indexed", 60)
    assert wait_until(lambda: (metric_or_none(mport, "unwind_keeper_last_block") or 0) >= chain.blocks.head.number,
                      60, [k])
    os.kill(k.proc.pid, signal.SIGSTOP)  # the crash, then one block at 100 gwei, is what it sees
    try:
        set_price(s, chain, operator, "WETH", "2250")
        settle_oracle(s, chain, operator)
        assert s.vault.healthOf(dusty) < WAD and s.vault.healthOf(large) < WAD
        preview = s.engine.previewLiquidate(dusty)
        assert preview.incentive == 33 * WAD, "tip 20 + 0.01 x 1,300: the whole debt is closed"
        high_gas_block(chain)
    finally:
        os.kill(k.proc.pid, signal.SIGCONT)
    assert k.wait_for("mined liquidate", 60), k.output()[-3000:]
    liquidated = {e.account for e in s.engine.Liquidate.range(start, chain.blocks.head.number + 1)}
    assert liquidated == {large.address}, "the dust-sized account's gas is more than its incentive"
    assert metrics(mport).get("unwind_keeper_liquidations_skipped_total", 0) >= 1
    assert f"skip liquidate {dusty.address}: its incentive 33.00 does not pay its gas" in k.output()
    assert k.stop() == 0

    # --altruistic: the same liquidation, at the same gas price, is sent.
    high_gas_block(chain)
    k2 = spawn_keeper(keeper, name="altruist", extra=("--kick-only", "--altruistic"))
    assert k2.wait_for("mined liquidate", 60), k2.output()[-3000:]
    events = [e for e in s.engine.Liquidate.range(start, chain.blocks.head.number + 1) if e.account == dusty.address]
    assert len(events) == 1 and events[0].keeper == keeper.address
    assert chain.provider.web3.eth.get_block(events[0].block_number)["baseFeePerGas"] >= 80 * GWEI
    assert k2.stop() == 0
