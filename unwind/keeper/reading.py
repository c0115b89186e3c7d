"""Reading the chain: the position index from vault logs (reorg-safe), the market state each
block, running auctions, and the keeper's own balances.

A mixin of `unwind.keeper.runner.Keeper`: it uses the keeper's `w3`, contracts `c`, `cfg`, `index`,
`_decoder`, `collaterals`, `metrics`, `summary`, `log`, `rpc_calls` and `_auction_meta`.
"""

from __future__ import annotations

from web3.exceptions import Web3RPCError

from unwind.keeper.health import MarketState, market_state
from unwind.keeper.index import PositionIndex, ReorgTooDeep

WAD = 10**18


class StateReader:
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

    # --- market state ---
    def read_market_state(self, head: int) -> MarketState:
        """Everything an account's plan depends on besides its position (health.MarketState):
        a fixed number of calls, 9 + 4 per collateral, whatever the number of accounts."""
        vault, oracle, engine, auction = self.c["vault"], self.c["oracle"], self.c["engine"], self.c["auction"]
        at = {"block_identifier": head}
        rate = vault.functions.currentRate().call(**at)
        dust = vault.functions.dust().call(**at)
        e = engine.functions
        config = (e.targetHealth().call(**at), e.lotMargin().call(**at), e.tip().call(**at), e.chip().call(**at),
                  e.globalCap().call(**at))
        cols = [(cid, token, decimals, vault.functions.collateral(cid).call(**at), oracle.functions.peek(token).call(**at),
                 auction.functions.debtOf(cid).call(**at), e.collateralCap(cid).call(**at))
                for cid, token, decimals in self.collaterals]
        return market_state(head, rate, dust, config, auction.functions.totalDebt().call(**at), cols)

    # --- auctions ---
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

    def _previews(self, accounts: list, head: int, chunk: int = 200) -> dict:
        """engine.previewLiquidate of each account as JSON-RPC batches (only candidates are read):
        account -> (liquidatable, guard, health, debt, debtToClose, penalty, incentive, seizures),
        or None for an account whose preview failed."""
        return dict(zip(accounts, self._batch_calls("engine", "previewLiquidate", [(a,) for a in accounts], head,
                                                    chunk)))

    def _direct_previews(self, pairs: list, budget: int, head: int) -> dict:
        """engine.previewLiquidateDirect(account, collateralId, budget) of each (account, id) pair:
        -> (allowed, refusal, health, discount, repay, seized, debtClosed, toBuffer), or None."""
        return dict(zip(pairs, self._batch_calls("direct", "previewLiquidateDirect",
                                                 [(a, cid, budget) for a, cid in pairs], head)))

    def _batch_calls(self, contract: str, name: str, args: list, head: int, chunk: int = 200) -> list:
        """One view of `contract` for each argument tuple, as JSON-RPC batches of eth_call at `head`
        (each element still counts as a call): the decoded first output, or None when it failed."""
        from eth_abi import decode
        from eth_utils.abi import get_abi_output_types

        c = self.c[contract]
        types = get_abi_output_types(c.get_function_by_name(name).abi)
        tag, out = hex(head), []
        for i in range(0, len(args), chunk):
            part = args[i:i + chunk]
            requests = [("eth_call", [{"to": c.address, "data": getattr(c.functions, name)(*a)._encode_transaction_data()},
                                      tag]) for a in part]
            self.rpc_calls += len(requests)
            self.metrics.rpc_calls.inc(len(requests))
            responses = self.w3.provider.make_batch_request(requests)
            if isinstance(responses, dict) or len(responses) != len(part):
                raise Web3RPCError(f"{name} batch failed: {str(responses)[:160]}")
            for r in sorted(responses, key=lambda r: r.get("id", 0)):
                result = r.get("result")
                out.append(None if r.get("error") or not result or result == "0x" else
                           decode(types, bytes.fromhex(result[2:]))[0])
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

    # --- balances ---
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
