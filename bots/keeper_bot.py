"""The Unwind keeper as a silverback bot: `silverback run bots.keeper_bot:bot --network ...`.

Thin on purpose: silverback delivers blocks and runs the handlers (and, with its workers, spreads
them over machines); every decision is made by `unwind.keeper` exactly as in `ape run keeper`.
Settings come from the environment so the bot runs unattended:
  UNWIND_DEPLOYMENT   deployment record (default deployments/ethereum-local.json)
  UNWIND_KEEPER_KEY   signing key (or UNWIND_KEEPER_KEYFILE + UNWIND_KEEPER_PASSPHRASE)
  UNWIND_KEEPER_ARGS  extra keeper options, e.g. "--kick-only --min-profit 5"
"""

import os
import shlex
import threading
from pathlib import Path

from ape import chain
from silverback import SilverbackBot

from unwind.keeper.__main__ import ROOT, build_keeper, configure_logging, key_from_keyfile

bot = SilverbackBot()
state = {}
_step_lock = threading.Lock()


def _key() -> str:
    keyfile = os.environ.get("UNWIND_KEEPER_KEYFILE")
    if keyfile:
        return key_from_keyfile(Path(keyfile))
    key = os.environ.get("UNWIND_KEEPER_KEY")
    if not key:
        raise RuntimeError("set UNWIND_KEEPER_KEY (or UNWIND_KEEPER_KEYFILE and UNWIND_KEEPER_PASSPHRASE)")
    return key


@bot.on_startup()
def start_keeper(startup_state):
    deployment = Path(os.environ.get("UNWIND_DEPLOYMENT", ROOT / "deployments" / "ethereum-local.json"))
    keeper = build_keeper(chain.provider.uri, _key(), deployment, shlex.split(os.environ.get("UNWIND_KEEPER_ARGS", "")),
                          log=configure_logging())
    keeper.preflight()  # one clear line (and no bot) when the node, the record or the key is wrong
    keeper.start()
    state["keeper"] = keeper


@bot.on_(chain.blocks)
def on_block(block):
    # silverback runs sync handlers on a thread pool: when a step takes longer than a block, the
    # next block's handler starts while it runs. The keeper is not thread-safe (index, nonce book),
    # so steps are serialised, and a block that a later step has already covered is skipped.
    keeper = state["keeper"]
    with _step_lock:
        if block.number <= state.get("last_step", -1):
            return {"skipped_block": block.number}
        keeper.step(block.number)
        state["last_step"] = block.number
    return {"accounts_indexed": len(keeper.index), "rpc_calls": keeper.rpc_calls}


@bot.on_shutdown()
def stop_keeper():
    keeper = state.get("keeper")
    if keeper:
        keeper.log.info(keeper.summary.line())
