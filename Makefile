# byop's everyday commands. Each works on a fresh machine: `make dev` runs first when needed.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.byop-installed
SOURCES := $(wildcard pyproject.toml byop-*/pyproject.toml requirements-dev.txt tests/plugins/fixtures/*/pyproject.toml)

.PHONY: dev demo test test-optimizers lint bench docs clean

$(STAMP): $(SOURCES) scripts/dev-install
	./scripts/dev-install
	@touch $(STAMP)

dev: $(STAMP)  ## install every package editable, with the dev tools

demo: $(STAMP)  ## run byop's main job: a parallel optimization with progress and a summary
	$(PY) examples/demo.py

test: $(STAMP)  ## run the whole test suite
	BYOP_BLOCK_PLUGINS=$${BYOP_BLOCK_PLUGINS-broken} $(PY) -m pytest -q

test-optimizers:  ## byop-neps and byop-hebo's tests, each in its own environment (.venv-neps, .venv-hebo)
	./scripts/optimizer-venvs test neps hebo

lint: $(STAMP)  ## ruff, mypy (strict), and the import-linter contracts (layers, privates)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

docs: $(STAMP)  ## the docs site, with its generated API reference, into site/ (strict)
	DISABLE_MKDOCS_2_WARNING=true NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

bench: $(STAMP)  ## every benchmark, printing ratios against references from the same run
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .venv-neps .venv-hebo build dist wheelhouse site .mypy_cache .ruff_cache .pytest_cache
