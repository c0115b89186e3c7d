"""Hypothesis profiles for the invariant suite, chosen by the UNWIND_PROFILE environment variable.

fast (default, inside `make test`): a few examples, short runs, no shrinking; deep (`make fuzz`):
many more examples and steps, with shrinking. Each profile states the least number of successful
liquidate, take and redo steps and of auctions that ended short it must reach: a run that never
liquidates proves nothing, so falling short of a minimum fails the test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    examples: int  # state machine runs
    steps: int  # rules per run (at most)
    shrink: bool
    oracle_delay: int  # OSM hop of the deployed system [s] (0: delayed price == current)
    min_liquidate: int
    min_take: int
    min_redo: int
    min_short: int  # auctions that ended with collateral gone and tab unpaid
    min_over_limit: int  # withdrawals past the borrow limit that were refused (BorrowLimitExceeded)
    min_planted: int = 0  # slivers of collateral deposited into borrowers' accounts by a third party
    min_filled: int = 0  # caps set to the debt under auction (full, or room below the dust floor)
    min_direct: int = 0  # direct liquidations that went through


PROFILES = {
    # Measured (2026-11-23): ~41 s of steps; 12 runs, 492 steps; liquidate 27, take 35, redo 14,
    # ended short 7, withdrawals past the limit refused 1-9 (too few to set a minimum here: the
    # mutation check has a deterministic test for it). 8 runs left short and redo at their minima.
    # With the direct, plant, guard and fill_cap rules (session 6) each rule is drawn less often:
    # 60 steps a run; measured 12 runs: take 4-34, redo 0-122, caps filled 4-50 at 40 steps.
    # The draws are derandomized, but the runs are not repeatable: anvil stamps blocks with the
    # wall clock, so a loaded machine gives other timestamps and other trajectories. Session 7,
    # same code: idle (empty example database) liquidate 12, take 9, redo 22, short 4, planted 23,
    # filled 87, direct 4; a fresh clone beside two other suites: liquidate 22, take 18, redo 47,
    # short 3, planted 6 (min_planted was 8: that run failed), filled 34, direct 5. The minima
    # below leave room for that spread; each still fails a run in which its rule never succeeds.
    "fast": Profile("fast", examples=12, steps=60, shrink=False, oracle_delay=0,
                    min_liquidate=6, min_take=4, min_redo=3, min_short=1, min_over_limit=0,
                    min_planted=3, min_filled=4, min_direct=1),
    # Measured (2-core machine, shared): ~10 min; 81 runs, 4473 steps; liquidate 151, take 119,
    # redo 118, ended short 33. The minima leave room for the draws to differ.
    "deep": Profile("deep", examples=80, steps=60, shrink=True, oracle_delay=600,
                    min_liquidate=90, min_take=70, min_redo=60, min_short=15, min_over_limit=15,
                    min_planted=60, min_filled=60, min_direct=15),
}


def current() -> Profile:
    name = os.environ.get("UNWIND_PROFILE", "fast") or "fast"
    if name not in PROFILES:
        raise SystemExit(f"UNWIND_PROFILE={name!r} is not a profile; use one of: {', '.join(PROFILES)}")
    return PROFILES[name]
