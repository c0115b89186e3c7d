"""The keeper as a separate process under faults: a competitor, an RPC outage, SIGKILL between
sending and mining, and RPC cost as the number of accounts grows.

Every assertion reads the chain (events, transactions, receipts, nonces, the node's mempool) or
the RPC proxy's counters; keeper logs are only waited on, and read only where the task is
"the keeper says so" (a lost race is logged).
"""

import os
import signal
import socket
import time
import urllib.request
from collections import Counter, defaultdict

import pytest
import requests
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from web3.logs import DISCARD

from tests.keeper.rpc_proxy import RpcProxy
from unwind.keeper.runner import load_abis
from unwind.keeper.process import ROOT, KeeperProcess
from unwind.params import WAD
from unwind.story import BORROWERS, drive, fund_with_debt_tokens, open_accounts, set_price, settle_oracle

PRICE_CRASH = {"WETH": "2250", "WBTC": "46000"}


# --- helpers ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port: int) -> dict:
    """The keeper's Prometheus gauges and counters, by name."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def metric_or_none(port: int, name: str):
    try:
        return metrics(port).get(name)
    except OSError:
        return None


def wait_until(predicate, timeout: float, keepers=(), interval: float = 0.1) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        for k in keepers:
            if not k.alive():
                raise AssertionError(f"keeper exited {k.proc.returncode}:\n{k.output()[-3000:]}")
        time.sleep(interval)
    return predicate()


def crash_prices(system, chain, operator) -> None:
    for symbol, price in PRICE_CRASH.items():
        set_price(system, chain, operator, symbol, price)
    settle_oracle(system, chain, operator)


def unsafe_accounts(system, accounts) -> list:
    return [a.address for a in accounts if system.vault.healthOf(a) < WAD]


def automine(chain, on: bool) -> None:
    chain.provider.make_request("evm_setAutomine", [on])


def engine_contract(chain, system):
    abis = load_abis(ROOT / ".build" / "__local__.json")
    return chain.provider.web3.eth.contract(address=system.engine.address, abi=abis["engine"])


def txs_from(chain, address: str, lo: int, hi: int) -> list:
    """(tx, receipt) of every transaction `address` sent that was mined in blocks lo..hi."""
    w3 = chain.provider.web3
    out = []
    for n in range(lo, hi + 1):
        for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]:
            if tx["from"].lower() == address.lower():
                out.append((tx, w3.eth.get_transaction_receipt(tx["hash"])))
    return out


def accounts_acted_on(engine, tx) -> list:
    """The accounts a liquidate / liquidateBatch transaction names (others: none)."""
    if tx["to"] is None or tx["to"].lower() != engine.address.lower():
        return []
    fn, args = engine.decode_function_input(tx["input"])
    if fn.fn_name == "liquidate":
        return [args["account"]]
    if fn.fn_name == "liquidateBatch":
        return list(args["accounts"])
    return []


def mempool_of(chain, address: str) -> dict:
    """Transactions from `address` waiting in the node's pool: nonce -> hash."""
    content = chain.provider.make_request("txpool_content", [])
    out = {}
    for section in ("pending", "queued"):
        for sender, txs in (content.get(section) or {}).items():
            if sender.lower() == address.lower():
                out.update({int(n): t["hash"] for n, t in txs.items()})
    return out


def liquidations(system, lo: int, hi: int) -> list:
    return list(system.engine.Liquidate.range(lo, hi + 1))


def liquidations_either_way(system, lo: int, hi: int) -> list:
    """(account, keeper, block) of every liquidation in blocks lo..hi, by auction or direct."""
    out = [(str(e.account), str(e.keeper), e.block_number) for e in liquidations(system, lo, hi)]
    out += [(str(e.account), str(e.liquidator), e.block_number) for e in system.direct.LiquidateDirect.range(lo, hi + 1)]
    return out


@pytest.fixture
def spawn(chain, tmp_path, record):
    """Keeper processes over RPC (anvil itself, or a URL such as the proxy's); all stopped after."""
    started = []

    def start(account, name="keeper", extra=(), rpc_url=None):
        k = KeeperProcess(rpc_url or chain.provider.uri, record, account.private_key, tmp_path, name, extra)
        started.append(k)
        return k

    yield start
    for k in started:
        k.stop(signal.SIGKILL)


