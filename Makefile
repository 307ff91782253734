# The README's commands. `make demo` sets everything up and serves the app with demo data;
# `make test` runs the whole suite. Both need only Python 3.12+ and make. `make run` serves
# for development (runserver, SQLite); `make serve` serves production (gunicorn, PostgreSQL).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

# The first interpreter that is Python 3.12 or newer (Django 6 needs it). pyenv users get
# 3.13 from .python-version through plain `python3`.
PY_CANDIDATES := python3.14 python3.13 python3.12 python3 python
PYTHON ?= $(firstword $(foreach p,$(PY_CANDIDATES),$(shell command -v $(p) >/dev/null 2>&1 && $(p) -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && echo $(p))))

.PHONY: demo run serve test test-fast lint format bench load venv check-python clean

demo: venv .env ## Set up, migrate, seed demo data, print the logins and serve on 127.0.0.1:8000
	$(BIN)/python manage.py migrate --noinput -v0
	@$(BIN)/python manage.py seed_demo --url http://127.0.0.1:$(PORT)/login/ || echo "Kept the existing data (see above); log in with the accounts you have."
	@$(MAKE) --no-print-directory run

run: venv .env ## Development: runserver (and the background worker) on 127.0.0.1:$(PORT), SQLite by default
	$(BIN)/python manage.py migrate --noinput -v0
	@echo "Serving SOS Tracker at http://127.0.0.1:$(PORT)/  (Ctrl-C stops it)"
	@trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/python manage.py db_worker --queue-name default >/dev/null 2>&1 & \
	  $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production: DEBUG off whatever .env says, PostgreSQL only (SQLite is the demo's database,
# not one to run an organization on), static files collected for whitenoise, gunicorn
# bound to BIND behind a TLS proxy (README, "Deploying"), and the background worker beside it.
# WEB_CONCURRENCY sets gunicorn's worker count (default 2: one VM, a few users at a time).
BIND ?= 127.0.0.1:$(PORT)
WEB_CONCURRENCY ?= 2
serve: venv ## Production: gunicorn + whitenoise on PostgreSQL (DATABASE_URL required), with the worker
	@DEBUG=false $(BIN)/python bin/check_production_database
	DEBUG=false $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=false $(BIN)/python manage.py collectstatic --noinput -v0
	@echo "Serving SOS Tracker with gunicorn on $(BIND) (DEBUG off; Ctrl-C stops it)"
	@trap 'kill 0' EXIT INT TERM; \
	  DEBUG=false $(BIN)/python manage.py db_worker --queue-name default & \
	  DEBUG=false $(BIN)/gunicorn sos_tracker.wsgi --bind $(BIND) --workers $(WEB_CONCURRENCY) \
	    --access-logfile - --forwarded-allow-ips 127.0.0.1

test: venv ## The whole suite (SQLite unless DATABASE_URL says otherwise; browser tests included)
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: venv ## Everything but the browser tests
	$(BIN)/pytest -m "not e2e" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# SIZES=1000,100000,1000000 adds a million (built in bulk, minutes); ONLY=pages,checks runs
# some sections (pages, checks, imports, uploads).
SIZES ?= 1000,100000
ONLY ?= pages,checks,imports,uploads
bench: venv ## Print server times of the main pages at 1,000 and 100,000 people, as multiples of a bare view
	$(BIN)/python manage.py bench --sizes $(SIZES) --only $(ONLY)

# gunicorn (production settings) on a throwaway PostgreSQL database of 100,000 people, loaded
# by wrk on loopback. Needs DATABASE_URL=postgres://… and wrk (apt-get install wrk).
# LOAD_ARGS=--keep keeps the database for the next run (which then starts in seconds).
LOAD_ARGS ?=
load: venv ## Requests/s, p50/p99 and errors of the main pages and a mixed flow under load, beside a bare view
	$(BIN)/python manage.py load $(LOAD_ARGS)

venv: $(STAMP)

$(STAMP): pyproject.toml | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# Installs the dependencies only: the app itself runs from this folder.
	$(BIN)/python -m pip install --quiet '.[dev]'
	@touch $(STAMP)

check-python:
	@if [ -z "$(PYTHON)" ] && [ ! -x $(BIN)/python ]; then \
	  echo "SOS Tracker needs Python 3.12 or newer (Django 6 does), and none was found."; \
	  echo "Tried: $(PY_CANDIDATES)."; \
	  echo "Install one (e.g. 'pyenv install 3.13', or your system's python3.13 package),"; \
	  echo "or point make at it: make demo PYTHON=/path/to/python3.13"; \
	  exit 1; \
	fi

# A developer .env: DEBUG on and a fresh random secret, never committed. Two-factor sign-in
# is off here: the demo's lead and admin logins must work for someone without a phone at
# hand. Production leaves TWO_FACTOR_REQUIRED unset, so leads and admins need their code.
.env:
	@printf 'DEBUG=true\nSECRET_KEY=%s\nTWO_FACTOR_REQUIRED=false\n' "$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "Wrote .env (DEBUG on, new SECRET_KEY, two-factor sign-in not required) for local use."

clean:
	rm -rf $(VENV) staticfiles artifacts
