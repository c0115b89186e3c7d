"""A mirror of every account's position, built from vault events and safe against reorgs.

Each vault event becomes a delta on one account (collateral of one id, or normalised debt). The
deltas of each block are journaled with the block's hash, so when the chain reorganises the
index undoes the orphaned blocks and re-reads the new ones. Nothing here touches the network.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

# Vault events and how each changes a position: (kind, sign). Collateral deltas carry `id` and
# `amount`; debt deltas carry `normalisedDebt`.
EVENT_EFFECTS = {
    "Deposit": ("collateral", +1),
    "Withdraw": ("collateral", -1),
    "CollateralConfiscated": ("collateral", -1),
    "CollateralReturned": ("collateral", +1),
    "Borrow": ("debt", +1),
    "Repay": ("debt", -1),
    "Confiscate": ("debt", -1),
}


class LogDecoder:
    """Raw vault logs (eth_getLogs JSON: hex strings) to position deltas, with eth_abi directly.

    web3's log formatting and `process_log` cost about 2 ms a log; the keeper reads every vault
    event since deployment at start, so this decodes only the events in EVENT_EFFECTS, word by
    word, from layouts prepared once from the ABI (their fields are all one-word static types;
    another type is refused when the decoder is built, not misread).
    """

    def __init__(self, vault_abi: list):
        from eth_utils import keccak

        self._layouts = {}
        for item in vault_abi:
            if item.get("type") != "event" or item["name"] not in EVENT_EFFECTS:
                continue
            inputs = item["inputs"]
            topic = "0x" + keccak(text=f"{item['name']}({','.join(i['type'] for i in inputs)})").hex()
            indexed = [(i["name"], i["type"]) for i in inputs if i.get("indexed")]
            data = [(i["name"], i["type"]) for i in inputs if not i.get("indexed")]
            for _, typ in indexed + data:
                _word(typ, "0" * 64)  # refuses a type this decoder cannot read
            self._layouts[topic] = (item["name"], indexed, data)

    def delta(self, log: dict) -> Delta | None:
        from eth_utils import to_checksum_address

        topics = log["topics"]
        layout = self._layouts.get(topics[0].lower()) if topics else None
        if layout is None:
            return None
        name, indexed, data = layout
        args = {arg: _word(typ, topic[2:]) for (arg, typ), topic in zip(indexed, topics[1:])}
        words = log["data"][2:]
        for i, (arg, typ) in enumerate(data):  # vault events carry only static one-word values
            args[arg] = _word(typ, words[64 * i:64 * (i + 1)])
        args["account"] = to_checksum_address(args["account"])
        return delta_from_event(name, args)


def _word(typ: str, hex64: str):
    """One ABI word (64 hex digits) of a static type."""
    if typ == "address":
        return "0x" + hex64[24:]
    if typ.startswith("uint"):
        return int(hex64, 16)
    if typ.startswith("int"):
        value = int(hex64, 16)
        return value - (1 << 256) if value >> 255 else value
    if typ == "bool":
        return int(hex64, 16) != 0
    raise ValueError(f"vault event field of type {typ}: the keeper's log decoder handles one-word types only")


class ReorgTooDeep(ValueError):
    """A reorg reaches below the journal: the index must be rebuilt from the start block."""


@dataclass
class Position:
    art: int = 0  # normalised debt [wad]
    collateral: dict = field(default_factory=dict)  # id -> amount [token units]

    def is_empty(self) -> bool:
        return self.art == 0 and not any(self.collateral.values())


@dataclass(frozen=True)
class Delta:
    account: str
    kind: str  # "collateral" | "debt"
    amount: int  # signed
    collateral_id: int = -1


def delta_from_event(name: str, args: dict) -> Delta | None:
    """The position change a decoded vault event makes, or None for events that change none."""
    effect = EVENT_EFFECTS.get(name)
    if effect is None:
        return None
    kind, sign = effect
    account = args["account"]
    if kind == "collateral":
        return Delta(account, kind, sign * int(args["amount"]), int(args["id"]))
    return Delta(account, kind, sign * int(args["normalisedDebt"]))


class PositionIndex:
    """Positions by account, plus a journal of the last `depth` blocks for reorgs."""

    def __init__(self, depth: int = 128):
        self.positions: dict[str, Position] = {}
        self.depth = depth
        self._journal: OrderedDict[int, tuple[str, list[Delta]]] = OrderedDict()
        self.last_block: int | None = None
        self._dropped_max: int | None = None  # newest block that has left the journal

    def __len__(self) -> int:
        return len(self.positions)

    def block_hash(self, number: int) -> str | None:
        entry = self._journal.get(number)
        return entry[0] if entry else None

    def apply_block(self, number: int, block_hash: str, deltas: list[Delta]) -> None:
        """Apply one block's deltas. Blocks must come in order; a block may have no deltas."""
        if self.last_block is not None and number <= self.last_block:
            raise ValueError(f"block {number} is not after {self.last_block}: roll back first")
        for d in deltas:
            self._apply(d, +1)
        self._journal[number] = (block_hash, list(deltas))
        while len(self._journal) > self.depth:
            dropped, _ = self._journal.popitem(last=False)
            self._dropped_max = dropped if self._dropped_max is None else max(self._dropped_max, dropped)
        self.last_block = number

    def rollback_to(self, number: int) -> int:
        """Undo every block after `number`; returns how many blocks were undone.

        Raises ReorgTooDeep when blocks after `number` have already left the journal: their
        deltas are gone, so the positions cannot be restored exactly (rebuild the index instead).
        """
        if self._dropped_max is not None and self._dropped_max > number:
            raise ReorgTooDeep(f"cannot undo back to block {number}: block {self._dropped_max} has already "
                               f"left the journal (it keeps {self.depth} blocks)")
        undone = 0
        while self._journal and next(reversed(self._journal)) > number:
            _, (_, deltas) = self._journal.popitem(last=True)
            for d in reversed(deltas):
                self._apply(d, -1)
            undone += 1
        if self.last_block is not None and self.last_block > number:
            self.last_block = number
        return undone

    def journal_floor(self) -> int | None:
        """The oldest block a rollback can reach."""
        return next(iter(self._journal)) if self._journal else None

    def _apply(self, d: Delta, direction: int) -> None:
        pos = self.positions.get(d.account)
        if pos is None:
            pos = self.positions[d.account] = Position()
        if d.kind == "collateral":
            pos.collateral[d.collateral_id] = pos.collateral.get(d.collateral_id, 0) + direction * d.amount
            if pos.collateral[d.collateral_id] == 0:
                del pos.collateral[d.collateral_id]
        else:
            pos.art += direction * d.amount
        if pos.is_empty():
            del self.positions[d.account]

    def accounts_with_debt(self):
        return (a for a, p in self.positions.items() if p.art > 0)