@pytest.fixture
def proxy(chain):
    p = RpcProxy(chain.provider.uri).start()
    yield p
    p.stop()


@pytest.fixture
def automine_restored(chain):
    yield
    automine(chain, True)


# --- the proxy itself -------------------------------------------------------------------------

def test_rpc_proxy_forwards_counts_and_refuses(chain, proxy):
    head = chain.blocks.head.number
    r = requests.post(proxy.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}, timeout=5)
    assert int(r.json()["result"], 16) == head
    batch = [{"jsonrpc": "2.0", "id": i, "method": m, "params": []}
             for i, m in enumerate(["eth_chainId", "eth_blockNumber", "eth_chainId"])]
    r = requests.post(proxy.url, json=batch, timeout=5)
    assert len(r.json()) == 3
    assert proxy.counts == Counter({"eth_blockNumber": 2, "eth_chainId": 2}), "batch elements count one by one"
    assert proxy.requests == 2

    port = proxy.port
    proxy.refuse("close")
    with pytest.raises(requests.ConnectionError):
        requests.post(proxy.url, json=batch, timeout=5)
    proxy.refuse("reset")
    with pytest.raises(requests.ConnectionError):
        requests.post(proxy.url, json=batch, timeout=5)
    assert proxy.refused >= 1
    proxy.resume()
    assert proxy.port == port, "the endpoint comes back where it was"
    r = requests.post(proxy.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=5)
    assert r.json()["result"] == hex(chain.chain_id)
    assert proxy.counts["eth_chainId"] == 3
    proxy.stop()
    with pytest.raises(requests.ConnectionError):
        requests.post(proxy.url, json=batch, timeout=2)


# --- (a) two keepers ----------------------------------------------------------------------------

def test_two_keepers_compete_each_account_liquidated_once(system, accounts, chain, spawn, automine_restored):
    operator, first, second = accounts[0], accounts[1], accounts[8]
    borrowers = [accounts[2 + i] for i in range(len(BORROWERS))]
    open_accounts(system, borrowers)
    for k in (first, second):
        fund_with_debt_tokens(system, k, 500_000)
    start = chain.blocks.head.number + 1
    crash_prices(system, chain, operator)
    unsafe = unsafe_accounts(system, borrowers)
    assert len(unsafe) >= 3

    # Both keepers see the same unsafe accounts in the same block: hold mining until both have
    # acted on it, so their liquidations really race for one block.
    automine(chain, False)
    # the auction path (kicks, then takes); the direct path: the outage test below and test_keeper_e2e.py
    keepers = [spawn(first, "first", extra=("--no-direct",)), spawn(second, "second", extra=("--no-direct",))]
    acted = lambda k: "sent liquidate" in k.output() or "skip liquidate" in k.output()  # noqa: E731
    assert wait_until(lambda: all(acted(k) for k in keepers), 60, keepers), [k.output()[-1500:] for k in keepers]
    chain.mine(1)
    automine(chain, True)

    settled = drive(system, chain, operator,
                    lambda: not unsafe_accounts(system, borrowers) and system.auction.count() == 0, timeout=150)
    assert settled, [k.output()[-2000:] for k in keepers]
    assert all(k.alive() for k in keepers), "both keepers stay up"
    head = chain.blocks.head.number

    # every unsafe account liquidated exactly once, by one of the two
    liqs = liquidations(system, start, head)
    assert Counter(e.account for e in liqs) == Counter(unsafe)
    assert {e.keeper for e in liqs} <= {first.address, second.address}
    # no collateral sold twice: per auction, the slices taken add up to at most its lot
    kicks = {k.id: k for k in system.auction.Kick.range(start, head + 1)}
    sold = defaultdict(int)
    for take in system.auction.Take.range(start, head + 1):
        assert take.id in kicks
        assert take.taker in (first.address, second.address)
        sold[take.id] += take.slice
    assert sold, "the keepers bought collateral"
    assert all(sold[i] <= kicks[i].lot for i in sold), "collateral sold twice"
    supply = system.debt_token.totalSupply()
    assert supply == system.vault.totalDebt() + system.auction.totalDebt() + system.buffer.badDebt()

    # The race: both batches were mined in one block; the first liquidated every account, the
    # other liquidated none (liquidateBatch skips, it does not revert). The loser must know.
    engine = engine_contract(chain, system)
    winners = {e.keeper for e in liqs}
    assert len(winners) == 1, winners
    (loser_proc, loser), = [(k, a) for k, a in zip(keepers, (first, second)) if a.address not in winners]
    race = [(tx, r) for tx, r in txs_from(chain, loser.address, start, head) if accounts_acted_on(engine, tx)]
    assert race, "the loser sent its liquidation too"
    for tx, receipt in race:
        events = engine.events.Liquidate().process_receipt(receipt, errors=DISCARD)
        assert not [e for e in events if e["args"]["keeper"] == loser.address]
    assert "lost race: liquidate" in loser_proc.output() or "skip liquidate" in loser_proc.output(), \
        loser_proc.output()[-3000:]
    assert [k.stop() for k in keepers] == [0, 0]


