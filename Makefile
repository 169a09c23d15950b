# Two commands matter: `make run` and `make test`. Everything else serves them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
STORE  ?= var/store

.PHONY: run test soak install lint format bench clean

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

test: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]' --config-settings editable_mode=strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long reliability runs: many SIGKILLs, a longer load, the whole hostile corpus.
soak: $(STAMP)
	ETI_SOAK_KILLS=25 ETI_LOAD_SECONDS=60 $(BIN)/python -m pytest -s -q tests/test_crash.py tests/test_load.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build var .pytest_cache
