# mediamon: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
export MEDIAMON_STATE_DIR ?= $(CURDIR)/.state
# rustup installs cargo here; the native core (native/) is built with it.
export PATH := $(HOME)/.cargo/bin:$(PATH)
NATIVE_SOURCES := native/Cargo.toml native/Cargo.lock native/pyproject.toml $(wildcard native/src/*.rs)

.PHONY: test-faults check-fresh check-compose dashboards demo help install services services-down services-status init run stop workers-up \
        workers-down test test-unit test-integration lint lint-native format constraints bench clean-state

help:
	@echo "make run              install, start Redis + OpenSearch, init indices, start worker + beat"
	@echo "make test             install, start services, lint, run the whole test suite"
	@echo "make demo             the whole stack on sample feeds served locally (no internet needed)"
	@echo "make stop             stop worker, beat and services (same as services-down)"
	@echo "make services         start Redis (127.0.0.1:6390) and OpenSearch (127.0.0.1:9250)"
	@echo "make services-down    stop everything this project started"
	@echo "make services-status  what is running"
	@echo "make test-unit        unit tests only (no services needed)"
	@echo "make test-faults      fault tests: kill -9 a worker, stop the engine, restart Redis (slow)"
	@echo "make lint             ruff, import contracts, mypy"
	@echo "make check-fresh      build the wheels, install them in a new venv outside the repo, use them"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt $(NATIVE_SOURCES)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python venv module missing: installing python3-venv"; \
	  apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	@devstack/check-rust.sh
	MATURIN_PEP517_ARGS=--locked $(BIN)/pip install -q --disable-pip-version-check ./native
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

services:
	@devstack/services.sh up

services-down:
	@devstack/services.sh down

services-status:
	@devstack/services.sh status

init: install services
	@$(BIN)/mediamon search init
	@$(BIN)/mediamon feeds sync

workers-up: install
	@devstack/workers.sh up

workers-down:
	@devstack/workers.sh down

run: init workers-up
	@echo
	@echo "mediamon is running on the default config (config/)."
	@echo "  worker log:  $(MEDIAMON_STATE_DIR)/logs/worker.log"
	@echo "  beat log:    $(MEDIAMON_STATE_DIR)/logs/beat.log"
	@echo "  status:      $(BIN)/mediamon status ; $(BIN)/mediamon search status"
	@echo "  try:         $(BIN)/mediamon ingest tests/data/*/input.* && $(BIN)/mediamon search 習近平"
	@echo "  stop:        make stop"

check-compose:
	@devstack/check-compose.sh

# mediamon as a user gets it: wheels built from the tracked files, installed into a new
# virtualenv outside the repository with no pip cache, used from an empty folder.
check-fresh: install services
	@PYTHON=$(PYTHON) devstack/check-fresh.sh

dashboards: install
	$(BIN)/python dashboards/generate.py

demo: install services
	@devstack/demo.sh

stop: services-down

test: install services
	@$(MAKE) --no-print-directory lint-fast
	@devstack/check-compose.sh
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium missing: the report test will fail (apt-get install chromium)"
	MEDIAMON_REQUIRE_SERVICES=1 $(BIN)/pytest --ignore=tests/faults

test-faults: install services
	MEDIAMON_REQUIRE_SERVICES=1 $(BIN)/pytest tests/faults

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install services
	MEDIAMON_REQUIRE_SERVICES=1 $(BIN)/pytest tests/integration

lint-fast: install
	$(BIN)/ruff check pipelines workers tests bench
	$(BIN)/lint-imports

lint: lint-fast lint-native
	$(BIN)/ruff format --check pipelines workers tests bench
	$(BIN)/mypy

lint-native:
	cargo fmt --manifest-path native/Cargo.toml --check
	cargo clippy --manifest-path native/Cargo.toml --locked --quiet -- -D warnings

# Pins every package installed in the virtualenv: run it on a fresh one (rm -rf .venv;
# make install) so that nothing installed by hand gets pinned. The native core is built
# from native/, not pinned. A package installed from a file or URL (`name @ file://…`)
# exists only on this machine: the target refuses to write it.
constraints: install
	@$(BIN)/pip freeze --exclude-editable --disable-pip-version-check \
	  | grep -v '^mediamon-native' > constraints.txt.new
	@if grep -n ' @ \|file:' constraints.txt.new; then \
	  echo "constraints: the lines above come from a file, not a registry; reinstall them by name" >&2; \
	  rm -f constraints.txt.new; exit 1; fi
	@mv constraints.txt.new constraints.txt

format: install
	cargo fmt --manifest-path native/Cargo.toml
	$(BIN)/ruff format pipelines workers tests bench
	$(BIN)/ruff check --fix pipelines workers tests bench

clean-state: services-down
	rm -rf $(MEDIAMON_STATE_DIR)