# --- (b) RPC outage ---------------------------------------------------------------------------

def test_rpc_outage_keeper_survives_and_liquidates_after(system, accounts, chain, spawn, proxy):
    operator, keeper = accounts[0], accounts[1]
    borrowers = [accounts[2 + i] for i in range(len(BORROWERS))]
    open_accounts(system, borrowers)
    fund_with_debt_tokens(system, keeper, 500_000)
    mport = free_port()
    k = spawn(keeper, extra=("--metrics-port", str(mport)), rpc_url=proxy.url)
    assert k.wait_for("indexed", 60), k.output()
    start = chain.blocks.head.number + 1

    # the endpoint goes away: first refused outright, then connections reset
    t0 = time.time()
    proxy.refuse("close")
    crash_prices(system, chain, operator)  # straight to anvil, not through the proxy
    unsafe = unsafe_accounts(system, borrowers)
    assert len(unsafe) >= 3
    drive(system, chain, operator, lambda: time.time() > t0 + 15, timeout=30, step=12, pause=0.5)
    proxy.refuse("reset")
    drive(system, chain, operator, lambda: time.time() > t0 + 30, timeout=30, step=12, pause=0.5)
    outage_end = chain.blocks.head.number
    assert liquidations_either_way(system, start, outage_end) == [], "nothing could be liquidated through a dead endpoint"
    assert k.alive(), k.output()[-3000:]
    proxy.resume()

    done = drive(system, chain, operator, lambda: not unsafe_accounts(system, borrowers), timeout=90, step=12)
    assert done, k.output()[-3000:]
    head = chain.blocks.head.number
    liqs = liquidations_either_way(system, start, head)  # the keeper chooses direct or auction per account
    assert {account for account, _, _ in liqs} == set(unsafe)
    direct = Counter(e.account for e in system.direct.LiquidateDirect.range(start, head + 1))
    auction = Counter(e.account for e in liquidations(system, start, head))
    assert all(n == 1 for n in direct.values()) and all(n == 1 for n in auction.values()), \
        (direct, auction)  # none twice the same way (a direct close may leave an auction's worth)
    assert all(who == keeper.address and block > outage_end for _, who, block in liqs)
    assert k.alive()
    assert metrics(mport)["unwind_keeper_rpc_errors_total"] >= 1, "the keeper counted its failed round trips"
    assert proxy.refused >= 1, "the keeper kept trying during the outage"
    assert k.stop() == 0


# --- (c) SIGKILL between sending and mining ---------------------------------------------------

