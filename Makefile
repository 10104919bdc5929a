# vigil.openstack — the README's commands. `make demo` and `make test` do all the set-up
# on a fresh machine with Python 3.11; everything lands in .venv and .collections.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
COLLECTIONS := $(CURDIR)/.collections
STAMP := $(VENV)/.installed
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
BENCH ?=

.PHONY: help install collection system-deps demo test lint unit integration sanity realcloud bench docs build clean

help:
	@echo "make demo   - install everything, start the twin, plan (and apply) on its demo cloud"
	@echo "make test   - install everything, run lint, unit, integration and ansible-test sanity"
	@echo "make bench  - run the benchmarks (BENCH=name for one)"
	@echo "make build  - build the collection tarball"
	@echo "make matrix - unit + integration on the oldest and newest supported ansible-core/openstacksdk"

$(STAMP): requirements.txt requirements-test.txt requirements-dev.txt twin/pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (vigil needs Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q -e twin
	touch $(STAMP)

collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/vigil
	@ln -sfn ../../.. $(COLLECTIONS)/ansible_collections/vigil/openstack

install: $(STAMP) collection

# Debian packages the test tiers use (real Prometheus for metrics tests). Needs root or sudo.
system-deps:
	@bash tools/system-deps.sh

demo: install
	$(PY) tools/demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint --offline -q

unit: install
	$(BIN)/pytest -q -n 2 tests/unit twin/tests

integration: install system-deps
	$(BIN)/pytest -q -n 2 tests/integration

sanity: install
	bash tests/sanity/run.sh

# Real Keystone/Placement/Glance/Nova/Ironic/Cinder on 127.0.0.1 (needs root or sudo for apt);
# VIGIL_SKIP_REALCLOUD=1 skips it, saying so.
realcloud: install
	bash tests/realcloud/run.sh

# One pytest run (two workers, one per core) for unit, twin, integration and reliability so its
# closing line sums every test; then sanity.
test: install system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint --offline -q
	$(BIN)/python tools/gen_plugin_docs.py --check
	$(BIN)/antsibull-changelog lint
	$(BIN)/bandit -q -r plugins twin/src
	$(BIN)/pytest -q -p no:cacheprovider -n 2
	$(PY) tools/check_galaxy.py
	$(PY) tools/check_ee.py
	bash tests/realcloud/run.sh
	bash tests/sanity/run.sh

bench: install
	$(PY) bench/run.py $(BENCH)

build: install
	$(BIN)/ansible-galaxy collection build --force --output-path build/

# galaxy-importer (Galaxy's own checks, no containers) on the tarball `make build` makes.
.PHONY: galaxy-check
galaxy-check: install
	$(PY) tools/check_galaxy.py

# The execution environment's tarball and build context (build/ee/); then, with a container
# engine: ansible-builder build -f execution-environment.yml -c build/ee/context -t vigil-ee:latest
# ee-check: the same, then its install steps replayed in a throw-away venv (what make test runs).
.PHONY: ee ee-check matrix
ee: install
	$(PY) tools/check_ee.py --create

ee-check: install
	$(PY) tools/check_ee.py

# Unit + integration tiers on the oldest (requirements.txt's floors) and the newest supported
# ansible-core and openstacksdk, each in a venv cached under .matrix/ (not part of make test).
matrix: install
	$(PY) tools/matrix.py

# Release notes for galaxy.yml's version: the fragments in changelogs/fragments/ move into
# changelogs/changelog.yaml and CHANGELOG.rst (its plugin list comes from this venv's ansible-doc).
.PHONY: changelog-lint changelog-release
changelog-lint: install
	$(BIN)/antsibull-changelog lint

changelog-release: install changelog-lint
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/antsibull-changelog release

# ansible-test sanity under another supported ansible-core series (make sanity-core CORE=2.17),
# from a venv under .matrix/ holding that series' newest release; not part of make test.
CORE ?=
.PHONY: sanity-core
sanity-core:
	@test -n "$(CORE)" || { echo "usage: make sanity-core CORE=2.17 (an ansible-core series with tests/sanity/ignore-CORE.txt)"; exit 1; }
	@test -f tests/sanity/ignore-$(CORE).txt || { echo "error: no tests/sanity/ignore-$(CORE).txt: ansible-core $(CORE) is not supported"; exit 1; }
	test -x .matrix/sanity-$(CORE)/bin/python || $(PYTHON) -m venv .matrix/sanity-$(CORE)
	.matrix/sanity-$(CORE)/bin/python -m pip install -q "ansible-core==$(CORE).*"
	SANITY_VENV=$(CURDIR)/.matrix/sanity-$(CORE) bash tests/sanity/run.sh

docs: install
	$(BIN)/python tools/gen_plugin_docs.py
	PYTHONPATH=.collections $(BIN)/python -m ansible_collections.vigil.openstack.plugins.module_utils.model.schema docs/model.md

clean:
	rm -rf build tests/output .pytest_cache .ruff_cache
