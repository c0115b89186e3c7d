"""Strict revert checks for the security tests (imported as `sec_helpers`).

Reverts are checked on an eth_call straight through web3 and decoded here by selector against
the ABIs of the contracts given: Ape 0.8.51's own decoding passes on undecoded reverts, and
walks the whole trace (15-40 s) for an error that bubbled through another contract.
"""

from __future__ import annotations

from decimal import Decimal

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from unwind.deploy import feed_answer, role
from unwind.params import WAD, AuctionParams

ZERO = "0x" + "00" * 20
MAX_UINT = 2**256 - 1
GOVERNOR = role("GOVERNOR_ROLE")
REBASING, FEE_ON_TRANSFER, TRANSFER_HOOKS = 1, 2, 4


def _errors(*contracts) -> dict:
    out = {}
    for c in contracts:
        for e in c.contract_type.errors:
            types = [i.canonical_type for i in e.inputs]
            sig = f"{e.name}({','.join(types)})"
            out[keccak(text=sig)[:4]] = (e.name, [i.name for i in e.inputs], types)
    return out


def revert_of(method, *args, sender, abis=()):
    """eth_call `method(*args)` from `sender`: None if it succeeds, else (error name, inputs)."""
    from ape import chain

    tx = {"to": method.contract.address, "from": sender.address if hasattr(sender, "address") else sender,
          "data": method.encode_input(*args)}
    try:
        chain.provider.web3.eth.call(tx)
    except Exception as exc:  # web3 carries the revert data on the exception
        data = getattr(exc, "data", None)
        assert isinstance(data, (str, bytes)), f"reverted without data: {exc!r}"
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
        book = _errors(method.contract, *abis)
        if raw[:4] == bytes.fromhex("08c379a0"):
            return "Error", {"message": abi_decode(["string"], raw[4:])[0]}
        assert raw[:4] in book, f"undecodable revert 0x{raw.hex()}"
        name, names, types = book[raw[:4]]
        values = abi_decode(types, raw[4:])
        values = [to_checksum_address(v) if t == "address" else v for v, t in zip(values, types)]
        return name, dict(zip(names, values))
    return None


def assert_reverts(error, method, *args, sender, abis=(), **inputs):
    got = revert_of(method, *args, sender=sender, abis=abis)
    assert got is not None, f"{method.abis[0].name}{args} did not revert (expected {error})"
    name, values = got
    assert name == error, f"expected {error}, got {name}{values}"
    for k, v in inputs.items():
        actual = values[k]
        if isinstance(v, str) and v.startswith("0x") or hasattr(v, "address"):
            v = to_checksum_address(getattr(v, "address", v))
        assert actual == v, f"{error}.{k}: {actual!r} != {v!r}"
    return values


def gov_reverts(system, deployer, error, target, method: str, *args, abis=(), **inputs):
    """A governance call through the timelock must revert with `error` (checked on execute)."""
    tl = system.timelock
    data = getattr(target, method).encode_input(*args)
    zero = b"\x00" * 32
    salt = keccak(text=f"sec:{target.address}:{method}:{args}:{next(_salts)}")
    tl.schedule(target, 0, data, zero, salt, tl.getMinDelay(), sender=deployer)
    return assert_reverts(error, tl.execute, target, 0, data, zero, salt, sender=deployer, abis=(target, *abis),
                          **inputs)


_salts = iter(range(10**9))


def list_token(system, gov, project, deployer, token, symbol, price="100", decimals=18, behaviour=None):
    """Give `token` a mock feed, list it (after declaring `behaviour`, if given) with auction
    parameters and a liquidation cap: the same steps deploy_system takes for its collateral."""
    feed = project.MockAggregator.deploy(8, f"{symbol} / USD", feed_answer(price, 8), sender=deployer)
    gov(system.oracle, "setFeed", token, (feed.address, 3600, ZERO, 0, 500, 5000, 0, 0, 0))
    if behaviour is not None:
        gov(system.vault, "declareTokenBehaviour", token, behaviour)
    gov(system.vault, "listCollateral", token, 7 * WAD // 10, 8 * WAD // 10, WAD // 10, 10**9 * 10**decimals)
    cid = system.vault.collateralId(token)
    gov(system.auction, "setParams", cid, AuctionParams().as_tuple())
    gov(system.engine, "setCollateralCap", cid, 5_000_000 * WAD)
    return cid, feed


def units(amount, decimals=18) -> int:
    return int(Decimal(str(amount)) * 10**decimals)
