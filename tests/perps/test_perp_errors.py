"""Every custom error IPerpMarkets and IPerpPool declare is asserted by name in a perps test."""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent
INTERFACES = HERE.parents[1] / "interfaces"


def test_every_declared_error_is_asserted():
    source = "".join(f.read_text() for f in HERE.glob("test_*.py") if f.name != Path(__file__).name)
    for iface, prefix in (("IPerpMarkets.sol", "markets"), ("IPerpPool.sol", "pool")):
        declared = set(re.findall(r"error (\w+)\(", (INTERFACES / iface).read_text()))
        assert declared
        missing = {e for e in declared if not re.search(rf"\b{prefix}\.{e}\b", source)}
        assert not missing, f"{iface} errors never asserted: {sorted(missing)}"
