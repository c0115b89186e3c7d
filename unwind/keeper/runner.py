"""The keeper loop: follow the chain over RPC, keep the index, liquidate, bid, manage transactions.

Per new block the keeper makes a fixed number of RPC calls that does not depend on how many
accounts exist: the head block, one eth_getLogs over the vault, the fee accumulator, and per
collateral its config and oracle quote. Only candidate accounts are confirmed on-chain (by
simulating the liquidation), and only running auctions are read.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3Exception, Web3RPCError
from web3.logs import DISCARD

from unwind.keeper.gas import FeeCapReached, Fees, GasPolicy
from unwind.keeper.health import CollateralState, MarketState
from unwind.keeper.index import LogDecoder, PositionIndex, ReorgTooDeep
from unwind.keeper.metrics import KeeperMetrics
from unwind.keeper.nonces import NonceBook, Pending
from unwind.keeper.strategy import gas_cost_in_debt, plan_bid, plan_flash_bid, scan, size_take

WAD = 10**18
RPC_ERRORS = (OSError, TimeoutError, ConnectionError)


@dataclass
class KeeperConfig:
    rpc_url: str
    addresses: dict  # vault, engine, auction, oracle, debt_token
    start_block: int = 0
    liquidate: bool = True
    bid: bool = True
    dry_run: bool = False
    min_profit: int = 0  # [debt wei]
    max_gas_price: int = 200 * 10**9  # [wei per gas]
    priority_fee: int = 1 * 10**9
    native_price: int = 3000 * WAD  # debt wei per native coin, to price gas in profit checks
    shard: int = 0
    shards: int = 1
    batch_size: int = 25
    warn_health: int = 11 * WAD // 10
    replace_after: float = 30.0  # seconds before a pending tx is bumped
    poll_interval: float = 1.0
    state_file: Path | None = None
    log_chunk: int = 5_000  # blocks per eth_getLogs at start
    low_native_balance: int = 10**17
    low_debt_balance: int = 0
    metrics_port: int | None = None
    gas_liquidate: int = 1_500_000  # gas limit per liquidate/batch account (estimates are used when possible)
    gas_take: int = 600_000
    flash_taker: str | None = None  # FlashTaker contract: takes paid by selling into a market
    markets: dict = field(default_factory=dict)  # collateral token (lowercase) -> market address
    adapt_every: int = 10  # blocks between adaptive-risk checks, when the deployment has AdaptiveRisk


@dataclass
class Summary:
    blocks: int = 0
    liquidations_sent: int = 0
    liquidations_mined: int = 0
    takes_sent: int = 0
    takes_mined: int = 0
    redos_sent: int = 0
    lost_races: int = 0
    reverted: int = 0
    replacements: int = 0
    rpc_errors: int = 0
    profit: int = 0
    gas_spent: int = 0
    started: float = field(default_factory=time.time)

    def line(self) -> str:
        return (
            f"summary: {self.blocks} blocks in {time.time() - self.started:.0f}s; "
            f"liquidations sent {self.liquidations_sent} mined {self.liquidations_mined}; "
            f"takes sent {self.takes_sent} mined {self.takes_mined}; redos {self.redos_sent}; "
            f"lost races {self.lost_races}; reverted {self.reverted}; replacements {self.replacements}; "
            f"rpc errors {self.rpc_errors}; expected profit {self.profit / WAD:.2f}; "
            f"gas {self.gas_spent / 10**18:.6f} ETH"
        )


def load_abis(build_manifest: Path) -> dict:
    """ABIs of the protocol contracts from Ape's build manifest (.build/__local__.json)."""
    data = json.loads(Path(build_manifest).read_text())
    types = data.get("contractTypes", {})
    names = {"vault": "Vault", "engine": "LiquidationEngine", "auction": "DutchAuction",
             "oracle": "OracleAdapter", "debt_token": "DebtToken"}
    missing = [n for n in names.values() if n not in types]
    if missing:
        raise FileNotFoundError(f"{build_manifest} lacks {', '.join(missing)}: run `ape compile` first")
    abis = {key: types[name]["abi"] for key, name in names.items()}
    if "AdaptiveRisk" in types:  # optional module
        abis["risk"] = types["AdaptiveRisk"]["abi"]
    return abis


