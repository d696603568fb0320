# Two commands: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs every test.
# Set-up steps leave stamp files, so a second run with nothing changed skips them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
VENDOR := static/vendor
PYODIDE_FILES := pyodide.mjs pyodide.asm.mjs pyodide.asm.wasm python_stdlib.zip pyodide-lock.json
MICROPYTHON_FILES := micropython.mjs micropython.wasm
# The runtime is served under paths that name its version, so browsers may cache it for good
# (server_stub/web.py); the pages, their .toml files and static/*.mjs name the same paths.
pin = $(shell $(PYTHON) -c "import json; print(json.load(open('package.json'))['dependencies']['$(1)'])")
PYSCRIPT_VERSION := $(call pin,@pyscript/core)
PYODIDE_VERSION := $(call pin,pyodide)
MICROPYTHON_VERSION := $(call pin,@micropython/micropython-webassembly-pyscript)
PYSCRIPT_DIR := $(VENDOR)/pyscript/$(PYSCRIPT_VERSION)
PYODIDE_DIR := $(VENDOR)/pyodide/$(PYODIDE_VERSION)
MICROPYTHON_DIR := $(VENDOR)/micropython/$(MICROPYTHON_VERSION)
# The stamp's name holds every version: a new pin vendors afresh (the server never sends it).
VENDOR_STAMP := $(VENDOR)/.installed-pyscript-$(PYSCRIPT_VERSION)-pyodide-$(PYODIDE_VERSION)-micropython-$(MICROPYTHON_VERSION)

.PHONY: run test setup vendor browser lint format screenshot clean bench dist

run: setup
	$(BIN)/python -m server_stub --host $(HOST) --port $(PORT)

# The bench's OIDC pages are tested too (tests/bench/test_oidc_pages.py): their libraries.
test: setup browser bench/vendor/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# Attacks that take longer than `make test` allows.
# `make fuzz`: schemathesis against the API's own schema, FUZZ_EXAMPLES cases an operation.
# `make soak`: many users for a fixed time against a real server on loopback; one table.
.PHONY: fuzz soak
FUZZ_EXAMPLES ?= 400
SOAK_ARGS ?= --seconds 20 --users 50

fuzz: $(VENV)/.installed
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:logging tests/server/test_fuzz.py

soak: $(VENV)/.installed
	$(BIN)/python -m tests.load.soak $(SOAK_ARGS)

# `make oidc`: the demo server on PORT and a real OpenID Connect provider on OIDC_PORT
# (oidc-provider, tests/oidc/provider.mjs) for pages on the server's origin; Ctrl-C stops
# both. How the provider is configured, and why: docs/oidc-provider.md.
.PHONY: oidc
OIDC_PORT ?= 9000

oidc: setup
	$(BIN)/python -m tests.oidc.demo --port $(PORT) --provider-port $(OIDC_PORT)

# The README's picture: the real page after the demo, taken by the timeline's e2e test.
screenshot: setup browser
	DEMO_SCREENSHOT=docs/demo.png $(BIN)/python -m pytest -q tests/e2e -k "break_token_reproduces and micropython"

setup: $(VENV)/.installed vendor dist

# The library (refresh-gate/): one pure-Python wheel, which a PyScript page lists in its
# config's `packages` on either interpreter (README, "Use the gate in your own page");
# the server serves it under /dist/. Built again when a file of the library changes.
LIBRARY_VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' refresh-gate/refresh_gate/__init__.py)
WHEEL := dist/refresh_gate-$(LIBRARY_VERSION)-py3-none-any.whl
LIBRARY_FILES := $(shell find refresh-gate -type f -not -path '*/__pycache__/*')

dist: $(WHEEL)

$(WHEEL): $(LIBRARY_FILES) $(VENV)/.installed
	rm -rf dist && mkdir -p dist
	cd refresh-gate && SOURCE_DATE_EPOCH=315532800 $(CURDIR)/$(BIN)/python -m flit_core.wheel \
	    --outdir $(CURDIR)/dist >/dev/null
	test -f $@

vendor: $(VENDOR_STAMP)

# The Python side: server, test tools.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

