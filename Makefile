# Development and CI entry points for the envops.aws_secrets collection.
#
#   make venv            .venv (newest Python 3.11-3.13 found, or PYTHON=...): requirements.txt (runtime) + requirements-dev.txt
#   make build           build/<namespace>-<name>-<version>.tar.gz
#   make install         install the tarball into build/collections (no Galaxy access)
#   make unit            pytest tests/unit against a copy of the source tree
#   make integration     pytest tests/integration against the installed tarball (moto, started by the harness)
#   make lint            ansible-lint (production profile), ruff, shellcheck, no repeated runs in plugins/
#   make sanity          ansible-test sanity --local in a temporary ansible_collections/ tree
#   make docs-lint       antsibull-docs lint-collection-docs --plugin-docs
#   make changelog-lint  antsibull-changelog lint
#   make importer        galaxy-importer on the built tarball, offline, no container
#   make molecule        molecule test --all in extensions/ (if scenarios exist)
#   make test            all of the above gates; fails if any gate fails
#   make demo            scripts/demo.sh (moto or real AWS)
#   make bench           tests/benchmarks/run.py (if present)
#   make test-newest     unit, integration, sanity on the newest ansible (requirements-newest.txt, Python 3.13/3.12)
#   make smoke-oldest    unit + smoke integration on the oldest ansible-core requires_ansible claims (2.17)
#   make matrix          test-newest and smoke-oldest side by side (logs in build/matrix/)
#   make clean / distclean
#
# See docs/development.md for what each gate checks.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Controller Pythons the default venv can use, newest first. PYTHON=... (a command, a path or a version such as
# 3.12) picks one; otherwise the newest found on PATH or in pyenv is used. The pins (requirements*.txt) stay the same.
SUPPORTED_PYTHONS := 3.13 3.12 3.11
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell bash scripts/find_python.sh $(SUPPORTED_PYTHONS))
PYTHON_CHOSEN := auto
else
override PYTHON := $(or $(shell bash scripts/find_python.sh $(PYTHON)),$(PYTHON))
PYTHON_CHOSEN := explicit
endif

VENV := .venv
VENV_BIN := $(CURDIR)/$(VENV)/bin
VENV_STAMP := $(VENV)/.stamp
# What `make venv` installs into $(VENV): the collection's runtime requirements, then the development pins; the matrix
# targets install the same runtime requirements with other pins into other venvs.
VENV_REQUIREMENTS := requirements.txt requirements-dev.txt
# Installed afterwards with --no-deps (only for the collections the `ansible` package bundles).
VENV_NODEPS_REQUIREMENTS :=
VENV_PYTHON_VERSIONS := $(SUPPORTED_PYTHONS)
# An existing venv is kept whatever its (supported) Python, unless PYTHON=... asks for another version.
python_version_of = $(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(PYTHON_CHOSEN),explicit)
ifneq ($(wildcard $(VENV_STAMP)),)
ifneq ($(call python_version_of,$(VENV_BIN)/python),$(call python_version_of,$(PYTHON)))
$(info --- $(VENV) has another Python than PYTHON=$(PYTHON): it will be recreated)
$(shell rm -f $(VENV_STAMP))
endif
endif
endif
# galaxy-importer pins attrs<24 / flake8<7, so it gets its own venv (see requirements-importer.txt).
# It lives under .cache/, which is git-ignored and in galaxy.yml's build_ignore.
IMPORTER_VENV := .cache/venv-importer
IMPORTER_BIN := $(CURDIR)/$(IMPORTER_VENV)/bin
IMPORTER_STAMP := $(IMPORTER_VENV)/.stamp

NAMESPACE := $(shell sed -n 's/^namespace:[[:space:]]*//p' galaxy.yml)
NAME := $(shell sed -n 's/^name:[[:space:]]*//p' galaxy.yml)
VERSION := $(shell sed -n 's/^version:[[:space:]]*//p' galaxy.yml)

