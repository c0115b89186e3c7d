"""Sending transactions and managing nonces: fees, the write-ahead nonce book, receipts,
replacements of stuck transactions, and what a receipt says (mined, lost race, reverted).

A mixin of `unwind.keeper.runner.Keeper` (uses its `w3`, `c`, `cfg`, `account`, `chain_id`,
`nonces`, `gas`, `index`, `_head`, `summary`, `metrics`, `log` and `_done_keys`).
"""

from __future__ import annotations

import time

from web3.exceptions import ContractLogicError, TransactionNotFound
from web3.logs import DISCARD

from unwind.keeper.gas import FeeCapReached, Fees
from unwind.keeper.nonces import Pending


# Reverts that mean someone else acted on the target first: the account is no longer
# liquidatable, the auction ended (or was restarted). Any other revert is the keeper's own.
LOST_RACE_ERRORS = frozenset({"NotLiquidatable", "AuctionNotRunning", "AuctionDoesNotNeedRedo"})


def error_selectors(abis) -> dict[str, str]:
    """4-byte selector (0x-hex) -> custom error name, over ABIs (lists of entries)."""
    from eth_utils import keccak

    out = {}
    for abi in abis:
        for entry in abi:
            if entry.get("type") == "error":
                signature = f"{entry['name']}({','.join(_canonical(i) for i in entry.get('inputs', []))})"
                out["0x" + keccak(text=signature)[:4].hex()] = entry["name"]
    return out


def _canonical(param: dict) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return f"({','.join(_canonical(c) for c in param.get('components', []))}){kind[5:]}"
    return kind


class NonceTaken(Exception):
    """The node refused a fresh transaction because its nonce is used (or taken by another
    pooled transaction from the same key)."""

    def __init__(self, nonce: int, reason: str):
        super().__init__(f"nonce {nonce}: {reason}")
        self.nonce, self.reason = nonce, reason


# How nodes word "this nonce is used" (geth, anvil, reth, erigon, nethermind, besu): lowercase.
_NONCE_TAKEN = ("nonce too low", "nonce is too low", "already been used", "oldnonce", "old nonce",
                "replacement transaction underpriced", "transaction underpriced: replacement",
                "nonce has already")


