"""The solc-js shim (toolchain/solc.cjs) stands in for a native solc: these pin down the contract."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import solcx.wrapper

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "toolchain" / "solc.cjs"
REGISTERED = Path(os.environ.get("SOLCX_BINARY_PATH", ROOT / ".build" / "solcx")) / "solc-v0.8.28"


def run_shim(*args, stdin=None, cwd=ROOT):
    return subprocess.run(
        ["node", str(SHIM), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_version_line_parses_with_py_solc_x():
    assert REGISTERED.exists(), "make setup registers the shim where py-solc-x looks"
    version = solcx.wrapper.get_solc_version(REGISTERED)
    assert str(version) == "0.8.28"
    out = run_shim("--version").stdout
    assert out.splitlines()[0] == "solc, the solidity compiler commandline interface"
    assert out.splitlines()[1].startswith("Version: 0.8.28+commit.7893614a")


def test_unknown_flags_are_tolerated():
    res = run_shim("--some-future-flag", "--another=3", "--version")
    assert res.returncode == 0, res.stderr
    assert "Version: 0.8.28" in res.stdout


def _standard_input(main_source: str) -> str:
    return json.dumps(
        {
            "language": "Solidity",
            "sources": {"contracts/Uses.sol": {"content": main_source}},
            "settings": {
                "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
                "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
            },
        }
    )


def test_standard_json_resolves_interfaces_and_library_imports():
    source = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IAggregatorV3} from "interfaces/IAggregatorV3.sol";
contract Uses {
    function f(uint256 a) external pure returns (uint256) { return Math.mulDiv(a, 3, 2, Math.Rounding.Ceil); }
    function g(IAggregatorV3 feed) external view returns (uint8) { return feed.decimals(); }
}
"""
    res = run_shim("--standard-json", "--unknown-flag", "--base-path", str(ROOT), stdin=_standard_input(source))
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)  # stdout must be only the JSON
    errors = [e for e in out.get("errors", []) if e["severity"] == "error"]
    assert errors == []
    assert out["contracts"]["contracts/Uses.sol"]["Uses"]["evm"]["bytecode"]["object"]
    assert any(name.startswith("node_modules/@openzeppelin") for name in out["sources"])
    assert "interfaces/IAggregatorV3.sol" in out["sources"]


def test_standard_json_reports_a_missing_import_as_an_error():
    source = 'pragma solidity 0.8.28;\nimport "interfaces/DoesNotExist.sol";\ncontract A {}\n'
    res = run_shim("--standard-json", "--base-path", str(ROOT), stdin=_standard_input(source))
    out = json.loads(res.stdout)
    messages = " ".join(e["message"] for e in out["errors"])
    assert "DoesNotExist.sol" in messages


def test_syntax_error_fails_ape_compile_naming_file_and_line(tmp_path):
    (tmp_path / "contracts").mkdir()
    (tmp_path / "ape-config.yaml").write_text("name: shimcheck\nsolidity:\n  version: 0.8.28\n")
    (tmp_path / "contracts" / "Broken.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract Broken {\n"
        "    function f() external { uint256 x = ; }\n}\n"
    )
    ape = shutil.which("ape")
    res = subprocess.run([ape, "compile"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    text = res.stdout + res.stderr
    assert res.returncode != 0
    assert "ParserError" in text
    assert "contracts/Broken.sol:4:" in text


@pytest.mark.parametrize("flags", [["abi", "bin"], ["abi", "ast", "bin-runtime"]])
def test_combined_json_for_bare_files(tmp_path, flags):
    src = tmp_path / "C.sol"
    src.write_text("// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract C { uint256 public x; }\n")
    res = run_shim("--combined-json", ",".join(flags), str(src), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    entry = out["contracts"][f"{src}:C"]
    assert set(entry) == {f for f in flags if f != "ast"}
    if "ast" in flags:
        assert out["sources"][str(src)]["AST"]["nodeType"] == "SourceUnit"
