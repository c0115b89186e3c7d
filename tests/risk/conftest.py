"""A deployed system with the adaptive-risk module on top (the protocol harness, plus `risk`)."""

import pytest

from tests.protocol.conftest import Harness
from unwind.deploy import deploy_system
from unwind.params import default_params
from unwind.risk import EstimatorConfig, deploy_adaptive


@pytest.fixture(scope="module")
def params():
    return default_params()


@pytest.fixture(scope="module")
def system(project, deployer, params):
    return deploy_system(project, deployer, params)


@pytest.fixture(scope="module")
def h(system, chain, deployer):
    return Harness(system, chain, deployer)


@pytest.fixture(scope="module")
def estimator_config():
    return EstimatorConfig()


@pytest.fixture(scope="module")
def risk(project, system, deployer, params, estimator_config, chain):
    return deploy_adaptive(project, system, deployer, params, estimator_config, chain=chain)


@pytest.fixture(autouse=True)
def _module_fixtures_first(deployer, alice, outsider, accounts, system, h, risk):
    """Module fixtures before Ape's per-test isolation snapshot, so they deploy once."""
