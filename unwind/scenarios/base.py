"""What a scenario is, and what running one produces.

A scenario has variants:
  - "unwind": the real system. Its checks are the catalogue's pass criterion; all must hold.
  - "naive": a deliberately naive setup (a naive oracle installed through governance, or a naive
    parameter set). The attack must SUCCEED there (`attack_succeeded`), which shows the scenario
    can fail and that the defence it exercises is the one that matters.
  - "gap": the real system on a path where the criterion does NOT hold yet because the fix belongs
    in a module this suite does not own (vault, engine, auction). `fix` says what and why. Tests
    mark these `xfail(strict=True)`: when the fix lands they XPASS and fail, so the marker goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from unwind.scenarios.ledger import PnL


@dataclass
class Variant:
    key: str
    label: str
    kind: str = "defence"  # "defence" | "naive" | "gap"
    fix: str = ""


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Result:
    scenario: "Scenario"
    variant: Variant
    steps: list
    checks: list
    pnl: PnL | None
    books_before: dict
    books_after: dict
    attack_succeeded: bool | None = None
    figures: dict = field(default_factory=dict)

    @property
    def criterion_holds(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def ok(self) -> bool:
        """What the variant is expected to show: the defence holds, or the naive attack works."""
        if self.variant.kind == "naive":
            return bool(self.attack_succeeded)
        if self.variant.kind == "gap":
            return True  # a documented gap is shown either way; the tests pin it with a strict xfail
        return self.criterion_holds

    def failed_checks(self) -> list:
        return [c for c in self.checks if not c.passed]

    def summary(self) -> str:
        lines = [f"#{self.scenario.number} {self.scenario.key} [{self.variant.key}]"]
        lines += [f"  {'PASS' if c.passed else 'FAIL'} {c.name}: {c.detail}" for c in self.checks]
        if self.pnl:
            lines.append("  " + self.pnl.line())
        if self.attack_succeeded is not None:
            lines.append(f"  attack succeeded: {self.attack_succeeded}")
        return "\n".join(lines)


@dataclass
class Scenario:
    number: int
    key: str
    title: str
    incident: str
    attack: str  # what the attacker does on the local chain
    defence: str  # what Unwind does (the README table's third column)
    criterion: str  # the catalogue's pass criterion
    variants: list
    run: object  # run(world, variant_key) -> Result

    def variant(self, key: str) -> Variant:
        for v in self.variants:
            if v.key == key:
                return v
        raise KeyError(f"scenario {self.key} has no variant {key!r}: {[v.key for v in self.variants]}")


class Recorder:
    """Collects a running variant's checks and figures and builds its Result."""

    def __init__(self, w, scenario: Scenario, variant_key: str, accounts=()):
        self.w = w
        self.scenario = scenario
        self.variant = scenario.variant(variant_key)
        w.begin()  # fresh feeds, pokes, and the world's Python-side state reset
        self.checks: list = []
        self.figures: dict = {}
        self.accounts = list(accounts)
        self.books_before = w.books(self.accounts)

    @property
    def naive(self) -> bool:
        return self.variant.kind == "naive"

    def track(self, *accounts):
        for a in accounts:
            if a not in self.accounts:
                self.accounts.append(a)
        self.books_before = self.w.books(self.accounts)

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(passed), detail))
        return bool(passed)

    def figure(self, name: str, value):
        self.figures[name] = value
        return value

    def finish(self, pnl: PnL | None, attack_succeeded: bool | None = None) -> Result:
        if pnl is not None:
            self.figures.setdefault("attacker_pnl_usd", pnl.net)
            self.figures.setdefault("attacker_gas", pnl.gas_units)
        return Result(self.scenario, self.variant, list(self.w.steps), self.checks, pnl, self.books_before,
                      self.w.books(self.accounts), attack_succeeded, self.figures)


def pct(x: Decimal) -> str:
    return f"{x * 100:.2f}%"
