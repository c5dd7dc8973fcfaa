# Every target installs what it needs; running one again is cheap (stamps) and safe.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
VENV := .venv
UV := .tools/bin/uv
PYTEST_WORKERS ?= 2
# The core dependencies (what ships to Lambda), the local runtime's (the `local` extra) and the dev group (default),
# compiled to bytecode once at install: a machine that never writes .pyc files (PYTHONDONTWRITEBYTECODE) would
# otherwise compile moto, boto3 and the rest again in every process (3 s of each `coach run`'s start).
SYNC := $(UV) sync --frozen --extra local --compile-bytecode
# The project's own modules likewise, before each command that runs them (only changed files are compiled again).
BYTECODE := $(VENV)/bin/python -m compileall -q -j 0 layers/domain/python coach_local functions bench >/dev/null

.PHONY: system-packages screenshots help install demo test test-fast lint format typecheck synth deploy clean bench-audience bench-letters bench-load bench-local bench-nppes fuzz

help:
	@echo "make demo    run the Claritin campaign end to end on the local runtime (no AWS account)"
	@echo "make test    install everything and run every test"
	@echo "make lint    ruff + mypy;  make synth    cdk synth (with cdk-nag);  make deploy    cdk deploy"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(SYNC) --quiet
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's Chromium (never a downloaded browser); pdftotext checks letters independently.
system-packages:
	@command -v chromium >/dev/null && command -v pdftotext >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }

install: $(VENV)/.synced node_modules/.installed system-packages

demo: $(VENV)/.synced
	@$(BYTECODE)
	$(VENV)/bin/coach demo

test: install
	@$(BYTECODE)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile

test-fast: $(VENV)/.synced
	@$(BYTECODE)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not slow and not browser"

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.synced
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The layer's pins are exported from uv.lock (the core dependencies only) into build/layers/requirements-lambda.txt.
build/layers/deps/python: pyproject.toml uv.lock layers/build_deps.py | $(VENV)/.synced
	$(VENV)/bin/python layers/build_deps.py

synth: install build/layers/deps/python
	npx cdk synth --quiet

# make deploy CDK_ARGS="-c sender_email=… -c alarm_email=…" (context parameters: docs/deploy.md)
deploy: install build/layers/deps/python
	npx cdk deploy $(CDK_ARGS)

screenshots: install
	$(VENV)/bin/python tools/screenshots.py
	$(VENV)/bin/python tools/brief_screenshots.py
	$(VENV)/bin/python tools/specimen_screenshots.py
	$(VENV)/bin/python tools/digest_screenshot.py

bench-letters: $(VENV)/.synced system-packages
	$(SYNC) --group bench --quiet
	taskset -c 0 $(VENV)/bin/python bench/bench_letters.py

bench-audience: $(VENV)/.synced
	$(VENV)/bin/python bench/bench_audience.py

# 25 campaigns at once in one local runtime, each report checked against an independent count; then the same
# 25 one after the other (the peer)
bench-load: $(VENV)/.synced
	$(VENV)/bin/python bench/bench_load.py

# `coach run` at a real PBM's size (issue 20): 100k members/100 clients and 400k/400 against the floor measured in
# the same run; BENCH_SIZES=20k for a quick check
BENCH_SIZES ?= 100k,400k
bench-local: $(VENV)/.synced
	@$(BYTECODE)
	$(VENV)/bin/python bench/bench_local.py --sizes $(BENCH_SIZES)

# `coach prescribers import` on a generated 2M-row NPPES file with the published header, beside a plain
# csv.DictReader pass (issue 17): rows/s and peak memory; fails over 1 GiB
bench-nppes: $(VENV)/.synced
	$(VENV)/bin/python bench/bench_nppes.py

# Bad-input fuzz (issue 6, tests/fuzz): 10,000 examples per property (500 for lakes); plain pytest runs ~400.
fuzz: $(VENV)/.synced
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest tests/fuzz -q -p no:randomly

clean:
	rm -rf .venv .tools node_modules cdk.out build out .bench
