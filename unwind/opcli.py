"""Shared pieces of the operator commands (`ape run deploy`, `ape run configure`, `ape run demo`).

Every mistake an operator can make is one `error:` line on stderr naming what was wrong and what
to do, exit status 2, no traceback (`OperatorError`, `fail`). `OperatorCommand` is Ape's
ConnectedProviderCommand with that rule for a node that cannot be reached, and quiet by default:
Ape's own log (every transaction's `Confirmed 0x...`, the compiler's input list, `Starting
'anvil' process`) only with `-v/--verbose` (or `--verbosity LVL`, Ape's levels).
"""

from __future__ import annotations

import contextlib
import sys

import click
from ape.cli import ConnectedProviderCommand

QUIET_LEVEL = "WARNING"  # Ape's log level by default: warnings and errors only
VERBOSE_LEVEL = "INFO"  # with -v/--verbose: Ape's usual output


class OperatorError(click.ClickException):
    """A mistake of the operator's: shown as one `error: ...` line, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def resolve_account(alias, network_name):
    """An Ape account: an alias from `ape accounts list`, TEST::<n>, or test account 0 on a local network.

    OperatorError (one line) for a missing --account on a live network, an unknown alias, or a
    test account number out of range.
    """
    from ape import accounts

    if alias is None:
        if network_name != "local":
            raise OperatorError("--account is required on a live network: an alias from `ape accounts list` "
                                "(or TEST::<n>, a test account, on a development node)")
        return accounts.test_accounts[0]
    if alias.upper().startswith("TEST::"):
        count = len(accounts.test_accounts)
        number = alias.split("::", 1)[1]
        if not number.isdigit() or int(number) >= count:
            raise OperatorError(f"--account {alias}: no such test account; there are {count}, "
                                f"TEST::0 .. TEST::{count - 1}")
        return accounts.test_accounts[int(number)]
    try:
        return accounts.load(alias)
    except KeyError:
        known = sorted(accounts.aliases)
        raise OperatorError(
            f"--account {alias}: no Ape account has that alias (known: {', '.join(known) or 'none'}); "
            f"add it with `ape accounts import {alias}` or `ape accounts generate {alias}`, "
            f"or use TEST::<n> on a development node"
        ) from None


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


def _remember_level(ctx, param, value):
    if value is not None:
        value = value.upper()
        if value not in ("ERROR", "WARNING", "SUCCESS", "INFO", "DEBUG"):
            raise OperatorError(f"--verbosity {value}: allowed ERROR, WARNING, SUCCESS, INFO or DEBUG")
        ctx.meta["unwind.verbosity"] = value
    return value


def _set_ape_level(level: str) -> None:
    from ape.logging import logger

    logger.set_level(level)


class OperatorCommand(ConnectedProviderCommand):
    """An `ape run` command on a network: quiet by default, one error line if the node is unreachable.

    Adds `-v/--verbose` (the command's `verbose` argument; Ape's INFO log) and `--verbosity LVL`
    (Ape's own option: ERROR, WARNING, SUCCESS, INFO or DEBUG, which wins over -v). Connecting to
    the network is where a dead RPC URL or a node that will not start shows: that is an
    OperatorError naming the node, not Ape's ProviderError.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params.append(click.Option(["-v", "--verbose"], is_flag=True, is_eager=True,
                                        help="also show Ape's log: each transaction confirmed, compiler input"))
        self.params.append(click.Option(["--verbosity", "verbosity"], metavar="LVL", default=None,
                                        expose_value=False, is_eager=True, callback=_remember_level,
                                        help="Ape's log level: ERROR, WARNING, SUCCESS, INFO or DEBUG"))

    def parse_args(self, ctx, args):
        rest = super().parse_args(ctx, args)
        level = ctx.meta.get("unwind.verbosity")
        _set_ape_level(level or (VERBOSE_LEVEL if ctx.params.get("verbose") else QUIET_LEVEL))
        return rest

    def invoke(self, ctx):
        from ape.cli.commands import parse_network
        from ape.exceptions import ProviderError

        network_ctx = parse_network(ctx)
        if network_ctx is None:
            return self._invoke(ctx)
        with contextlib.ExitStack() as stack:
            try:
                provider = stack.enter_context(network_ctx)
            except ProviderError as exc:
                raise OperatorError(unreachable(network_ctx, exc)) from None
            return self._invoke(ctx, provider=provider)


def unreachable(network_ctx, exc) -> str:
    """The one line for a node that cannot be reached (Ape's ProviderError on connecting)."""
    from urllib.parse import urlparse

    provider = getattr(network_ctx, "_provider", None)
    try:
        where = getattr(provider, "uri", None) or getattr(provider, "name", None) or "the network"
    except Exception:  # a provider that cannot say where it points
        where = "the network"
    reason = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
    try:
        port = urlparse(where).port or 8545
    except ValueError:
        port = 8545
    return (f"cannot connect to the node at {where} ({reason}): start it (for example `anvil --port {port}`) "
            f"or pass --network with the URL of a running node")
