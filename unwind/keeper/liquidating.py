"""The liquidation path: batch the unsafe accounts, confirm a batch on-chain, send it.

A mixin of `unwind.keeper.runner.Keeper` (uses its `c`, `cfg`, `account`, `nonces`, `index`,
`summary`, `metrics`, `log`, `_done_keys` and `_send`).
"""

from __future__ import annotations

from web3.exceptions import ContractLogicError

from unwind.keeper.transactions import _reason

WAD = 10**18


class Liquidator:
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
