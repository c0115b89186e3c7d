"""OracleAdapter storage writes: an update that changes nothing writes nothing (it runs inside every
liquidation), and a price change rewrites one slot. Counted from anvil's opcode trace."""

from collections import Counter

from oracle_helpers import BTC, DELAY


def opcode_counts(chain, receipt):
    trace = chain.provider.make_request(
        "debug_traceTransaction",
        [receipt.txn_hash, {"disableStorage": True, "disableMemory": True, "disableStack": True}],
    )
    return Counter(step["op"] for step in trace["structLogs"])


def test_update_that_changes_nothing_writes_nothing(adapter, weth, wbtc, usdc, keeper, chain):
    for token in (weth, wbtc, usdc):
        receipt = adapter.update(token, sender=keeper)
        assert opcode_counts(chain, receipt)["SSTORE"] == 0
        assert receipt.events == []


def test_price_change_rewrites_one_slot(adapter, wbtc, btc_feed, deployer, keeper, chain):
    btc_feed.setAnswer(BTC * 99 // 100, sender=deployer)
    receipt = adapter.update(wbtc, sender=keeper)
    assert opcode_counts(chain, receipt)["SSTORE"] == 1


def test_hop_and_status_change_write_few_slots(adapter, wbtc, btc_feed, deployer, keeper, chain):
    chain.pending_timestamp += DELAY
    btc_feed.setAnswer(BTC * 99 // 100, sender=deployer)
    counts = opcode_counts(chain, adapter.update(wbtc, sender=keeper))
    assert counts["SSTORE"] <= 4  # state word (status, hop time), prices word, queued price
    btc_feed.setReverts(True, sender=deployer)
    counts = opcode_counts(chain, adapter.update(wbtc, sender=keeper))
    assert counts["SSTORE"] <= 2  # status only
    assert counts["STATICCALL"] == 1  # one feed read (no secondary, no sequencer)
