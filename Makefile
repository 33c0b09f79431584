# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.opstui-installed

.PHONY: install demo test check lint format typecheck pytest bench screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "opstui needs Python 3.11 or newer (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## open the app on the built-in Opsera simulator
	$(BIN)/opstui --demo

test: $(STAMP) lint typecheck pytest  ## lint, types and the whole test suite

check: test

lint: $(STAMP)
	$(BIN)/ruff check opstui tests bench
	$(BIN)/ruff format --check opstui tests bench

format: $(STAMP)
	$(BIN)/ruff format opstui tests bench
	$(BIN)/ruff check --fix opstui tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -n auto

bench: $(STAMP)  ## speed and memory, measured (not a test)
	$(BIN)/python -m bench --large --json bench-results.json --markdown

screenshots: $(STAMP)  ## regenerate screenshots/*.svg from the app itself
	$(BIN)/python -m tools.screenshots screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache snapshot_report.html

.PHONY: soak soak-long

soak: $(STAMP)  ## one headless app and ten CLI loops against the simulator with 20% faults, 60 s
	$(BIN)/python -m tools.soak --seconds 60

soak-long: $(STAMP)  ## the same for 10 minutes: the app's memory at the end within 10% of minute one
	$(BIN)/python -m tools.soak --seconds 600 --sample-every 5
