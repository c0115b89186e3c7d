"""A deployed system for the security tests, and the small verbs they share."""

import pytest

from unwind.deploy import deploy_system, govern
from unwind.params import default_params


@pytest.fixture(scope="module")
def system(project, deployer):
    return deploy_system(project, deployer, default_params())


@pytest.fixture(scope="module")
def gov(system, chain, deployer):
    """gov(target, "method", *args): a governance call through the timelock."""

    def call(target, method, *args):
        return govern(system, deployer, target, method, *args, chain=chain)

    return call
