# Every target sets up what it needs on a fresh machine: Python packages in .venv, the SAM CLI
# in its own .tools-venv (it pins boto3), and npm tools in node_modules.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .tools-venv
PY := $(VENV)/bin/python
SAM := $(TOOLS)/bin/sam
SAM_CLI_VERSION := 1.170.0
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := src

.PHONY: setup demo test lint typecheck unit check serve openapi catalogue bench clean \
	frontend-config frontend-publish

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet 'aws-sam-cli==$(SAM_CLI_VERSION)'
	touch $@

# checkov (the template's security scan, tests/contract/test_security_scan.py) in a venv of its
# own: its pins conflict with aws-sam-cli's (boto3), so it can share neither .venv nor .tools-venv.
CHECKOV_VENV := .checkov-venv
CHECKOV_VERSION := 3.3.30

$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests (tests/browser drive it with Playwright for Python,
# which never downloads a browser of its own). CI runs as root; elsewhere sudo is used.
CHROMIUM := /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
ROOT_OR_SUDO = $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	$(ROOT_OR_SUDO) apt-get update -qq
	$(ROOT_OR_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
	test -x $@

# jq for the README's curl session, which tests/api/test_readme.py runs as written (the test
# requires jq and never installs it).
JQ := /usr/bin/jq

$(JQ):
	$(ROOT_OR_SUDO) apt-get update -qq
	$(ROOT_OR_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq
	test -x $@

# A JDK for DynamoDB Local, the table engine of `make serve` and `make demo` and the repository
# suite's second engine (its launcher runs in Java's source-file mode, which needs javac).
JAVAC := /usr/bin/javac

$(JAVAC):
	$(ROOT_OR_SUDO) apt-get update -qq
	$(ROOT_OR_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless
	test -x $@

setup: $(VENV)/.installed $(TOOLS)/.installed $(CHECKOV_VENV)/.installed node_modules/.installed $(CHROMIUM) $(JQ) $(JAVAC)

# The table lives on DynamoDB Local (LOCAL_TABLE_ENGINE=moto for moto's in-memory one).
demo: $(VENV)/.installed node_modules/.installed $(JAVAC)
	$(PY) -m local.demo

# The local HTTP API (same paths as API Gateway) and the frontend: http://127.0.0.1:3000 (PORT=...)
serve: $(VENV)/.installed node_modules/.installed $(JAVAC)
	$(PY) -m local.server

# The OpenAPI document generated from the API's routes (checked in; a test fails when stale)
openapi: $(VENV)/.installed
	$(PY) -m local.openapi

# The page's sub-step catalogue, generated from the declarations (checked in; a test fails on drift)
catalogue: $(VENV)/.installed
	$(PY) -m local.catalogue

# Issue 6's figures: cost per job, critical path, resume waste, scale, cold start proxy ->
# bench/results/latest.json and latest.md (a run takes about 20-30 minutes; `$(PY) -m bench.run
# --smoke --out DIR` is the quick version the tests run). The table goes on DynamoDB Local
# (node_modules, the machine's Java); `sam build` uses the SAM CLI in $(TOOLS).
# It also runs the full-size versions of the bounded tests `make test` runs: the sandbox's
# whole crash matrix (96 cells) and the tests marked `scale` (200 jobs at max_concurrency 25).
bench: $(VENV)/.installed $(TOOLS)/.installed node_modules/.installed $(JAVAC)
	$(PY) -m bench.run
	CRASH_MATRIX=full $(VENV)/bin/pytest tests/sandbox/test_crash_matrix.py -q
	$(VENV)/bin/pytest -m scale -q

# The deployed page (README, "Deploying to AWS"): frontend/config.js from the outputs of the
# stack of samconfig.toml's environment ENV (STACK=<name> instead; REGION=<region> overrides),
# and, with HostFrontend=true, the page uploaded to the stack's bucket and CloudFront
# invalidated. boto3 from .venv (no aws CLI needed); `git checkout frontend/config.js` returns
# the page to local mode.
ENV ?= dev
STACK_ARGS = $(if $(STACK),--stack-name $(STACK),--config-env $(ENV)) $(if $(REGION),--region $(REGION))

frontend-config: $(VENV)/.installed
	$(PY) -m tools.frontend_config $(STACK_ARGS)

frontend-publish: $(VENV)/.installed
	$(PY) -m tools.frontend_publish $(STACK_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests tools bench
	$(VENV)/bin/ruff format --check src tests tools bench

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

test: setup lint typecheck
	$(VENV)/bin/pytest

unit: $(VENV)/.installed
	$(VENV)/bin/pytest tests/unit

# Before a commit (a few minutes): lint, types, the pure core and the contracts between the
# template and the code (e.g. a repository method missing from the permissions contract
# fails here, not an hour into `make test`).
check: lint typecheck $(TOOLS)/.installed $(CHECKOV_VENV)/.installed
	$(VENV)/bin/pytest tests/unit tests/contract

clean:
	rm -rf $(VENV) $(TOOLS) $(CHECKOV_VENV) node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache
