"""Static analysis in the suite: slither over the production contracts must report nothing that
security/slither-triage.json does not accept with a reason (security/slither_check.py)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_slither_has_no_untriaged_finding():
    proc = subprocess.run([sys.executable, str(ROOT / "security" / "slither_check.py")], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 not" in proc.stdout, proc.stdout
