"""Constants and helpers shared by the oracle adapter tests (imported as `oracle_helpers`)."""

import os
import re
from contextlib import contextmanager
from unittest.mock import patch

import ape
from ape.exceptions import CustomError
from ape_ethereum.trace import Trace
from eth_abi import decode as abi_decode
from eth_utils import keccak
from hexbytes import HexBytes
from hypothesis import HealthCheck, Phase, settings

WAD = 10**18
HOUR = 3600
DAY = 86400
ZERO = "0x0000000000000000000000000000000000000000"

# IOracleAdapter.Status / Guard as ints (Ape returns enums as their index).
UNSET, LIVE, SECONDARY, FROZEN = range(4)
G_NONE, G_NO_PRICE, G_FROZEN, G_RECOVERY, G_STOPPED, G_SEQ_DOWN, G_SEQ_GRACE = range(7)

HEARTBEAT = HOUR
MAX_DEV_BPS = 200  # 2%
MAX_JUMP_BPS = 1_000  # 10%
DELAY = HOUR
RECOVERY_GRACE = 30 * 60  # the adapter's default

ETH = 2_000 * 10**8
BTC = 60_000 * 10**8
USD = 10**8

# Bytecodes for `anvil_setCode`: feeds that misbehave in ways a Solidity mock cannot.
CODE_EMPTY = "0x"  # no code at all: the call succeeds with no returndata
CODE_REVERT = "0x60006000fd"  # revert(0, 0)
CODE_SHORT = "0x60406000f3"  # return 2 words
CODE_BAD_UINT80 = "0x7f" + "ff" * 32 + "600052" + "60a06000f3"  # 5 words, roundId > uint80
CODE_GAS_BURNER = "0x5b600056"  # JUMPDEST PUSH1 0 JUMP: loops until out of gas
CODE_RETURN_BOMB = "0x620100006000f3"  # return 64 KiB of zeros


def feed_config(primary, secondary=ZERO, **over):
    """An IOracleAdapter.FeedConfig tuple, with the module's defaults."""
    cfg = dict(
        primary=primary,
        primaryHeartbeat=HEARTBEAT,
        secondary=secondary,
        secondaryHeartbeat=HEARTBEAT if secondary != ZERO else 0,
        maxDeviationBps=MAX_DEV_BPS,
        maxJumpBps=MAX_JUMP_BPS,
        delay=DELAY,
        minAnswer=1,
        maxAnswer=0,
    )
    cfg.update(over)
    return (
        cfg["primary"],
        cfg["primaryHeartbeat"],
        cfg["secondary"],
        cfg["secondaryHeartbeat"],
        cfg["maxDeviationBps"],
        cfg["maxJumpBps"],
        cfg["delay"],
        cfg["minAnswer"],
        cfg["maxAnswer"],
    )


@contextmanager
def reverts_with(error, **inputs):
    """`ape.reverts(error, **inputs)`, but the revert must be exactly that custom error.

    Given an error class, ape.reverts alone also passes on a plain revert or a revert it could not
    decode (e.g. from a deployment); this helper fails unless the revert data is that error, with
    the given inputs.
    """
    # An expected revert needs no call-tree printout: ape-foundry prints one for every revert,
    # which costs a debug trace per assertion. Unexpected reverts elsewhere still print theirs.
    with patch.object(Trace, "show", lambda self, *args, **kwargs: None), ape.reverts() as info:
        yield info
    exc = info.value
    if isinstance(exc, CustomError):
        name, actual = type(exc).__name__, dict(exc.inputs)
    else:  # undecoded (deployments): decode the raw revert data against the expected error
        name, actual = _decode_raw(error.abi, exc.revert_message)
    assert name == error.__name__, f"expected {error.__name__}, got {name or exc!r}"
    for key, value in inputs.items():
        assert _norm(actual[key]) == _norm(value), f"{error.__name__}.{key}: {actual[key]!r} != {value!r}"


def _decode_raw(abi, message):
    """Decode revert data given as "0x<hex>" (deployments) or as anvil's eth_call message
    "custom error 0x<selector>: <hex args>"."""
    message = str(message or "")
    if found := re.search(r"custom error 0x([0-9a-fA-F]{8}):?\s*([0-9a-fA-F]*)", message):
        raw = HexBytes(found.group(1) + found.group(2))
    elif re.fullmatch(r"0x[0-9a-fA-F]*", message):
        raw = HexBytes(message)
    else:
        raw = b""
    if raw[:4] != keccak(text=abi.selector)[:4]:
        return None, {}
    values = abi_decode([i.canonical_type for i in abi.inputs], raw[4:])
    return abi.name, {i.name: v for i, v in zip(abi.inputs, values)}


def _norm(value):
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if hasattr(value, "address"):
        return str(value.address).lower()
    if isinstance(value, bytes):
        return value.hex().removeprefix("0x")
    return value


def set_code(chain, address, code):
    chain.provider.make_request("anvil_setCode", [str(address), code])


def warp(chain, seconds):
    """Mine one block `seconds` after the pending timestamp."""
    chain.mine(1, deltatime=seconds)


def mine_at(chain, timestamp):
    """Mine a block at exactly `timestamp`: calls (peek, getQuote) then run at that time."""
    chain.pending_timestamp = timestamp
    chain.mine()


def call_time(chain):
    """The `block.timestamp` an eth_call sees on anvil: the head block's (not the pending one)."""
    return chain.blocks.head.timestamp


def quote_tuple(q):
    return (q.current, q.borrowPrice, q.liquidationPrice, q.auctionStartPrice, q.status, q.guard)


# --- Property tests ----------------------------------------------------------------------------

# `make fuzz` sets UNWIND_PROFILE=deep: more examples and shrinking. The default profile is fast
# (no shrinking: a failing example over transactions can take minutes to shrink).
DEEP = os.environ.get("UNWIND_PROFILE") == "deep"


def fuzz(max_examples=20):
    return settings(
        max_examples=max_examples * 10 if DEEP else max_examples,
        deadline=None,
        phases=tuple(Phase) if DEEP else (Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
