"""The liquidation path: batch the unsafe accounts, confirm a batch on-chain, send it.

A mixin of `unwind.keeper.runner.Keeper` (uses its `c`, `cfg`, `account`, `nonces`, `index`,
`_head`, `summary`, `metrics`, `log`, `_done_keys`, `_previews` and `_send`).
"""

from __future__ import annotations

from web3.exceptions import ContractLogicError

from unwind.keeper.strategy import gas_cost_in_debt


WAD = 10**18


class Liquidator:
    def _liquidate(self, unsafe, head: int) -> None:
        accounts = [c.account for c in unsafe if not self.nonces.in_flight(c.account)
                    and self._done_keys.get(c.account, -1) < head - 1]
        incentives = {}
        if accounts and not self.cfg.altruistic:
            incentives = {a: p[6] for a, p in self._previews(accounts, head).items() if p is not None and p[0]}
        for i in range(0, len(accounts), self.cfg.batch_size):
            batch = accounts[i:i + self.cfg.batch_size]
            estimate = None
            if incentives:
                batch, estimate = self._worth_the_gas(batch, incentives, head)
                if not batch:
                    continue
            fn = self._liquidation(batch)
            for account in batch:
                self.log.info("liquidate %s (health %.4f)%s", account,
                              next(c.health for c in unsafe if c.account == account) / WAD,
                              " [dry run]" if self.cfg.dry_run else "")
            key = batch[0] if len(batch) == 1 else "batch:" + ",".join(batch)
            if len(batch) > 1 and not self._batch_would_liquidate(fn, key, batch):
                continue
            if self._send(fn, "liquidate", key, self.cfg.gas_liquidate * len(batch), also=batch,
                          extra_gas=self._fresh_sale_gas(batch, head), estimate=estimate):
                self.summary.liquidations_sent += len(batch)

    def _liquidation(self, batch: list):
        engine = self.c["engine"]
        if len(batch) == 1:
            return engine.functions.liquidate(batch[0], self.account.address)
        return engine.functions.liquidateBatch(batch, self.account.address)

    def _worth_the_gas(self, batch: list, incentives: dict, head: int) -> tuple[list, int | None]:
        """The accounts of `batch` whose liquidation pays the keeper at least its gas: the engine's
        incentive (previewLiquidate: tip + chip x the debt closed, capped at the penalty) against
        the account's share of the transaction's estimated gas at the fee the next block asks
        (base fee + tip). The others are skipped (counted, logged; --altruistic liquidates them),
        and looked at again in two blocks, when gas may be cheaper. A smaller batch spreads the
        transaction's overhead over fewer accounts, so the check runs again until nothing more is
        dropped. Returns the batch and its estimate (None when it was not estimated as it is)."""
        base_fee = self._head.get("baseFeePerGas", 0) or 0
        fee = min(base_fee + self.cfg.priority_fee, self.cfg.max_gas_price)
        while batch:
            try:
                estimate = self._liquidation(batch).estimate_gas({"from": self.account.address})
            except ContractLogicError:
                return batch, None  # the send path classifies the revert
            cost = gas_cost_in_debt(-(-estimate // len(batch)), fee, self.cfg.native_price)
            # an account without a preview (or one the engine would not liquidate) is not judged here:
            # the batch simulation says what happens to it
            skipped = [a for a in batch if a in incentives and incentives[a] < cost]
            if not skipped:
                return batch, estimate
            for account in skipped:
                self._done_keys[account] = head
                self.summary.liquidations_skipped += 1
                self.metrics.liquidations_skipped.inc()
                self.log.info("skip liquidate %s: its incentive %.2f does not pay its gas %.2f (%d gas at %.1f gwei); "
                              "--altruistic liquidates it anyway", account, incentives[account] / WAD, cost / WAD,
                              -(-estimate // len(batch)), fee / 10**9)
            batch = [a for a in batch if a not in skipped]
        return batch, None

    def _fresh_sale_gas(self, batch: list, head: int) -> int:
        """Gas to add to a liquidation's estimate for the worst case of the sales it starts.

        The estimate is made against the head, where a kick may find a free slot in the auction's
        pool; by the time the transaction runs, the keeper's own earlier transactions of this
        block (or anyone's) may have taken those slots, and each kick then writes fresh storage.
        So every kick that the head state lets reuse a slot is sized as a fresh one. The kicks are
        bounded by the collaterals each account holds (one auction per collateral seized)."""
        kicks = sum(len([c for c, amount in self.index.positions[a].collateral.items() if amount > 0])
                    if a in self.index.positions else 1 for a in batch)
        free = self._free_slots(head)
        return min(kicks, free) * self.cfg.gas_fresh_sale

    def _free_slots(self, head: int) -> int:
        """Sale slots of the auction's pool that hold no auction at `head` (read once a block)."""
        cached = getattr(self, "_free_slots_at", None)
        if cached is not None and cached[0] == head:
            return cached[1]
        auction = self.c["auction"]
        free = max(auction.functions.poolSize().call(block_identifier=head)
                   - auction.functions.count().call(block_identifier=head), 0)
        self._free_slots_at = (head, free)
        return free

    def _batch_would_liquidate(self, fn, key: str, batch: list) -> bool:
        """liquidateBatch skips accounts that are no longer liquidatable instead of reverting, so a
        gas estimate cannot tell a lost race: simulate it and look at how many it would liquidate."""
        try:
            count = fn.call({"from": self.account.address})
        except ContractLogicError as exc:
            count, reason, lost = 0, self._revert_reason(exc), self._is_lost_race(exc)
        else:
            reason, lost = "it would liquidate none of them", True
        if count:
            return True
        for account in batch:
            self._done_keys[account] = self.index.last_block or 0
        if not lost:  # the engine refuses for a reason of its own (paused, guarded): nobody was first
            self.log.info("skip liquidate %s: it would revert (%s)", key, reason)
            return False
        self.summary.lost_races += 1
        self.metrics.auctions_lost.inc()
        self.log.info("skip liquidate %s: %s; another keeper was probably first", key, reason)
        return False