BUILD_DIR := $(CURDIR)/build
TARBALL := $(BUILD_DIR)/$(NAMESPACE)-$(NAME)-$(VERSION).tar.gz
# Copy of the source tree (git-tracked + untracked-not-ignored files) in the ansible_collections layout.
STAGE := $(BUILD_DIR)/ansible_collections/$(NAMESPACE)/$(NAME)
COLLECTIONS_DIR := $(BUILD_DIR)/collections
SANITY_ROOT := $(BUILD_DIR)/sanity
SANITY_TREE := $(SANITY_ROOT)/ansible_collections/$(NAMESPACE)/$(NAME)
# ansible-test keeps its per-test venvs and its pip bootstrap cache under $HOME/.ansible/test;
# a project-local HOME keeps that inside build/ (and out of the developer's home directory).
SANITY_HOME := $(BUILD_DIR)/ansible-test-home
# pip versions that ansible-test bootstraps into its venvs (ansible-core 2.19: 24.2, 2.21: 25.2);
# see .ci/ansible_test_get_pip.py.
ANSIBLE_TEST_PIP_VERSIONS := 24.2 25.2
SITE_COLLECTIONS = $(shell $(VENV_BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)/ansible_collections

# Run offline-by-construction steps in an empty network namespace when the kernel lets us
# (root on this machine); otherwise run them as they are.
NONET := $(shell unshare -n true >/dev/null 2>&1 && echo 'unshare -n')

PYTEST_ARGS ?=
# What `make integration` collects (the smoke run narrows it).
INTEGRATION_PATHS ?= tests/integration
UNIT_ARGS ?=
# Integration tests share one moto server per worker; raise only for suites marked xdist-safe.
INTEGRATION_WORKERS ?= 1
SANITY_ARGS ?=
# ansible-test --python: compile/import tests run for this interpreter version only (default: the venv's).
SANITY_PYTHON ?= $(call python_version_of,$(VENV_BIN)/python)
BENCH_ARGS ?=

TEST_GATES ?= unit integration lint sanity docs-lint changelog-lint importer molecule

export PATH := $(VENV_BIN):$(PATH)
export RUFF_CACHE_DIR := $(BUILD_DIR)/.ruff_cache
export ANSIBLE_NOCOLOR := 1
export PY_COLORS := 0

# Copy git-tracked + untracked-not-ignored files of this checkout into $(1), and give the copy a
# throwaway git index of its own. The work tree's .gitignore ignores build/, and tools that list
# files through git would otherwise see an empty collection there: antsibull-docs' collection
# copier then lints nothing and passes, and ansible-test complains about the layout.
define copy_tree
rm -rf "$(1)" && mkdir -p "$(1)"
git ls-files -z --cached --others --exclude-standard \
	| tar --null --ignore-failed-read -T - -cf - \
	| tar -xf - -C "$(1)"
cd "$(1)" && git init -q && git add -A
endef

# Run pytest; treat exit code 5 (no tests collected) as a failure with a clear message.
define run_pytest
rc=0; $(1) || rc=$$?; \
if [ "$$rc" -eq 5 ]; then echo "ERROR: pytest collected no tests in $(2)" >&2; exit 1; fi; \
exit "$$rc"
endef

.PHONY: help venv importer-venv stage build install unit integration lint sanity docs-lint \
	changelog-lint importer molecule test demo bench clean distclean \
	venv-newest test-newest venv-oldest smoke-oldest matrix

help:
	@sed -n 's/^#   make /make /p' $(firstword $(MAKEFILE_LIST))

# --------------------------------------------------------------------------- venvs

venv: $(VENV_STAMP)

$(VENV_STAMP): $(VENV_REQUIREMENTS) $(VENV_NODEPS_REQUIREMENTS)
	@test -n "$(PYTHON)" || { echo "ERROR: no Python $(VENV_PYTHON_VERSIONS) found (PATH, pyenv); set PYTHON=..." >&2; exit 1; }
	@echo "--- creating $(VENV) with $(PYTHON)"
	rm -rf $(VENV)
	$(PYTHON) -c 'import sys; ok = "%d.%d" % sys.version_info[:2] in "$(VENV_PYTHON_VERSIONS)".split(); \
		assert ok, "need Python $(VENV_PYTHON_VERSIONS), got " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(VENV_BIN)/python -m pip install --quiet $(addprefix -r ,$(VENV_REQUIREMENTS)) 2>&1 \
		| { grep -v "^WARNING: Location 'file://" || true; }
	$(VENV_BIN)/python -m pip check
	$(if $(VENV_NODEPS_REQUIREMENTS),$(VENV_BIN)/python -m pip install --quiet --no-deps \
		$(addprefix -r ,$(VENV_NODEPS_REQUIREMENTS)) 2>&1 | { grep -v "^WARNING: Location 'file://" || true; })
	touch $@

importer-venv: $(IMPORTER_STAMP)

$(IMPORTER_STAMP): requirements-importer.txt
	@echo "--- creating $(IMPORTER_VENV) with $(PYTHON)"
	rm -rf $(IMPORTER_VENV)
	$(PYTHON) -m venv $(IMPORTER_VENV)
	$(IMPORTER_BIN)/python -m pip install --quiet -r requirements-importer.txt 2>&1 \
		| { grep -v "^WARNING: Location 'file://" || true; }
	$(IMPORTER_BIN)/python -m pip check
	touch $@

# --------------------------------------------------------------------------- build / install

stage:
	$(call copy_tree,$(STAGE))

# Built from the staged copy, so untracked-but-ignored clutter in the work tree (.ruff_cache,
# .ansible, editor files...) can never end up in the tarball; galaxy.yml's build_ignore still applies.
build: venv stage
	cd $(STAGE) && ansible-galaxy collection build --force --output-path $(BUILD_DIR)/
	@test -f $(TARBALL) || { echo "ERROR: expected $(TARBALL)" >&2; exit 1; }

install: build
	rm -rf $(COLLECTIONS_DIR)/ansible_collections/$(NAMESPACE)/$(NAME)
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_DIR) $(NONET) \
		ansible-galaxy collection install --no-deps --force -p $(COLLECTIONS_DIR) $(TARBALL)

