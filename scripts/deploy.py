"""`ape run deploy`: deploy and wire the whole Unwind system from a parameter file, and record it.

    ape run deploy                                   # local anvil, test account 0, params/local.yaml
    ape run deploy --network ethereum:sepolia:node --account deployer --params params/sepolia.yaml

The parameter file is validated before anything is sent (one line per invalid value). Writes
deployments/<ecosystem>-<network>.json after every step: chain id, git commit, deployer, the
parameters used, every contract's address, transaction and block. An interrupted deployment
resumes from that record when run again with the same parameters; a complete record of a live
network is only replaced with --force. Fee caps for live networks come from the `unwind:` section
of ape-config.yaml; confirmations and gas limits from Ape's own network settings there.
UNWIND_DEPLOY_FAIL_AFTER=N (tests) stops the deployment after N steps, as if it had been killed.

Output: one `step n/N: <what>` line per step sent and the addresses at the end; -v/--verbose adds
Ape's own log (each transaction confirmed, the compiler's input list). Mistakes (an unknown
--account, a node that does not answer, an invalid file) are one `error:` line, exit status 2.
"""

import os
from pathlib import Path

import click
from ape import project

from unwind.deploy import DeployInterrupted, ResumeError
from unwind.opcli import OperatorCommand, fail, fee_caps, resolve_account
from unwind.params import DEFAULT_PARAMS_FILE, ParamError, Web3ChainReader, check_on_chain, load_params
from unwind.record import RecordError, deploy_to_record, is_dev_chain


def _validated(ctx, param, value):
    """Read and check the file while the command line is parsed: before any network connection."""
    try:
        return value, load_params(value)
    except ParamError as exc:
        fail(str(exc).splitlines() + ["nothing was deployed"])


@click.command(cls=OperatorCommand)
@click.option("--account", "alias", default=None, help="account alias (default on a local network: test account 0)")
@click.option("--params", "params_file", default=str(DEFAULT_PARAMS_FILE.relative_to(Path.cwd()))
              if DEFAULT_PARAMS_FILE.is_relative_to(Path.cwd()) else str(DEFAULT_PARAMS_FILE),
              show_default=True, callback=_validated, help="parameter file (YAML)")
@click.option("--out", "out_dir", default="deployments", show_default=True, help="folder for the deployment record")
@click.option("--force", is_flag=True, help="replace an existing record of a live network / start over")
def cli(ecosystem, network, provider, alias, params_file, out_dir, force, verbose):
    params_file, params = params_file
    try:
        check_on_chain(params, Web3ChainReader(provider.web3))
    except ParamError as exc:
        fail(str(exc).splitlines() + ["nothing was deployed"])
    account = resolve_account(alias, network.name)
    if not is_dev_chain(network.name, provider.chain_id):
        for c in params.collaterals:
            if c.token is None or c.feed is None:
                click.echo(f"warning: collaterals.{c.symbol} deploys a mock token or feed on a live network", err=True)
        if params.timelock_delay < 86400:
            click.echo(f"warning: roles.timelock_delay is {params.timelock_delay} s on a live network; governance "
                       f"changes usually wait a day or more", err=True)
    path = Path(out_dir) / f"{ecosystem.name}-{network.name}.json"
    fail_after = os.environ.get("UNWIND_DEPLOY_FAIL_AFTER")
    try:
        system, record = deploy_to_record(
            project, account, params, path, network=f"{ecosystem.name}:{network.name}:{provider.name}",
            network_name=network.name, force=force, params_file=str(params_file), tx_kwargs=fee_caps(network.name),
            fail_after=int(fail_after) if fail_after else None, echo=click.echo, progress=click.echo,
        )
    except (RecordError, ResumeError) as exc:
        fail([str(exc)])
    except DeployInterrupted as exc:
        fail([f"{exc}; the record {path} keeps what was done: run the same command again to resume"])
    except Exception as exc:  # a revert, a node outage, no funds: say so in one line, keep the record
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        fail([f"{type(exc).__name__}: {first}", f"the record {path} keeps what was done: fix the cause and run the "
                                                 f"same command again to resume"])
    click.echo(f"deployed Unwind to {record['network']} (chain id {record['chain_id']}); record: {path}"
               f" ({system.steps_sent} steps sent, {system.steps_reused} reused)")
    for name, address in record["contracts"].items():
        click.echo(f"  {name:11} {address}")
