# The two commands of the setup contract: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: demo test lint build serve clean chromium nginx

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Browser tests drive Debian's chromium; install it when missing (root or sudo).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# tests/deploy runs the shipped nginx site in front of gunicorn: Debian's nginx, installed when missing (root or sudo).
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nginx >/dev/null; }

demo: $(VENV)/.installed
	$(BIN)/confreres demo --host $(HOST) --port $(PORT)

# ruff, then the import contracts of pyproject.toml (plugins/ are top-level packages for Pelican).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	PYTHONPATH=.:plugins $(BIN)/lint-imports

test: $(VENV)/.installed-test chromium nginx lint
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

# `make build serve`: serve announces the built posts to its own comment service when it starts
build: $(VENV)/.installed
	$(BIN)/confreres build $(if $(filter serve,$(MAKECMDGOALS)),--no-announce)

serve: $(VENV)/.installed
	$(BIN)/confreres serve --host $(HOST) --port $(PORT)

clean:
	rm -rf public .cache var
