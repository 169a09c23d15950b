# Two commands matter: `make run` and `make test`. Everything else serves them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
STORE  ?= var/store
# The browser tests: Debian's chromium (apt) and axe-core (npm); npm also builds the editor.
CHROMIUM ?= /usr/bin/chromium
NPM_STAMP := node_modules/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_LOG := $(or $(TMPDIR),/tmp)/eti-apt.log

.PHONY: run test test-dates soak install lint format bench bench-feed bench-front clean assets \
  browser-deps scaleout-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' --config-settings editable_mode=strict
	touch $(STAMP)

# Re-link the strict editable install (needed after adding a file to a package).
install:
	rm -f $(STAMP)
	$(MAKE) $(STAMP)

run: $(STAMP)
	$(BIN)/eti serve --store $(STORE) --host $(HOST) --port $(PORT) --demo-if-empty

# npm packages of package-lock.json: CodeMirror and esbuild (the editor bundle), axe-core.
$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "installing npm (apt)"; \
	  $(SUDO) apt-get update -qq >$(APT_LOG) 2>&1 && DEBIAN_FRONTEND=noninteractive \
	  $(SUDO) apt-get install -y -qq npm >>$(APT_LOG) 2>&1 || { cat $(APT_LOG); exit 1; }; }
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $(NPM_STAMP)

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
$(CHROMIUM):
	@echo "installing chromium (apt) for the browser tests"
	@$(SUDO) apt-get update -qq >$(APT_LOG) 2>&1 && DEBIAN_FRONTEND=noninteractive \
	  $(SUDO) apt-get install -y -qq chromium >>$(APT_LOG) 2>&1 || { cat $(APT_LOG); exit 1; }

browser-deps: $(CHROMIUM) $(NPM_STAMP)

# Debian's Virtuoso (the second remote-store engine) and haproxy (the balancer in front of
# several eti serve processes) for the scale-out tests.
VIRTUOSO ?= /usr/bin/virtuoso-t
HAPROXY  ?= /usr/sbin/haproxy
$(VIRTUOSO) $(HAPROXY):
	@echo "installing virtuoso-opensource-7-bin and haproxy (apt) for the scale-out tests"
	@$(SUDO) apt-get update -qq >$(APT_LOG) 2>&1 && DEBIAN_FRONTEND=noninteractive \
	  $(SUDO) apt-get install -y -qq virtuoso-opensource-7-bin haproxy >>$(APT_LOG) 2>&1 \
	  || { cat $(APT_LOG); exit 1; }

scaleout-deps: $(VIRTUOSO) $(HAPROXY)

# Rebuild the query page's editor (server/static/query.js, committed: running needs no npm).
assets: $(NPM_STAMP)
	node server/assets/build.mjs

test: $(STAMP) browser-deps scaleout-deps
	$(BIN)/pip install --quiet -e '.[test]' --config-settings editable_mode=strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The date-sensitive tests again with the real clock moved a year and five years on
# (libfaketime, Debian's faketime): the catalogue decides on its own clock only, so they
# must pass the same on any day.
DATE_TESTS := tests/test_clock.py tests/test_demo.py tests/test_situation.py \
  tests/test_registration.py tests/test_agreements.py tests/test_validation.py \
  tests/test_needs.py tests/test_write_warnings.py tests/test_pages.py tests/test_shapes.py
DATE_SHIFTS ?= +365d +1826d
test-dates: $(STAMP)
	@command -v faketime >/dev/null 2>&1 || { echo "installing faketime (apt)"; \
	  $(SUDO) apt-get update -qq >$(APT_LOG) 2>&1 && DEBIAN_FRONTEND=noninteractive \
	  $(SUDO) apt-get install -y -qq faketime >>$(APT_LOG) 2>&1 || { cat $(APT_LOG); exit 1; }; }
	@for shift in $(DATE_SHIFTS); do \
	  echo "== the date-sensitive tests with the real clock moved $$shift"; \
	  faketime -f "$$shift" $(BIN)/python -m pytest -q -p no:cacheprovider $(DATE_TESTS) \
	    || exit 1; \
	done

# The long reliability runs: 25 SIGKILLs of each deployment (embedded store; remote store:
# eti serve, then oxigraph serve), a 60 s load, the whole hostile corpus and the fuzzers at
# twice their examples. Ends with the "reliability figures" the README quotes.
SOAK_TESTS := tests/test_crash.py tests/test_load.py tests/test_hostile.py tests/test_fuzz.py \
  tests/test_feed_follow.py
soak: $(STAMP)
	ETI_SOAK_KILLS=25 ETI_LOAD_SECONDS=60 ETI_FUZZ_EXAMPLES=2 ETI_FEED_OPS=1000 \
	  $(BIN)/python -m pytest -s -q -p no:cacheprovider $(SOAK_TESTS) $(PYTEST_ARGS)

# The benchmark (bench/, issues 8, 15, 18): ETI against oxigraph serve, rdflib-endpoint and
# pySHACL on a generated catalogue of 10,000 products, every kind of caller, search and the
# change feed; BENCH_ARGS=--large for 100,000, --profile for py-spy and pyinstrument profiles.
# The generated data and the loaded stores are kept under bench/results (data/, stores/; keyed
# by size, seed and generator), so only the first run generates and loads. Prints one table;
# writes bench/results/latest.json and, after each phase, bench/results/partial-N.txt.
BENCH_ROOT := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk (apt)"; \
	  { $(BENCH_ROOT) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $(BENCH_ROOT) apt-get install -y -qq wrk; } >/dev/null 2>&1 \
	  || echo "wrk is not installed: bench/load.py uses its Python client"; }
	@$(BIN)/python -c "import rdflib_endpoint, uvicorn, pyinstrument" 2>/dev/null \
	  || $(BIN)/pip install --quiet rdflib-endpoint uvicorn py-spy pyinstrument
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The change feed alone (issue 18; make bench reports it too): a channel's first sync of a
# generated catalogue and the cost of a poll with nothing new; BENCH_FEED_ARGS=--products 100000.
bench-feed: $(STAMP)
	$(BIN)/python bench/feed_bench.py $(BENCH_FEED_ARGS)

# Per-request overhead (issue 16): a trivial ASK and a cached answer, eti serve on each
# front (granian, gunicorn) against oxigraph serve, wrk with 8 connections; medians and
# [min-max] over rounds. BENCH_FRONT_ARGS="--rounds 5 --seconds 10" for a longer run.
bench-front: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk (apt)"; \
	  $(BENCH_ROOT) apt-get update -qq >$(APT_LOG) 2>&1 && DEBIAN_FRONTEND=noninteractive \
	  $(BENCH_ROOT) apt-get install -y -qq wrk >>$(APT_LOG) 2>&1 || { cat $(APT_LOG); exit 1; }; }
	$(BIN)/python bench/front_bench.py $(BENCH_FRONT_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build var .pytest_cache node_modules
