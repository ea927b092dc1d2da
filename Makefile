# tenken: `make run` serves the app with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: install run test browser-deps pdf-deps lint bench loadtest translations messages clean

# Reinstall only when the dependencies change.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

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

test: install browser-deps pdf-deps
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check survey checklists reports accesslogs tests config.py wsgi.py

# Speed at scale (docs/performance.md): 100,000 respondents × 50 items and 1,000,000 access-log
# rows on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set. Prints `BENCH name value
# unit`; about 15 minutes. BENCH_ARGS="--respondents 20000 --log-rows 100000" for a quicker
# look, --no-logs or --no-results for one part.
bench: install
	$(BIN)/python -m reports.bench $(BENCH_ARGS)

# Load and faults (docs/performance.md): gunicorn with deploy/gunicorn.conf.py against a private
# PostgreSQL cluster (port 5499, removed afterwards) and SQLite in WAL mode; a floor, the
# throughput of the questionnaire and its draft save, then 200 respondents while a worker is
# killed and PostgreSQL restarted, and every acknowledged answer checked. About 6 minutes.
# LOADTEST_ARGS="--duration 10 --backends sqlite" for a quick look.
LOAD_STAMP := $(VENV)/.load-installed
$(LOAD_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,load]'
	touch $(LOAD_STAMP)

loadtest: install $(LOAD_STAMP)
	$(BIN)/python -m tests.load $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
