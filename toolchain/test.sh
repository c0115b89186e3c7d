#!/usr/bin/env bash
# The whole suite as two `ape test` processes side by side, each with its own anvil on a free
# port (the machine has two cores, and much of the keeper and scenario time is spent waiting on
# subprocesses and blocks). Contracts are compiled once first, so the two never race on .build/.
# With arguments, one plain `ape test "$@"` (e.g. `make test TEST_ARGS=tests/protocol`).
set -uo pipefail

if [ $# -gt 0 ]; then
  exec ape test "$@"
fi

ape compile >/dev/null || { echo "unwind: ape compile failed (run it by hand to see why)" >&2; exit 1; }

# Shard A: the process-heavy modules (scenario CLI runs, keeper processes), with perps and the
# invariant machine to even the two out (session 7, a fresh clone: A 10:07 and B 19:25 before
# these two moved, about 5 min of B). Shard B: the rest, so a new test folder lands in B
# without editing this file.
SHARD_A=(tests/scenarios tests/keeper tests/perps tests/invariants)
log_a="$(mktemp "${TMPDIR:-/tmp}/unwind-shard-a.XXXXXX")"
ape test "${SHARD_A[@]}" -p no:cacheprovider >"$log_a" 2>&1 &
pid_a=$!
trap 'kill "$pid_a" 2>/dev/null; rm -f "$log_a"' INT TERM

echo "== shard B: tests/ except ${SHARD_A[*]} (shard A runs alongside; its log follows)"
ape test tests/ "${SHARD_A[@]/#/--ignore=}" -p no:cacheprovider
rc_b=$?

wait "$pid_a"
rc_a=$?
echo
echo "== shard A: ${SHARD_A[*]}"
cat "$log_a"
rm -f "$log_a"

anvil --unwind-gc  # the state caches of the anvils the shards started (toolchain/bin/anvil)

if [ "$rc_a" -ne 0 ] || [ "$rc_b" -ne 0 ]; then
  echo "unwind: test shards failed (${SHARD_A[*]}: exit $rc_a, the rest: exit $rc_b)" >&2
  exit 1
fi
echo "unwind: both test shards passed"
