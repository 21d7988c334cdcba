# disputedesk — the two commands a newcomer needs are `make run` and `make test`.
# Both set everything up from nothing: virtualenv, packages, Kafka jars, PostgreSQL, mail sink.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Every package, with its version and hashes, for run, test, lint and bench alike. pyproject.toml
# stays the source of what the project needs; `make lock` derives this file from it.
LOCK   := requirements.lock

.PHONY: run test bench drills fraud-world stack-up stack-down lint lock clean help

help:
	@echo "make run    — start the local stack and all four services (Ctrl-C stops the services)"
	@echo "              make run DEMO=1 also sends simulated marketplace traffic"
	@echo "make test   — run the whole test suite against a real Kafka, PostgreSQL and SMTP server"
	@echo "make bench  — benchmarks, each against a baseline measured in the same run"
	@echo "make drills — fault drills: broker, database and service crashes under traffic"
	@echo "make fraud-world — a fraud world written from the specification, through the APIs"
	@echo "              of a real stack, scored per pattern (FWORLD_ARGS='--seed 101 --out …')"
	@echo "make lint   — ruff check, ruff format --check, mypy --strict on shared/ and services/"
	@echo "make lock   — refresh $(LOCK) from pyproject.toml (UPGRADE=1: newest versions)"

# The lock is installed with hashes checked; the project itself then goes in editable, without
# resolving anything more. -qq there: setuptools' notice about editable installs is not news.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install -qq --no-deps -e .
	@$(PY) -m pip check >/dev/null || { $(PY) -m pip check; \
	  echo "$(LOCK) does not cover pyproject.toml's dependencies: run 'make lock'"; exit 1; }
	@touch $(STAMP)

run: $(STAMP)
	@bash scripts/run.sh

test: $(STAMP)
	@bash scripts/test.sh $(ARGS)

bench: $(STAMP)
	@bash scripts/bench.sh

drills: $(STAMP)
	@bash scripts/drills.sh $(DRILL_ARGS)

fraud-world: $(STAMP)
	$(PY) -m disputedesk.cli fraud-world $(FWORLD_ARGS)

stack-up: $(STAMP)
	$(PY) -m disputedesk.cli stack up

stack-down: $(STAMP)
	$(PY) -m disputedesk.cli stack down

LINT_PATHS := shared services disputedesk tests bench

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy

# pip-tools lives in its own virtualenv: it is a tool for maintainers, not a project dependency.
LOCK_TOOLS := .venv-lock
lock:
	@test -x $(LOCK_TOOLS)/bin/pip-compile || \
	  ($(PYTHON) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/pip install --quiet pip-tools)
	$(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-find-links \
	  --extra test --extra dev --extra bench $(if $(UPGRADE),--upgrade) \
	  --output-file $(LOCK) pyproject.toml

clean: stack-down
	rm -rf .state
