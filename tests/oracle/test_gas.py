"""OracleAdapter storage writes: an update that changes nothing writes nothing (it runs inside every
liquidation), and a new round rewrites at most two slots: the prices word if the price changed, and
the state word for the round's `updatedAt` (choice 5: the grace after an outage nobody stored).
Counted from anvil's opcode trace."""

from collections import Counter

from oracle_helpers import BTC, DELAY


def opcode_counts(chain, receipt):
    trace = chain.provider.make_request(
        "debug_traceTransaction",
        [receipt.txn_hash, {"disableStorage": True, "disableMemory": True, "disableStack": True}],
    )
    return Counter(step["op"] for step in trace["structLogs"])


def slots_written(chain, receipt):
    """The distinct storage slots the transaction's SSTOREs wrote (a packed word written field by
    field is one slot)."""
    trace = chain.provider.make_request(
        "debug_traceTransaction",
        [receipt.txn_hash, {"disableStorage": True, "disableMemory": True, "disableStack": False}],
    )
    return {step["stack"][-1] for step in trace["structLogs"] if step["op"] == "SSTORE"}


def test_update_that_changes_nothing_writes_nothing(adapter, weth, wbtc, usdc, keeper, chain):
    for token in (weth, wbtc, usdc):
        receipt = adapter.update(token, sender=keeper)
        assert opcode_counts(chain, receipt)["SSTORE"] == 0
        assert receipt.events == []


def test_price_change_rewrites_two_slots(adapter, wbtc, btc_feed, deployer, keeper, chain):
    # Was one slot (prices) before the state word recorded each new round's updatedAt.
    chain.pending_timestamp += 60  # a round with a new updatedAt
    btc_feed.setAnswer(BTC * 99 // 100, sender=deployer)
    receipt = adapter.update(wbtc, sender=keeper)
    assert len(slots_written(chain, receipt)) == 2
    # A new round at the same answer rewrites only the state word; the same round again, nothing.
    chain.pending_timestamp += 60
    btc_feed.setAnswer(BTC * 99 // 100, sender=deployer)
    assert len(slots_written(chain, adapter.update(wbtc, sender=keeper))) == 1
    assert opcode_counts(chain, adapter.update(wbtc, sender=keeper))["SSTORE"] == 0


def test_hop_and_status_change_write_few_slots(adapter, wbtc, btc_feed, deployer, keeper, chain):
    chain.pending_timestamp += DELAY
    btc_feed.setAnswer(BTC * 99 // 100, sender=deployer)
    counts = opcode_counts(chain, adapter.update(wbtc, sender=keeper))
    assert counts["SSTORE"] <= 4  # state word (status, hop time), prices word, queued price
    btc_feed.setReverts(True, sender=deployer)
    counts = opcode_counts(chain, adapter.update(wbtc, sender=keeper))
    assert counts["SSTORE"] <= 2  # status only
    assert counts["STATICCALL"] == 1  # one feed read (no secondary, no sequencer)
