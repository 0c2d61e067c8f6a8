# The one list of commands. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13, the Lambda runtime: plain python3.13 where it runs, else the pyenv install.
PYTHON313 := $(shell if python3.13 -c '' >/dev/null 2>&1; then echo python3.13; \
	elif PYENV_VERSION=3.13.0 python3.13 -c '' >/dev/null 2>&1; then echo 'env PYENV_VERSION=3.13.0 python3.13'; \
	elif command -v pyenv >/dev/null 2>&1 && pyenv prefix 3.13 >/dev/null 2>&1; then echo "$$(pyenv prefix 3.13)/bin/python3.13"; fi)
VENV := .venv
# checkov pins boto3 and packaging against the project's own pins: it lives in a virtualenv of its own.
CHECKOV_VENV := .venv-checkov
BIN := $(VENV)/bin
PY := $(BIN)/python
# sam build looks for python3.13 on PATH: the virtualenv has one.
SAM := SAM_CLI_TELEMETRY=0 PATH="$(abspath $(BIN)):$$PATH" $(BIN)/sam

.PHONY: help venv run serve test unit lint fmt build validate bench load capacity openapi clean

help:
	@echo "make run       run one business start-up case end to end on the local runtime"
	@echo "make test      run the whole test suite (unit, integration, pipeline) and the lint checks"
	@echo "make serve     the local runtime as an HTTP API on 127.0.0.1:8787 (ARGS=--simulate-partners)"
	@echo "make lint      ruff, mypy, sam validate --lint, cfn-lint, checkov and the state-machine checks"
	@echo "make build     sam build"
	@echo "make bench     handler import against its floor, AWS calls and units per case, orchestration floor,"
	@echo "               throughput at 10 and 100 cases (ARGS=--cases 1000 for 1,000), sweeper reads; .bench/latest.json"
	@echo "make capacity  a province's year against AWS's default quotas, and the cost per case (docs/capacity.md)"
	@echo "make load      1,000 applications from 10 threads through the bus and the API (ARGS=--count N)"
	@echo "make openapi   regenerate openapi.json, the HTTP API's OpenAPI 3.1 document, from the code"

$(BIN)/.installed: requirements.lock pyproject.toml
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found: install python3.13 (or pyenv install 3.13.0)" >&2; exit 1; }
	$(PYTHON313) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

venv: $(BIN)/.installed

$(CHECKOV_VENV)/.installed: requirements-checkov.lock
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found" >&2; exit 1; }
	$(PYTHON313) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip==26.3
	$(CHECKOV_VENV)/bin/pip install --quiet --no-deps -r requirements-checkov.lock
	touch $@

run: venv
	$(PY) -m infra.local.run $(ARGS)

serve: venv
	$(PY) -m infra.local.server $(ARGS)

test: venv lint
	$(BIN)/pytest

unit: venv
	$(BIN)/pytest tests/unit

lint: venv $(CHECKOV_VENV)/.installed
	$(PY) -m infra.tools.openapi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/common/zerovisit functions infra tests
	$(PY) -m infra.tools.check_templates
	$(SAM) validate --lint --template template.yaml
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

build: venv
	$(SAM) build --template template.yaml
	$(PY) -m infra.tools.check_layer .aws-sam/build/CommonLayer/python

bench: venv
	$(PY) -m infra.bench.pipeline $(ARGS)
	$(PY) -m infra.bench.sweeper

load: venv
	$(PY) -m infra.bench.load $(ARGS)

capacity: venv
	$(PY) -m infra.bench.capacity --write

openapi: venv
	$(PY) -m infra.tools.openapi --write

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .mypy_cache .ruff_cache .pytest_cache
