"""Nonces and a write-ahead record of sent transactions that survives a crash or SIGKILL.

Before a transaction is sent, its nonce, hash, fees, purpose and key (the account or auction it
acts on) are written to a JSON file (atomically: write a temporary file, then rename). After a
restart the keeper reloads the file, drops what was mined, and keeps tracking the rest, so it
never sends a second transaction for a key that already has one in flight, and it reuses a
pending nonce only to replace that same transaction.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Pending:
    nonce: int
    tx_hash: str
    kind: str  # "liquidate" | "take" | "redo" | "cancel"
    key: str  # what it acts on: an account address, or "auction:<id>"
    max_fee: int
    priority_fee: int
    sent_at: float  # unix time
    tx: dict  # the unsigned transaction fields, for a replacement
    replacements: int = 0


class NonceBook:
    def __init__(self, path: Path | None, address: str):
        self.path = Path(path) if path else None
        self.address = address
        self.pending: dict[int, Pending] = {}
        self.next_nonce: int | None = None
        if self.path and self.path.exists():
            self._load()

    # --- persistence ---
    def _load(self) -> None:
        data = json.loads(self.path.read_text())
        if data.get("address", "").lower() != self.address.lower():
            raise ValueError(
                f"keeper state file {self.path} belongs to {data.get('address')}, not {self.address}: "
                "use another --state-file"
            )
        self.pending = {int(n): Pending(**p) for n, p in data.get("pending", {}).items()}

    def save(self) -> None:
        if not self.path:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"address": self.address, "pending": {str(n): asdict(p) for n, p in self.pending.items()}}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keeper-state-")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    # --- nonces ---
    def sync(self, chain_nonce: int) -> list[Pending]:
        """Drop records the chain has passed (mined or replaced); returns the dropped ones."""
        done = [p for n, p in self.pending.items() if n < chain_nonce]
        for p in done:
            del self.pending[p.nonce]
        base = max([chain_nonce] + [n + 1 for n in self.pending])
        self.next_nonce = base if self.next_nonce is None else max(self.next_nonce, base)
        if done:
            self.save()
        return done

    def resync(self, node_nonce: int) -> None:
        """Follow the node's next nonce for the key (its pending count) after it refused one as
        taken: something else sends from this key. Unlike `sync`, nothing is dropped: the node's
        pending count includes the keeper's own pooled transactions, which stay in flight, and
        no recorded nonce is handed out again."""
        self.next_nonce = max([node_nonce, self.next_nonce or 0] + [n + 1 for n in self.pending])

    def reserve(self) -> int:
        if self.next_nonce is None:
            raise RuntimeError("sync() with the chain nonce first")
        nonce = self.next_nonce
        self.next_nonce += 1
        return nonce

    def record(self, p: Pending) -> None:
        """Write-ahead: call before broadcasting."""
        self.pending[p.nonce] = p
        self.save()

    def release(self, nonce: int) -> None:
        """A reserved nonce was not used (the send failed before broadcast)."""
        self.pending.pop(nonce, None)
        if self.next_nonce is not None and nonce == self.next_nonce - 1:
            self.next_nonce = nonce
        self.save()

    def in_flight(self, key: str) -> Pending | None:
        """The pending transaction acting on `key`, also when `key` is one account of a batch
        (a liquidateBatch is recorded as "batch:<a>,<b>,..."): after a restart nothing else
        remembers which accounts a pending batch covers."""
        return next((p for p in self.pending.values() if key in covered_keys(p.key)), None)


def covered_keys(key: str) -> set[str]:
    """What a pending transaction's key acts on: itself, plus each account of a batch."""
    if key.startswith("batch:"):
        return {key, *key.removeprefix("batch:").split(",")}
    return {key}
