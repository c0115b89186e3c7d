# Unwind: every target sets itself up first (venv, node packages, compiler), then does its job.
# Nothing here writes outside the project folder: tool homes live under .build/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT   := $(CURDIR)
BUILD  := $(ROOT)/.build
VENV   := $(ROOT)/.venv
PYTHON ?= python3

# Tool homes inside the project (toolchain.md pitfall 6): no run depends on a home folder.
export APE_DATA_FOLDER    := $(BUILD)/ape-data
export SOLCX_BINARY_PATH  := $(BUILD)/solcx
export MPLCONFIGDIR       := $(BUILD)/matplotlib
export HYPOTHESIS_STORAGE_DIRECTORY := $(BUILD)/hypothesis
# toolchain/bin/anvil wraps node_modules/.bin/anvil so its state cache lives in .cache/anvil (gitignored).
export PATH := $(ROOT)/toolchain/bin:$(VENV)/bin:$(ROOT)/node_modules/.bin:$(PATH)
# Caches of pip, npm and solc-select (which slither pulls in) inside the project too.
export PIP_CACHE_DIR := $(BUILD)/pip-cache
export npm_config_cache := $(BUILD)/npm-cache
export VIRTUAL_ENV := $(VENV)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# pip runs `rustc --version` for its user-agent line; a rustup shim then writes its settings file
# under RUSTUP_HOME (default ~/.rustup). Nothing here builds Rust: its state goes to .build/ too.
export RUSTUP_HOME := $(BUILD)/rustup
export PYTHONDONTWRITEBYTECODE := 1

SOLC_VERSION := 0.8.28
VENV_STAMP   := $(VENV)/.unwind-installed
NODE_STAMP   := $(ROOT)/node_modules/.unwind-installed
SOLC_BIN     := $(SOLCX_BINARY_PATH)/solc-v$(SOLC_VERSION)

.PHONY: help setup test demo fuzz bench compile slither mutation clean distclean

help:
	@echo "make demo   set up, start a local anvil, deploy Unwind and run the main story"
	@echo "make test   set up and run the whole test suite (ape test) against anvil"
	@echo "make fuzz   the suite with the deep hypothesis profile (UNWIND_PROFILE=deep)"
	@echo "make bench  gas, keeper scale and crash replay (static and adaptive) as JSON + PNG under bench/results/, and a table"
	@echo "make slither     static analysis; fails on any finding not triaged in security/slither-triage.json"
	@echo "make mutation    apply named mutants to a copy of the project; fails if the tests miss one"

# --- set-up -------------------------------------------------------------------------------

$(BUILD)/.prereqs-ok: toolchain/check-prereqs.sh
	@bash toolchain/check-prereqs.sh
	@mkdir -p $(BUILD) && touch $@

$(VENV_STAMP): pyproject.toml requirements.lock | $(BUILD)/.prereqs-ok
	@echo "unwind: installing the Python environment into .venv (pinned by requirements.lock)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet -r requirements.lock \
	  || { echo "unwind: pip could not install requirements.lock: is PyPI reachable? (the error is above)" >&2; exit 1; }
	@# The project folder goes on the venv's path (as an editable install would) so that
	@# `import unwind` works in ape scripts, tests and keepers started from anywhere.
	@$(VENV)/bin/python -c 'import site, sys; open(site.getsitepackages()[0] + "/unwind-project.pth", "w").write(sys.argv[1] + "\n")' $(ROOT)
	@touch $@

$(NODE_STAMP): package.json package-lock.json | $(BUILD)/.prereqs-ok
	@echo "unwind: installing node packages (anvil, solc-js, OpenZeppelin) from package-lock.json"
	@npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
	  || { echo "unwind: npm ci failed: is the npm registry reachable? (the error is above)" >&2; exit 1; }
	@touch $@

$(SOLC_BIN): toolchain/solc.cjs $(NODE_STAMP)
	@mkdir -p $(SOLCX_BINARY_PATH)
	@ln -sf $(ROOT)/toolchain/solc.cjs $@
	@$@ --version | grep -q "Version: $(SOLC_VERSION)" \
	  || { echo "unwind: the solc-js shim did not report version $(SOLC_VERSION)" >&2; rm -f $@; exit 1; }

# anvil comes from npm as a real binary (node_modules/.bin/anvil, run through toolchain/bin/anvil,
# which execs it), so signals reach it directly.
# The npm package exists for Linux x64 only; elsewhere bring anvil 1.7.1 on PATH yourself.
$(BUILD)/.anvil-ok: $(NODE_STAMP)
	@anvil --version >/dev/null 2>&1 \
	  || { echo "unwind: anvil not found: npm ships it for Linux x64 only; on $$(uname -sm) install foundry's anvil 1.7.1 and put it on PATH" >&2; exit 1; }
	@touch $@

setup: $(VENV_STAMP) $(NODE_STAMP) $(SOLC_BIN) $(BUILD)/.anvil-ok

# --- jobs ---------------------------------------------------------------------------------

compile: setup
	ape compile

test: setup
	bash toolchain/test.sh $(TEST_ARGS)

demo: setup
	ape run demo

fuzz: setup
	UNWIND_PROFILE=deep ape test $(or $(TEST_ARGS),tests/)

# Each benchmark starts its own anvil (keeper scale, crash replay) or ape's (gas); see README "Benchmarks".
bench: setup
	ape run gas --out bench/results/gas.json
	ape run keeper_scale --out bench/results/keeper_scale.json
	ape run crash --params static --out bench/results/crash.json
	ape run crash --params adaptive --out bench/results/crash.json
	ape run bench_report --results bench/results

slither: setup
	python security/slither_check.py

mutation: setup
	python security/mutate.py $(MUTANTS)

clean:
	rm -rf $(BUILD) .cache .pytest_cache bench/results/*.tmp .silverback-sessions

distclean: clean
	rm -rf $(VENV) node_modules
