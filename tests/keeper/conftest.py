"""Keeper end-to-end fixtures: a deployed system on the test anvil and a keeper as its own process."""

import pytest

from unwind.deploy import deploy_system
from unwind.keeper.process import KeeperProcess, write_record


@pytest.fixture(scope="module")
def system(project, accounts):
    return deploy_system(project, accounts[0])


@pytest.fixture
def record(system, tmp_path, chain):
    return write_record(system, tmp_path / "deployment.json")


@pytest.fixture
def spawn_keeper(chain, tmp_path, record):
    started = []

    def spawn(account, name="keeper", extra=()):
        k = KeeperProcess(chain.provider.uri, record, account.private_key, tmp_path, name, extra)
        started.append(k)
        return k

    yield spawn
    for k in started:
        k.stop()