def _nonce_taken(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(t in text for t in _NONCE_TAKEN)


def _already_known(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "already known" in text or "known transaction" in text or "alreadyknown" in text


class TransactionSender:
    def _send(self, fn, kind: str, key: str, gas_limit: int, also=(), profit: int = 0, extra_gas: int = 0,
              estimate: int | None = None) -> bool:
        """Estimate (unless `estimate` was made at this head already), sign, record and send `fn`.
        The gas limit is the estimate with a 30% margin (within `gas_limit` x 2), plus
        `extra_gas` for what the head state cannot show (fresh auction storage by the time the
        transaction runs)."""
        sender = self.account.address
        try:
            estimate = estimate if estimate is not None else fn.estimate_gas({"from": sender})
        except ContractLogicError as exc:
            self._done_keys[key] = self.index.last_block or 0
            if not self._is_lost_race(exc):
                self.log.info("skip %s %s: would revert (%s)", kind, key, self._revert_reason(exc))
                return False
            self.summary.lost_races += 1
            self.metrics.auctions_lost.inc()
            self.log.info("skip %s %s: would revert (%s); another keeper was probably first", kind, key,
                          self._revert_reason(exc))
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
        tx = {
            "to": fn.address, "data": fn._encode_transaction_data(), "value": 0, "chainId": self.chain_id,
            "gas": min(max(estimate * 13 // 10, 100_000), gas_limit * 2) + extra_gas, "type": 2,
        }
        try:
            ok = self._broadcast(tx, self.nonces.reserve(), fees, kind, key)
        except NonceTaken as exc:
            # Something else sent from this key (the operator borrowing so the keeper can bid, a
            # second tool): follow the node's count. Records of the keeper's own transactions in
            # flight stay, and their nonces are never handed out again.
            node_nonce = self.w3.eth.get_transaction_count(sender, "pending")
            self.nonces.resync(node_nonce)
            self.log.warning("nonce %d is taken on the node (%s): another sender uses this key; the node's next "
                             "nonce is %d, sending %s %s again at %d", exc.nonce, exc.reason, node_nonce, kind, key,
                             self.nonces.next_nonce)
            try:
                ok = self._broadcast(tx, self.nonces.reserve(), fees, kind, key)
            except NonceTaken:
                ok = False  # raced again: the next block tries once more
        if ok:
            for account in also:
                if account != key:
                    self._done_keys[account] = self.index.last_block or 0
            self._expected_profit = getattr(self, "_expected_profit", {})
            self._expected_profit[key] = profit
        return ok

    def _broadcast(self, tx: dict, nonce: int, fees: Fees, kind: str, key: str, replacements: int = 0) -> bool:
        """Sign, record (write-ahead), send. A fresh send whose nonce the node says is taken raises
        NonceTaken (its record removed: that transaction can never be mined). A replacement that
        fails leaves the record of the transaction it was to replace, which is still in flight."""
        full = dict(tx, nonce=nonce, maxFeePerGas=fees.max_fee, maxPriorityFeePerGas=fees.priority_fee)
        signed = self.account.sign_transaction(full)
        tx_hash = "0x" + signed.hash.hex().removeprefix("0x")
        previous = self.nonces.pending.get(nonce)
        self.nonces.record(Pending(nonce, tx_hash, kind, key, fees.max_fee, fees.priority_fee, time.time(), tx,
                                   replacements))
        try:
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except Exception as exc:
            if _is_connection_error(exc):
                raise  # stays recorded: after the outage the keeper checks whether it landed
            if _already_known(exc):
                pass  # this very transaction is in the node's pool already: sent
            elif previous is not None:
                self.log.warning("replace %s %s at nonce %d failed: %s; the transaction it replaces stays in flight",
                                 kind, key, nonce, exc)
                self.nonces.record(previous)
                return False
            elif replacements == 0 and _nonce_taken(exc):
                self.nonces.release(nonce)
                raise NonceTaken(nonce, str(exc)[:120]) from exc
            else:
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
            elif p.kind == "direct":
                profit = getattr(self, "_expected_profit", {}).get(p.key, 0)
                self.summary.liquidations_mined += 1
                self.summary.profit += profit
                self.metrics.liquidations.inc()
                self.metrics.direct_liquidations.inc()
                self.metrics.profit.inc(max(profit, 0))
                self.log.info("mined direct liquidation %s in block %d (gas %d)", p.key, receipt["blockNumber"],
                              receipt["gasUsed"])
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
            lost, why = self._why_reverted(p, receipt)
            if lost:
                self.summary.lost_races += 1
                self.metrics.auctions_lost.inc()
                self.log.info("lost race: %s %s reverted in block %d (%s: another keeper was first); not retrying",
                              p.kind, p.key, receipt["blockNumber"], why)
            else:
                self.metrics.reverted.inc()
                self.log.warning("reverted: %s %s in block %d, gas used %d of %d (%s): the keeper's own revert",
                                 p.kind, p.key, receipt["blockNumber"], receipt["gasUsed"], p.tx.get("gas", 0), why)
        self.nonces.pending.pop(p.nonce, None)
        self.nonces.save()

    def _why_reverted(self, p: Pending, receipt) -> tuple[bool, str]:
        """(lost race, why) for a transaction of the keeper's that reverted. It is replayed at the
        end of its block with the node's own gas allowance: when the target is gone (the account
        no longer liquidatable, the auction ended or restarted by someone else) the race was lost;
        when the replay goes through, or fails for another reason, the revert was the keeper's own
        (out of gas, the market moved inside the block) and says so."""
        call = {"from": self.account.address, "to": p.tx["to"], "data": p.tx["data"]}
        self.rpc_calls += 1
        self.metrics.rpc_calls.inc()
        response = self.w3.provider.make_request("eth_call", [call, hex(receipt["blockNumber"])])
        error = response.get("error")
        if error:
            name = self._error_name(error.get("data"))
            reason = name or str(error.get("message", error))[:120]
            return name in LOST_RACE_ERRORS, f"at the end of its block it reverts {reason}"
        result = response.get("result") or "0x"
        if p.kind == "liquidate" and p.key.startswith("batch:") and int(result[2:66] or "0", 16) == 0:
            return True, "at the end of its block it would liquidate none of its accounts"
        return False, "at the end of its block it goes through: out of gas, or the state it met moved back"

    def _revert_reason(self, exc: ContractLogicError) -> str:
        """The custom error's name when the protocol's ABIs know it, else what the node said."""
        return self._error_name(exc.data) or _reason(exc)

    def _is_lost_race(self, exc: ContractLogicError) -> bool:
        return self._error_name(exc.data) in LOST_RACE_ERRORS

    def _error_name(self, data) -> str | None:
        """The custom error a revert's data names, from the protocol's ABIs; None when unknown."""
        if isinstance(data, dict):  # some nodes nest it
            data = data.get("data")
        if not isinstance(data, str) or not data.startswith("0x") or len(data) < 10:
            return None
        return getattr(self, "_errors", {}).get(data[:10].lower())

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