# --------------------------------------------------------------------------- gates

# PYTHONPATH=build makes ansible_collections.envops.aws_secrets resolve to the staged copy of the
# source tree, while ansible_collections.amazon.aws still resolves from the venv's site-packages
# (ansible_collections is a namespace package in both places).
unit: venv stage
	cd $(STAGE) && $(call run_pytest,PYTHONPATH=$(BUILD_DIR) python -m pytest tests/unit -p no:cacheprovider $(UNIT_ARGS),tests/unit)

integration: install
	$(call run_pytest,ENVOPS_COLLECTIONS_PATH=$(COLLECTIONS_DIR) python -m pytest $(INTEGRATION_PATHS) -p no:cacheprovider \
		$(if $(filter-out 0 1,$(INTEGRATION_WORKERS)),-n $(INTEGRATION_WORKERS)) $(PYTEST_ARGS),tests/integration)

# ansible-lint runs offline (.ansible-lint), so it never installs this collection itself: point
# ANSIBLE_COLLECTIONS_PATH at the staged copy so playbooks/roles can resolve envops.aws_secrets.*.
# `duplicates` (a command on PATH in CI, never copied into the repo) lists the places in plugins/ that share a run
# of 6 or more lines of the same code or shape; it always exits 0, so its report decides. Without it on PATH, the
# check says that it did not run.
lint: venv stage
	ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) ansible-lint
	ruff check plugins tests .ci
	shellcheck .ci/run $(wildcard scripts/*.sh)
	@if ! command -v duplicates >/dev/null 2>&1; then \
		echo "lint: duplicates is not on PATH: repeated runs in plugins/ were not checked"; exit 0; fi; \
	report=$$(duplicates --repo plugins --most 40); echo "duplicates: $$report"; \
	if ! grep -q '^no duplicates' <<<"$$report" || grep -q '^incomplete:' <<<"$$report"; then \
		echo "ERROR: plugins/ repeats runs of 6 or more lines (or was not read whole): see above" >&2; exit 1; fi

# ansible-test needs the ansible_collections/<ns>/<name> layout and a VCS it understands (the copy
# has its own throwaway git index, see copy_tree), and writes tests/output/ into it. The collections
# this one depends on (galaxy.yml dependencies) are symlinked next to it from the venv's
# site-packages, which is where ansible-test's import/validate-modules/ansible-doc look for them.
# All 24 sanity tests of ansible-core 2.19 run; none is skipped (pslint reports "skipped" by itself
# because there are no PowerShell files).
sanity: venv
	@for f in tests/sanity/ignore-*.txt; do \
		if [ -s "$$f" ]; then echo "ERROR: $$f must stay empty (fix the code instead)" >&2; exit 1; fi; \
	done
	rm -rf $(SANITY_ROOT)
	$(call copy_tree,$(SANITY_TREE))
	@for dep in $$($(VENV_BIN)/python -c 'import yaml; print(" ".join((yaml.safe_load(open("galaxy.yml")) or {}).get("dependencies") or {}))'); do \
		ns=$${dep%%.*}; coll=$${dep#*.}; src="$(SITE_COLLECTIONS)/$$ns/$$coll"; \
		test -d "$$src" || { echo "ERROR: dependency $$dep not found in $(SITE_COLLECTIONS)" >&2; exit 1; }; \
		mkdir -p $(SANITY_ROOT)/ansible_collections/$$ns; \
		ln -sfn "$$src" $(SANITY_ROOT)/ansible_collections/$$ns/$$coll; \
		echo "linked dependency $$dep -> $$src"; \
	done
	mkdir -p $(SANITY_HOME)/.ansible/test/cache
	for version in $(ANSIBLE_TEST_PIP_VERSIONS); do \
		cp .ci/ansible_test_get_pip.py $(SANITY_HOME)/.ansible/test/cache/get_pip_$${version//./_}.py; \
	done
	cd $(SANITY_TREE) && HOME=$(SANITY_HOME) \
		ansible-test sanity --local --python $(SANITY_PYTHON) --color no $(SANITY_ARGS)

# References to this collection, its galaxy.yml dependencies and ansible.builtin are validated;
# references to other collections are accepted unchecked ('all' would load the docs of every
# collection shipped in the ansible package: ~3 minutes instead of ~5 seconds).
# .venv sits inside this git checkout, and antsibull-docs copies a dependency "as git would" when it finds a
# repository above it: only tracked files, so nothing of amazon.aws. GIT_CEILING_DIRECTORIES stops that search.
docs-lint: venv stage
	cd $(STAGE) && GIT_CEILING_DIRECTORIES=$(SITE_COLLECTIONS) antsibull-docs lint-collection-docs --plugin-docs \
		--validate-collection-refs dependent --check-extra-docs-refs .

changelog-lint: venv
	antsibull-changelog lint -v
	antsibull-changelog lint-changelog-yaml --strict changelogs/changelog.yaml

# The importer logs an "Ignore files skip ansible-test sanity tests, found ignore-X.txt with N
# statement(s)" WARNING for every ignore file, even an empty one. `make sanity` enforces that
# those files are empty, so only the N=0 form of that one message is allowed through; any other
# ERROR or WARNING line (including ansible-lint findings, which the importer logs as WARNING)
# fails the gate.
importer: build importer-venv
	cd $(BUILD_DIR) && rm -f importer.log importer_result.json
	cd $(BUILD_DIR) && GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/galaxy-importer.cfg PATH=$(IMPORTER_BIN):$$PATH \
		$(NONET) $(IMPORTER_BIN)/python -m galaxy_importer.main $(notdir $(TARBALL)) 2>&1 | tee importer.log
	@bad=$$(grep -E '\b(ERROR|WARNING)\b' $(BUILD_DIR)/importer.log \
		| grep -vE '^WARNING: Ignore files skip ansible-test sanity tests, found ignore-[0-9.]+\.txt with 0 statement\(s\)$$' \
		|| true); \
	if [ -n "$$bad" ]; then echo "ERROR: galaxy-importer reported problems:" >&2; echo "$$bad" >&2; exit 1; fi; \
	grep -q 'Importer processing completed successfully' $(BUILD_DIR)/importer.log; \
	echo "galaxy-importer: no ERROR/WARNING lines"

molecule: install
	@if ls extensions/molecule/*/molecule.yml >/dev/null 2>&1; then \
		cd extensions && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_DIR) ENVOPS_COLLECTIONS_PATH=$(COLLECTIONS_DIR) \
			NO_COLOR=1 molecule test --all; \
	else \
		echo "molecule: no scenarios in extensions/molecule"; \
	fi

