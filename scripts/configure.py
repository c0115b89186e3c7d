"""`ape run configure`: apply a changed parameter file to a deployment, through the timelock.

    ape run configure --network URL_OR_CHOICE --account ALIAS --params FILE --dry-run   # the diff only
    ape run configure --network URL_OR_CHOICE --account ALIAS --params FILE             # diff, then queue
    ape run configure --network URL_OR_CHOICE --account ALIAS --execute                 # after the delay
    ape run configure --network URL_OR_CHOICE --account ALIAS --cancel

The file is validated as `ape run deploy` does; the diff is against the chain (read through the
deployment record), each changed field with its old and new value and the governance call that
applies it. Queuing schedules one timelock batch (the account must be a proposer) and writes
deployments/<name>.pending.json; --execute runs it once the timelock delay has passed and
updates the record's parameters.
"""

import sys
from pathlib import Path

import click
from ape import chain, project

from unwind import configure as cfg
from unwind.abis import abis_from_project
from unwind.client import UnwindClient
from unwind.opcli import OperatorCommand, fail, fee_caps, resolve_account
from unwind.params import ParamError, Web3ChainReader, check_on_chain, load_params
from unwind.record import RecordError, check_record_chain, read_record


@click.command(cls=OperatorCommand)
@click.option("--account", "alias", default=None, help="a timelock proposer/executor (default on local: test account 0)")
@click.option("--params", "params_file", default=None, help="the changed parameter file (YAML)")
@click.option("--deployment", default=None, help="deployment record (default deployments/<ecosystem>-<network>.json)")
@click.option("--dry-run", is_flag=True, help="show the diff and the calls; send nothing")
@click.option("--execute", "do_execute", is_flag=True, help="execute the queued change once its delay has passed")
@click.option("--cancel", "do_cancel", is_flag=True, help="cancel the queued change")
def cli(ecosystem, network, provider, alias, params_file, deployment, dry_run, do_execute, do_cancel, verbose):
    record_path = Path(deployment or f"deployments/{ecosystem.name}-{network.name}.json")
    try:
        record = read_record(record_path)
    except RecordError as exc:
        fail([str(exc)])
    if not record.get("contracts") or record.get("complete") is False:
        fail([f"the deployment in {record_path} is not complete: finish it first (run the same `ape run deploy` again)"])
    try:
        check_record_chain(record, provider.chain_id, path=record_path, node=getattr(provider, "uri", None) or
                           f"{ecosystem.name}:{network.name}", get_code=provider.get_code)
    except RecordError as exc:
        fail([str(exc)])
    abis = abis_from_project(project)
    client = UnwindClient(deployment=record, w3=provider.web3, abis=abis)
    timelock = project.Timelock.at(record["contracts"]["timelock"])
    tx_kwargs = fee_caps(network.name)
    if do_execute or do_cancel:
        account = resolve_account(alias, network.name)
        try:
            if do_cancel:
                op = cfg.cancel(timelock, account, record_path, tx_kwargs)
                click.echo(f"cancelled operation {op['id']}")
            else:
                op = cfg.execute(timelock, account, record_path, chain.blocks.head.timestamp, tx_kwargs)
                click.echo(f"executed operation {op['id']}: {len(op['calls'])} calls; record updated: {record_path}")
        except RuntimeError as exc:
            fail([str(exc)])
        return
    if not params_file:
        raise click.UsageError("--params FILE is required (or --execute / --cancel)")
    try:
        desired = load_params(params_file)
        check_on_chain(desired, Web3ChainReader(provider.web3))
    except ParamError as exc:
        fail(str(exc).splitlines() + ["nothing was queued"])
    plan = cfg.plan_changes(client, desired, record)
    if not plan.changes and not plan.problems:
        click.echo(f"{params_file} matches the chain: nothing to change")
        return
    click.echo(f"changes from {record_path} (on chain) to {params_file}:")
    for line in plan.lines():
        click.echo(line)
    if plan.problems:
        fail(plan.problems + ["nothing was queued"])
    click.echo("governance calls, in order:")
    for call in plan.calls:
        click.echo(f"  {call.describe()}")
    if dry_run:
        click.echo(f"dry run: {len(plan.changes)} changes, {len(plan.calls)} calls; nothing sent")
        return
    account = resolve_account(alias, network.name)
    try:
        op = cfg.schedule(client, timelock, account, plan, desired, record_path, str(params_file), tx_kwargs)
    except RuntimeError as exc:
        fail([str(exc)])
    wait = max(0, op["ready_at"] - chain.blocks.head.timestamp)
    click.echo(f"queued operation {op['id']} on the timelock ({len(plan.calls)} calls); executable in {wait} s "
               f"(timestamp {op['ready_at']}): then run with --execute. Pending: {cfg.pending_path(record_path)}")
    sys.stdout.flush()
