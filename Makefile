# microcred: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
# The first interpreter that really runs and is 3.12+ (pyenv shims may exist for versions that
# are not selected, so each candidate is run, not just looked up).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python; do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v $$p; break; }; \
  done)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Credential identifiers, QR codes, issuer DIDs and links in emails are built from the site URL:
# it follows HOST and PORT unless MICROCRED_SITE_URL is set (a public name behind a proxy).
MICROCRED_SITE_URL ?= http://$(HOST):$(PORT)
export MICROCRED_SITE_URL
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install lint format browser worker migrate demo bench clean serve

$(PY):
	@[ -n "$(PYTHON)" ] || { echo "microcred needs Python 3.12 or newer: none found on the PATH." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(INSTALLED) $(NODE_INSTALLED)

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

demo: migrate
	$(PY) manage.py load_demo --if-new

# The web server and a task worker side by side; Ctrl-C stops both.
run: demo
	@echo "microcred is starting on http://$(HOST):$(PORT)/ (demo accounts are listed in README.md)"
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) manage.py db_worker --no-reload & \
	  $(PY) manage.py runserver --noreload $(HOST):$(PORT)

worker: install
	$(PY) manage.py task_worker

# Production (README, "Running in production"): migrations applied, static files collected
# (hashed names, gzip and Brotli copies), then gunicorn with gunicorn.conf.py. Needs the
# production environment: at least DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS.
serve: export MICROCRED_PRODUCTION ?= 1
serve: migrate
	$(PY) manage.py collectstatic --noinput
	exec $(BIN)/gunicorn microcred.wsgi:application --config gunicorn.conf.py

# Debian's chromium drives the browser tests; Playwright's own build is the fallback.
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	    else $(PY) -m playwright install chromium; fi; }

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

test: install browser lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Each benchmark also runs alone; bench/upload.py (1 GiB through a real server) is left to run by hand.
bench: install
	$(PY) bench/catalog_search.py
	$(PY) bench/credentials.py

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .ruff_cache tools/ob2-validator/.venv tools/vc-reference/node_modules
