"""Shared fixtures: the accounts every test uses, named by role."""

import pytest


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def keeper(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def outsider(accounts):
    return accounts[9]
