"""Shared pieces of the operator commands (`ape run deploy`, `ape run configure`)."""

from __future__ import annotations

import sys

import click


def resolve_account(alias, network_name):
    """An Ape account: an alias from `ape accounts list`, TEST::<n>, or test account 0 on a local network."""
    from ape import accounts

    if alias is None:
        if network_name != "local":
            raise click.UsageError("--account is required on a live network (an alias from `ape accounts list`)")
        return accounts.test_accounts[0]
    if alias.startswith("TEST::"):
        return accounts.test_accounts[int(alias.split("::", 1)[1])]
    return accounts.load(alias)


def fee_caps(network_name: str) -> dict:
    """Transaction fee caps from ape-config.yaml's `unwind: networks: <name>:` (gwei)."""
    from ape import config

    try:
        section = dict(config.get_config("unwind").model_dump(by_alias=True).get("networks") or {})
    except Exception:  # no `unwind:` section
        return {}
    caps = section.get(network_name) or {}
    out = {}
    if caps.get("max_fee_gwei") is not None:
        out["max_fee"] = int(float(caps["max_fee_gwei"]) * 10**9)
    if caps.get("max_priority_fee_gwei") is not None:
        out["max_priority_fee"] = int(float(caps["max_priority_fee_gwei"]) * 10**9)
    return out


def fail(lines) -> None:
    """One `error:` line per problem on stderr, exit status 2."""
    for line in lines:
        click.echo(f"error: {line}", err=True)
    sys.exit(2)
