"""Asserting a scenario's outcome (imported as `scenario_helpers`)."""

from unwind.scenarios import get


def play(world, key: str, variant: str):
    return get(key).run(world, variant)


def assert_defence(result):
    """The catalogue's pass criterion holds: every check of the real-system variant passes."""
    assert result.variant.kind in ("defence", "gap")
    failed = result.failed_checks()
    assert result.checks, "a scenario without checks proves nothing"
    assert not failed, "criterion fails:\n" + result.summary()


def assert_attack_works(result):
    """On the naive setup the attack must succeed (else the scenario could not fail)."""
    assert result.variant.kind == "naive"
    assert result.attack_succeeded, "the attack did not succeed on the naive setup:\n" + result.summary()


def pnl(result):
    assert result.pnl is not None
    return result.pnl.net
