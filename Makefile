# Cross-enforcement case system: the two commands are `make run` and `make test`.
#
#   make run    .venv + demo data on embedded SQLite, then web + Celery worker + beat (Ctrl-C stops)
#   make test   ruff, Django checks and the whole pytest suite on PostgreSQL and Redis
#
# Everything runs from the repository root with the interpreter in .venv.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
MOCK_PORT ?= 9100

# make test: the servers it uses (override from the environment). pytest-django creates and drops
# its own database `test_<name>` (test_cross_enforcement); Redis database 15 is used for Celery.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cross_enforcement
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
CHROMIUM_PATH ?= /usr/bin/chromium

.PHONY: help venv run test chaos bench bench-scale bench-memory lint fmt messages clean

help:
	@echo "make run       create .venv, migrate SQLite in var/, load demo data, start web + worker + beat on 127.0.0.1:$(PORT)"
	@echo "make test      ruff, manage.py check, makemigrations --check, pytest on PostgreSQL + Redis"
	@echo "make chaos     fault injection: 1,000 notices while workers are SIGKILLed, Redis restarts, platforms fail (~3 min)"
	@echo "make bench     notice throughput/latency and page benchmarks (PostgreSQL + Redis); results in bench/results/"
	@echo "make bench-scale BENCH_SCALE_CASES=1000000   page benchmark on a million generated cases"
	@echo "make bench-memory   Celery worker memory after 100,000 notices"
	@echo "make lint      ruff check + ruff format --check"
	@echo "make fmt       ruff format + import sorting"
	@echo "make messages  update and compile the English translation (msgids are Chinese, see docs/adr/0001)"
	@echo "make clean     remove var/ (demo database, broker, media) and caches"

# --- virtualenv ------------------------------------------------------------------------------
# Created once with python3.11 (or python3 when it is 3.11 or newer); packages are installed again
# only when a requirements file changes (stamp file .venv/.installed).
$(PY):
	@py=""; \
	for candidate in python3.11 python3; do \
	  if command -v $$candidate >/dev/null 2>&1 && \
	     $$candidate -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then \
	    py=$$candidate; break; \
	  fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "Python 3.11 or newer is required: install python3.11 (or a python3 >= 3.11) and retry." >&2; exit 1; \
	fi; \
	echo "Creating $(VENV) with $$(command -v $$py) ($$($$py --version))"; \
	$$py -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

# --- make run --------------------------------------------------------------------------------
# No server needed: with DATABASE_URL / CELERY_BROKER_URL unset, config/settings.py uses SQLite in
# var/ and a filesystem Celery broker in var/broker/. Set them to use PostgreSQL and Redis instead.
run: venv
	@mkdir -p var/broker/queue var/broker/processed var/media
	$(PY) manage.py migrate --noinput
	MOCK_PLATFORMS_URL=http://127.0.0.1:$(MOCK_PORT) $(PY) manage.py load_demo_data
	@echo
	@echo "  交叉执行案件系统 / cross-enforcement case system: http://127.0.0.1:$(PORT)/"
	@echo
	@$(PY) manage.py load_demo_data --print-logins
	@echo
	@echo "  Starting web, Celery worker, Celery beat and the stand-in platforms on 127.0.0.1:$(MOCK_PORT) (Procfile.dev). Ctrl-C stops everything."
	@echo
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" WEB_PORT=$(PORT) CALLBACK_BASE_URL=http://127.0.0.1:$(PORT) \
	  MOCK_PLATFORMS_PORT=$(MOCK_PORT) MOCK_PLATFORMS_URL=http://127.0.0.1:$(MOCK_PORT) \
	  $(VENV)/bin/honcho -f Procfile.dev start

# --- make test -------------------------------------------------------------------------------
test: venv
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' scripts/ensure_services.sh
	$(VENV)/bin/ruff check .
	DATABASE_URL=sqlite://:memory: $(PY) manage.py check
	DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run
	CHROMIUM_PATH='$(CHROMIUM_PATH)' scripts/ensure_chromium.sh
	@mkdir -p var/test
	DATABASE_URL='$(TEST_DATABASE_URL)' CELERY_BROKER_URL='$(TEST_REDIS_URL)' CHROMIUM_PATH='$(CHROMIUM_PATH)' \
	  VAR_DIR='$(CURDIR)/var/test' $(VENV)/bin/pytest -q

# --- make chaos ------------------------------------------------------------------------------
# The fault-injection scenario of docs/RELIABILITY.md (not part of `make test`). It kills its broker,
# so it never uses the shared Redis: the scenario starts its own redis-server (no persistence) on
# CHAOS_REDIS_PORT, a free port chosen here, and refuses a port where something already answers.
# PostgreSQL as for `make test` (database test_<name>). CHAOS_SEED=<n> repeats a run's moments.
CHAOS_REDIS_PORT ?= $(shell python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

chaos: venv
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' scripts/ensure_services.sh
	@mkdir -p var/test
	DATABASE_URL='$(TEST_DATABASE_URL)' CELERY_BROKER_URL='redis://127.0.0.1:$(CHAOS_REDIS_PORT)/0' \
	  VAR_DIR='$(CURDIR)/var/test' $(VENV)/bin/pytest tests/chaos/chaos_scenario.py -p no:randomly -p no:cacheprovider -s -q

# --- the rest --------------------------------------------------------------------------------
# make bench: the notice benchmark, then the page benchmark on a generated database of
# BENCH_SCALE_CASES cases (kept and reused; `make bench-scale BENCH_SCALE_CASES=1000000` generates
# the million-case database once, ~45 min on 2 cores, 21 GB). make bench-memory: worker RSS after
# 100,000 notices (about an hour). Figures: docs/PERFORMANCE.md.
BENCH_SCALE_CASES ?= 10000

bench: venv
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' scripts/ensure_services.sh
	$(PY) -m bench
	$(PY) -m bench.scale --cases $(BENCH_SCALE_CASES) --reuse

bench-scale: venv
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' scripts/ensure_services.sh
	$(PY) -m bench.scale --cases $(BENCH_SCALE_CASES) --reuse

bench-memory: venv
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' scripts/ensure_services.sh
	$(PY) -m bench.memory --notices 100000

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: venv
	$(VENV)/bin/ruff check --select I --fix .
	$(VENV)/bin/ruff format .

messages: venv
	$(PY) manage.py makemessages -l en --ignore='.venv/*' --ignore='var/*' --ignore='node_modules/*'
	$(PY) manage.py compilemessages -l en --ignore='.venv' --ignore='var'

clean:
	rm -rf var/ .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
