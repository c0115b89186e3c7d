"""ABIs of Unwind's public contracts, for integrators and indexers (`ape run export_abis`).

The export is one JSON file per contract (`<Contract>.json`, the ABI list) and `index.json`, which
maps the names a deployment record uses (`vault`, `engine`, ...) to those files. The Python client
(`unwind.client`) reads the same folder.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ABI_DIR = ROOT / ".build" / "abi"
BUILD_MANIFEST = ROOT / ".build" / "__local__.json"

# record key -> contract; the ERC-20 and aggregator ABIs are the mocks' (standard interfaces).
PUBLIC = {
    "debt_token": "DebtToken",
    "oracle": "OracleAdapter",
    "buffer": "LiquidityBuffer",
    "vault": "Vault",
    "auction": "DutchAuction",
    "engine": "LiquidationEngine",
    "direct": "DirectLiquidator",
    "timelock": "Timelock",
    "risk": "AdaptiveRisk",
    "flash_taker": "FlashTaker",
    "erc20": "MockERC20",
    "aggregator": "MockAggregator",
}


def abis_from_manifest(manifest: Path = BUILD_MANIFEST) -> dict[str, list]:
    """{contract name: ABI} of the public contracts from Ape's build manifest (after `ape compile`)."""
    try:
        types = json.loads(Path(manifest).read_text()).get("contractTypes", {})
    except FileNotFoundError:
        raise FileNotFoundError(f"{manifest} not found: run `ape compile` first")
    missing = [n for n in PUBLIC.values() if n not in types]
    if missing:
        raise FileNotFoundError(f"{manifest} lacks {', '.join(missing)}: run `ape compile` first")
    return {name: types[name]["abi"] for name in PUBLIC.values()}


def write_abis(abis: dict[str, list], out: Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, abi in abis.items():
        path = out / f"{name}.json"
        path.write_text(json.dumps(abi, indent=1) + "\n")
        written.append(path)
    index = {key: f"{name}.json" for key, name in PUBLIC.items() if name in abis}
    (out / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    written.append(out / "index.json")
    return written


def load_abis(abi_dir: Path = DEFAULT_ABI_DIR) -> dict[str, list]:
    """{record key: ABI} from an exported folder."""
    abi_dir = Path(abi_dir)
    try:
        index = json.loads((abi_dir / "index.json").read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no ABIs in {abi_dir}: run `ape run export_abis --out {abi_dir}` first")
    return {key: json.loads((abi_dir / fname).read_text()) for key, fname in index.items()}


def abis_from_project(project) -> dict[str, list]:
    """{record key: ABI} straight from an Ape project (compiles when needed)."""
    return {key: [item.model_dump(mode="json", by_alias=True) for item in getattr(project, name).contract_type.abi]
            for key, name in PUBLIC.items()}
