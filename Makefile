# Bootstraps tox into a local virtualenv (.venv-tools) so that a machine
# with python3 (and its venv module) and make can run everything.
PYTHON ?= python3
TOOLS := .venv-tools
TOX := $(TOOLS)/bin/tox
PY3_ENV := .tox/py3

# One environment, .tox/py3, serves the unit and functional tests, the demo,
# the benchmarks, coverage and the sample configuration (and .tox/tempest
# the three tempest runs): tox 4 recreates an environment directory that
# another environment name used, so instead of a copy of Nova per name these
# targets run an environment's commands (and setenv) from tox.ini inside
# the shared one. $(call IN_ENV,<shared env>,<env whose commands run>);
# the tempest environments have the same setenv, the others their own.
IN_ENV = $(TOX) -e $(1) -x 'testenv:$(1).commands={[testenv:$(2)]commands}'
IN_PY3 = $(call IN_ENV,py3,$(1)) -x 'testenv:py3.setenv={[testenv:$(1)]setenv}'

.PHONY: demo test functional tempest tempest-faults tempest-full bench \
	genconfig cover releasenotes pep8 first-run clean

$(TOX):
	@echo "== creating $(TOOLS) with tox (once; needs python3's venv module)"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --progress-bar off 'tox>=4,<5'

# tox shows pip's output only at its most verbose (-vv, with its own debug
# lines), so the first run creates py3 that way and shows one line per
# package (the rest goes to $(PY3_ENV)/log).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
first-run: $(TOX)
	@if [ ! -d $(PY3_ENV) ]; then \
	    echo "== first run: tox installs Nova and about 150 packages into \
	$(PY3_ENV): about 2 minutes and 450 MB"; \
	    $(TOX) -vv -e py3 --notest 2>&1 | grep --line-buffered -E \
	        '^(Collecting|Processing|Downloading|Installing|py3: .*(install_deps|install_package)>)' \
	        | sed -u -e 's/ \[tox\/.*//' -e 's/^py3: [0-9]* [A-Z] /py3: /' \
	            -e 's/^\(.\{100\}\).*/\1/'; \
	fi

# make demo INVENTORY=z17 (z16, z17 or z13): the simulated CPC kind.
INVENTORY ?= z16

demo: first-run
	$(call IN_PY3,demo) -- --inventory $(INVENTORY)

# After a red run, the failed tests' names come last (a CI log's tail).
FAILED_TESTS = { $(PY3_ENV)/bin/python -m stestr failing --list 2>/dev/null \
	| sed 's/^/FAILED: /'; exit 1; }

test: first-run
	$(TOX) -e py3,pep8 || $(FAILED_TESTS)
	$(call IN_PY3,functional) || $(FAILED_TESTS)

functional: first-run
	$(call IN_PY3,functional) || $(FAILED_TESTS)

bench: first-run
	$(call IN_PY3,bench)

genconfig: first-run
	$(call IN_PY3,genconfig)

cover: first-run
	$(call IN_PY3,cover)

releasenotes: $(TOX)
	$(TOX) -e releasenotes

pep8: $(TOX)
	$(TOX) -e pep8

# tempest against a pip-installed cloud on the HMC simulator; installs
# MariaDB and RabbitMQ from the Debian archive when missing (root or sudo).
tempest: $(TOX)
	$(TOX) -e tempest

tempest-faults: $(TOX)
	$(call IN_ENV,tempest,tempest-faults)

tempest-full: $(TOX)
	$(call IN_ENV,tempest,tempest-full)

# Everything the targets above create: environments, test and coverage
# results, package build output, generated files.
clean:
	rm -rf $(TOOLS) .tox .stestr .minicloud build dist .eggs *.egg-info \
	    AUTHORS ChangeLog cover .coverage .coverage.* releasenotes/build \
	    etc/nova/nova_dpm.conf.sample demo-failure.log
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
