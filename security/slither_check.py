"""Run slither over Unwind's production contracts and fail on any finding not triaged.

    python security/slither_check.py            # `make slither`
    python security/slither_check.py --list     # every finding with its key, triaged or not

Scope: security/SlitherScope.sol imports every production contract (mocks and attack contracts
are test doubles). Dependencies (node_modules) are filtered out. Compilation goes through the
project's solc-js shim (.build/solcx/solc-v0.8.28) with the same import remappings as Ape.

Every finding has a KEY: its detector and the first line of its description with file
positions removed, e.g. `unchecked-transfer: LiquidityBuffer.pay(address,uint256) ignores ...`.
security/slither-triage.json accepts findings, each entry with `check`, `match` (a glob over the
key's description part; "*" accepts the whole detector) and a `reason`. A finding no entry
accepts fails the run, and so does an entry that no longer matches anything (stale triage).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLC = ROOT / ".build" / "solcx" / "solc-v0.8.28"
TRIAGE = ROOT / "security" / "slither-triage.json"
SCOPE = "security/SlitherScope.sol"
REMAPS = "@openzeppelin/contracts=node_modules/@openzeppelin/contracts solady=node_modules/solady/src"
_POSITION = re.compile(r"\s*\([^()]*#\d+(?:-\d+)?\)")


def key_of(finding: dict) -> str:
    first = finding["description"].strip().splitlines()[0]
    return _POSITION.sub("", first).strip().rstrip(":")


def run_slither() -> list[dict]:
    if not SOLC.exists():
        sys.exit(f"slither: the compiler shim {SOLC.relative_to(ROOT)} is missing: run `make setup` first")
    slither = Path(sys.executable).parent / "slither"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "slither.json"
        cmd = [str(slither), SCOPE, "--solc", str(SOLC), "--solc-remaps", REMAPS,
               "--filter-paths", "node_modules", "--json", str(out), "--disable-color"]
        env = dict(os.environ, UNWIND_ROOT=str(ROOT))
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        if not out.exists():
            sys.exit(f"slither did not run (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        report = json.loads(out.read_text())
    if not report.get("success"):
        sys.exit(f"slither failed: {report.get('error')}")
    return report.get("results", {}).get("detectors", [])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="print every finding with its key")
    args = ap.parse_args(argv)

    triage = json.loads(TRIAGE.read_text())["accepted"]
    for entry in triage:
        if not entry.get("reason", "").strip():
            sys.exit(f"slither triage entry without a reason: {entry}")
    findings = run_slither()
    used = [0] * len(triage)
    untriaged = []
    for f in findings:
        key = key_of(f)
        hit = next((i for i, e in enumerate(triage)
                    if e["check"] == f["check"] and fnmatch.fnmatchcase(key, e["match"])), None)
        if hit is None:
            untriaged.append(f)
        else:
            used[hit] += 1
        if args.list:
            mark = "ok " if hit is not None else "NEW"
            print(f"{mark} [{f['impact']}] {f['check']}: {key}")
    stale = [e for e, n in zip(triage, used) if n == 0]
    print(f"slither: {len(findings)} findings over the production contracts; "
          f"{len(findings) - len(untriaged)} triaged in {TRIAGE.relative_to(ROOT)}, {len(untriaged)} not")
    for f in untriaged:
        print(f"  UNTRIAGED [{f['impact']}] {f['check']}: {key_of(f)}")
        print("    " + f["description"].strip().splitlines()[0])
    for e in stale:
        print(f"  STALE triage entry (matches nothing now): {e['check']}: {e['match']}")
    return 1 if untriaged or stale else 0


if __name__ == "__main__":
    sys.exit(main())
