"""The liquidation path: batch the unsafe accounts, confirm a batch on-chain, send it.

A mixin of `unwind.keeper.runner.Keeper` (uses its `c`, `cfg`, `account`, `nonces`, `index`,
`_head`, `summary`, `metrics`, `log`, `_done_keys`, `_previews` and `_send`).
"""

from __future__ import annotations

from web3.exceptions import ContractLogicError

from unwind.keeper.strategy import DirectOption, choose_direct, gas_cost_in_debt


WAD = 10**18


class Liquidator:
    def _liquidate(self, unsafe, head: int, state=None) -> None:
        accounts = [c.account for c in unsafe if not self.nonces.in_flight(c.account)
                    and self._done_keys.get(c.account, -1) < head - 1]
        previews = self._previews(accounts, head) if accounts and (self.cfg.direct or not self.cfg.altruistic) else {}
        if accounts and self.cfg.direct and state is not None:
            for choice, budget in self._direct_choices(accounts, previews, state, head):
                if self._send_direct(choice, unsafe, state, budget):
                    accounts.remove(choice.account)
        incentives = {}
        if accounts and not self.cfg.altruistic:
            incentives = {a: p[6] for a, p in previews.items() if a in accounts and p is not None and p[0]}
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

    # --- direct liquidation (IDirectLiquidator, DIRECT LIQUIDATION) ---
    def _direct_choices(self, accounts: list, previews: dict, state, head: int) -> list:
        """(choice, the keeper's debt tokens left for it) for the accounts to liquidate directly
        instead of starting auctions: for each, the best of
        its priced collaterals by previewLiquidateDirect, when that pays more after gas than the
        auction path's incentive (strategy.choose_direct). Paid with the keeper's debt tokens, or
        by selling the collateral into its market through the flash taker when it has none."""
        debt = self.c["debt_token"].functions.balanceOf(self.account.address).call(block_identifier=head)
        flash_tokens = set(self.cfg.markets) if self._flash is not None else set()
        pairs = [(a, cid) for a in accounts for cid, amount in self.index.positions[a].collateral.items()
                 if amount > 0 and cid in state.collaterals and state.collaterals[cid].liquidation_price > 0]
        if not pairs:
            return []
        budget = 2**256 - 1 if flash_tokens else debt
        direct = self._direct_previews(pairs, budget, head)
        base_fee = self._head.get("baseFeePerGas", 0) or 0
        fee = min(base_fee + self.cfg.priority_fee, self.cfg.max_gas_price)
        gas_direct = gas_cost_in_debt(self.cfg.gas_direct, fee, self.cfg.native_price)
        gas_auction = gas_cost_in_debt(self.cfg.gas_auction_liquidation, fee, self.cfg.native_price)
        choices = []
        for account in accounts:
            options = []
            for (a, cid), d in direct.items():
                if a != account or d is None or not d[0]:
                    continue
                c = state.collaterals[cid]
                repay, seized = d[4], d[5]
                flash = c.token.lower() in flash_tokens and repay > debt
                value = self._market_quote(c.token, seized, head) if flash else seized * c.current_price // 10**c.decimals
                if value is None:  # the market would not quote: not an option this block
                    continue
                options.append(DirectOption(account, cid, repay, seized, value, flash, 0))
            p = previews.get(account)
            incentive = p[6] if p is not None and p[0] else 0
            choice = choose_direct(options, incentive, gas_auction, gas_direct, self.cfg.min_profit, debt)
            if choice is not None:
                choices.append((choice, debt))
                if not choice.flash:
                    debt -= choice.repay
        return choices

    def _market_quote(self, token: str, amount: int, head: int) -> int | None:
        """What the flash market pays for `amount` at `head`, or None when it will not say (a market
        that reverts, empty reserves): one bad market must not stop the keeper's step."""
        from web3 import Web3
        from web3.exceptions import Web3Exception

        from unwind.keeper.bidding import _MARKET_ABI

        market = self.w3.eth.contract(address=Web3.to_checksum_address(self.cfg.markets[token.lower()]),
                                      abi=_MARKET_ABI)
        self.rpc_calls += 1
        try:
            return market.functions.getAmountOut(Web3.to_checksum_address(token), amount).call(
                block_identifier=head)
        except (Web3Exception, ValueError) as exc:
            self.log.info("no direct liquidation through the market for %s: it would not quote (%s)", token,
                          type(exc).__name__)
            return None

    def _send_direct(self, choice, unsafe, state, budget: int | None = None) -> bool:
        from unwind.keeper.bidding import _encode_flash

        c = state.collaterals[choice.collateral_id]
        slip = self.cfg.slippage_bps
        # Prices may move before it is mined: room for that within --slippage-bps, never beyond what
        # the keeper holds when it pays with its own tokens; at least 2 wei above the preview (the
        # engine keeps 2 wei of maxRepay for the vault's rounding).
        max_repay = choice.repay + max(choice.repay * slip // 10_000, 2)
        if not choice.flash:
            max_repay = max(min(max_repay, budget), choice.repay + 2) if budget is not None else max_repay
        min_seized = choice.seized - choice.seized * slip // 10_000
        receiver, data, how = self.account.address, b"", "own debt tokens"
        if choice.flash:
            gas = choice.value - choice.repay - choice.profit
            floor = max(max_repay + gas + max(self.cfg.min_profit, 0), choice.value - choice.value * slip // 10_000)
            receiver, how = self._flash.address, "flash: sold in the market"
            data = _encode_flash(self.cfg.markets[c.token.lower()], floor)
        health = next((u.health for u in unsafe if u.account == choice.account), 0)
        self.log.info("direct liquidate %s (health %.4f): repay %.2f uUSD for %.6f of collateral %d worth %.2f, with %s; "
                      "profit %.2f uUSD after gas, more than starting an auction pays%s", choice.account,
                      health / WAD, choice.repay / WAD, choice.seized / 10**c.decimals, choice.collateral_id,
                      choice.value / WAD, how, choice.profit / WAD, " [dry run]" if self.cfg.dry_run else "")
        fn = self.c["direct"].functions.liquidateDirect(choice.account, choice.collateral_id, max_repay, min_seized,
                                                        receiver, data)
        if self._send(fn, "direct", choice.account, self.cfg.gas_direct * 2, profit=choice.profit):
            self.summary.liquidations_sent += 1
            self.summary.direct_sent += 1
            return True
        return False
