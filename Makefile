# Crown Safe: the storage backend (crownsafe/) and its verification harness (harness/).
#
#   make run    set up what is missing, start the services, run the suites and the quick
#               benchmarks, write reports/runs/<ts>/index.html and print its path; exits 0
#               when ready, 2 otherwise (the verdict's own code: crownsafe-harness run)
#   make test   set up what is missing, lint, run every suite and every benchmark once
#
# Set-up is idempotent: stamps keyed on the hashes of pyproject.toml + constraints.txt,
# package-lock.json and localstack-requirements.txt (LocalStack's own venv) make a second
# `make bootstrap` take well under a second.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2
RUN_ARGS ?=

PY_HASH := $(shell cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -c1-16)
NODE_HASH := $(shell cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
PY_STAMP := $(VENV)/.bootstrap-$(PY_HASH)
NODE_STAMP := node_modules/.bootstrap-$(NODE_HASH)
LOCALSTACK_VENV ?= .venv-localstack
LOCALSTACK_HASH := $(shell cat localstack-requirements.txt 2>/dev/null | sha256sum | cut -c1-16)
LOCALSTACK_STAMP := $(LOCALSTACK_VENV)/.bootstrap-$(LOCALSTACK_HASH)
TEST_RUN_DIR ?= reports/runs/$(shell date -u +%Y%m%dT%H%M%SZ)-make-test
LINT_PATHS := crownsafe harness load suites benchmarks fixtures

# pytest exits 5 when it collects no tests: say so, and fail (an empty run proves nothing).
define run_pytest
	@echo "==> $(1)"
	@rc=0; $(2) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: pytest collected no tests in $(1) (exit 5): failing"; fi; \
	exit $$rc
endef

.PHONY: help bootstrap system-packages python-env node-env localstack-env lint rules test run unit contract clean distclean

help:
	@echo "make run        bootstrap, services, the run profile's suites, quick benchmarks, load, HTML report"
	@echo "make test       bootstrap, lint, pytest suites (xdist), benchmarks once (no timing)"
	@echo "make bootstrap  venvs (.venv, .venv-localstack), npm ci, system packages (apt-get when root)"
	@echo "make lint       ruff check, ruff format --check, mypy"
	@echo "make rules      promtool check rules + test rules on deploy/prometheus/"
	@echo "make clean      caches; make distclean also removes .venv, node_modules, runs"

bootstrap: system-packages python-env node-env localstack-env

# redis-server and PostgreSQL are needed by some suites, Node.js by Azurite, openssl for
# Azurite over HTTPS, Chromium to check the HTML report in a real browser, promtool (Debian's
# prometheus package) to check the alert rules and the metrics. As root with apt-get they are installed; otherwise the exact command
# is printed (Node.js is required, the others only by the suites that use them). Debian's
# prometheus package would start its service on install where services may start; nothing here needs it.
system-packages:
	@missing=""; \
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
	  || missing="$$missing postgresql"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	$(PYTHON) -c 'import ensurepip' >/dev/null 2>&1 || test -x $(BIN)/python || missing="$$missing python3-venv"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "bootstrap: installing$$missing (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "bootstrap: missing system packages:$$missing"; \
	  echo "bootstrap: run: sudo apt-get install -y$$missing"; \
	  case "$$missing" in *nodejs*|*python3-venv*) exit 1;; esac; \
	fi

python-env: $(PY_STAMP)

$(PY_STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "bootstrap: $(PYTHON) is older than 3.11; set PYTHON=python3.11 (or newer)"; exit 1; }
	@test -x $(BIN)/python || { echo "bootstrap: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "bootstrap: pip install -c constraints.txt -e '.[harness,dev]'"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[harness,dev]'
	@rm -f $(VENV)/.bootstrap-*
	@touch $@

node-env: $(NODE_STAMP)

$(NODE_STAMP):
	@echo "bootstrap: npm ci (Azurite)"
	@npm ci --no-audit --no-fund --loglevel=error
	@test -x node_modules/.bin/azurite-blob
	@touch $@

# LocalStack (S3 that checks presigned URLs) lives in its own venv: its pins clash with ours.
localstack-env: $(LOCALSTACK_STAMP)

$(LOCALSTACK_STAMP):
	@test -x $(LOCALSTACK_VENV)/bin/python || { echo "bootstrap: creating $(LOCALSTACK_VENV)"; $(PYTHON) -m venv $(LOCALSTACK_VENV); }
	@echo "bootstrap: pip install -r localstack-requirements.txt (into $(LOCALSTACK_VENV))"
	@$(LOCALSTACK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r localstack-requirements.txt
	@rm -f $(LOCALSTACK_VENV)/.bootstrap-*
	@touch $@

lint: bootstrap
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

# HYPOTHESIS_PROFILE=ci: Hypothesis' full example count (conftest.py; a plain pytest uses dev).
test: export HYPOTHESIS_PROFILE ?= ci
test: bootstrap lint rules
	$(call run_pytest,suites,$(BIN)/pytest suites -n $(PYTEST_WORKERS) --dist loadgroup -p no:locust --run-dir $(TEST_RUN_DIR) --junit-xml $(TEST_RUN_DIR)/junit/suites.xml)
	$(call run_pytest,benchmarks,$(BIN)/pytest benchmarks -p no:xdist -p no:locust --benchmark-disable --run-dir $(TEST_RUN_DIR) --junit-xml $(TEST_RUN_DIR)/junit/benchmarks.xml)
	@echo "make test: passed (results in $(TEST_RUN_DIR))"

# The alert rules of deploy/prometheus/: promtool checks them and runs their unit tests.
# promtool writes JUnit (--junit) from Prometheus 2.45 on; Debian 12's 2.42 cannot, so its
# result reaches JUnit through suites/unit/deploy/test_promtool.py (suites.xml).
RULE_FILES := $(wildcard deploy/prometheus/*.rules.yml)
RULE_TESTS := $(wildcard deploy/prometheus/*.test.yml)

rules: system-packages
	@echo "==> deploy/prometheus (promtool)"
	@command -v promtool >/dev/null 2>&1 || { echo "make: promtool is missing: run make bootstrap (Debian's prometheus package)"; exit 1; }
	promtool check rules $(RULE_FILES)
	@if promtool test rules --help 2>&1 | grep -q -- '--junit'; then \
	  mkdir -p $(TEST_RUN_DIR)/junit; \
	  echo "promtool test rules --junit=$(TEST_RUN_DIR)/junit/rules.xml $(RULE_TESTS)"; \
	  promtool test rules --junit=$(TEST_RUN_DIR)/junit/rules.xml $(RULE_TESTS); \
	else \
	  echo "promtool test rules $(RULE_TESTS)"; \
	  promtool test rules $(RULE_TESTS); \
	fi

# crownsafe-harness run's exit code is the verdict's (0 ready, 1 not ready, 2 usage error,
# 3 incomplete, 130/143 a signal), but make exits 2 for any failed recipe: `make run` is 0
# when ready and 2 otherwise. Its last line names the harness's own code; CI that needs it
# runs $(BIN)/crownsafe-harness run itself (README, "For CI").
run: bootstrap
	@echo "$(BIN)/crownsafe-harness run $(RUN_ARGS)"
	@rc=0; $(BIN)/crownsafe-harness run $(RUN_ARGS) || rc=$$?; \
	case $$rc in 0) exit 0;; 1) verdict="not ready";; 2) verdict="usage error";; \
	  3) verdict="incomplete";; 130|143) verdict="stopped by a signal";; *) verdict="failed";; esac; \
	echo "make run: crownsafe-harness run exited $$rc ($$verdict); make exits 2 for any failed" \
	  "recipe: for the verdict's own exit code run $(BIN)/crownsafe-harness run"; \
	exit $$rc

unit: bootstrap
	$(call run_pytest,suites/unit,$(BIN)/pytest suites/unit -p no:locust)

contract: bootstrap
	$(call run_pytest,suites/contract,$(BIN)/pytest suites/contract -n $(PYTEST_WORKERS) --dist loadgroup -p no:locust)

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks build
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -not -path "./node_modules/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(LOCALSTACK_VENV) node_modules reports/runs reports/latest *.egg-info
