"""The keeper loop: follow the chain over RPC, keep the index, liquidate, bid, manage transactions.

Per new block the keeper makes a fixed number of RPC calls that does not depend on how many
accounts exist: the head block, one eth_getLogs over the vault, the fee accumulator, and per
collateral its config and oracle quote. Only candidate accounts are confirmed on-chain (their
previewLiquidate, for the incentive against the gas, and a simulation of the liquidation), and
only running auctions are read.

This module holds the configuration, the loop and the per-block step; the parts of the keeper
have modules of their own (see `Keeper`).
"""

from __future__ import annotations

import json
import logging
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
from eth_account import Account
from web3 import Web3
from web3.exceptions import Web3Exception

from unwind.keeper.bidding import Bidder
from unwind.keeper.gas import GasPolicy
from unwind.keeper.index import LogDecoder, PositionIndex
from unwind.keeper.liquidating import Liquidator
from unwind.keeper.metrics import KeeperMetrics
from unwind.keeper.nonces import NonceBook
from unwind.keeper.reading import StateReader
from unwind.keeper.strategy import scan
from unwind.keeper.transactions import TransactionSender, _is_connection_error, error_selectors
from unwind.record import RecordError, check_record_chain

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
    altruistic: bool = False  # liquidate even when the incentive does not pay the gas
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
    gas_redo: int = 150_000  # to price a redo against its incentive (bench: redo 129,750)
    direct: bool = True  # liquidate directly when that pays more than starting an auction (ILiquidationEngine)
    gas_direct: int = 200_000  # to price a direct liquidation (bench: liquidate_direct_two, with margin)
    gas_auction_liquidation: int = 320_000  # to price starting an auction (bench: liquidate 316,333)
    # A kick into a sale slot beyond the auction's pool (IDutchAuction CAPACITY) writes fresh
    # storage: ~58k gas more than one into a free slot (bench: liquidate_beyond_reserve against
    # liquidate_reusing_slots, two sales each), with the 63/64 rule and the estimate's margin.
    gas_fresh_sale: int = 80_000
    flash_taker: str | None = None  # FlashTaker contract: takes paid by selling into a market
    markets: dict = field(default_factory=dict)  # collateral token (lowercase) -> market address
    slippage_bps: int = 50  # flash takes: proceeds may fall this far below the quote (never below owe + gas + min_profit)
    adapt_every: int = 10  # blocks between adaptive-risk checks, when the deployment has AdaptiveRisk
    expected_chain_id: int | None = None  # the deployment record's chain id (preflight refuses another)
    deployment: str = ""  # the record's path, for messages
    connect_timeout: float = 30.0  # [s] preflight: give up when the node has not answered this long
    max_outage: float = 0.0  # [s] running: stop when the node has been unreachable this long (0: never)
    warn_summary_every: int = 100  # blocks between summaries of the accounts below the warning level


@dataclass
class Summary:
    blocks: int = 0
    liquidations_sent: int = 0
    liquidations_mined: int = 0
    takes_sent: int = 0
    takes_mined: int = 0
    redos_sent: int = 0
    redos_skipped: int = 0  # redos that would pay less than their gas, of auctions the keeper would not take
    liquidations_skipped: int = 0  # liquidations whose incentive would not pay their gas (not --altruistic)
    direct_sent: int = 0  # direct liquidations sent (also counted in liquidations_sent)
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
            f"gas {self.gas_spent / 10**18:.6f} ETH; direct liquidations {self.direct_sent}; "
            f"skipped for gas: liquidations {self.liquidations_skipped}, "
            f"redos {self.redos_skipped}"
        )


def load_abis(build_manifest: Path) -> dict:
    """ABIs of the protocol contracts from Ape's build manifest (.build/__local__.json)."""
    data = json.loads(Path(build_manifest).read_text())
    types = data.get("contractTypes", {})
    names = {"vault": "Vault", "engine": "LiquidationEngine", "auction": "DutchAuction",
             "oracle": "OracleAdapter", "debt_token": "DebtToken", "direct": "DirectLiquidator"}
    missing = [n for n in names.values() if n not in types]
    if missing:
        raise FileNotFoundError(f"{build_manifest} lacks {', '.join(missing)}: run `ape compile` first")
    abis = {key: types[name]["abi"] for key, name in names.items()}
    if "AdaptiveRisk" in types:  # optional module
        abis["risk"] = types["AdaptiveRisk"]["abi"]
    return abis

class KeeperSetupError(click.ClickException):
    """The keeper cannot start against this node or record (one line, exit status 2)."""

    exit_code = 2


