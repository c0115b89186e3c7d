"""Helpers shared by the liquidation, auction and buffer tests (imported as `liquidation_helpers`).

Custom errors. `ape.reverts(contract.ErrorName)` in Ape 0.8.51 checks the error class only when
Ape managed to decode the revert as a custom error: a revert it could not decode (a deployment, a
plain `require` string, an error from a contract it does not know) satisfies ANY expected class.
`reverts()` below is strict: the error must have that name (an error of that contract's ABI) and
carry the given inputs; an undecoded revert must at least start with the error's selector. Which
contract raised it is not checked: Ape attributes a revert to the last contract called in the
trace (a setter that read the vault and then reverted is reported "from the vault"), and errors
with one signature (`ZeroAddress`, `InvalidParameter`) are identical bytes in every module; the
inputs (e.g. InvalidParameter's `name`) pin the origin down where it matters.
"""

from contextlib import contextmanager
from fractions import Fraction

from ape.exceptions import ContractLogicError, CustomError
from eth_abi import decode as abi_decode
from eth_utils import keccak

ZERO = "0x0000000000000000000000000000000000000000"
WAD = 10**18
RAY = 10**27
MAX_UINT = 2**256 - 1

# IOracleAdapter.Guard
GUARD_NONE, GUARD_NO_PRICE, GUARD_FROZEN, GUARD_RECOVERY, GUARD_DELAYED_STOPPED = 0, 1, 2, 3, 4
GUARD_SEQUENCER_DOWN, GUARD_SEQUENCER_GRACE = 5, 6
# IDutchAuction.Curve
LINEAR, EXPONENTIAL, STAIRSTEP = 0, 1, 2


def role(name: str) -> bytes:
    return keccak(text=name)


GOVERNOR = role("GOVERNOR_ROLE")
GUARDIAN = role("GUARDIAN_ROLE")
ENGINE_ROLE = role("ENGINE_ROLE")
MODULE_ROLE = role("MODULE_ROLE")


# --- integer math, as the contracts do it ---


def mul_div(a: int, b: int, c: int) -> int:
    return a * b // c


