"""Adversarial oracle scenarios (shared/oracle-scenarios.md beside the project): one deployed world per test
module (Unwind by `unwind.deploy`, markets, a flash lender, the attacker's contract); Ape reverts
the chain between tests (anvil snapshots), so every scenario starts from the same state."""

import pytest

from unwind.scenarios.world import World


@pytest.fixture(scope="session", autouse=True)
def _accounts_first(deployer, alice, bob, keeper, outsider):
    """Session fixtures before module ones, so Ape's per-test isolation needs no rebasing."""


@pytest.fixture(scope="module")
def world(project, chain, accounts):
    return World(project, chain, accounts)
