"""Independent Python models of IVault's arithmetic, and a strict custom-error matcher.

The models follow the NatSpec of interfaces/IVault.sol and interfaces/IOracleAdapter.sol, not the
Solidity: a value is `amount * price / 10**decimals` rounded down, each weighted term rounded down
(every rounding favours the protocol), debt is `ceil(art * rate / RAY)`, borrowing x adds
`ceil(x * RAY / rate)` to art. Each comes with an exact rational twin (`Fraction`) so a test can
also bound how far the documented rounding may move a result.
"""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction

import ape
import pytest
from ape.exceptions import CustomError
from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from unwind.deploy import feed_answer
from unwind.params import RAY, WAD

MAX_UINT = 2**256 - 1
ZERO_ADDRESS = "0x" + "00" * 20
HOUR = 3600
DAY = 86_400
YEAR = 365 * DAY
FEED_DECIMALS = 8  # every mock feed of default_params()


# --- quiet reverts -----------------------------------------------------------------------------


@contextmanager
def quiet_revert_traces():
    """Don't print (and so don't enrich) a call trace for every reverted transaction.

    ape-foundry 0.8.12 prints the call tree of each revert; building it re-derives the ten test
    accounts and names every frame, ~0.5 s per revert through the timelock. These modules assert
    ~100 expected reverts, so this is most of their run time. Only the display is skipped: the
    revert is still raised and decoded exactly as before.
    """
    from ape_ethereum.trace import Trace

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Trace, "show", lambda self, *args, **kwargs: None)
        yield


# --- custom errors ---------------------------------------------------------------------------


def _selector(abi) -> bytes:
    return keccak(text=abi.selector)[:4]


def _decode_error(error, data: bytes) -> dict:
    """Decode raw revert `data` as `error` (a contract's custom error class); fail if it is not."""
    assert data[:4] == _selector(error.abi), f"expected {error.__name__}, got revert data 0x{data.hex()}"
    types = [i.canonical_type for i in error.abi.inputs]
    values = abi_decode(types, data[4:])
    out = {}
    for ipt, typ, val in zip(error.abi.inputs, types, values):
        out[ipt.name] = to_checksum_address(val) if typ == "address" else val
    return out


def _check_inputs(error, actual: dict, expected: dict) -> None:
    for name, value in expected.items():
        assert name in actual, f"{error.__name__} has no input {name!r}: {actual}"
        assert actual[name] == value, f"{error.__name__}.{name}: expected {value}, got {actual[name]}"


@contextmanager
def reverts(error, **inputs):
    """`ape.reverts(error)`, made strict, for transactions.

    In Ape 0.8.51, `ape.reverts(SomeCustomError, **inputs)` checks the class only when the revert
    decoded as *some* custom error: a Panic, a plain `revert()` or data Ape could not decode pass
    silently, and an input name the error does not have is skipped. Ape also decodes a revert
    against the contract of the last call in the trace, so an error bubbled through a timelock
    after a call to another contract may come back undecoded (`ContractLogicError('0x...')`).
    Here the revert must be exactly `error` (the class bound to that contract instance), decoded
    by Ape or else from the raw revert data by its selector, and every named input must exist and
    be equal.
    """
    with ape.reverts() as info:
        yield info
    err = info.value
    if isinstance(err, CustomError):
        assert isinstance(err, error), f"expected {error.__name__}, got {err!r}"
        _check_inputs(error, err.inputs, inputs)
        return
    data = getattr(err.base_err, "data", None)
    assert isinstance(data, str) and data.startswith("0x"), f"expected {error.__name__}, got {err!r}"
    _check_inputs(error, _decode_error(error, bytes.fromhex(data[2:])), inputs)


