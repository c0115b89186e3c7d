"""The bidding path: redo auctions that need it, take the ones that pay, with the keeper's own
debt tokens or by a flash take that sells the collateral in a market.

A mixin of `unwind.keeper.runner.Keeper` (uses its `w3`, `c`, `cfg`, `account`, `nonces`,
`_head`, `_flash`, `summary`, `log`, `_done_keys`, `_auction_meta`, `_auction_statuses`,
`_auction_token` and `_send`).
"""

from __future__ import annotations

from web3 import Web3

from unwind.keeper.health import MarketState
from unwind.keeper.strategy import flash_min_proceeds, gas_cost_in_debt, plan_bid, plan_flash_bid, size_take

WAD = 10**18


class Bidder:
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