def test_transaction_the_node_dropped_is_sent_again_at_once(system, accounts, chain, spawn, automine_restored):
    """The node forgets the keeper's liquidation (anvil_dropTransaction; anvil was seen to drop the
    last of a burst of batches): the keeper notices at the next block that its next nonce is neither
    mined nor pooled and sends it again, instead of waiting --replace-after (here 10 minutes)."""
    operator, keeper = accounts[0], accounts[1]
    borrowers = [accounts[2 + i] for i in range(len(BORROWERS))]
    open_accounts(system, borrowers)
    crash_prices(system, chain, operator)
    unsafe = unsafe_accounts(system, borrowers)
    assert unsafe
    nonce0 = keeper.nonce

    automine(chain, False)
    k = spawn(keeper, extra=("--kick-only", "--no-direct", "--replace-after", "600"))
    assert k.wait_for("sent liquidate", 60), k.output()[-3000:]
    [dropped] = mempool_of(chain, keeper.address).values()
    chain.provider.make_request("anvil_dropTransaction", [dropped])
    assert mempool_of(chain, keeper.address) == {}
    start = chain.blocks.head.number + 1
    chain.mine(1)  # a new head: the keeper checks its pending transaction
    assert k.wait_for("no longer in the node's pool", 60), k.output()[-3000:]
    assert wait_until(lambda: nonce0 in mempool_of(chain, keeper.address), 30, [k]), k.output()[-3000:]
    chain.mine(1)
    assert keeper.nonce == nonce0 + 1
    liquidated = {str(e.account) for e in liquidations(system, start, chain.blocks.head.number)}
    assert liquidated and liquidated <= set(unsafe)
    assert k.stop() == 0


def test_sigkill_between_send_and_mine_no_duplicate_no_stall(system, accounts, chain, spawn,
                                                            automine_restored):
    operator, keeper = accounts[0], accounts[1]
    borrowers = [accounts[2 + i] for i in range(len(BORROWERS))]
    open_accounts(system, borrowers)
    fund_with_debt_tokens(system, keeper, 500_000)
    start = chain.blocks.head.number + 1
    crash_prices(system, chain, operator)
    unsafe = unsafe_accounts(system, borrowers)
    assert len(unsafe) >= 2, "a batch: its accounts must be recognised as in flight after the restart"
    nonce0 = keeper.nonce

    automine(chain, False)
    mport = free_port()
    k = spawn(keeper, extra=("--metrics-port", str(mport), "--no-direct"))  # the auction path: kicks, then takes
    assert k.wait_for("sent liquidate", 60), k.output()[-3000:]
    k.stop(signal.SIGKILL)
    assert k.proc.returncode == -signal.SIGKILL
    sent = mempool_of(chain, keeper.address)
    assert list(sent) == [nonce0], "exactly the one liquidation waits in the pool"

    head = chain.blocks.head.number
    k.start()  # same --state-file
    assert wait_until(lambda: metric_or_none(mport, "unwind_keeper_last_block") == head, 60, [k]), k.output()[-3000:]
    # nothing new for the same accounts; at most a same-nonce replacement (after --replace-after)
    assert set(mempool_of(chain, keeper.address)) == {nonce0}, "the restarted keeper sent a second transaction"
    chain.mine(1)
    automine(chain, True)

    # no stall: the keeper goes on with its next nonces (takes of the auctions it started)
    assert drive(system, chain, operator, lambda: keeper.nonce >= nonce0 + 2, timeout=90), k.output()[-3000:]
    assert k.stop() == 0
    chain.mine(1)
    head = chain.blocks.head.number

    engine = engine_contract(chain, system)
    mined = txs_from(chain, keeper.address, start, head)
    assert [tx["nonce"] for tx, _ in mined] == list(range(nonce0, keeper.nonce)), "nonces mined in order, no gap"
    assert all(r["status"] == 1 for _, r in mined), "no transaction from the keeper reverted"
    nonces_per_account = defaultdict(set)
    for tx, _ in mined:
        for account in accounts_acted_on(engine, tx):
            nonces_per_account[account].add(tx["nonce"])
    assert set(nonces_per_account) == set(unsafe)
    assert all(n == {nonce0} for n in nonces_per_account.values()), \
        f"a second liquidate for the same account: {dict(nonces_per_account)}"
    assert accounts_acted_on(engine, mined[0][0]), "the transaction at the killed keeper's nonce is its liquidation"
    assert Counter(e.account for e in liquidations(system, start, head)) == Counter(unsafe)
    assert chain.provider.web3.eth.get_transaction_count(keeper.address, "pending") == keeper.nonce, "nothing stuck"


# --- (d) RPC calls per block do not grow with the accounts ------------------------------------

DEPOSIT = keccak(text="deposit(address,uint256,uint256)")[:4]
BORROW = keccak(text="borrow(address,uint256,address)")[:4]