class Keeper(StateReader, Liquidator, Bidder, TransactionSender):
    """One keeper: the loop and one block's step here; the named parts are mixins in their own
    modules: reading the chain (`reading.StateReader`), the liquidation path
    (`liquidating.Liquidator`), the bidding and redo path (`bidding.Bidder`), and sending
    transactions with nonce management (`transactions.TransactionSender`)."""

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
        if cfg.addresses.get("direct"):  # a deployment without it: the keeper uses the auctions only
            self.c["direct"] = self.w3.eth.contract(address=Web3.to_checksum_address(cfg.addresses["direct"]),
                                                    abi=abis["direct"])
        else:
            cfg.direct = False
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
        self._errors = error_selectors(abis.values())
        self.rpc_calls = 0
        self.collaterals: list[tuple[int, str, int]] = []  # (id, token, decimals)
        self.stopping = False
        self.started = False
        self._auction_meta: dict[int, tuple[str, int]] = {}  # auction id -> (token, decimals)
        self._done_keys: dict[str, int] = {}  # key -> block when a tx for it settled (avoid loops)
        self.last_step: int | None = None  # head of the last step that completed
        self.gave_up = False  # stopped by --max-outage
        self._outage_since: float | None = None
        self._outage_attempts = 0
        self._below_warning: set[str] = set()  # accounts below the warning level at the last step

    # --- lifecycle ---
    def preflight(self) -> None:
        """Before the loop, each check one line and exit 2 when it fails (KeeperSetupError): the
        node answers within `connect_timeout` (every attempt logged), it is the record's chain,
        the record's vault has code there, and the key holds native coin for gas."""
        cfg, url = self.cfg, self.cfg.rpc_url
        deadline, attempt, wait = time.time() + cfg.connect_timeout, 0, 1.0
        while True:
            try:
                chain_id = self.w3.eth.chain_id
                break
            except Exception as exc:  # noqa: BLE001 - any failure to answer is "cannot reach"
                if not (isinstance(exc, RPC_ERRORS) or _is_connection_error(exc)):
                    raise KeeperSetupError(f"the node at {url} does not answer as a JSON-RPC node "
                                           f"({type(exc).__name__}: {str(exc)[:120]}): check --rpc-url")
                attempt += 1
                if time.time() + wait > deadline:
                    raise KeeperSetupError(f"cannot reach the node at {url} ({type(exc).__name__}) after {attempt} "
                                           f"attempts in {cfg.connect_timeout:.0f} s: is it running? check --rpc-url")
                self.log.warning("cannot reach the node at %s (%s); attempt %d, next in %.0f s, giving up after "
                                 "%.0f s", url, type(exc).__name__, attempt, wait, cfg.connect_timeout)
                time.sleep(wait)
                wait = min(wait * 2, 10.0)
        try:
            check_record_chain({"chain_id": cfg.expected_chain_id, "contracts": cfg.addresses}, chain_id,
                               path=cfg.deployment or "the deployment record", node=f"the node at {url}",
                               get_code=self.w3.eth.get_code)
        except RecordError as exc:
            raise KeeperSetupError(str(exc)) from None
        balance = self.w3.eth.get_balance(self.account.address)
        if balance == 0 and not cfg.dry_run:
            raise KeeperSetupError(f"the keeper's account {self.account.address} holds no native coin on chain "
                                   f"{chain_id} to pay gas: fund it (or run with --dry-run)")
        if balance < cfg.low_native_balance:
            self.log.warning("the keeper's account %s holds only %.4f of native coin for gas", self.account.address,
                             balance / WAD)

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
            ("liquidate (altruistic)" if cfg.altruistic else "liquidate") if cfg.liquidate else "no liquidations",
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
                    self._outage_over()
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
                if self._outage_too_long():
                    break
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
        now = time.time()
        if self._outage_since is None:
            self._outage_since, self._outage_attempts = now, 0
        self._outage_attempts += 1
        limit = f", stopping after {self.cfg.max_outage:.0f} s" if self.cfg.max_outage else ""
        self.log.warning("RPC unavailable (%s) for %.0f s, attempt %d; retrying at most 10 s apart%s",
                         type(exc).__name__, now - self._outage_since, self._outage_attempts, limit)

    def _outage_over(self) -> None:
        if self._outage_since is not None:
            self.log.info("the node at %s answers again after %.0f s (%d attempts)", self.cfg.rpc_url,
                          time.time() - self._outage_since, self._outage_attempts)
            self._outage_since = None

    def _outage_too_long(self) -> bool:
        if self.cfg.max_outage and self._outage_since is not None \
                and time.time() - self._outage_since >= self.cfg.max_outage:
            self.log.error("the node at %s has been unreachable for %.0f s (--max-outage): stopping",
                           self.cfg.rpc_url, time.time() - self._outage_since)
            self.gave_up = True
            return True
        return False

    # --- indexing ---    # --- one block ---
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
        self._watch(warnings, unsafe)
        if self.cfg.liquidate and unsafe:
            self._liquidate(unsafe, head, state)
        if self.cfg.bid:
            self._bid(state, head)
        if "risk" in self.c and head % max(self.cfg.adapt_every, 1) == 0:
            self._adapt(head)
        self._check_balances()
        self.last_step = head
        self.metrics.last_block.set(head)  # processed: set last, so a watcher knows the block is done

    def _watch(self, warnings, unsafe) -> None:
        """One line when an account crosses below the warning level (and when it is back above it),
        and a summary every `warn_summary_every` blocks, instead of a line per account per block."""
        below = {w.account for w in warnings}
        level = self.cfg.warn_health / WAD
        for w in warnings:
            if w.account not in self._below_warning:
                self.log.info("watch: %s health %.4f fell below the warning level %.2f", w.account, w.health / WAD,
                              level)
        unsafe_now = {c.account for c in unsafe}
        for account in self._below_warning - below - unsafe_now:
            self.log.info("watch: %s is back above the warning level %.2f", account, level)
        self._below_warning = below
        if warnings and self.summary.blocks % max(self.cfg.warn_summary_every, 1) == 0:
            worst = warnings[0]
            self.log.info("watch: %d accounts below the warning level %.2f (lowest %s at %.4f), %d liquidatable",
                          len(warnings), level, worst.account, worst.health / WAD, len(unsafe))

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