# Runs every gate even after a failure, prints per-gate wall time, then fails if any gate failed.
test: venv
	@passed=0; failed=0; summary=""; \
	for gate in $(TEST_GATES); do \
		echo "=== $$(date -u +%FT%TZ) make $$gate"; \
		start=$$(date +%s); \
		if $(MAKE) $$gate; then status=ok; passed=$$((passed + 1)); \
		else status=FAILED; failed=$$((failed + 1)); fi; \
		secs=$$(( $$(date +%s) - start )); \
		echo "=== $$(date -u +%FT%TZ) make $$gate: $$status in $${secs}s"; \
		summary="$$summary$$(printf '%-16s %-7s %5ss' "$$gate" "$$status" "$$secs")"$$'\n'; \
	done; \
	echo; echo "gate             result   time"; printf '%s' "$$summary"; \
	echo "gates: $$passed passed, $$failed failed"; \
	test "$$failed" -eq 0

# --------------------------------------------------------------------------- demo / bench

demo:
	DEMO_VENV_BIN=$(VENV_BIN) DEMO_COLLECTIONS_PATH=$(COLLECTIONS_DIR) bash scripts/demo.sh

bench: install
	@if [ -f tests/benchmarks/run.py ]; then \
		ENVOPS_COLLECTIONS_PATH=$(COLLECTIONS_DIR) python tests/benchmarks/run.py $(BENCH_ARGS); \
	else \
		echo "bench: tests/benchmarks/run.py not present"; \
	fi

