"""Deployment records: deployments/<ecosystem>-<network>.json, written as a deployment goes.

A record holds the chain id, the git commit, the deployer, the parameters used (the parameter
file's document and its fingerprint), every contract's address, deploy transaction and block,
every configuration transaction, and `complete`. `ape run deploy` writes it after each step, so a
deployment killed halfway resumes from it; integrators, keepers and `ape run configure` read it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from unwind.params import SystemParams, params_hash, to_document

DEV_CHAIN_IDS = (31337, 1337)  # anvil / hardhat / ganache development chains
MODULES = ("debt_token", "oracle", "buffer", "vault", "auction", "engine", "direct", "timelock")


class RecordError(RuntimeError):
    """The existing record forbids this deployment (one line, says what to do)."""


def is_dev_chain(network_name: str, chain_id: int) -> bool:
    """Throwaway chains, where an old record may be overwritten freely."""
    return network_name == "local" or chain_id in DEV_CHAIN_IDS


def git_commit(cwd: Path | None = None) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=cwd).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def read_record(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RecordError(f"deployment record {path} not found: run `ape run deploy` first, or pass the record "
                          f"it wrote") from None
    except IsADirectoryError:
        raise RecordError(f"deployment record {path} is a folder: pass the record file in it "
                          f"(deployments/<ecosystem>-<network>.json)") from None
    except OSError as exc:
        raise RecordError(f"deployment record {path} cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise RecordError(f"deployment record {path} is not valid JSON ({exc}): use the file `ape run deploy` "
                          f"wrote") from None
    if not isinstance(data, dict):
        raise RecordError(f"deployment record {path} is not a deployment record (a JSON object is expected): use "
                          f"the file `ape run deploy` wrote")
    return data


def check_record_chain(record: dict, chain_id: int, *, path: str | Path = "the deployment record",
                       node: str = "the node", get_code=None) -> None:
    """Refuse, in one line (RecordError), a record that does not describe the chain at `node`.

    The record's chain id must be the node's; with `get_code(address) -> bytes`, every module the
    record lists must have code there (a restarted development node has the same chain id and no
    contracts). For the client, `ape run configure` and the keeper:
        check_record_chain(record, w3.eth.chain_id, path=p, node=url, get_code=w3.eth.get_code)
    """
    if not isinstance(record, dict) or not isinstance(record.get("contracts"), dict) or not record["contracts"]:
        raise RecordError(f"{path} lists no contracts (an unfinished deployment?): finish it by running the same "
                          f"`ape run deploy` again")
    recorded = record.get("chain_id")
    if recorded is not None and recorded != chain_id:
        raise RecordError(f"{path} is for chain id {recorded}, but {node} is chain id {chain_id}: point at "
                          f"the node of chain {recorded}, or use the record of chain {chain_id}")
    if get_code is not None:
        for name, address in record["contracts"].items():
            if not get_code(address):
                raise RecordError(f"{path}: no contract at its {name} address {address} on {node} (chain id "
                                  f"{chain_id}; a restarted development node?): deploy again with `ape run deploy`, "
                                  f"or point at the node the record was made on")


def write_record(path: str | Path, data: dict) -> None:
    """Atomically: a reader (or a resumed deploy) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def decide(existing: dict | None, *, network_name: str, chain_id: int, deployer: str, fingerprint: str,
           force: bool, has_code) -> str:
    """'fresh' or 'resume' for a deployment given the record already at its path; RecordError if neither.

    `has_code(address) -> bool` asks the chain.
    """
    if existing is None:
        return "fresh"
    dev = is_dev_chain(network_name, chain_id)
    if force:
        return "fresh"
    if existing.get("chain_id") != chain_id:
        if dev:
            return "fresh"
        raise RecordError(f"the record is for chain id {existing.get('chain_id')}, this network is {chain_id}; "
                          f"use another --out folder or --force to replace it")
    if existing.get("complete"):
        if dev:
            return "fresh"
        raise RecordError("a complete deployment is already recorded for this live network; "
                          "pass --force to deploy again and replace the record")
    # An interrupted deployment on this chain: resume it if it is still there and the same.
    addresses = [d["address"] for d in existing.get("deployments", {}).values()]
    problem = None
    if not addresses:
        problem = "the record lists no contracts to resume from"
    elif not all(has_code(a) for a in addresses):
        problem = "the interrupted deployment's contracts are not on this chain (no code at the recorded addresses)"
    elif existing.get("params_hash") != fingerprint:
        problem = "the interrupted deployment used other parameters; rerun it with the same --params file"
    elif existing.get("deployer", "").lower() != deployer.lower():
        problem = (f"the interrupted deployment was sent by {existing.get('deployer')}; resume it with that "
                   f"--account")
    if problem:
        if dev:
            return "fresh"  # a development chain: start over rather than refuse
        raise RecordError(f"{problem}, or pass --force to start over")
    return "resume"