def _rpc_batch(w3, calls, chunk=250) -> list:
    results = []
    for i in range(0, len(calls), chunk):
        for response in w3.provider.make_batch_request(calls[i:i + chunk]):
            if "error" in response and response["error"]:
                raise AssertionError(f"batch call failed: {response['error']}")
            results.append(response.get("result"))
    return results


def _mine_pool(chain, max_blocks=40) -> int:
    mined = 0
    while int(chain.provider.make_request("txpool_status", [])["pending"], 16) > 0:
        assert mined < max_blocks, "the pool does not drain"
        chain.provider.make_request("evm_mine", [])
        mined += 1
    return mined


def bulk_open(system, chain, funder, first: int, count: int, weth_each=2 * WAD, debt_each=1_000 * WAD) -> list:
    """Open `count` accounts (2 WETH, 1,000 uUSD each) with raw transactions in JSON-RPC batches:
    the funder deposits for every account, each account borrows for itself (anvil impersonates
    the generated addresses, so nothing is signed here), mined a few hundred per block."""
    w3 = chain.provider.web3
    addrs = [to_checksum_address(keccak(text=f"unwind-keeper-bulk-{i}")[12:]) for i in range(first, first + count)]
    weth, vault, wid = system.collateral["WETH"], system.vault, system.ids["WETH"]
    weth.mint(funder, weth_each * count, sender=funder)
    weth.approve(vault, weth_each * count, sender=funder)
    _rpc_batch(w3, [("anvil_setBalance", [a, hex(10**18)]) for a in addrs])
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    fees = {"maxFeePerGas": hex(base * 10 + 2 * 10**9), "maxPriorityFeePerGas": hex(10**9)}
    chain.provider.make_request("anvil_autoImpersonateAccount", [True])
    automine(chain, False)
    try:
        nonce = w3.eth.get_transaction_count(funder.address)
        deposits = [("eth_sendTransaction", [dict(fees, **{
            "from": funder.address, "to": vault.address, "nonce": hex(nonce + i), "gas": hex(200_000),
            "data": "0x" + (DEPOSIT + encode(["address", "uint256", "uint256"], [a, wid, weth_each])).hex()})])
            for i, a in enumerate(addrs)]
        _rpc_batch(w3, deposits)
        _mine_pool(chain)
        borrows = [("eth_sendTransaction", [dict(fees, **{
            "from": a, "to": vault.address, "nonce": "0x0", "gas": hex(400_000),
            "data": "0x" + (BORROW + encode(["address", "uint256", "address"], [a, debt_each, a])).hex()})])
            for a in addrs]
        _rpc_batch(w3, borrows)
        _mine_pool(chain)
    finally:
        automine(chain, True)
        chain.provider.make_request("anvil_autoImpersonateAccount", [False])
    return addrs


def _calls_per_block(chain, proxy, mport, keeper_proc, blocks=10, pause=0.5) -> Counter:
    head = chain.blocks.head.number
    assert wait_until(lambda: metric_or_none(mport, "unwind_keeper_last_block") == head, 60, [keeper_proc])
    proxy.reset_counts()
    for _ in range(blocks):
        chain.mine(1)
        time.sleep(pause)
    head = chain.blocks.head.number
    assert wait_until(lambda: metric_or_none(mport, "unwind_keeper_last_block") == head, 30, [keeper_proc])
    counts = proxy.snapshot()
    return Counter({m: n / blocks for m, n in counts.items()})