class Keeper:
    def __init__(self, cfg: KeeperConfig, abis: dict, private_key: str, log: logging.Logger | None = None,
                 metrics: KeeperMetrics | None = None, w3: Web3 | None = None):
        self.cfg = cfg
        self.log = log or logging.getLogger("unwind.keeper")
        self.metrics = metrics or KeeperMetrics()
        # web3 asks eth_chainId before every eth_call (two of them per call): cached, that halves
        # the keeper's RPC calls per block.
        self.w3 = w3 or Web3(Web3.HTTPProvider(cfg.rpc_url, request_kwargs={"timeout": 10},
                                               cache_allowed_requests=True, cacheable_requests={"eth_chainId"}))
        self.w3.middleware_onion.add(_call_counter(self), name="unwind_count")
        self.account = Account.from_key(private_key)
        self.c = {
            key: self.w3.eth.contract(address=Web3.to_checksum_address(cfg.addresses[key]), abi=abis[key])
            for key in ("vault", "engine", "auction", "oracle", "debt_token")
        }
        if cfg.addresses.get("risk") and "risk" in abis:
            self.c["risk"] = self.w3.eth.contract(address=Web3.to_checksum_address(cfg.addresses["risk"]),
                                                  abi=abis["risk"])
        self._flash = (
            self.w3.eth.contract(address=Web3.to_checksum_address(cfg.flash_taker), abi=[]) if cfg.flash_taker else None
        )
        cfg.markets = {k.lower(): v for k, v in cfg.markets.items()}
        self.index = PositionIndex()
        self._decoder = LogDecoder(abis["vault"])
        self.nonces = NonceBook(cfg.state_file, self.account.address)
        self.gas = GasPolicy(max_fee_cap=cfg.max_gas_price, priority_fee=cfg.priority_fee)
        self.summary = Summary()
        self.rpc_calls = 0
        self.collaterals: list[tuple[int, str, int]] = []  # (id, token, decimals)
        self.stopping = False
        self.started = False
        self._auction_meta: dict[int, tuple[str, int]] = {}  # auction id -> (token, decimals)
        self._done_keys: dict[str, int] = {}  # key -> block when a tx for it settled (avoid loops)
        self.last_step: int | None = None  # head of the last step that completed

    # --- lifecycle ---
    def start(self) -> None:
        cfg = self.cfg
        chain_id = self.chain_id = self.w3.eth.chain_id
        head = self.w3.eth.block_number
        n = self.c["vault"].functions.collateralCount().call()
        collaterals = []
        for cid in range(n):
            conf = self.c["vault"].functions.collateral(cid).call()
            collaterals.append((cid, conf[0], conf[1]))
        self.log.info(
            "keeper %s on chain %d at block %d: %s%s%s; min profit %.2f; max gas price %d gwei; shard %d/%d; "
            "vault %s", self.account.address, chain_id, head,
            "liquidate" if cfg.liquidate else "no liquidations",
            " + bid" if cfg.bid else ", no bids",
            " (DRY RUN: sends nothing)" if cfg.dry_run else "",
            cfg.min_profit / WAD, cfg.max_gas_price // 10**9, cfg.shard, cfg.shards, cfg.addresses["vault"],
        )
        t0 = time.time()
        self._catch_up(head)
        self.log.info("indexed %d accounts from blocks %d..%d in %.2fs", len(self.index), cfg.start_block, head,
                      time.time() - t0)
        self.nonces.sync(self.w3.eth.get_transaction_count(self.account.address, "latest"))
        self.collaterals = collaterals
        self.started = True
        if self.nonces.pending:
            self.log.info("resuming with %d transactions in flight from %s", len(self.nonces.pending),
                          cfg.state_file)
        if cfg.metrics_port:
            self.metrics.serve(cfg.metrics_port)

    def run(self, max_blocks: int | None = None, until: float | None = None) -> Summary:
        def stop(signum, frame):
            self.stopping = True
        previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
        backoff = self.cfg.poll_interval
        try:
            while not self.stopping:
                if until is not None and time.time() > until:
                    break
                try:
                    fresh = not self.started
                    if fresh:
                        self.start()
                    head = self.w3.eth.block_number
                    # `last_step`, not the index: a step that failed half-way is tried again at
                    # the same head instead of waiting for the next block.
                    if fresh or self.last_step is None or head > self.last_step:
                        self.step(head)
                        if max_blocks is not None and self.summary.blocks >= max_blocks:
                            break
                    backoff = self.cfg.poll_interval
                except RPC_ERRORS + (TimeoutError,) as exc:
                    self._rpc_error(exc)
                    backoff = min(backoff * 2, 10.0)
                except Exception as exc:  # an RPC library may wrap connection loss in its own types
                    if _is_connection_error(exc):
                        self._rpc_error(exc)
                    elif isinstance(exc, Web3Exception):
                        # A read that reverts or an RPC error answer (a node serving a block it is
                        # still writing, a load balancer behind on state): skip this attempt,
                        # don't die. Programming errors still raise.
                        self.summary.rpc_errors += 1
                        self.metrics.rpc_errors.inc()
                        self.log.warning("step failed (%s: %s); retrying", type(exc).__name__, str(exc)[:160])
                    else:
                        raise
                    backoff = min(backoff * 2, 10.0)
                self._sleep(backoff)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            self.log.info(self.summary.line())
        return self.summary

    def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up for SIGTERM/SIGINT (backoff after an outage reaches 10 s)."""
        end = time.time() + seconds
        while not self.stopping and time.time() < end:
            time.sleep(min(0.1, max(0.0, end - time.time())))

    def _rpc_error(self, exc) -> None:
        self.summary.rpc_errors += 1
        self.metrics.rpc_errors.inc()
        self.log.warning("RPC unavailable (%s); retrying", type(exc).__name__)

    # --- indexing ---
    def _catch_up(self, head: int) -> None:
        start = self.cfg.start_block if self.index.last_block is None else self.index.last_block + 1
        chunk = self.cfg.log_chunk
        for lo in range(start, head + 1, chunk):
            hi = min(lo + chunk - 1, head)
            self._apply_logs(lo, hi, head_hash=None)
        self._mark_head(head)

    def _apply_logs(self, lo: int, hi: int, head_hash) -> None:
        logs = self._raw("eth_getLogs", [{"fromBlock": hex(lo), "toBlock": hex(hi), "address": self.c["vault"].address}])
        by_block: dict[int, tuple[str, list]] = {}
        for entry in logs:
            delta = self._decoder.delta(entry)
            number = int(entry["blockNumber"], 16)
            blk = by_block.setdefault(number, (entry["blockHash"].lower(), []))
            if delta:
                blk[1].append(delta)
        for number in sorted(by_block):
            if self.index.last_block is not None and number <= self.index.last_block:
                continue
            self.index.apply_block(number, by_block[number][0], by_block[number][1])

    def _raw(self, method: str, params: list):
        """A request without web3's result formatting (bulk data: the logs of every account), counted
        like every other request."""
        self.rpc_calls += 1
        self.metrics.rpc_calls.inc()
        response = self.w3.provider.make_request(method, params)
        if response.get("error"):
            raise Web3RPCError(f"{method}: {response['error']}")
        return response["result"]

    def _mark_head(self, head: int) -> None:
        """Journal the head block (even without events) so a reorg below it is seen, and keep its
        header (base fee) for this step."""
        block = self.w3.eth.get_block(head)
        self._head = block
        if self.index.last_block is None or head > self.index.last_block:
            self.index.apply_block(head, block["hash"].to_0x_hex(), [])

    def _check_reorg(self) -> None:
        last = self.index.last_block
        if last is None:
            return
        recorded = self.index.block_hash(last)
        current = self.w3.eth.get_block(last)["hash"].to_0x_hex()
        if recorded is None or recorded == current:
            return
        # Walk back through the journal to the newest block that is still on the chain.
        ancestor = None
        floor = self.index.journal_floor()
        number = last
        while floor is not None and number >= floor:
            h = self.index.block_hash(number)
            if h is not None and h == self.w3.eth.get_block(number)["hash"].to_0x_hex():
                ancestor = number
                break
            number -= 1
        try:
            if ancestor is None:
                raise ReorgTooDeep(f"no journaled block since {floor} is still on the chain")
            undone = self.index.rollback_to(ancestor)
        except ReorgTooDeep as exc:
            # Rolling back to the journal's floor would keep the deltas of orphaned blocks older
            # than the journal (or skip new logs below it): start again from the deployment.
            self.log.warning("reorg deeper than the journal (%s): rebuilding the index from block %d", exc,
                             self.cfg.start_block)
            self.index = PositionIndex(self.index.depth)
            return
        self.log.warning("reorg: rolled back %d journaled blocks to %d; re-reading logs", undone, ancestor)

    # --- one block ---
    def step(self, head: int) -> None:
        self._check_reorg()
        self._catch_up(head)  # one eth_getLogs for a new block (chunked after an outage or a rebuild)
        state = self.read_market_state(head)
        self.summary.blocks += 1
        self.metrics.accounts_indexed.set(len(self.index))
        self._settle_pending(head)

        unsafe, warnings = scan(self.index, state, self.cfg.warn_health, self.cfg.shard, self.cfg.shards)
        self.metrics.unsafe_accounts.set(len(unsafe))
        self.metrics.warning_accounts.set(len(warnings))
        for w in warnings[:5]:
            self.log.info("watch: %s health %.4f is below the warning level %.2f", w.account, w.health / WAD,
                          self.cfg.warn_health / WAD)
        if self.cfg.liquidate and unsafe:
            self._liquidate(unsafe, head)
        if self.cfg.bid:
            self._bid(state, head)
        if "risk" in self.c and head % max(self.cfg.adapt_every, 1) == 0:
            self._adapt(head)
        self._check_balances()
        self.last_step = head
        self.metrics.last_block.set(head)  # processed: set last, so a watcher knows the block is done

    def read_market_state(self, head: int) -> MarketState:
        vault, oracle = self.c["vault"], self.c["oracle"]
        rate = vault.functions.currentRate().call(block_identifier=head)
        cols = {}
        for cid, token, decimals in self.collaterals:
            conf = vault.functions.collateral(cid).call(block_identifier=head)
            q = oracle.functions.peek(token).call(block_identifier=head)
            # Quote: (current, borrowPrice, liquidationPrice, auctionStartPrice, status, guard)
            cols[cid] = CollateralState(token, decimals, conf[4], q[2], q[0], q[5])
        return MarketState(head, rate, cols)

    # --- adaptive risk parameters ---
    def _adapt(self, head: int) -> None:
        """Sample volatility and write the effective parameters (AdaptiveRisk.update) once a
        sample is due, and show the parameters and the volatility behind them."""
        risk = self.c["risk"]
        now = self._head.get("timestamp", 0)
        min_interval = risk.functions.config().call(block_identifier=head)[1]
        for cid in risk.functions.adaptedIds().call(block_identifier=head):
            e = risk.functions.effective(cid).call(block_identifier=head)
            # Effective: (volatility, position, maxLtv, threshold, buffer, duration, cut, chip)
            self.metrics.show_risk(cid, e)
            last = risk.functions.volState(cid).call(block_identifier=head)[1]
            key = f"adapt:{cid}"
            if (last and now < last + min_interval) or self.nonces.in_flight(key) \
                    or self._done_keys.get(key, -1) >= head - 1:
                continue
            if self._send(risk.functions.update(cid), "adapt", key, 500_000):
                self.log.info("adapt collateral %d: volatility %.1f%% (%.0f%% of its band): max LTV %.4f, "
                              "threshold target %.4f, auction buffer %.3f, chip %.4f", cid, e[0] / WAD * 100,
                              e[1] / WAD * 100, e[2] / WAD, e[3] / WAD, e[4] / WAD, e[7] / WAD)

    # --- liquidations ---
    def _liquidate(self, unsafe, head: int) -> None:
        accounts = [c.account for c in unsafe if not self.nonces.in_flight(c.account)
                    and self._done_keys.get(c.account, -1) < head - 1]
        for i in range(0, len(accounts), self.cfg.batch_size):
            batch = accounts[i:i + self.cfg.batch_size]
            engine = self.c["engine"]
            if len(batch) == 1:
                fn = engine.functions.liquidate(batch[0], self.account.address)
            else:
                fn = engine.functions.liquidateBatch(batch, self.account.address)
            for account in batch:
                self.log.info("liquidate %s (health %.4f)%s", account,
                              next(c.health for c in unsafe if c.account == account) / WAD,
                              " [dry run]" if self.cfg.dry_run else "")
            key = batch[0] if len(batch) == 1 else "batch:" + ",".join(batch)
            if len(batch) > 1 and not self._batch_would_liquidate(fn, key, batch):
                continue
            if self._send(fn, "liquidate", key, self.cfg.gas_liquidate * len(batch), also=batch):
                self.summary.liquidations_sent += len(batch)

    def _batch_would_liquidate(self, fn, key: str, batch: list) -> bool:
        """liquidateBatch skips accounts that are no longer liquidatable instead of reverting, so a
        gas estimate cannot tell a lost race: simulate it and look at how many it would liquidate."""
        try:
            count = fn.call({"from": self.account.address})
        except ContractLogicError as exc:
            count, reason = 0, _reason(exc)
        else:
            reason = "it would liquidate none of them"
        if count:
            return True
        self.summary.lost_races += 1
        self.metrics.auctions_lost.inc()
        self.log.info("skip liquidate %s: %s; another keeper was probably first", key, reason)
        for account in batch:
            self._done_keys[account] = self.index.last_block or 0
        return False

    # --- auctions ---
    def _bid(self, state: MarketState, head: int) -> None:
        auction = self.c["auction"]
        ids = auction.functions.list().call(block_identifier=head)
        live = set(ids)
        self._auction_meta = {i: m for i, m in self._auction_meta.items() if i in live}
        if not ids:
            return
        balance = self.c["debt_token"].functions.balanceOf(self.account.address).call(block_identifier=head)
        base_fee = self._head.get("baseFeePerGas", 0) or 0
        fee = min(base_fee * 2 + self.cfg.priority_fee, self.cfg.max_gas_price)
        gas_cost = gas_cost_in_debt(self.cfg.gas_take // 2, fee, self.cfg.native_price)
        by_token = {c.token.lower(): c for c in state.collaterals.values()}
        todo = [i for i in ids if not self.nonces.in_flight(f"auction:{i}")
                and self._done_keys.get(f"auction:{i}", -1) < head - 1]
        statuses = self._auction_statuses(todo, head)
        for auction_id in todo:
            key = f"auction:{auction_id}"
            needs_redo, price, lot, tab = statuses[auction_id]
            token, decimals = self._auction_token(auction_id, head)
            if needs_redo:
                self.log.info("redo auction %d%s", auction_id, " [dry run]" if self.cfg.dry_run else "")
                if self._send(auction.functions.redo(auction_id, self.account.address), "redo", key,
                              self.cfg.gas_take):
                    self.summary.redos_sent += 1
                continue
            market = by_token.get(token.lower())
            if market is None or market.current_price == 0:
                continue
            bid = plan_bid(auction_id, price, lot, tab, decimals, market.current_price, gas_cost,
                           self.cfg.min_profit, budget=balance)
            receiver, data, how = self.account.address, b"", "own debt tokens"
            if (bid is None or bid.bought < lot) and self._flash is not None and token.lower() in self.cfg.markets:
                flash = self._flash_bid(auction_id, price, lot, tab, decimals, token, gas_cost)
                if flash is not None and (bid is None or flash.bought > bid.bought):
                    bid, how = flash, "flash: sold in the market"
                    receiver = self._flash.address
                    data = _encode_flash(self.cfg.markets[token.lower()], flash.expected_owe)
            if bid is None:
                continue
            self.log.info("take auction %d: %d units at %.4f (oracle %.4f), pays %.2f with %s, expected profit %.2f%s",
                          auction_id, bid.amount, price / WAD, market.current_price / WAD, bid.expected_owe / WAD,
                          how, bid.expected_profit / WAD, " [dry run]" if self.cfg.dry_run else "")
            fn = auction.functions.take(auction_id, bid.amount, bid.max_price, receiver, data)
            if self._send(fn, "take", key, self.cfg.gas_take, profit=bid.expected_profit):
                self.summary.takes_sent += 1
                if not data:
                    balance -= bid.expected_owe

    def _auction_statuses(self, ids: list, head: int, chunk: int = 200) -> dict:
        """getStatus of each auction, as JSON-RPC batches (one HTTP round trip per `chunk` auctions;
        each element still counts as a call): during a crash hundreds of auctions run at once."""
        selector = self.c["auction"].functions.getStatus(0)._encode_transaction_data()[:10]
        to, tag = self.c["auction"].address, hex(head)
        out = {}
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            requests = [("eth_call", [{"to": to, "data": selector + format(a, "064x")}, tag]) for a in part]
            self.rpc_calls += len(requests)
            self.metrics.rpc_calls.inc(len(requests))
            responses = self.w3.provider.make_batch_request(requests)
            if isinstance(responses, dict) or len(responses) != len(part):  # a batch-level error answer
                raise Web3RPCError(f"getStatus batch failed: {str(responses)[:160]}")
            for auction_id, r in zip(part, sorted(responses, key=lambda r: r.get("id", 0))):
                if r.get("error") or not r.get("result"):
                    raise Web3RPCError(f"getStatus({auction_id}) failed: {r.get('error')}")
                words = r["result"][2:]
                out[auction_id] = (int(words[:64], 16) != 0, int(words[64:128], 16), int(words[128:192], 16),
                                   int(words[192:256], 16))
        return out

    def _auction_token(self, auction_id: int, head: int) -> tuple[str, int]:
        """(collateral token, decimals) of an auction: fixed for its life, so read once (ids are
        never reused), which halves the reads per running auction and block."""
        meta = self._auction_meta.get(auction_id)
        if meta is None:
            sale = self.c["auction"].functions.sales(auction_id).call(block_identifier=head)
            meta = (sale[7], sale[6])
            if int(sale[7], 16) != 0:  # an empty answer (a node behind on state) is not cached
                self._auction_meta[auction_id] = meta
        return meta

    def _flash_bid(self, auction_id, price, lot, tab, decimals, token, gas_cost):
        """A whole-auction take paid by selling into the configured market, if it clears the bar."""
        sized = size_take(price, lot, tab, decimals)
        if sized is None:
            return None
        request, bought, owe = sized
        market = self.w3.eth.contract(address=Web3.to_checksum_address(self.cfg.markets[token.lower()]),
                                      abi=_MARKET_ABI)
        proceeds = market.functions.getAmountOut(Web3.to_checksum_address(token), bought).call()
        return plan_flash_bid(auction_id, price, request, bought, owe, proceeds, gas_cost, self.cfg.min_profit)

    # --- transactions ---
    def _send(self, fn, kind: str, key: str, gas_limit: int, also=(), profit: int = 0) -> bool:
        sender = self.account.address
        try:
            estimate = fn.estimate_gas({"from": sender})
        except ContractLogicError as exc:
            self.summary.lost_races += 1
            self.metrics.auctions_lost.inc()
            self.log.info("skip %s %s: would revert (%s); another keeper was probably first", kind, key,
                          _reason(exc))
            self._done_keys[key] = self.index.last_block or 0
            return False
        if self.cfg.dry_run:
            self._done_keys[key] = self.index.last_block or 0
            return False
        base_fee = self._head.get("baseFeePerGas", 0) or 0
        try:
            fees = self.gas.initial(base_fee)
        except FeeCapReached as exc:
            self.log.warning("not sending %s %s: %s", kind, key, exc)
            return False
        nonce = self.nonces.reserve()
        tx = {
            "to": fn.address, "data": fn._encode_transaction_data(), "value": 0, "chainId": self.chain_id,
            "gas": min(max(estimate * 13 // 10, 100_000), gas_limit * 2), "type": 2,
        }
        ok = self._broadcast(tx, nonce, fees, kind, key)
        if ok:
            for account in also:
                if account != key:
                    self._done_keys[account] = self.index.last_block or 0
            self._expected_profit = getattr(self, "_expected_profit", {})
            self._expected_profit[key] = profit
        return ok

    def _broadcast(self, tx: dict, nonce: int, fees: Fees, kind: str, key: str, replacements: int = 0) -> bool:
        full = dict(tx, nonce=nonce, maxFeePerGas=fees.max_fee, maxPriorityFeePerGas=fees.priority_fee)
        signed = self.account.sign_transaction(full)
        tx_hash = "0x" + signed.hash.hex().removeprefix("0x")
        self.nonces.record(Pending(nonce, tx_hash, kind, key, fees.max_fee, fees.priority_fee, time.time(), tx,
                                   replacements))
        try:
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except Exception as exc:
            if _is_connection_error(exc):
                raise  # stays recorded: after the outage the keeper checks whether it landed
            self.log.warning("send %s %s failed: %s", kind, key, exc)
            self.nonces.release(nonce)
            return False
        self.log.info("sent %s %s: tx %s nonce %d max fee %d gwei", kind, key, tx_hash, nonce,
                      fees.max_fee // 10**9)
        return True

    def _settle_pending(self, head: int) -> None:
        if not self.nonces.pending:
            return
        chain_nonce = self.w3.eth.get_transaction_count(self.account.address, "latest")
        first_waiting = True
        for p in sorted(self.nonces.pending.values(), key=lambda p: p.nonce):
            receipt = self._receipt(p.tx_hash)
            if receipt is not None:
                self._on_receipt(p, receipt, head)
            elif p.nonce < chain_nonce:
                self.log.info("%s %s (nonce %d) was superseded", p.kind, p.key, p.nonce)
            elif time.time() - p.sent_at > self.cfg.replace_after:
                self._replace(p)
            elif first_waiting and p.nonce == chain_nonce and self._dropped(p):
                # The next nonce is not mined and the node no longer has it (anvil has been seen to
                # drop the last of a burst of batches): every later transaction waits behind it, so
                # waiting for --replace-after would lose blocks. One lookup a block, for this one only.
                self.log.info("%s %s (nonce %d) is no longer in the node's pool; sending it again", p.kind,
                              p.key, p.nonce)
                self._replace(p)
            if receipt is None and p.nonce >= chain_nonce:
                first_waiting = False
        self.nonces.sync(chain_nonce)

    def _dropped(self, p: Pending) -> bool:
        try:
            self.w3.eth.get_transaction(p.tx_hash)
        except TransactionNotFound:
            return True
        return False

    def _receipt(self, tx_hash: str):
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def _on_receipt(self, p: Pending, receipt, head: int) -> None:
        gas_paid = receipt["gasUsed"] * receipt.get("effectiveGasPrice", 0)
        self.summary.gas_spent += gas_paid
        self.metrics.gas_spent.inc(gas_paid)
        self._done_keys[p.key] = head
        if receipt["status"] == 1:
            if p.kind == "liquidate":
                # A batch succeeds even when another keeper got there first: count the events.
                n = self._liquidated_in(receipt)
                if n == 0:
                    self.summary.lost_races += 1
                    self.metrics.auctions_lost.inc()
                    self.log.info("lost race: liquidate %s mined in block %d but liquidated nothing (another "
                                  "keeper was first)", p.key, receipt["blockNumber"])
                else:
                    self.summary.liquidations_mined += n
                    self.metrics.liquidations.inc(n)
                    self.log.info("mined liquidate %s in block %d: %d liquidated (gas %d)", p.key,
                                  receipt["blockNumber"], n, receipt["gasUsed"])
            elif p.kind == "take":
                profit = getattr(self, "_expected_profit", {}).get(p.key, 0)
                self.summary.takes_mined += 1
                self.summary.profit += profit
                self.metrics.auctions_won.inc()
                self.metrics.profit.inc(max(profit, 0))
                self.log.info("mined take %s in block %d", p.key, receipt["blockNumber"])
            else:
                self.log.info("mined %s %s in block %d", p.kind, p.key, receipt["blockNumber"])
        else:
            self.summary.reverted += 1
            self.summary.lost_races += 1
            self.metrics.auctions_lost.inc()
            self.log.info("lost race: %s %s reverted in block %d (another keeper was first); not retrying",
                          p.kind, p.key, receipt["blockNumber"])
        self.nonces.pending.pop(p.nonce, None)
        self.nonces.save()

    def _liquidated_in(self, receipt) -> int:
        events = self.c["engine"].events.Liquidate().process_receipt(receipt, errors=DISCARD)
        return sum(1 for e in events if e["args"]["keeper"] == self.account.address)

    def _replace(self, p: Pending) -> None:
        base_fee = self._head.get("baseFeePerGas", 0) or 0
        try:
            fees = self.gas.bump(Fees(p.max_fee, p.priority_fee), base_fee)
        except FeeCapReached as exc:
            self.log.warning("%s %s stuck at nonce %d: %s", p.kind, p.key, p.nonce, exc)
            return
        self.summary.replacements += 1
        self.log.info("replace %s %s at nonce %d with max fee %d gwei", p.kind, p.key, p.nonce, fees.max_fee // 10**9)
        self._broadcast(p.tx, p.nonce, fees, p.kind, p.key, p.replacements + 1)

    def _check_balances(self) -> None:
        if self.summary.blocks % 10 != 1:
            return
        native = self.w3.eth.get_balance(self.account.address)
        self.metrics.native_balance.set(native)
        if native < self.cfg.low_native_balance:
            self.log.warning("low gas balance: %.4f ETH; fund %s", native / 10**18, self.account.address)
        if self.cfg.bid:
            debt = self.c["debt_token"].functions.balanceOf(self.account.address).call()
            self.metrics.debt_balance.set(debt)
            if debt <= self.cfg.low_debt_balance:
                self.log.warning("low debt-token balance %.2f: takes need debt tokens", debt / WAD)


_MARKET_ABI = [{
    "type": "function", "name": "getAmountOut", "stateMutability": "view",
    "inputs": [{"name": "tokenIn", "type": "address"}, {"name": "amountIn", "type": "uint256"}],
    "outputs": [{"name": "", "type": "uint256"}],
}]


def _encode_flash(market: str, min_proceeds: int) -> bytes:
    from eth_abi import encode

    return encode(["address", "uint256"], [Web3.to_checksum_address(market), min_proceeds])


def _call_counter(keeper: "Keeper"):
    """A web3 middleware class that counts every request this keeper makes."""
    from web3.middleware import Web3Middleware

    class CallCounter(Web3Middleware):
        def wrap_make_request(self, make_request):
            def middleware(method, params):
                keeper.rpc_calls += 1
                keeper.metrics.rpc_calls.inc()
                return make_request(method, params)

            return middleware

    return CallCounter


def _reason(exc: ContractLogicError) -> str:
    return str(exc.message or exc.data or exc)[:120]


def _is_connection_error(exc: BaseException) -> bool:
    import requests

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError,
                            TimeoutError)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
