"""The test chain is a real anvil, and contracts from contracts/ (with OpenZeppelin) deploy on it."""

import pytest


def test_chain_is_anvil_on_loopback(chain):
    provider = chain.provider
    assert provider.name == "foundry"
    assert "127.0.0.1" in provider.uri or "localhost" in provider.uri
    assert "anvil" in provider.make_request("web3_clientVersion", []).lower()


@pytest.mark.parametrize("decimals", [6, 8, 18])
def test_mock_token_deploys_and_mints(project, deployer, alice, decimals):
    token = project.MockERC20.deploy("Token", "TKN", decimals, sender=deployer)
    token.mint(alice, 10**decimals, sender=deployer)
    assert token.decimals() == decimals
    assert token.balanceOf(alice) == 10**decimals
    assert token.totalSupply() == 10**decimals
