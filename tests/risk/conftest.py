"""A deployed system with the adaptive-risk module enabled (the protocol harness, plus `risk`)."""

from dataclasses import replace

import pytest

from tests.protocol.conftest import Harness
from unwind.deploy import deploy_system
from unwind.params import default_params


@pytest.fixture(scope="module")
def params():
    p = default_params()
    return replace(p, adaptive=replace(p.adaptive, enabled=True))


@pytest.fixture(scope="module")
def system(project, deployer, params):
    return deploy_system(project, deployer, params)


@pytest.fixture(scope="module")
def h(system, chain, deployer):
    return Harness(system, chain, deployer)


@pytest.fixture(scope="module")
def risk(system):
    return system.risk


@pytest.fixture(autouse=True)
def _module_fixtures_first(deployer, alice, outsider, accounts, system, h, risk):
    """Module fixtures before Ape's per-test isolation snapshot, so they deploy once."""
