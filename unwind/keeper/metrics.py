"""Prometheus metrics of one keeper, in a registry of its own (several keepers may share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class KeeperMetrics:
    def __init__(self):
        r = self.registry = CollectorRegistry()
        self.accounts_indexed = Gauge("unwind_keeper_accounts_indexed", "accounts in the position index", registry=r)
        self.unsafe_accounts = Gauge("unwind_keeper_unsafe_accounts", "accounts liquidatable now", registry=r)
        self.warning_accounts = Gauge(
            "unwind_keeper_warning_accounts", "accounts below the warning health, not yet liquidatable", registry=r
        )
        self.liquidations = Counter("unwind_keeper_liquidations", "accounts liquidated by this keeper", registry=r)
        self.direct_liquidations = Counter("unwind_keeper_direct_liquidations",
                                           "accounts liquidated directly (no auction) by this keeper", registry=r)
        self.auctions_won = Counter("unwind_keeper_auctions_won", "takes mined", registry=r)
        self.auctions_lost = Counter("unwind_keeper_auctions_lost", "takes or liquidations lost to others", registry=r)
        self.profit = Counter("unwind_keeper_profit_wad", "expected profit of mined takes [debt wei]", registry=r)
        self.liquidations_skipped = Counter("unwind_keeper_liquidations_skipped",
                                            "liquidations not sent: the engine's incentive would not pay their gas "
                                            "(each time one is considered; --altruistic sends them)", registry=r)
        self.redos_skipped = Counter("unwind_keeper_redos_skipped",
                                     "redos not sent: the incentive would not pay the gas and the keeper would not "
                                     "take the auction", registry=r)
        self.reverted = Counter("unwind_keeper_reverted",
                                "own transactions that reverted for a reason of the keeper's own (not lost races)",
                                registry=r)
        self.gas_spent = Counter("unwind_keeper_gas_spent_wei", "gas paid [wei]", registry=r)
        self.rpc_errors = Counter("unwind_keeper_rpc_errors", "failed RPC round trips", registry=r)
        self.rpc_calls = Counter("unwind_keeper_rpc_calls", "RPC requests made", registry=r)
        self.last_block = Gauge("unwind_keeper_last_block", "last block processed", registry=r)
        self.native_balance = Gauge("unwind_keeper_native_balance_wei", "keeper gas balance", registry=r)
        self.debt_balance = Gauge("unwind_keeper_debt_balance_wad", "keeper debt-token balance", registry=r)

        label = ["collateral"]
        self.risk_volatility = Gauge("unwind_risk_volatility", "AdaptiveRisk: annualised volatility estimate",
                                     label, registry=r)
        self.risk_max_ltv = Gauge("unwind_risk_max_ltv", "AdaptiveRisk: effective max LTV", label, registry=r)
        self.risk_threshold = Gauge("unwind_risk_threshold_target", "AdaptiveRisk: liquidation threshold target",
                                    label, registry=r)
        self.risk_buffer = Gauge("unwind_risk_auction_buffer", "AdaptiveRisk: auction start buffer", label,
                                 registry=r)
        self.risk_chip = Gauge("unwind_risk_chip", "AdaptiveRisk: keeper chip", label, registry=r)

    def show_risk(self, collateral_id: int, e) -> None:
        """AdaptiveRisk.effective(id): (volatility, position, maxLtv, threshold, buffer, duration, cut, chip)."""
        cid = str(collateral_id)
        self.risk_volatility.labels(cid).set(e[0] / 1e18)
        self.risk_max_ltv.labels(cid).set(e[2] / 1e18)
        self.risk_threshold.labels(cid).set(e[3] / 1e18)
        self.risk_buffer.labels(cid).set(e[4] / 1e18)
        self.risk_chip.labels(cid).set(e[7] / 1e18)

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        start_http_server(port, addr=addr, registry=self.registry)
