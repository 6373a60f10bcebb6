# The entry point for developers and CI (.ci/run calls `make test`).
#
#   make test    lint and run the tests in .venv (created and filled when missing)
#   make demo    the examples run as tools, as a person would from a shell
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

.PHONY: all test lint demo build docs clean

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# One stamp per extra: reinstall only when pyproject.toml changes (and keep the stamps).
.PRECIOUS: $(VENV)/.installed-%
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[$*]'
	touch $@

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(LINTED)

test: lint
	$(BIN)/python -m pytest

demo: $(VENV)/.installed-test
	PATH="$(DEMO_PATH)" sh examples/demo.sh

build: $(addprefix dist/,$(EXAMPLES))

dist/%: examples/%.py $(SOURCES) | $(VENV)/.installed-build
	$(BIN)/pyinstaller --onefile --log-level ERROR -p $(CURDIR)/examples -p $(CURDIR) \
		--collect-submodules ansar.create --distpath dist --workpath build/pyinstaller --specpath build $<

docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -W -q -b html docs docs/_build/html

clean:
	rm -rf build dist docs/_build .pytest_cache