def new_record(*, network: str, chain_id: int, deployer: str, params: SystemParams, params_file: str,
               start_block: int, guardian: str) -> dict:
    return {
        "network": network,
        "chain_id": chain_id,
        "git_commit": git_commit(Path(__file__).resolve().parents[1]),
        "deployer": deployer,
        "guardian": guardian,
        "complete": False,
        "start_block": start_block,
        "end_block": None,
        "params_file": params_file,
        "params_hash": params_hash(params),
        "params": to_document(params),
        "contracts": {},
        "collateral": {},
        "deployments": {},
        "steps": {},
    }


def finish_record(data: dict, system, end_block: int) -> dict:
    """The summary a keeper and the client read: module addresses and collateral ids."""
    data["contracts"] = {name: c.address for name, c in system.modules.items()}
    data["collateral"] = {sym: {"token": t.address, "feed": system.feeds[sym].address, "id": system.ids[sym],
                                "decimals": p.decimals}
                          for (sym, t), p in zip(system.collateral.items(), system.params.collaterals)}
    data["end_block"] = end_block
    data["complete"] = True
    return data


def deploy_to_record(project, account, params: SystemParams, path: str | Path, *, network: str, network_name: str,
                     force: bool = False, params_file: str = "", tx_kwargs: dict | None = None,
                     fail_after: int | None = None, echo=print, progress=None) -> tuple[object, dict]:
    """Deploy (or resume) with the record at `path` written after every step. Returns (system, record)."""
    from ape import chain

    from unwind.deploy import Journal, _resolve, deploy_system

    path = Path(path)
    chain_id = chain.provider.chain_id
    existing = read_record(path) if path.exists() else None
    mode = decide(existing, network_name=network_name, chain_id=chain_id, deployer=account.address,
                  fingerprint=params_hash(params), force=force,
                  has_code=lambda a: bool(chain.provider.get_code(a)))
    if mode == "resume":
        data = existing
        done = len(data["deployments"]) + len(data["steps"])
        echo(f"resuming the interrupted deployment in {path}: {len(data['deployments'])} contracts and "
             f"{len(data['steps'])} transactions already done ({done} steps)")
    else:
        if existing is not None:
            note = ""
            if not is_dev_chain(network_name, chain_id):
                import time

                backup = path.with_name(f"{path.stem}.replaced-{int(time.time())}.json")
                write_record(backup, existing)
                note = f"; the old record is kept as {backup}"
            echo(f"replacing the record in {path} ({'--force' if force else 'a development chain'}){note}")
        data = new_record(network=network, chain_id=chain_id, deployer=account.address, params=params,
                          params_file=params_file, start_block=chain.blocks.head.number,
                          guardian=_resolve(params.guardian, account))
    write_record(path, data)
    journal = Journal(data, save=lambda d: write_record(path, d))
    system = deploy_system(project, account, params, journal=journal, tx_kwargs=tx_kwargs, fail_after=fail_after,
                           progress=progress)
    finish_record(data, system, chain.blocks.head.number)
    write_record(path, data)
    return system, data
