"""Benchmarks of issue 8 (`make bench`): keeper scale and crash replay on the benchmark's own anvil.

`chain` starts anvil like a real chain (30M gas blocks, fee ordering, no automine) and speaks raw
JSON-RPC; `harness` deploys Unwind, opens accounts through contracts/bench/Seeder.sol, moves the
oracle and starts keeper processes; `keeper_scale` and `crash` are the two benchmarks; `report`
prints every figure against its target. scripts/keeper_scale.py, scripts/crash.py and
scripts/bench_report.py are the thin `ape run` entry points.
"""