def call_reverts(error, method, *args, **inputs):
    """A view call (`method` of a contract) reverts with exactly `error`. Ape 0.8.51 surfaces an
    eth_call revert as anvil's text message only, so the call is replayed through web3, whose
    exception carries the raw revert data."""
    from web3.exceptions import ContractCustomError

    contract = method.contract
    data = method.encode_input(*args)
    try:
        ape.chain.provider.web3.eth.call({"to": contract.address, "data": data})
    except ContractCustomError as err:
        raw = err.data if isinstance(err.data, str) else err.args[0]
        _check_inputs(error, _decode_error(error, bytes.fromhex(raw[2:])), inputs)
        return
    raise AssertionError(f"{method.abis[0].name}{args} did not revert with {error.__name__}")


def only_event(receipt, event):
    """The single `event` log in `receipt` (decoded from the event's own contract address)."""
    logs = receipt.events.filter(event)
    assert len(logs) == 1, f"expected one {event.name}, got {len(logs)}"
    return logs[0]


def name32(text: str) -> bytes:
    """A Solidity string literal assigned to bytes32: left-aligned, zero-padded."""
    return text.encode().ljust(32, b"\x00")


# --- prices and values ------------------------------------------------------------------------


def oracle_price(price) -> int:
    """The adapter's WAD price for a mock feed answer set from `price` (8-decimal feed)."""
    return feed_answer(Decimal(str(price)), FEED_DECIMALS) * 10 ** (18 - FEED_DECIMALS)


def value_floor(amount: int, decimals: int, price: int) -> int:
    return amount * price // 10**decimals


def weighted_floor(holdings: dict, decimals: dict, prices: dict, weights: dict) -> int:
    """sum(floor(floor(amount * price / 10**d) * weight / WAD)) over the holdings."""
    return sum(
        value_floor(amount, decimals[s], prices[s]) * weights[s] // WAD for s, amount in holdings.items() if amount
    )


def weighted_exact(holdings: dict, decimals: dict, prices: dict, weights: dict) -> Fraction:
    return sum(
        (Fraction(amount * prices[s], 10 ** decimals[s]) * Fraction(weights[s], WAD) for s, amount in holdings.items()),
        Fraction(0),
    )


def health_floor(weighted: int, debt: int) -> int:
    return weighted * WAD // debt


# --- debt ---------------------------------------------------------------------------------------


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def debt_of(art: int, rate: int) -> int:
    return ceil_div(art * rate, RAY)


def art_for_borrow(amount: int, rate: int) -> int:
    return ceil_div(amount * RAY, rate)


def max_borrow_model(art: int, rate: int, limit: int) -> int:
    """Largest x such that borrowing x leaves debt <= limit, by bisection over the documented
    rounding (independent of how the vault computes its own maxBorrow)."""

    def fits(x: int) -> bool:
        return debt_of(art + art_for_borrow(x, rate), rate) <= limit

    if not fits(0):
        return 0
    lo, hi = 0, limit + 1  # fits(lo), not fits(hi): a borrow of x adds at least x to the debt
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def rpow_half_up(x: int, n: int, base: int = RAY) -> int:
    """x**n in fixed point, by squaring, each product rounded to the nearest unit (half up)."""
    z = base if n % 2 == 0 else x
    n //= 2
    while n:
        x = (x * x + base // 2) // base
        if n % 2:
            z = (z * x + base // 2) // base
        n //= 2
    return z


def rate_decimal(fee: int, seconds: int) -> Decimal:
    """(fee / RAY) ** seconds with 60 significant digits: the exact accumulator, as a ratio."""
    return (Decimal(fee) / Decimal(RAY)) ** seconds


def ramp_threshold(frm: int, to: int, start: int, end: int, now: int) -> int:
    """A falling threshold moves linearly from `frm` to `to`; rounding keeps it high (slower)."""
    if now >= end:
        return to
    return frm - (frm - to) * (now - start) // (end - start)


def threshold_ramp(vault, cid) -> tuple:
    """vault.thresholdRamp(cid) as (from, to, start, end). Read through web3: Ape 0.8.51 cannot
    build a result struct with a field named `from` (a Python keyword)."""
    raw = vault.provider.web3.eth.call({"to": vault.address, "data": vault.thresholdRamp.encode_input(cid)})
    return tuple(abi_decode(["uint64", "uint64", "uint40", "uint40"], bytes(raw)))
