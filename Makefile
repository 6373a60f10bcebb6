# The entry point for developers and CI (.ci/run calls `make test`).
#
#   make test    lint and run the tests in .venv (created and filled when missing)
#   make slow    the tour's development loop with real pyinstaller builds
#   make reliability  the fault-injection suite alone, with its figures (part of make test)
#   make soak    the same suite, longer: more points, rounds and cycles (ANSAR_SOAK=1, minutes)
#   make bench   the benchmarks (runtime, running roles, logs, deploy) against peers, by hand
#   make demo    the examples as tools, the tour's first steps with the ansar command, then the
#                tour's development loop (examples/Makefile) in a copy of examples/
#   make build   each example as a single executable, dist/<name>, with pyinstaller
#   make docs    the Sphinx pages, warnings as errors, into docs/_build/html
#   make clean   remove what build, docs and demo leave behind

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLES := analyzer busy client factorial noop server snooze switch zombie
LINTED := $(wildcard ansar tests bench examples)
SOURCES := $(wildcard ansar/*.py ansar/*/*.py examples/lib/*.py)

# The examples find each other (ar.Process) and the venv's python3 through PATH.
DEMO_PATH := $(CURDIR)/bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: all test slow reliability soak bench lint compile demo build docs clean

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# One stamp per extra: reinstall only when pyproject.toml changes (and keep the stamps).
.PRECIOUS: $(VENV)/.installed-%
# Editable in "compat" mode: a plain path in a .pth file, which PyInstaller follows and which
# costs nothing at interpreter start (the default mode's import hook costs every process ~10 ms).
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[$*]' --config-settings editable_mode=compat
	touch $@

# Byte-compile ahead: where PYTHONDONTWRITEBYTECODE is set, every start would compile ansar again.
compile: $(VENV)/.installed-test
	$(BIN)/python -m compileall -q ansar examples > /dev/null

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(LINTED)

# The one slow test builds an example with PyInstaller, so the test run installs the build extra too.
test: lint compile $(VENV)/.installed-build
	$(BIN)/python -m pytest

# The reliability suite (faults injected, figures printed at the end): part of make test, under
# a minute; make soak runs it with more of everything (docs/reliability.rst).
reliability: compile
	$(BIN)/ruff check tests/reliability
	$(BIN)/python -m pytest tests/reliability

soak: compile
	ANSAR_SOAK=1 $(BIN)/python -m pytest -o timeout=900 tests/reliability

# The tour's loop with real pyinstaller builds of every example (minutes; not part of make test).
slow: compile $(VENV)/.installed-build
	ANSAR_TOUR_BUILD=dist $(BIN)/python -m pytest tests/test_tour.py

# Benchmarks, by hand: each prints its figures beside peers measured in the same run.
bench: compile
	$(BIN)/python bench/bench_runtime.py
	$(BIN)/python bench/bench_running.py
	$(BIN)/python bench/bench_log.py
	$(BIN)/python bench/bench_flood.py
	$(BIN)/python bench/bench_deploy.py

demo: compile
	PATH="$(DEMO_PATH)" sh examples/demo.sh
	PATH="$(DEMO_PATH)" sh examples/tour.sh

build: $(addprefix dist/,$(EXAMPLES))

dist/%: examples/%.py $(SOURCES) | $(VENV)/.installed-build
	$(BIN)/pyinstaller --onefile --log-level ERROR -p $(CURDIR)/examples -p $(CURDIR) \
		--collect-submodules ansar.create --distpath dist --workpath build/pyinstaller --specpath build $<

docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -W -q -b html docs docs/_build/html

clean:
	rm -rf build dist docs/_build .pytest_cache
