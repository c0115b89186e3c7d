"""A fast driver for the invariant suite: the deployed system seen through plain web3.

Ape's transaction path (gas estimation, receipt enrichment, trace display on revert) costs
~0.1-0.5 s per call; the state machine sends thousands. Here every contract Ape deployed is
rebuilt as a web3 contract from its ABI, calls that may revert are tried as an eth_call first
(the revert data is decoded locally by selector, no trace walk), and the state read after every
step goes out as ONE batched JSON-RPC request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import decode as abi_decode
from eth_utils import keccak
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError

WAD = 10**18
RAY = 10**27
MAX_UINT = 2**256 - 1
GAS = 12_000_000


def _abi(ape_contract) -> list:
    return ape_contract.contract_type.model_dump(mode="json", by_alias=True)["abi"]


class Reverted(Exception):
    """An eth_call or transaction reverted: `name` is the decoded error name, `args` its inputs."""

    def __init__(self, name: str, args: dict, raw: str):
        super().__init__(f"{name}{args}")
        self.name = name
        self.args_ = args
        self.raw = raw


@dataclass
class ErrorBook:
    """Every custom error of every ABI the suite knows, by selector."""

    by_selector: dict = field(default_factory=dict)

    def learn(self, abi: list) -> None:
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [_canonical(i) for i in item["inputs"]]
            sig = f"{item['name']}({','.join(types)})"
            self.by_selector[keccak(text=sig)[:4]] = (item["name"], [i["name"] for i in item["inputs"]], types)

    def decode(self, data) -> Reverted:
        if isinstance(data, str):
            raw = bytes.fromhex(data[2:] if data.startswith("0x") else data)
        else:
            raw = bytes(data)
        if len(raw) < 4:
            return Reverted("EmptyRevert", {}, "0x" + raw.hex())
        sel = raw[:4]
        if sel == bytes.fromhex("4e487b71"):
            return Reverted("Panic", {"code": int.from_bytes(raw[4:36], "big")}, "0x" + raw.hex())
        if sel == bytes.fromhex("08c379a0"):
            (msg,) = abi_decode(["string"], raw[4:])
            return Reverted("Error", {"message": msg}, "0x" + raw.hex())
        if sel not in self.by_selector:
            return Reverted("Unknown", {"data": "0x" + raw.hex()}, "0x" + raw.hex())
        name, names, types = self.by_selector[sel]
        values = abi_decode(types, raw[4:])
        return Reverted(name, dict(zip(names, values)), "0x" + raw.hex())


def _canonical(inp: dict) -> str:
    t = inp["type"]
    if t.startswith("tuple"):
        inner = ",".join(_canonical(c) for c in inp["components"])
        return f"({inner}){t[5:]}"
    return t


class Driver:
    """The system as web3 contracts, with `call` / `send` / `batch` helpers."""

    def __init__(self, w3, system, extra: dict | None = None):
        self.w3 = w3
        self.errors = ErrorBook()
        self.c = {}
        named = dict(system.modules)
        for sym, tok in system.collateral.items():
            named[sym] = tok
        for sym, feed in system.feeds.items():
            named[f"feed:{sym}"] = feed
        named.update(extra or {})
        for name, ape_contract in named.items():
            abi = _abi(ape_contract)
            self.errors.learn(abi)
            self.c[name] = w3.eth.contract(address=ape_contract.address, abi=abi)
        w3.provider.make_request("anvil_autoImpersonateAccount", [True])
        import requests

        self.uri = w3.provider.endpoint_uri
        self._session = requests.Session()

    def add(self, name, ape_contract):
        abi = _abi(ape_contract)
        self.errors.learn(abi)
        self.c[name] = self.w3.eth.contract(address=ape_contract.address, abi=abi)
        return self.c[name]

    # --- calls and transactions ---

    def try_call(self, fn, sender):
        """eth_call `fn` from `sender`: (True, result) or (False, Reverted)."""
        try:
            return True, fn.call({"from": sender})
        except ContractCustomError as exc:
            data = exc.data if isinstance(exc.data, str) else exc.args[0]
            return False, self.errors.decode(data)
        except ContractPanicError as exc:
            return False, Reverted("Panic", {"message": str(exc)}, "")
        except ContractLogicError as exc:
            data = getattr(exc, "data", None)
            if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
                return False, self.errors.decode(data)
            return False, Reverted("Error", {"message": str(exc)}, str(data))

    def send(self, fn, sender, check=True):
        """Send `fn` as a transaction (anvil impersonates `sender`); the receipt. With `check`, a
        revert is first found on an eth_call and raised as `Reverted` (no transaction sent)."""
        if check:
            ok, res = self.try_call(fn, sender)
            if not ok:
                raise res
        tx_hash = fn.transact({"from": sender, "gas": GAS})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.005)
        if receipt.status != 1:
            # The eth_call ran at the head block's timestamp, the transaction a second later (a
            # second of fees or ramp can matter): replay it on the block it failed in.
            ok, res = self.try_call(fn, sender)
            raise res if not ok else Reverted("RevertedOnChain", {"tx": tx_hash.hex()}, "")
        return receipt

    def events(self, receipt, contract: str, event: str):
        from web3.logs import DISCARD

        return getattr(self.c[contract].events, event)().process_receipt(receipt, errors=DISCARD)

    def batch(self, fns: list):
        """eth_call every `fn` (web3 contract function with its arguments) in ONE raw JSON-RPC
        batch, decoded here: web3's own batching still runs its call machinery per request. Every
        call is pinned to one block (the latest): a view that depends on the time (an oracle's
        recovery grace ending) then answers for the same second in all of them."""
        if not fns:
            return []
        block = hex(int(self.rpc("eth_blockNumber"), 16))
        payload, outs = [], []
        for i, fn in enumerate(fns):
            types = [_canonical(o) for o in fn.abi["outputs"]]
            call = {"to": fn.address, "data": fn._encode_transaction_data()}
            payload.append({"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": [call, block]})
            outs.append(types)
        replies = self._session.post(self.uri, json=payload, timeout=30).json()
        replies = sorted(replies, key=lambda r: r["id"])
        results = []
        for reply, types in zip(replies, outs):
            if "error" in reply:
                raise RuntimeError(f"batched eth_call failed: {reply['error']}")
            values = abi_decode(types, bytes.fromhex(reply["result"][2:]))
            results.append(values[0] if len(values) == 1 else values)
        return results

    # --- chain ---

    def rpc(self, method, params=None):
        out = self.w3.provider.make_request(method, params or [])
        if "error" in out:
            raise RuntimeError(f"{method}: {out['error']}")
        return out.get("result")

    def advance(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", [int(seconds)])
        self.rpc("evm_mine")

    def now(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]
