"""The bidding path: redo auctions that need it, take the ones that pay, with the keeper's own
debt tokens or by a flash take that sells the collateral in a market.

A mixin of `unwind.keeper.runner.Keeper` (uses its `w3`, `c`, `cfg`, `account`, `nonces`,
`_head`, `_flash`, `summary`, `log`, `_done_keys`, `_auction_meta`, `_auction_statuses`,
`_auction_token` and `_send`).
"""

from __future__ import annotations

from web3 import Web3

from unwind.keeper.health import MarketState
from unwind.keeper.strategy import (
    auction_refused, flash_min_proceeds, floor_price, gas_cost_in_debt, plan_bid, plan_flash_bid, redo_incentive,
    size_take,
)

WAD = 10**18


class Bidder:
    def _bid(self, state: MarketState, head: int) -> None:
        auction = self.c["auction"]
        ids = auction.functions.list().call(block_identifier=head)
        live = set(ids)
        self._auction_meta = {i: m for i, m in self._auction_meta.items() if i in live}
        self._redos_declined = {i for i in getattr(self, "_redos_declined", ()) if i in live}
        self._guard_noted = {i for i in getattr(self, "_guard_noted", ()) if i in live}
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
            market = by_token.get(token.lower())
            refused = auction_refused(market.guard) if market is not None else None
            if refused:
                if auction_id not in self._guard_noted:
                    self._guard_noted.add(auction_id)
                    self.log.info("auction %d waits: the oracle guards its collateral (%s), so the auction refuses "
                                  "takes and redos until the guard lifts", auction_id, refused)
                continue
            self._guard_noted.discard(auction_id)
            if needs_redo:
                why = self._redo_worth_it(auction_id, token, decimals, lot, tab, market, fee, gas_cost, balance,
                                          head)
                if why is None:
                    self._done_keys[key] = head  # looked at again in two blocks (a price or a budget may change)
                    continue
                self.log.info("redo auction %d (%s)%s", auction_id, why, " [dry run]" if self.cfg.dry_run else "")
                if self._send(auction.functions.redo(auction_id, self.account.address), "redo", key,
                              self.cfg.gas_take):
                    self.summary.redos_sent += 1
                continue
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
                    data = _encode_flash(self.cfg.markets[token.lower()],
                                         flash_min_proceeds(flash, gas_cost, self.cfg.min_profit,
                                                            self.cfg.slippage_bps))
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

    def _redo_worth_it(self, auction_id, token, decimals, lot, tab, market, fee, gas_cost, balance,
                       head) -> str | None:
        """Why a redo of this auction is worth its gas, or None: the redo incentive covers the gas,
        or the keeper means to take the restarted auction (a take at its floor would pay). An
        auction whose redo pays nothing and that the keeper would never buy (dust, a lot worth
        nothing, a floor above the market) is left alone, instead of being redone every maxAge."""
        cid = next((c for c, t, _ in self.collaterals if t.lower() == token.lower()), None)
        if cid is None or market is None:
            return "an unknown collateral"  # as before: not ours to judge
        p = self._auction_params(cid, head)  # (curve, buffer, duration, cut, step, maxAge, maxDiscount, redoTip, redoChip)
        paid = self.c["auction"].functions.sales(auction_id).call(block_identifier=head)[9]  # paidRedos
        incentive = redo_incentive(lot, tab, decimals, market.current_price, self._dust(head), p[7], p[8], paid)
        redo_gas = gas_cost_in_debt(self.cfg.gas_redo, fee, self.cfg.native_price)
        if incentive > 0 and incentive >= redo_gas:
            return f"incentive {incentive / WAD:.2f} covers the gas {redo_gas / WAD:.2f}"
        reference = self.c["oracle"].functions.peek(token).call(block_identifier=head)[3]  # auctionStartPrice
        floor = floor_price(reference, p[6])
        if market.current_price and plan_bid(auction_id, floor, lot, tab, decimals, market.current_price, gas_cost,
                                             self.cfg.min_profit, budget=balance) is not None:
            return f"a take at its floor {floor / WAD:.4f} would pay"
        if self._flash is not None and token.lower() in self.cfg.markets \
                and self._flash_bid(auction_id, floor, lot, tab, decimals, token, gas_cost) is not None:
            return f"a flash take at its floor {floor / WAD:.4f} would pay"
        self.summary.redos_skipped += 1
        self.metrics.redos_skipped.inc()
        if auction_id not in self._redos_declined:
            self._redos_declined.add(auction_id)
            self.log.info("not redoing auction %d: its incentive %.2f does not cover the gas %.2f and no take would "
                          "pay at its floor %.4f (lot %d, tab %.2f)", auction_id, incentive / WAD, redo_gas / WAD,
                          floor / WAD, lot, tab / WAD)
        return None

    def _auction_params(self, cid: int, head: int) -> tuple:
        cache = self._per_block(head)
        if ("params", cid) not in cache:
            cache[("params", cid)] = tuple(self.c["auction"].functions.params(cid).call(block_identifier=head))
        return cache[("params", cid)]

    def _dust(self, head: int) -> int:
        cache = self._per_block(head)
        if "dust" not in cache:
            cache["dust"] = self.c["vault"].functions.dust().call(block_identifier=head)
        return cache["dust"]

    def _per_block(self, head: int) -> dict:
        """Reads that hold for one block (made only when an auction needs a redo)."""
        if getattr(self, "_block_cache_head", None) != head:
            self._block_cache_head, self._block_cache = head, {}
        return self._block_cache

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


_MARKET_ABI = [{
    "type": "function", "name": "getAmountOut", "stateMutability": "view",
    "inputs": [{"name": "tokenIn", "type": "address"}, {"name": "amountIn", "type": "uint256"}],
    "outputs": [{"name": "", "type": "uint256"}],
}]


def _encode_flash(market: str, min_proceeds: int) -> bytes:
    from eth_abi import encode

    return encode(["address", "uint256"], [Web3.to_checksum_address(market), min_proceeds])
