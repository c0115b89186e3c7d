"""Nothing the toolchain runs writes to the home folder: caches and tool state live in .build/.

Seen before (issue 17): one `make test` left 1.7 GB of anvil state under ~/.foundry/anvil/tmp, and
created ~/.npm, ~/.cache/pip, ~/.solc-select and ~/.silverback. Each tool below runs with an empty
HOME and the environment `make` and `toolchain/env.sh` give it; HOME must still be empty after.
"""

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path) -> dict:
    """toolchain/env.sh's environment (what `make` exports), with HOME pointed at `home`."""
    out = subprocess.run(["bash", "-c", f"source {ROOT}/toolchain/env.sh && env -0"], capture_output=True,
                         check=True).stdout
    env = dict(line.split("=", 1) for line in out.decode().split("\0") if "=" in line)
    env["HOME"] = str(home)
    return env


def _everything_in(home: Path) -> list:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rpc(url: str, method: str, params: list):
    req = urllib.request.Request(url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["result"]


def test_anvil_keeps_its_state_cache_in_the_project(tmp_path):
    """Enough blocks for anvil to move old states to disk (it did ~850 MB per test shard)."""
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    proc = subprocess.Popen(["anvil", "--port", str(port)], env=_env(home), stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                _rpc(url, "eth_chainId", [])
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(3):
            _rpc(url, "anvil_mine", [hex(512)])
        cache = ROOT / ".cache" / "anvil" / str(proc.pid)
        assert cache.is_dir() and any(cache.rglob("*")), "anvil persisted no state in .cache/anvil"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert _everything_in(home) == [], "anvil wrote to HOME"


def test_silverback_solc_select_npm_and_ape_leave_home_alone(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = _env(home)
    for cmd in (["silverback", "--help"], ["solc-select", "versions"], ["npm", "ls", "--depth", "0"],
                ["ape", "--help"]):
        subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=120)
        assert _everything_in(home) == [], f"`{' '.join(cmd)}` wrote to HOME: {_everything_in(home)}"
    assert env["PIP_CACHE_DIR"].startswith(str(ROOT)) and env["npm_config_cache"].startswith(str(ROOT))


def test_pip_leaves_home_alone(tmp_path):
    """Seen on a fresh clone with a fresh HOME (issue 17's check): `make setup`'s pip install left
    ~/.rustup/settings.toml. pip runs `rustc --version` for its user-agent line whenever it opens
    a session, and a rustup shim writes its settings file on first use. A session against an index
    that answers nothing (a closed loopback port) is enough to make pip do it."""
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    subprocess.run(["pip", "download", "--no-deps", "--retries", "0", "--timeout", "1", "-d", str(tmp_path / "dl"),
                    "--index-url", f"http://127.0.0.1:{port}/simple", "unwind-nonexistent-package"],
                   cwd=ROOT, env=_env(home), capture_output=True, timeout=120)
    assert _everything_in(home) == [], f"pip wrote to HOME: {_everything_in(home)}"