def test_rpc_calls_per_block_do_not_grow_with_accounts(system, accounts, chain, spawn, proxy,
                                                       automine_restored):
    funder, keeper = accounts[0], accounts[1]
    nd0 = system.vault.totalNormalisedDebt()
    bulk_open(system, chain, funder, 0, 100)
    assert system.vault.totalNormalisedDebt() == nd0 + 100 * 1_000 * WAD, "100 accounts opened"
    mport = free_port()
    k = spawn(keeper, extra=("--metrics-port", str(mport)), rpc_url=proxy.url)
    assert wait_until(lambda: metric_or_none(mport, "unwind_keeper_accounts_indexed") == 100, 60, [k]), k.output()
    small = _calls_per_block(chain, proxy, mport, k)

    bulk_open(system, chain, funder, 100, 900)
    assert system.vault.totalNormalisedDebt() == nd0 + 1_000 * 1_000 * WAD, "1,000 accounts opened"
    assert wait_until(lambda: metric_or_none(mport, "unwind_keeper_accounts_indexed") == 1_000, 60, [k]), \
        k.output()[-2000:]
    large = _calls_per_block(chain, proxy, mport, k)
    assert k.stop() == 0

    total_small, total_large = sum(small.values()), sum(large.values())
    work_small = total_small - small["eth_blockNumber"]  # polling depends on time, not on blocks
    work_large = total_large - large["eth_blockNumber"]
    print(f"\nRPC calls per block: 100 accounts {total_small:.1f} ({dict(small)}); "
          f"1,000 accounts {total_large:.1f} ({dict(large)})")
    assert work_small > 0 and total_small > 0
    assert abs(total_large - total_small) <= 0.5 * total_small, (small, large)
    assert abs(work_large - work_small) <= 0.5 * work_small, (small, large)
    assert large["eth_call"] <= small["eth_call"] * 1.5, "per-account reads"


# --- (e) another sender uses the keeper's key -------------------------------------------------

def test_nonce_moved_by_another_sender_is_followed_and_still_written_ahead(system, accounts, chain, spawn,
                                                                          automine_restored):
    """After the keeper starts, its key sends from elsewhere (the operator borrowing so it can bid):
    the keeper's next send is refused "nonce too low". It re-reads the nonce from the node and
    liquidates; the re-synced send is still recorded before it is broadcast, so a SIGKILL before
    it is mined and a restart send no second liquidation (issue 16, item 9)."""
    operator, keeper = accounts[0], accounts[1]
    borrowers = [accounts[2 + i] for i in range(len(BORROWERS))]
    open_accounts(system, borrowers)
    mport = free_port()
    k = spawn(keeper, extra=("--kick-only", "--no-direct", "--metrics-port", str(mport)))
    assert k.wait_for("indexed", 60), k.output()
    head = chain.blocks.head.number
    assert wait_until(lambda: (metric_or_none(mport, "unwind_keeper_last_block") or 0) >= head, 60, [k])

    # The same key, used by another tool while the keeper runs.
    weth = system.collateral["WETH"]
    for _ in range(2):
        weth.approve(operator, 1, sender=keeper)
    moved = keeper.nonce

    os.kill(k.proc.pid, signal.SIGSTOP)  # the crash lands in one go, then the keeper looks
    try:
        start = chain.blocks.head.number + 1
        crash_prices(system, chain, operator)
        unsafe = unsafe_accounts(system, borrowers)
        assert len(unsafe) >= 2
        automine(chain, False)
    finally:
        os.kill(k.proc.pid, signal.SIGCONT)
    assert k.wait_for("sent liquidate", 60), k.output()[-3000:]
    assert list(mempool_of(chain, keeper.address)) == [moved], "sent at the node's nonce"

    k.stop(signal.SIGKILL)
    head = chain.blocks.head.number
    k.start()  # same --state-file: the re-synced send was written ahead
    assert wait_until(lambda: metric_or_none(mport, "unwind_keeper_last_block") == head, 60, [k]), k.output()[-3000:]
    assert set(mempool_of(chain, keeper.address)) == {moved}, "the restarted keeper sent a second transaction"
    chain.mine(1)
    automine(chain, True)
    assert drive(system, chain, operator, lambda: not unsafe_accounts(system, borrowers), timeout=60), \
        k.output()[-3000:]
    assert k.stop() == 0

    engine = engine_contract(chain, system)
    mined = txs_from(chain, keeper.address, start, chain.blocks.head.number)
    assert all(r["status"] == 1 for _, r in mined)
    per_account = defaultdict(list)
    for tx, _ in mined:
        for account in accounts_acted_on(engine, tx):
            per_account[account].append(tx["nonce"])
    assert set(per_account) == set(unsafe) and all(n == [moved] for n in per_account.values()), dict(per_account)
    assert {e.keeper for e in liquidations(system, start, chain.blocks.head.number)} == {keeper.address}
