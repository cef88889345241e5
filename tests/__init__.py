"""Every test's log records go with its result, never to the console.

stestr prints whatever a test process writes besides its results, so log
records must not reach a console handler:

* most tests derive from ``testtools.TestCase`` directly, and records of
  loggers without a handler would reach stderr through Python's "last
  resort" handler;
* importing ``nova.test`` (functional tests) sets up oslo.log with a
  handler on stdout, and Nova's log fixture leaves the root logger at
  DEBUG, so records of threads that outlive their test (Nova's thread
  pools, simulator connections, HMC probes) were printed.

So every TestCase starts by replacing the root logger's handlers with a
NullHandler (records emitted between tests belong to no test) and then
captures all levels with ``fixtures.FakeLogger``: the output is attached to
the test and shown only when it fails. Tests that install their own
FakeLogger (to assert on records) still see their records, and Nova's test
base installs its own capture on top.
"""

import logging

import fixtures
import testtools

_testtools_setup = testtools.TestCase.setUp


def _no_console_logging():
    root = logging.getLogger()
    root.handlers[:] = [logging.NullHandler()]
    root.setLevel(logging.WARNING)


def _setup_with_captured_logs(self):
    _testtools_setup(self)
    _no_console_logging()
    self.useFixture(fixtures.FakeLogger(level='DEBUG'))


testtools.TestCase.setUp = _setup_with_captured_logs
