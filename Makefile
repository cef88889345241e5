# Bootstraps tox into a local virtualenv so a machine with only python3 and
# pip can run everything.
PYTHON ?= python3
TOOLS := .venv-tools
TOX := $(TOOLS)/bin/tox

.PHONY: demo test tempest tempest-faults tempest-full bench genconfig pep8 clean

$(TOX):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q 'tox>=4,<5'

# make demo INVENTORY=z17 (z16, z17 or z13): the simulated CPC kind.
INVENTORY ?= z16

demo: $(TOX)
	$(TOX) -e demo -- --inventory $(INVENTORY)

test: $(TOX)
	$(TOX) -e py3,functional,pep8

# tempest against a pip-installed cloud on the HMC simulator; installs
# MariaDB and RabbitMQ from the Debian archive when missing (root or sudo).
tempest: $(TOX)
	$(TOX) -e tempest

tempest-faults: $(TOX)
	$(TOX) -e tempest-faults

tempest-full: $(TOX)
	$(TOX) -e tempest-full

bench: $(TOX)
	$(TOX) -e bench

genconfig: $(TOX)
	$(TOX) -e genconfig

pep8: $(TOX)
	$(TOX) -e pep8

clean:
	rm -rf $(TOOLS) .tox .stestr .minicloud
