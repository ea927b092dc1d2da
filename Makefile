# tenken: `make run` serves the app with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: install lock run test openapi browser-deps pdf-deps pg-deps redis-deps nginx-deps ldap-deps lint bench loadtest translations messages clean

# Reinstall only when the dependencies or their pinned versions change. constraints.txt holds
# the exact version of every package (see `lock`), so each install gets what the tests ran on.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

# constraints.txt resolved afresh: pyproject.toml with every extra, installed into a throwaway
# venv, the versions it got written down (the file's comment header is kept). Run it after
# changing a dependency in pyproject.toml, or to take upgrades (a security fix) on purpose, then
# `make test` and commit constraints.txt with the change; nothing else moves the versions.
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp" && \
	"$$tmp/bin/pip" install --quiet --upgrade pip && \
	"$$tmp/bin/pip" install --quiet -e '.[dev,redis,load]' && \
	{ grep '^#' constraints.txt; "$$tmp/bin/pip" freeze --exclude-editable; } > "$$tmp/lock" && \
	mv "$$tmp/lock" constraints.txt && \
	echo "constraints.txt: $$(grep -vc '^#' constraints.txt) packages"

translations: $(STAMP)
	$(BIN)/pybabel -q compile --use-fuzzy -d survey/translations -D messages

# After changing texts on screen: extract, merge into the English catalogue, then translate.
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o survey/translations/messages.pot .
	$(BIN)/pybabel -q update -i survey/translations/messages.pot -d survey/translations

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	$(FLASK) run --host $(HOST) --port $(PORT)

# axe-core for the accessibility checks, pinned in tests/browser/package-lock.json: from the npm
# registry once, then from tests/browser/node_modules (the tests inject it; the app never serves it).
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's Chromium (installed when missing) and inject axe-core.
browser-deps: $(AXE)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# The printed Excel summary is checked as LibreOffice lays it out as PDF, read back by pdftotext.
pdf-deps:
	@{ command -v soffice || command -v libreoffice; } >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { \
	  echo "Installing Debian's LibreOffice Calc and poppler-utils for the print tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui fonts-noto-cjk poppler-utils >/dev/null; }

# On PostgreSQL, the backup tests run Debian's pg_dump, pg_restore and psql (the guide's commands).
pg-deps:
	@[ -z "$$TEST_DATABASE_URL" ] || { command -v pg_dump && command -v pg_restore && command -v psql; } >/dev/null 2>&1 || { \
	  echo "Installing Debian's postgresql-client for the backup tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; }

# The tests of /healthz and of the sign-in limits' storage, and the load test, start a private
# Redis (tests/redis_server.py) from Debian's redis-server.
redis-deps:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "Installing Debian's redis-server for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

# The two-node test and the load test's two-node phase put Debian's nginx in front of two
# gunicorn nodes; it runs as the current user from a folder of its own, never as the system's.
nginx-deps:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "Installing Debian's nginx for the two-node tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

# The directory sign-in tests start a private OpenLDAP (tests/ldap_server.py) from Debian's slapd,
# as the current user from a folder of their own. Only the binary is wanted: debconf is told not
# to configure a system directory (no_configuration), so no slapd service is set up or started.
ldap-deps:
	@[ -x /usr/sbin/slapd ] && command -v ldapsearch >/dev/null 2>&1 || { \
	  echo "Installing Debian's slapd and ldap-utils for the directory sign-in tests"; \
	  echo "slapd slapd/no_configuration boolean true" | debconf-set-selections && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null; }

# One pytest worker per core (PYTEST_WORKERS=0 runs in this process, for a debugger): each test
# has its own database, so workers share nothing but the machine.
PYTEST_WORKERS ?= auto
test: install browser-deps pdf-deps pg-deps redis-deps nginx-deps ldap-deps
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)


# The OpenAPI document checked in (docs/openapi.json), from the app that serves it.
openapi: install
	SURVEY_ENV=testing SURVEY_DATABASE_URL=sqlite:// $(BIN)/flask --app wsgi api spec --out docs/openapi.json

# Every Python file of the project (pyproject.toml leaves out the generated migrations/versions):
# the lint rules, and the layout `ruff format` writes (run it before committing).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Speed at scale (docs/performance.md): 100,000 respondents × 50 items and 1,000,000 access-log
# rows on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set. Prints `BENCH name value
# unit`; about 15 minutes. BENCH_ARGS="--respondents 20000 --log-rows 100000" for a quicker
# look, --no-logs or --no-results for one part.
bench: install
	$(BIN)/python -m reports.bench $(BENCH_ARGS)

# Load and faults (docs/performance.md): gunicorn with deploy/gunicorn.conf.py against a private
# PostgreSQL cluster (port 5499, removed afterwards) and SQLite in WAL mode; a floor, the
# throughput of the questionnaire and its draft save, then 200 respondents while a worker is
# killed and PostgreSQL restarted, and every acknowledged answer checked. On PostgreSQL, then
# two nodes behind nginx: an evidence file uploaded on one and downloaded from the other, 200
# respondents while one node is killed, every answer checked again. About 7 minutes.
# LOADTEST_ARGS="--duration 10 --backends sqlite" for a quick look.
LOAD_STAMP := $(VENV)/.load-installed
$(LOAD_STAMP): pyproject.toml constraints.txt $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,load]'
	touch $(LOAD_STAMP)

loadtest: install redis-deps nginx-deps $(LOAD_STAMP)
	$(BIN)/python -m tests.load $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
