# disputedesk — the two commands a newcomer needs are `make run` and `make test`.
# Both set everything up from nothing: virtualenv, packages, Kafka jars, PostgreSQL, mail sink.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench drills stack-up stack-down lint clean help

help:
	@echo "make run    — start the local stack and all four services (Ctrl-C stops the services)"
	@echo "              make run DEMO=1 also sends simulated marketplace traffic"
	@echo "make test   — run the whole test suite against a real Kafka, PostgreSQL and SMTP server"
	@echo "make bench  — benchmarks, each against a baseline measured in the same run"
	@echo "make drills — fault drills: broker, database and service crashes under traffic"
	@echo "make lint   — ruff and mypy"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev,bench]'
	@touch $(STAMP)

run: $(STAMP)
	@bash scripts/run.sh

test: $(STAMP)
	@bash scripts/test.sh $(ARGS)

bench: $(STAMP)
	@bash scripts/bench.sh

drills: $(STAMP)
	@bash scripts/drills.sh $(DRILL_ARGS)

stack-up: $(STAMP)
	$(PY) -m disputedesk.cli stack up

stack-down: $(STAMP)
	$(PY) -m disputedesk.cli stack down

lint: $(STAMP)
	$(VENV)/bin/ruff check shared services disputedesk tests
	$(VENV)/bin/mypy shared

clean: stack-down
	rm -rf .state
