# One entry point for people and CI. `make test` is what .ci/run calls.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION := $(shell cat .python-version)
# pyenv's shim honours .python-version; a machine without pyenv needs python3.13 on PATH.
PYTHON ?= $(shell command -v python$(PYTHON_VERSION) 2>/dev/null || echo python3)
PYTHON_BIN_DIR := $(dir $(shell $(PYTHON) -c 'import sys; print(sys.executable)'))
UV_VERSION := 0.13.9
SAM_VERSION := 1.170.0
SAM := .tools/sam/bin/sam
UV := .tools/uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Bytecode compiled at install, as pip does for a Lambda package: cold starts here then measure what AWS runs.
export UV_COMPILE_BYTECODE := 1

.PHONY: help setup check test unit mutation fuzz bench quote lock clean sam run demo

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools/uv
	.tools/uv/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-extras --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced  ## create .venv with the locked dependencies

lock: | $(UV)  ## re-resolve uv.lock after a change to pyproject.toml
	$(UV) lock --python $(PYTHON)

check: setup  ## ruff (lint + format), mypy strict on shared/ and the console, cfn-lint on the template
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared/lending infra/console
	$(BIN)/cfn-lint template.yaml

# aws-sam-cli pins an older boto3 than moto wants: it gets a tool environment of its own.
$(SAM): | $(UV)
	$(PYTHON) -m venv .tools/sam
	$(UV) pip install --quiet --python .tools/sam/bin/python aws-sam-cli==$(SAM_VERSION)

sam: $(SAM)  ## sam validate --lint and sam build (no container), as a deploy would run them
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=ap-east-1 $(SAM) validate --lint
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=ap-east-1 PATH="$(PYTHON_BIN_DIR):$$PATH" $(SAM) build --build-dir .aws-sam/build

# The slow-marked tests (the fast paths' differential properties, the random servicing lives, the import probe in a
# fresh interpreter) still run in `make test`.
unit: setup  ## the fast unit layer (the domain and the offline checks, sockets off, no slow marks): about 20 s
	$(BIN)/pytest -q -m "not slow" tests/unit

test: check sam  ## everything CI runs: check, sam validate + build, then the whole pytest suite
	$(BIN)/pytest -q

# Not part of `make test`: mutmut over allocation, ledger, money and samples of loan and apr, each module within
# MUTATION_SECONDS (420) on two workers (~17 min in all here); `make mutation MODULES=money` runs one module.
# Scores land in .local/mutation.json.
mutation: setup  ## mutation testing of the money core: killed / total mutants per module
	$(BIN)/python -m infra.mutation $(MODULES)

# The suite fuzzes 100 examples per operation and mode (2,800 requests); this run 1,100 (30,800), same seedless
# derandomized generation, so a failure it finds reproduces. Figures land in .local/fuzz.json.
fuzz: setup  ## schemathesis over the served OpenAPI document, 30,800 requests against a local stack
	FUZZ_EXAMPLES=1100 $(BIN)/pytest -q tests/e2e/test_fuzz_contract.py
	@cat .local/fuzz.json

run: setup  ## the platform locally from template.yaml: the API on http://127.0.0.1:3000 (Ctrl-C stops it)
	$(BIN)/python -m infra.local

demo: setup  ## one borrower through apply, verify, decide and disburse, against `make run` in another terminal
	$(BIN)/lending demo

bench: setup  ## benchmarks; figures go into the README
	$(BIN)/python -m infra.bench

quote: setup  ## an example quote: 120,000 over 12 months at 12%
	$(BIN)/lending quote --product business_instalment --amount 120000 --months 12 \
		--annual-rate 0.12 --method equal_instalment --start 2026-01-15 --table

clean:  ## remove the environments and caches
	rm -rf $(VENV) .tools .aws-sam .local .pytest_cache .mypy_cache .ruff_cache .hypothesis
