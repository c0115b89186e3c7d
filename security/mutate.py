"""Mutation check: named mutants of the contracts must each be killed by the tests.

    python security/mutate.py                 # every mutant (`make mutation`)
    python security/mutate.py NAME [NAME...]  # some of them (`make mutation MUTANTS="..."`)
    python security/mutate.py --list

Each mutant is one exact source edit (its text must occur exactly once, so a mutant that no
longer applies fails loudly instead of passing). It is applied in a TEMPORARY COPY of the project,
never in place, so a crash or Ctrl-C cannot leave a mutant behind; the copy shares node_modules and
the compiler shim, and starts from the project's build cache so only what changed recompiles.
Then the mutant's test subset runs there (`ape test ... -x`). The mutant is KILLED when the tests
fail; SURVIVED when they pass. Any survivor, or a mutant that does not compile, fails the run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]
    why: str


MUTANTS = [
    Mutant(
        "skip-penalty",
        "contracts/liquidation/LiquidationEngine.sol",
        "uint256 pen = FPM.mulDivUp(tab, held[j].penalty, WAD);",
        "uint256 pen = 0;",
        ("tests/invariants",),
        "auctions raise only the principal: liquidations cost the owner nothing",
    ),
    Mutant(
        "round-debt-down",
        "contracts/vault/Vault.sol",
        "        uint256 debt = FPM.mulDivUp(art, r, RAY);\n        if (debt == 0) revert ZeroAmount();",
        "        uint256 debt = FPM.mulDiv(art, r, RAY);\n        if (debt == 0) revert ZeroAmount();",
        ("tests/invariants", "tests/protocol/test_vault.py::test_full_repay_burns_the_debt_rounded_up"),
        "repay values the debt rounded down: a full repay burns less than is owed",
    ),
    Mutant(
        "drop-dust-check",
        "contracts/vault/Vault.sol",
        "            if (remaining < dust) revert DustDebt(remaining, dust);\n",
        "",
        ("tests/invariants",),
        "a partial repay may leave a debt below the dust floor",
    ),
    Mutant(
        "drop-withdraw-health-check",
        "contracts/vault/Vault.sol",
        "            uint256 limit = _borrowLimit(account, pos.mask);\n"
        "            if (limit < debt) revert BorrowLimitExceeded(debt, limit);\n"
        "        }\n        IERC20(c.token).safeTransfer(receiver, amount);",
        "            uint256 limit = _borrowLimit(account, pos.mask);\n"
        "        }\n        IERC20(c.token).safeTransfer(receiver, amount);",
        ("tests/invariants",
         "tests/protocol/test_vault.py::test_withdrawing_exactly_max_withdraw_works_one_unit_more_fails"),
        "withdraw no longer checks the borrow limit: an account can withdraw itself unsafe",
    ),
    Mutant(
        "remove-reentrancy-lock",
        "contracts/auction/DutchAuction.sol",
        "        external\n        nonReentrant\n        returns (uint256 slice, uint256 owe)",
        "        external\n        returns (uint256 slice, uint256 owe)",
        ("tests/security/test_reentrancy.py",),
        "take is not locked: a flash-take callee can re-enter take, redo and liquidate",
    ),
]

IGNORE = shutil.ignore_patterns(".venv", "node_modules", ".git", ".build", ".cache", "__pycache__", ".pytest_cache",
                                "*.pyc", "results")


def make_copy(tmp: Path) -> Path:
    """A copy of the project to mutate: sources copied, heavy and shared parts linked."""
    copy = tmp / "project"
    shutil.copytree(ROOT, copy, ignore=IGNORE, symlinks=True)
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    build = copy / ".build"
    build.mkdir()
    (build / "solcx").symlink_to(ROOT / ".build" / "solcx")
    if (ROOT / ".build" / "ape-data").is_dir():
        shutil.copytree(ROOT / ".build" / "ape-data", build / "ape-data")
    cache = ROOT / ".build" / "__local__.json"
    if cache.exists():  # Ape recompiles only the sources whose hash changed
        shutil.copy2(cache, build / "__local__.json")
    return copy


def env_for(copy: Path) -> dict:
    env = dict(os.environ)
    env.update(
        APE_DATA_FOLDER=str(copy / ".build" / "ape-data"),
        SOLCX_BINARY_PATH=str(copy / ".build" / "solcx"),
        HYPOTHESIS_STORAGE_DIRECTORY=str(copy / ".build" / "hypothesis"),
        MPLCONFIGDIR=str(copy / ".build" / "matplotlib"),
        PATH=f"{ROOT / '.venv' / 'bin'}:{ROOT / 'node_modules' / '.bin'}:{env.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
        UNWIND_ROOT=str(ROOT),
    )
    env.pop("UNWIND_PROFILE", None)  # the fast profile: this is about killing, not exploring
    return env


def apply(copy: Path, m: Mutant) -> None:
    path = copy / m.file
    text = path.read_text()
    n = text.count(m.find)
    if n != 1:
        raise SystemExit(f"mutant {m.name}: its text occurs {n} times in {m.file} (expected once): update the mutant")
    path.write_text(text.replace(m.find, m.replace))


def run_one(m: Mutant, log_dir: Path, mutate: bool = True) -> tuple[str, float, str]:
    """Apply `m` (unless `mutate` is false: the baseline) in a fresh copy and run its tests."""
    started = time.time()
    with tempfile.TemporaryDirectory(prefix=f"unwind-mutant-{m.name}-") as tmp:
        copy = make_copy(Path(tmp))
        if mutate:
            apply(copy, m)
        env = env_for(copy)
        comp = subprocess.run(["ape", "compile"], cwd=copy, env=env, capture_output=True, text=True)
        if comp.returncode != 0:
            (log_dir / f"{m.name}.log").write_text(comp.stdout + comp.stderr)
            return "DOES-NOT-COMPILE", time.time() - started, comp.stdout[-2000:] + comp.stderr[-2000:]
        proc = subprocess.run(["ape", "test", *m.tests, "-x", "-q", "-p", "no:cacheprovider"], cwd=copy, env=env,
                              capture_output=True, text=True)
        out = proc.stdout + proc.stderr
        (log_dir / f"{m.name}.log").write_text(out)
        if proc.returncode == 0:
            return "SURVIVED", time.time() - started, out[-1500:]
        if "error" in out.lower() and " failed" not in out and "passed" not in out:
            return "TESTS-DID-NOT-RUN", time.time() - started, out[-3000:]
        failed = [line for line in out.splitlines() if line.startswith(("FAILED", "E  "))][:3]
        return "KILLED", time.time() - started, "\n".join(failed)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="mutants to run (default: all)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the first run of the test subsets on the unmutated copy (which must pass, "
                         "or a 'kill' would mean nothing)")
    args = ap.parse_args(argv)
    by_name = {m.name: m for m in MUTANTS}
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:28} {m.file}  [{' '.join(m.tests)}]\n{'':28} {m.why}")
        return 0
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown mutant(s): {', '.join(unknown)}; known: {', '.join(by_name)}")
    chosen = [by_name[n] for n in args.names] if args.names else MUTANTS
    log_dir = ROOT / ".build" / "mutation"
    log_dir.mkdir(parents=True, exist_ok=True)
    results = []
    if not args.no_baseline:
        tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        base = Mutant("baseline", "", "", "", tests, "no mutation: the subsets must pass as the project is")
        print(f"baseline: {' '.join(tests)} on the unmutated copy ...", flush=True)
        verdict, secs, detail = run_one(base, log_dir, mutate=False)
        print(f"  {'passed' if verdict == 'SURVIVED' else verdict} in {secs:.0f} s", flush=True)
        if verdict != "SURVIVED":
            print(detail)
            raise SystemExit("mutation check: the test subsets fail WITHOUT a mutant; fix them first")
    for m in chosen:
        print(f"mutant {m.name}: {m.why} ({m.file}); running {' '.join(m.tests)} ...", flush=True)
        verdict, secs, detail = run_one(m, log_dir)
        results.append((m.name, verdict, secs))
        print(f"  {verdict} in {secs:.0f} s" + (f"\n    " + detail.replace("\n", "\n    ") if detail else ""),
              flush=True)
    print("\nmutation check:")
    for name, verdict, secs in results:
        print(f"  {name:28} {verdict:18} {secs:5.0f} s")
    bad = [r for r in results if r[1] != "KILLED"]
    print(f"{len(results) - len(bad)} of {len(results)} mutants killed (logs: {log_dir.relative_to(ROOT)}/)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
