"""`ape run deploy`: deploy and wire the whole Unwind system (mock tokens and feeds) and record it.

    ape run deploy                      # local anvil, the first test account
    ape run deploy --network ethereum:local:foundry --account <alias>

Writes deployments/<ecosystem>-<network>.json: chain id, git commit, block, deployer and every
contract's address.
"""

import json
import subprocess
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from unwind.deploy import deploy_system


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@click.command(cls=ConnectedProviderCommand)
@click.option("--account", "alias", default=None, help="account alias (default on a local network: test account 0)")
@click.option("--out", "out_dir", default="deployments", show_default=True, help="folder for the deployment record")
def cli(ecosystem, network, provider, alias, out_dir):
    if alias is None:
        if network.name != "local":
            raise click.UsageError("--account is required on a live network (an alias from `ape accounts list`)")
        account = accounts.test_accounts[0]
    elif alias.startswith("TEST::"):
        account = accounts.test_accounts[int(alias.split("::", 1)[1])]
    else:
        account = accounts.load(alias)
    start_block = chain.blocks.head.number
    system = deploy_system(project, account)
    record = {
        "network": f"{ecosystem.name}:{network.name}:{provider.name}",
        "chain_id": provider.chain_id,
        "git_commit": _git_commit(),
        "deployer": account.address,
        "start_block": start_block,
        "end_block": chain.blocks.head.number,
        "contracts": {name: c.address for name, c in system.modules.items()},
        "collateral": {sym: {"token": t.address, "feed": system.feeds[sym].address, "id": system.ids[sym]}
                       for sym, t in system.collateral.items()},
    }
    path = Path(out_dir) / f"{ecosystem.name}-{network.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    click.echo(f"deployed Unwind to {record['network']} (chain id {record['chain_id']}); record: {path}")
    for name, address in record["contracts"].items():
        click.echo(f"  {name:11} {address}")
