"""Who holds which role after `deploy_system`, and governance through the timelock.

After deployment every admin and governor role belongs to the timelock, the guardian role to the
guardian (`deployer` here) and the module roles to the modules that need them; the deployer keeps
nothing else. Role holders are rebuilt from the RoleGranted/RoleRevoked logs, so a stray grant
anywhere shows up, not only the ones a test thought to ask about.
"""

from __future__ import annotations

import pytest

from unwind.deploy import DEFAULT_ADMIN, role
from unwind.params import wad
from vault_helpers import name32, only_event, quiet_revert_traces, reverts

ZERO32 = b"\x00" * 32


@pytest.fixture(scope="session", autouse=True)
def _accounts_first(deployer, alice, bob, keeper, outsider):
    """Session fixtures before module ones, so Ape's isolation never has to rebase."""


@pytest.fixture(scope="module", autouse=True)
def _quiet():
    with quiet_revert_traces():
        yield


def holders(contract, chain) -> dict:
    """role -> set of addresses holding it, replayed from the contract's own logs."""
    head = chain.blocks.head.number
    events = [(log.block_number, log.log_index, True, log) for log in contract.RoleGranted.range(0, head + 1)]
    events += [(log.block_number, log.log_index, False, log) for log in contract.RoleRevoked.range(0, head + 1)]
    out: dict = {}
    for _, _, granted, log in sorted(events, key=lambda e: (e[0], e[1])):
        members = out.setdefault(bytes(log.role), set())
        (members.add if granted else members.discard)(log.account)
    return {r: m for r, m in out.items() if m}


def names(*accounts) -> set:
    return {a.address for a in accounts}


def test_every_role_holder_after_deploy(system, chain, deployer):
    s = system
    tl = s.timelock
    expected = {
        "vault": {
            DEFAULT_ADMIN: names(tl),
            role("GOVERNOR_ROLE"): names(tl),
            role("GUARDIAN_ROLE"): names(deployer),
            role("ENGINE_ROLE"): names(s.engine, s.direct),
            role("AUCTION_ROLE"): names(s.auction),
        },
        "debt_token": {
            DEFAULT_ADMIN: names(tl),
            role("MINTER_ROLE"): names(s.vault, s.engine, s.buffer, s.direct),
            role("BURNER_ROLE"): names(s.vault, s.auction, s.buffer, s.direct),  # direct: direct liquidations
        },
        "buffer": {
            DEFAULT_ADMIN: names(tl),
            role("GOVERNOR_ROLE"): names(tl),
            role("GUARDIAN_ROLE"): names(deployer),
            role("MODULE_ROLE"): names(s.auction, s.engine),
        },
        "auction": {
            DEFAULT_ADMIN: names(tl),
            role("GOVERNOR_ROLE"): names(tl),
            role("GUARDIAN_ROLE"): names(deployer),
            role("ENGINE_ROLE"): names(s.engine),
        },
        "engine": {
            DEFAULT_ADMIN: names(tl),
            role("GOVERNOR_ROLE"): names(tl),
            role("GUARDIAN_ROLE"): names(deployer),
        },
        "oracle": {
            DEFAULT_ADMIN: names(tl),
            role("GOVERNOR_ROLE"): names(tl),
            role("GUARDIAN_ROLE"): names(deployer),
        },
        "direct": {
            DEFAULT_ADMIN: names(tl),
            role("GOVERNOR_ROLE"): names(tl),
            role("GUARDIAN_ROLE"): names(deployer),
        },
    }
    for module, roles in expected.items():
        contract = getattr(s, module)
        assert holders(contract, chain) == roles, module
        # the live view agrees with the replayed logs
        for r, members in roles.items():
            for m in members:
                assert contract.hasRole(r, m), (module, r, m)
        assert not contract.hasRole(DEFAULT_ADMIN, deployer), module
        if module != "debt_token":
            assert not contract.hasRole(role("GOVERNOR_ROLE"), deployer), module


def test_timelock_proposer_and_executor(system, chain, deployer, params):
    tl = system.timelock
    assert tl.getMinDelay() == params.timelock_delay == 0  # tests only; live networks wait days
    held = holders(tl, chain)
    assert held[role("PROPOSER_ROLE")] == names(deployer)
    assert held[role("EXECUTOR_ROLE")] == names(deployer)
    assert held[role("CANCELLER_ROLE")] == names(deployer)
    assert tl.address in held[DEFAULT_ADMIN]  # the timelock administers itself