def mul_div_up(a: int, b: int, c: int) -> int:
    return -((-a * b) // c)


def rpow_up(x: int, n: int) -> int:
    """x ** n for a RAY number, every product rounded up (AuctionCurves.rpowUp)."""
    z = RAY
    while n:
        if n & 1:
            z = mul_div_up(z, x, RAY)
        n >>= 1
        if n:
            x = mul_div_up(x, x, RAY)
    return z


def rpow_nearest(x: int, n: int) -> int:
    """x ** n rounding every product to the nearest (solady's rpow), for comparison only."""
    if n == 0:
        return RAY
    z = x if n & 1 else RAY
    half = RAY // 2
    n >>= 1
    while n:
        x = (x * x + half) // RAY
        if n & 1:
            z = (z * x + half) // RAY
        n >>= 1
    return z


def ceil_fraction(f: Fraction) -> int:
    return -((-f.numerator) // f.denominator)


def curve_price(params, top: int, elapsed: int) -> int:
    """The documented curve, computed independently: exact rational value, rounded up."""
    curve = params.curve if isinstance(params.curve, int) else int(params.curve)
    if curve == LINEAR:
        if elapsed >= params.duration:
            return 0
        return ceil_fraction(Fraction(top * (params.duration - elapsed), params.duration))
    n = elapsed if curve == EXPONENTIAL else elapsed // params.step
    return ceil_fraction(top * Fraction(params.cut, RAY) ** n)


def contract_curve_price(params, top: int, elapsed: int) -> int:
    """The contract's algorithm (rounded-up power), to the wei."""
    curve = int(params.curve)
    if curve == LINEAR:
        return curve_price(params, top, elapsed)
    n = elapsed if curve == EXPONENTIAL else elapsed // params.step
    return mul_div_up(top, rpow_up(params.cut, n), RAY)


def value_of(amount: int, price: int, decimals: int) -> int:
    return amount * price // 10**decimals


# --- reverts ---


def _signature(abi) -> str:
    return f"{abi.name}({','.join(i.canonical_type for i in abi.inputs)})"


def _same(actual, expected) -> bool:
    if isinstance(expected, str) and expected.startswith("0x"):
        return str(actual).lower() == expected.lower()
    if hasattr(expected, "address"):
        return str(actual).lower() == str(expected.address).lower()
    return actual == expected


@contextmanager
def reverts(contract, error: str, /, **inputs):
    """The block must revert with custom error `error` raised by `contract` (an instance, or a
    container for deployments), with `inputs` (a subset of the error's arguments)."""
    contract_type = contract.contract_type
    abi = next((e for e in contract_type.errors if e.name == error), None)
    assert abi is not None, f"{error} is not an error of {contract_type.name}"
    try:
        yield
    except ContractLogicError as exc:
        if isinstance(exc, CustomError):
            assert exc.abi.name == error, f"expected {error}, got {exc!r}"
            for key, expected in inputs.items():
                assert key in exc.inputs, f"{error} has no input {key}"
                assert _same(exc.inputs[key], expected), f"{error}.{key}: {exc.inputs[key]!r} != {expected!r}"
        else:
            selector = "0x" + keccak(text=_signature(abi))[:4].hex()
            message = str(exc.revert_message or "")
            assert selector in message.lower(), f"expected {error} ({selector}), got {exc!r}"
            assert not inputs, "inputs can only be checked on decoded errors"
        return
    raise AssertionError(f"did not revert (expected {error})")


def _check_revert_data(data, abi_source, error: str, inputs: dict):
    abi = next((e for e in abi_source.contract_type.errors if e.name == error), None)
    assert abi is not None, f"{error} is not an error of {abi_source.contract_type.name}"
    selector = keccak(text=_signature(abi))[:4]
    assert data is not None, f"did not revert (expected {error})"
    data = bytes.fromhex(data[2:] if isinstance(data, str) else data.hex().removeprefix("0x"))
    assert data[:4] == selector, f"expected {error} (0x{selector.hex()}), got revert data 0x{data.hex()}"
    values = abi_decode([i.canonical_type for i in abi.inputs], data[4:])
    decoded = dict(zip([i.name for i in abi.inputs], values))
    for key, expected in inputs.items():
        assert key in decoded, f"{error} has no input {key}"
        assert _same(decoded[key], expected), f"{error}.{key}: {decoded[key]!r} != {expected!r}"


def revert_data(method, *args, sender):
    """eth_call `method(*args)` from `sender` straight through web3 (no Ape error enrichment);
    the revert data as hex, or None when the call succeeds."""
    from ape import chain

    tx = {"to": method.contract.address, "from": sender.address, "data": method.encode_input(*args)}
    try:
        chain.provider.web3.eth.call(tx)
    except Exception as exc:  # web3's ContractCustomError / ContractLogicError carry the data
        data = getattr(exc, "data", None)
        assert isinstance(data, (str, bytes)), f"reverted without data: {exc!r}"
        return data
    return None


def call_reverts(abi_source, error: str, method, *args, sender, **inputs):
    """`method(*args)` must revert with `error` (an error of `abi_source`'s ABI, e.g. raised by a
    contract the method calls) and `inputs`. Checked on an eth_call: Ape's own decoding of an
    error the called contract does not declare walks the whole opcode trace (15-40 s a revert)."""
    _check_revert_data(revert_data(method, *args, sender=sender), abi_source, error, inputs)


def govern_reverts(h, abi_source, error: str, target, method: str, *args, **inputs):
    """A governance call through the timelock must revert with `error` of `abi_source`."""
    timelock = h.s.timelock
    data = getattr(target, method).encode_input(*args)
    zero = b"\x00" * 32
    salt = keccak(text=f"{target.address}:{method}:{args}:{next(_salts)}")
    timelock.schedule(target, 0, data, zero, salt, timelock.getMinDelay(), sender=h.deployer)
    h.advance(timelock.getMinDelay()) if timelock.getMinDelay() else None
    call_reverts(abi_source, error, timelock.execute, target, 0, data, zero, salt, sender=h.deployer, **inputs)


_salts = iter(range(10**9))


def unauthorized(contract, account, needed_role):
    """OpenZeppelin AccessControl's refusal."""
    return reverts(contract, "AccessControlUnauthorizedAccount", account=account.address, neededRole=needed_role)


def refused(contract, method: str, *args, by, role):
    """`contract.method(*args)` from `by` is refused by AccessControl for lack of `role` (eth_call)."""
    call_reverts(
        contract,
        "AccessControlUnauthorizedAccount",
        getattr(contract, method),
        *args,
        sender=by,
        account=by.address,
        neededRole=role,
    )


# --- events ---


def events(tx, contract, name):
    return getattr(contract, name).from_receipt(tx)


def one_event(tx, contract, name):
    found = events(tx, contract, name)
    assert len(found) == 1, f"expected one {name}, got {len(found)}"
    return found[0]


# --- liquidations ---


def liquidate_checked(h, account, keeper):
    """Liquidate and check everything the spec promises about one liquidation (no stability fee):
    preview == outcome, one auction per seized collateral in id order, incentive rule, payouts,
    collateral and debt moved, dust rules, identity."""
    s = h.s
    preview = s.engine.previewLiquidate(account)
    assert preview.liquidatable
    debt_before = s.vault.debtOf(account)
    assert preview.debt == debt_before
    keeper_before = s.debt_token.balanceOf(keeper)
    surplus_before = s.buffer.surplus()
    held_before = {cid: s.vault.collateralOf(account, cid) for cid in s.ids.values()}
    auction_debt_before = s.auction.totalDebt()

    tx = s.engine.liquidate(account, keeper, sender=keeper)

    ev = one_event(tx, s.engine, "Liquidate")
    kicks = events(tx, s.auction, "Kick")
    assert ev.account == account.address
    assert ev.debtClosed == preview.debtToClose
    assert ev.penalty == preview.penalty
    assert ev.incentive == preview.incentive
    assert ev.healthBefore == preview.health < WAD
    assert len(kicks) == len(preview.seizures) >= 1
    ids = [k.collateralId for k in kicks]
    assert ids == sorted(set(ids)), "one auction per collateral, in id order"
    for kick, seizure in zip(kicks, preview.seizures):
        assert kick.collateralId == seizure.collateralId
        assert kick.lot == seizure.lot
        assert kick.tab == seizure.tab
        assert kick.tab == seizure.debt + mul_div_up(seizure.debt, s.vault.collateral(seizure.collateralId).penalty, WAD)
        buffer_param = s.auction.params(seizure.collateralId).buffer
        assert kick.top == mul_div_up(seizure.startPrice, buffer_param, WAD)
        assert s.vault.collateralOf(account, kick.collateralId) == held_before[kick.collateralId] - kick.lot
    assert sum(seizure.debt for seizure in preview.seizures) == ev.debtClosed
    assert ev.penalty == sum(k.tab for k in kicks) - ev.debtClosed
    assert s.auction.totalDebt() == auction_debt_before + ev.debtClosed + ev.penalty

    # Incentive = min(tip + chip * debt, penalty), to the keeper; the rest of the penalty to the buffer.
    tip, chip = s.engine.tip(), s.engine.chip()
    assert ev.incentive == min(tip + mul_div(chip, ev.debtClosed, WAD), ev.penalty)
    assert s.debt_token.balanceOf(keeper) - keeper_before == ev.incentive
    assert s.buffer.surplus() - surplus_before == ev.penalty - ev.incentive

    # Debt: closed exactly; at least min(debt, dust); what remains is 0 or >= dust.
    remaining = s.vault.debtOf(account)
    assert remaining == debt_before - ev.debtClosed
    dust = s.vault.dust()
    assert ev.debtClosed >= min(debt_before, dust)
    assert remaining == 0 or remaining >= dust
    h.assert_identity()
    return preview, ev, kicks


# --- accounts ---


def new_accounts(accounts, funder, n):
    """`n` fresh test accounts with gas money."""
    out = []
    for _ in range(n):
        manager = getattr(accounts, "test_accounts", accounts)
        acct = manager.generate_test_account()
        funder.transfer(acct, 10**18)
        out.append(acct)
    return out


def linear_hour_params():
    """The default parameters with WETH and WBTC auctions falling linearly over an hour from 1.2 x
    the reference: the worked numbers of the auction and buffer tests (prices at given seconds)
    are for this curve; the deployed defaults (exponential from 1.1) are what the keeper tests,
    the scenarios and the crash replay run."""
    from dataclasses import replace

    from unwind.params import default_params, ray, wad

    p = default_params()
    for c in p.collaterals:
        if c.symbol in ("WETH", "WBTC"):
            c.auction = replace(c.auction, curve="linear", buffer=wad("1.2"), duration=3600, cut=ray("0.99"))
    return p
