"""`ape run keeper`: run the Unwind keeper against a network Ape knows, signing with an Ape account.

    ape run keeper --network ethereum:local:foundry --account TEST::1 --deployment deployments/x.json
    ape run keeper --network ethereum:sepolia:node --account my-keeper   # passphrase: UNWIND_KEEPER_PASSPHRASE

The logic lives in the importable package `unwind.keeper`; this file only resolves the RPC URL
and the signing key, and hands over to `unwind.keeper.__main__.main`.
"""

import os
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand

from unwind.keeper.__main__ import key_from_keyfile, keeper_options, main
from unwind.opcli import resolve_account


def _signing_key(alias: str) -> str:
    account = resolve_account(alias, "local")  # one error line for an unknown alias or TEST::<n>
    if alias.upper().startswith("TEST::"):
        return account.private_key
    keyfile = Path(account.keyfile_path)
    if "UNWIND_KEEPER_PASSPHRASE" not in os.environ:
        raise click.UsageError(f"set UNWIND_KEEPER_PASSPHRASE to unlock '{alias}' (the keeper never prompts)")
    return key_from_keyfile(keyfile)


@click.command(cls=ConnectedProviderCommand)
@click.option("--account", "alias", default="TEST::1", show_default=True,
              help="Ape account alias, or TEST::<n> for a test account on a local chain")
@keeper_options
def cli(ecosystem, network, provider, alias, **kwargs):
    uri = getattr(provider, "uri", None) or getattr(provider, "http_uri", None)
    if not uri:
        raise click.UsageError(f"provider {provider.name} has no HTTP URI for the keeper to use")
    main(uri, _signing_key(alias), network_name=network.name, **kwargs)