def test_deployer_holds_no_admin_role_on_the_timelock(system, chain, deployer):
    assert holders(system.timelock, chain)[DEFAULT_ADMIN] == names(system.timelock)


def test_deployer_cannot_govern_directly(system, deployer):
    vault = system.vault
    with reverts(vault.AccessControlUnauthorizedAccount, account=deployer.address, neededRole=role("GOVERNOR_ROLE")):
        vault.setDust(wad(1), sender=deployer)
    with reverts(vault.AccessControlUnauthorizedAccount, account=deployer.address, neededRole=DEFAULT_ADMIN):
        vault.grantRole(role("GOVERNOR_ROLE"), deployer, sender=deployer)
    debt = system.debt_token
    with reverts(debt.AccessControlUnauthorizedAccount, account=deployer.address, neededRole=DEFAULT_ADMIN):
        debt.grantRole(role("MINTER_ROLE"), deployer, sender=deployer)
    with reverts(debt.AccessControlUnauthorizedAccount, account=deployer.address, neededRole=role("MINTER_ROLE")):
        debt.mint(deployer, 1, sender=deployer)


def test_a_governance_change_goes_through_the_timelock(h, system, outsider):
    vault, tl = system.vault, system.timelock
    tx = h.govern(vault, "setDust", wad(1))
    ev = only_event(tx, vault.ParameterSet)
    assert (ev.name, ev.value) == (name32("dust"), wad(1))
    assert vault.dust() == wad(1)
    data = vault.setDust.encode_input(wad(2))
    salt = b"\x01" * 32
    with reverts(tl.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=role("PROPOSER_ROLE")):
        tl.schedule(vault, 0, data, ZERO32, salt, 0, sender=outsider)
    tl.schedule(vault, 0, data, ZERO32, salt, 0, sender=h.deployer)
    with reverts(tl.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=role("EXECUTOR_ROLE")):
        tl.execute(vault, 0, data, ZERO32, salt, sender=outsider)
    with reverts(tl.TimelockUnexpectedOperationState):  # never scheduled
        tl.execute(vault, 0, data, ZERO32, b"\x02" * 32, sender=h.deployer)
    tl.execute(vault, 0, data, ZERO32, salt, sender=h.deployer)
    assert vault.dust() == wad(2)


def test_the_timelock_delay_holds_changes_back(h, system, chain):
    vault, tl = system.vault, system.timelock
    h.govern(tl, "updateDelay", 2 * 86_400)  # only the timelock itself may change its delay
    assert tl.getMinDelay() == 2 * 86_400
    data = vault.setDust.encode_input(wad(3))
    salt = b"\x03" * 32
    with reverts(tl.TimelockInsufficientDelay, delay=86_400, minDelay=2 * 86_400):
        tl.schedule(vault, 0, data, ZERO32, salt, 86_400, sender=h.deployer)
    tl.schedule(vault, 0, data, ZERO32, salt, 2 * 86_400, sender=h.deployer)
    h.advance(86_400)
    with reverts(tl.TimelockUnexpectedOperationState):
        tl.execute(vault, 0, data, ZERO32, salt, sender=h.deployer)
    assert vault.dust() == wad(1_000)
    h.advance(86_400)
    tl.execute(vault, 0, data, ZERO32, salt, sender=h.deployer)
    assert vault.dust() == wad(3)
    # and h.govern still works: it waits the delay between scheduling and executing
    h.govern(vault, "setDust", wad(4))
    assert vault.dust() == wad(4)


def test_guardian_acts_at_once_but_only_to_make_safer(h, system, deployer, outsider):
    vault = system.vault
    vault.pauseBorrowing(sender=deployer)
    assert vault.borrowingPaused() is True
    for method in ("unpauseBorrowing", "startShutdown"):
        with reverts(vault.AccessControlUnauthorizedAccount, account=deployer.address, neededRole=role("GOVERNOR_ROLE")):
            getattr(vault, method)(sender=deployer)
    h.govern(vault, "unpauseBorrowing")
    assert vault.borrowingPaused() is False
    # a new guardian is appointed by governance, never by the old guardian
    with reverts(vault.AccessControlUnauthorizedAccount, account=deployer.address, neededRole=DEFAULT_ADMIN):
        vault.grantRole(role("GUARDIAN_ROLE"), outsider, sender=deployer)
    h.govern(vault, "grantRole", role("GUARDIAN_ROLE"), outsider)
    vault.pauseBorrowing(sender=outsider)
    assert vault.borrowingPaused() is True
