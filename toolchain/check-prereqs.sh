#!/usr/bin/env bash
# One line per missing prerequisite, naming what to install. Exit 1 if any is missing.
set -u
fail=0
need() { printf 'unwind: %s\n' "$*" >&2; fail=1; }

if ! command -v python3 >/dev/null 2>&1; then
  need "python3 not found: install Python 3.10-3.12 (Debian: apt-get install python3 python3-venv)"
elif ! python3 -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)'; then
  need "python3 is $(python3 -V 2>&1 | cut -d' ' -f2): Ape 0.8 needs Python 3.10-3.12; install one and put it first on PATH"
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need "python3 has no venv/ensurepip: install it (Debian: apt-get install python3-venv)"
fi
if ! command -v node >/dev/null 2>&1; then
  need "node not found: install Node.js 18 or newer (Debian: apt-get install nodejs npm)"
elif ! node -e 'process.exit(parseInt(process.versions.node) >= 18 ? 0 : 1)'; then
  need "node is $(node --version): install Node.js 18 or newer"
fi
command -v npm >/dev/null 2>&1 || need "npm not found: install npm (Debian: apt-get install npm)"
command -v git >/dev/null 2>&1 || need "git not found: install git (Debian: apt-get install git); the deploy record stores the commit"
exit $fail
