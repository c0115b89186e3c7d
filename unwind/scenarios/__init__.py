"""Adversarial oracle-manipulation scenarios (shared/oracle-scenarios.md beside the project, the catalogue).

Each scenario is a module `sNN_<name>.py` exposing `SCENARIO` (a `base.Scenario`): what the
attacker does on a local chain, what Unwind does, the catalogue's pass criterion, and a `run(world,
variant)` that plays it against the real system ("unwind"), against a deliberately naive setup
("naive", where the attack must succeed) and, where the criterion needs a fix outside the oracle,
a "gap" variant. `tests/scenarios/` asserts them; `ape run scenario <name>` prints them.
"""

from __future__ import annotations

import importlib

MODULES = [
    "s01_stale_feed",
    "s02_zero_negative",
    "s03_feed_reverts",
    "s04_malformed_round",
    "s05_clamped_min_answer",
    "s06_one_round_crash",
    "s07_spot_one_tx",
    "s08_multi_block",
    "s09_thin_market_pump",
    "s10_debt_depeg",
    "s11_sequencer_down",
    "s12_depressed_auction",
    "s13_osm_stop",
    "s14_composite_feed",
    "s15_cap_out_of_sync",
    "s16_frozen_last_good",
    "s17_one_block_wick",
    "s18_griefing",
]


def all_scenarios() -> list:
    out = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"unwind.scenarios.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"unwind.scenarios.{name}":
                continue  # not written yet
            raise
        out.append(module.SCENARIO)
    return sorted(out, key=lambda s: s.number)


def get(name: str):
    """A scenario by key ("stale-feed"), number ("1", "01") or module name ("s01_stale_feed")."""
    for sc in all_scenarios():
        if name in (sc.key, str(sc.number), f"{sc.number:02d}") or name == f"s{sc.number:02d}":
            return sc
        if name.startswith(f"s{sc.number:02d}_"):
            return sc
    raise KeyError(name)


def names() -> list:
    return [sc.key for sc in all_scenarios()]
