# Bootstraps tox into a local virtualenv so a machine with only python3 and
# pip can run everything.
PYTHON ?= python3
TOOLS := .venv-tools
TOX := $(TOOLS)/bin/tox

.PHONY: demo test bench genconfig pep8 clean

$(TOX):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q 'tox>=4,<5'

demo: $(TOX)
	$(TOX) -e demo

test: $(TOX)
	$(TOX) -e py3,functional,pep8

bench: $(TOX)
	$(TOX) -e bench

genconfig: $(TOX)
	$(TOX) -e genconfig

pep8: $(TOX)
	$(TOX) -e pep8

clean:
	rm -rf $(TOOLS) .tox .stestr
