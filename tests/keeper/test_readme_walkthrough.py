"""The README's local playground, run as written: from `anvil` to a liquidation the keeper performs.

The block between `<!-- walkthrough:start -->` and `<!-- walkthrough:end -->` in README.md runs in
bash, command by command, in a copy of the project (so the test never touches a deployment record
of yours in deployments/). One change only: anvil's port 8545 becomes a free port (in the block, and
in UNWIND_RPC_URL, which `ape run local` reads), so the test can run beside a node you keep on 8545. Everything asserted is what the commands printed and the
keeper logged; the commands themselves read the chain.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns(".git", ".venv", "node_modules", ".build", ".cache", "deployments", "__pycache__",
                                ".pytest_cache", "results", ".silverback-sessions")


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- walkthrough:start -->\s*```sh\n(.*?)```\s*<!-- walkthrough:end -->", text, re.S)
    assert m, "README.md has no walkthrough block"
    return m.group(1)


def project_copy(tmp: Path) -> Path:
    """The project's sources, with the installed parts linked and the compiler's cache copied."""
    copy = tmp / "unwind"
    shutil.copytree(ROOT, copy, ignore=IGNORE, symlinks=True)
    for shared in (".venv", "node_modules"):
        (copy / shared).symlink_to(ROOT / shared)
    build = copy / ".build"
    build.mkdir()
    for stamp in (".prereqs-ok", ".anvil-ok"):
        if (ROOT / ".build" / stamp).exists():
            shutil.copy2(ROOT / ".build" / stamp, build / stamp)
    (build / "solcx").mkdir()
    (build / "solcx" / "solc-v0.8.28").symlink_to(copy / "toolchain" / "solc.cjs")
    if (ROOT / ".build" / "ape-data").is_dir():
        shutil.copytree(ROOT / ".build" / "ape-data", build / "ape-data", symlinks=True)
    if (ROOT / ".build" / "__local__.json").exists():  # Ape then compiles only what changed
        shutil.copy2(ROOT / ".build" / "__local__.json", build / "__local__.json")
    return copy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_readme_walkthrough_runs_as_written(tmp_path):
    port = free_port()
    script = walkthrough().replace("8545", str(port))
    assert "anvil --port" in script and "python -m unwind.keeper" in script
    copy = project_copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APE_", "SOLCX_", "UNWIND_"))}
    env["UNWIND_RPC_URL"] = f"http://127.0.0.1:{port}"  # `ape run local`'s node (default: port 8545)
    proc = subprocess.Popen(["bash", "-e", "-c", script], cwd=copy, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        # Whatever the script left running (anvil and the keeper are its background jobs).
        subprocess.run(["pkill", "-f", f"127.0.0.1:{port}"], check=False)
        subprocess.run(["pkill", "-f", "--", f"--port {port}"], check=False)
    keeper_log = (copy / ".build" / "keeper.log").read_text() if (copy / ".build" / "keeper.log").exists() else ""
    assert proc.returncode == 0, f"the walkthrough failed (exit {proc.returncode}):\n{out[-4000:]}\n{keeper_log[-3000:]}"
    assert re.search(r"health 1\.2000 \(safe\)", out), out
    assert re.search(r"liquidated directly by \S+: debt closed [\d,.]+ uUSD, repaid [\d,.]+ uUSD for [\d,.]+ WETH", out), out
    assert "liquidated by" in out and "auction 1 (WETH)" in out, out
    assert re.search(r"take in auction 1 by \S+: paid [\d,.]+ uUSD", out), out
    assert "LIQUIDATABLE" not in out.splitlines()[-1]
    assert "summary:" in keeper_log, keeper_log[-2000:]
    assert "Traceback" not in out + keeper_log
