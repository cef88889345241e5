# Bootstraps tox into a local virtualenv (.venv-tools) so that a machine
# with python3 (and its venv module) and make can run everything.
PYTHON ?= python3
TOOLS := .venv-tools
TOX := $(TOOLS)/bin/tox
PY3_ENV := .tox/py3

# One environment, .tox/py3, serves the unit and functional tests, the demo,
# the benchmarks, coverage and the sample configuration: tox 4 recreates an
# environment directory that another environment name used, so instead of a
# copy of Nova per name these targets run an environment's commands (and
# setenv) from tox.ini inside py3.
IN_PY3 = $(TOX) -e py3 -x 'testenv:py3.commands={[testenv:$(1)]commands}' \
	-x 'testenv:py3.setenv={[testenv:$(1)]setenv}'

.PHONY: demo test functional tempest tempest-faults tempest-full bench \
	genconfig cover releasenotes pep8 first-run-note clean

$(TOX):
	@echo "== creating $(TOOLS) with tox (once; needs python3's venv module)"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --progress-bar off 'tox>=4,<5'

# tox shows one line per step but none of pip's output, so say what the
# silent minute or two is.
first-run-note: $(TOX)
	@test -d $(PY3_ENV) || echo "== first run: tox installs Nova and about \
	150 packages into $(PY3_ENV) (about 2 minutes and 450 MB; one line per \
	step, pip's own output is in $(PY3_ENV)/log)"

demo: first-run-note
	$(call IN_PY3,demo)

test: first-run-note
	$(TOX) -e py3,pep8
	$(call IN_PY3,functional)

functional: first-run-note
	$(call IN_PY3,functional)

bench: first-run-note
	$(call IN_PY3,bench)

genconfig: first-run-note
	$(call IN_PY3,genconfig)

cover: first-run-note
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
	$(TOX) -e tempest-faults

tempest-full: $(TOX)
	$(TOX) -e tempest-full

# Everything the targets above create: environments, test and coverage
# results, package build output, generated files.
clean:
	rm -rf $(TOOLS) .tox .stestr .minicloud build dist .eggs *.egg-info \
	    AUTHORS ChangeLog cover .coverage .coverage.* releasenotes/build \
	    etc/nova/nova_dpm.conf.sample demo-failure.log
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
