"""EIP-1559 fees with a hard cap, and the bump that replaces a stuck transaction."""

from __future__ import annotations

from dataclasses import dataclass


class FeeCapReached(Exception):
    """Replacing would need a fee above the operator's cap; the transaction is left as it is."""


@dataclass(frozen=True)
class Fees:
    max_fee: int  # [wei per gas]
    priority_fee: int  # [wei per gas]


@dataclass(frozen=True)
class GasPolicy:
    max_fee_cap: int  # [wei per gas] never pay more
    priority_fee: int = 1_000_000_000  # [wei per gas]
    bump_percent: int = 13  # nodes need >= 10% to accept a replacement
    base_fee_multiplier: int = 2  # headroom for base-fee growth over a few blocks

    def initial(self, base_fee: int) -> Fees:
        priority = min(self.priority_fee, self.max_fee_cap)
        max_fee = min(base_fee * self.base_fee_multiplier + priority, self.max_fee_cap)
        if max_fee < base_fee:
            raise FeeCapReached(f"base fee {base_fee} is above the cap {self.max_fee_cap}")
        return Fees(max_fee, min(priority, max_fee))

    def bump(self, previous: Fees, base_fee: int) -> Fees:
        """Fees for a same-nonce replacement: at least `bump_percent` more on both fields."""
        factor = 100 + self.bump_percent
        priority = -(-previous.priority_fee * factor // 100)
        max_fee = max(-(-previous.max_fee * factor // 100), base_fee * self.base_fee_multiplier + priority)
        if max_fee > self.max_fee_cap or priority > self.max_fee_cap:
            raise FeeCapReached(f"replacement needs {max_fee} wei/gas, cap is {self.max_fee_cap}")
        return Fees(max_fee, priority)