# --------------------------------------------------------------------------- support matrix
#
# The same gates, run by a recursive make with another venv, other pins and another build directory, so
# they can run side by side with the default `make test` (each integration suite starts its own moto on a
# free port). The interpreters are looked up like PYTHON (PATH, then pyenv); NEWEST_PYTHON=/OLDEST_PYTHON=
# override them.

NEWEST_VENV := .cache/venv-newest
NEWEST_PYTHON ?= $(shell bash scripts/find_python.sh 3.13 3.12)
NEWEST_GATES ?= unit integration sanity
OLDEST_VENV := .cache/venv-oldest
# ansible-core 2.17 runs its controller on Python 3.10 to 3.12.
OLDEST_PYTHON ?= $(shell bash scripts/find_python.sh 3.12 3.11)
SMOKE_PATHS ?= tests/integration/test_set_module.py tests/integration/test_info_module.py \
	tests/integration/test_lookup_secrets.py tests/integration/test_role_environment_secrets.py \
	tests/integration/test_migrating_example.py
MATRIX_LOGS := $(CURDIR)/build/matrix

NEWEST_MAKE = $(MAKE) PYTHON=$(NEWEST_PYTHON) VENV=$(NEWEST_VENV) VENV_REQUIREMENTS="requirements.txt requirements-newest.txt" \
	VENV_PYTHON_VERSIONS="3.13 3.12" BUILD_DIR=$(CURDIR)/build/newest
OLDEST_MAKE = $(MAKE) PYTHON=$(OLDEST_PYTHON) VENV=$(OLDEST_VENV) VENV_REQUIREMENTS="requirements.txt requirements-oldest.txt" \
	VENV_NODEPS_REQUIREMENTS=requirements-oldest-collections.txt VENV_PYTHON_VERSIONS="3.12 3.11 3.10" \
	BUILD_DIR=$(CURDIR)/build/oldest

venv-newest:
	$(NEWEST_MAKE) venv

test-newest:
	$(NEWEST_MAKE) TEST_GATES="$(NEWEST_GATES)" test

venv-oldest:
	$(OLDEST_MAKE) venv

smoke-oldest:
	$(OLDEST_MAKE) TEST_GATES="unit integration" INTEGRATION_PATHS="$(SMOKE_PATHS)" test

# Both matrix runs at once, each to its own log; prints the logs' gate summaries and fails if either failed.
matrix:
	@mkdir -p $(MATRIX_LOGS); \
	$(MAKE) test-newest >$(MATRIX_LOGS)/newest.log 2>&1 & newest=$$!; \
	$(MAKE) smoke-oldest >$(MATRIX_LOGS)/oldest.log 2>&1 & oldest=$$!; \
	rc=0; wait $$newest || rc=1; wait $$oldest || rc=1; \
	for run in newest oldest; do \
		echo "=== $$run ($(MATRIX_LOGS)/$$run.log)"; sed -n '/^gate  *result/,$$p' $(MATRIX_LOGS)/$$run.log; \
	done; \
	test "$$rc" -eq 0

# --------------------------------------------------------------------------- cleanup

clean:
	rm -rf build tests/output .pytest_cache

distclean: clean
	rm -rf $(VENV) $(IMPORTER_VENV) $(NEWEST_VENV) $(OLDEST_VENV)