# The browser runtime, pinned in package-lock.json and served from our own origin, with
# brotli and gzip copies of its files written once here (about 30 s, most of it brotli on
# pyodide.asm.wasm) for the server to send instead.
# PyScript's core and the chunks it imports on the way up are also built into one file,
# core.bundle.js, which the app's pages load (static/app-start.js): one request instead of
# nine. The chunks it imports only on demand (the editor, the terminal, zip files, ...) stay
# files of their own beside it, as published.
PYSCRIPT_ON_DEMAND := ./codemirror* ./xterm* ./zip-* ./pyodide_graph-* micropip mip
# The test tools pinned beside the runtime come with it: axe-core, which the accessibility
# test reads from node_modules/ (a test tool, never served: not copied under static/vendor/).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENDOR_STAMP): node_modules/.package-lock.json server_stub/precompress.py \
    server_stub/vendor_wheels.py
	rm -rf $(VENDOR) && mkdir -p $(PYSCRIPT_DIR) $(PYODIDE_DIR) $(MICROPYTHON_DIR)
	cp -R node_modules/@pyscript/core/dist/. $(PYSCRIPT_DIR)/
	cd node_modules/pyodide && cp $(PYODIDE_FILES) $(CURDIR)/$(PYODIDE_DIR)/
	$(PYTHON) -m server_stub.vendor_wheels $(PYODIDE_DIR) >/dev/null
	cd node_modules/@micropython/micropython-webassembly-pyscript \
	    && cp $(MICROPYTHON_FILES) $(CURDIR)/$(MICROPYTHON_DIR)/
	node_modules/.bin/esbuild $(PYSCRIPT_DIR)/core.js --bundle --format=esm --minify --sourcemap \
	    --log-level=warning --outfile=$(PYSCRIPT_DIR)/core.bundle.js \
	    $(foreach chunk,$(PYSCRIPT_ON_DEMAND),'--external:$(chunk)')
	$(PYTHON) -m server_stub.precompress $(VENDOR)
	touch $@

# A Chromium for the end-to-end tests: the system's, else Debian's package, else Playwright's.
browser: $(VENV)/.browser

$(VENV)/.browser: $(VENV)/.installed
	if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	    && apt-get update -qq && apt-get install -y -qq chromium; then :; \
	else $(BIN)/python -m playwright install chromium; fi
	touch $@

# PostgreSQL's initdb and pg_ctl for the tests and the soak, which start a throw-away cluster
# of their own (tests/server/postgres.py): Debian's package, installed as Chromium is.
.PHONY: postgres cluster
test: postgres
test: export REQUIRE_POSTGRES := 1
soak: postgres
postgres: $(VENV)/.postgres

$(VENV)/.postgres: $(VENV)/.installed
	if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq \
	    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; then :; \
	else echo "the tests need PostgreSQL (initdb, pg_ctl): install postgresql" >&2; exit 1; fi
	touch $@

# `make cluster`: a PostgreSQL of its own and CLUSTER_NODES server processes sharing it, on
# ports 8001, 8002, ..., as machines behind a load balancer would; Ctrl-C stops them all.
CLUSTER_NODES ?= 3
cluster: setup postgres
	$(BIN)/python -m tests.server.cluster --nodes $(CLUSTER_NODES)

# `make bench`: the page against the JavaScript clients people use today, one table and a
# chart in bench/results.md and bench/results.png. BENCH_ARGS=--quick runs each case once.
BENCH_ARGS ?=
bench: $(VENV)/.bench $(VENDOR_STAMP) bench/vendor/.installed browser
	$(BIN)/python -m bench.run $(BENCH_ARGS)

$(VENV)/.bench: $(VENV)/.installed
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	touch $@

# The contestants' libraries, pinned in bench/package-lock.json, served under /bench/vendor/.
# axios-auth-refresh's ES module imports the bare name "axios": point it at the copy beside it.
# oidc-client-ts's browser build (a classic script, `window.oidc`) carries its one dependency;
# auth0-spa-js's ES module imports nothing.
bench/node_modules/.package-lock.json: bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund --loglevel=error

bench/vendor/.installed: bench/node_modules/.package-lock.json
	rm -rf bench/vendor && mkdir -p bench/vendor
	cp bench/node_modules/axios/dist/esm/axios.min.js bench/vendor/axios.js
	cp bench/node_modules/axios/dist/esm/axios.min.js.map bench/vendor/
	sed 's#from"axios"#from"./axios.js"#' bench/node_modules/axios-auth-refresh/dist/index.esm.js \
	    > bench/vendor/axios-auth-refresh.js
	grep -q 'from"./axios.js"' bench/vendor/axios-auth-refresh.js
	cp bench/node_modules/axios-auth-refresh/dist/index.esm.js.map bench/vendor/
	cp bench/node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js bench/vendor/oidc-client-ts.js
	cp bench/node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js.map bench/vendor/
	cp bench/node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.esm.js \
	    bench/vendor/auth0-spa-js.js
	cp bench/node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.esm.js.map bench/vendor/
	touch $@

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache bench/node_modules bench/vendor dist
