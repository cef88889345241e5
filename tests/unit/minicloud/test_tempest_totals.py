"""Reading tempest's (stestr's) summary."""

import os
import types

import fixtures
import testtools

from minicloud import tempest_run

DOC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))), 'doc', 'tempest')

SUMMARY = """\
{1} tempest.api.compute.servers.test_servers.ServersTest.test_x ... ok

======
Totals
======
Ran: 136 tests in 102.4240 sec.
 - Passed: 106
 - Skipped: 21
 - Expected Fail: 0
 - Unexpected Success: 0
 - Failed: 9
Sum of execute time for each test: 187.3716 sec.

==============
Worker Balance
==============
 - Worker 0 (68 tests) => 0:01:40.133466
"""


def _totals(text):
    totals = tempest_run.Totals()
    for line in text.splitlines():
        totals.feed(line)
    return totals


class TotalsTest(testtools.TestCase):

    def test_a_full_summary_is_read(self):
        totals = _totals(SUMMARY)

        self.assertTrue(totals.complete)
        self.assertEqual('ran 136: passed 106, skipped 21, failed 9',
                         totals.line())
        self.assertEqual(136, totals.ran)
        self.assertEqual(102.424, totals.seconds)
        self.assertEqual(9, totals.get('failed'))

    def test_no_summary_is_incomplete(self):
        totals = _totals('{0} tempest.api.compute.test_x ... FAILED\n'
                         'Traceback (most recent call last):\n')

        self.assertFalse(totals.complete)
        self.assertEqual('tempest printed no summary', totals.line())

    def test_a_summary_without_the_failed_line_is_incomplete(self):
        totals = _totals('Ran: 3 tests in 1.0 sec.\n - Passed: 3\n')

        self.assertFalse(totals.complete)

    def test_unexpected_successes_count_as_failed(self):
        totals = _totals(SUMMARY.replace('Unexpected Success: 0',
                                         'Unexpected Success: 2'))

        self.assertEqual('ran 136: passed 106, skipped 21, failed 11',
                         totals.line())

    def test_a_single_test_run_is_read(self):
        totals = _totals('Ran: 1 test in 3.5 sec.\n - Passed: 1\n'
                         ' - Failed: 0\n')

        self.assertEqual('ran 1: passed 1, skipped 0, failed 0',
                         totals.line())


class ArgvTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.workspace = self.useFixture(fixtures.TempDir()).path
        self.cloud = types.SimpleNamespace(bin_dir='/venv/bin')
        self.tempest = tempest_run.Tempest(None, self.cloud, DOC_DIR,
                                           self.workspace)

    def test_smoke_selection_uses_the_doc_lists(self):
        self.assertEqual([
            '/venv/bin/tempest', 'run',
            '--include-list', os.path.join(DOC_DIR, 'include-list.txt'),
            '--exclude-list', os.path.join(self.workspace,
                                           'exclude-list.txt'),
            '--concurrency', '3'], self.tempest.argv('smoke', 3))

    def test_full_selection_runs_the_compute_api_package(self):
        argv = self.tempest.argv('full', 2)

        self.assertEqual(['--regex', r'^tempest\.api\.compute\.'],
                         argv[2:4])
        self.assertNotIn('--include-list', argv)

    def test_exclusions_are_the_drivers_and_the_minicloud_lists(self):
        self.tempest.argv('smoke', 2)

        with open(os.path.join(self.workspace, 'exclude-list.txt')) as f:
            merged = f.read()
        for name in tempest_run.EXCLUDE_LISTS:
            with open(os.path.join(DOC_DIR, name)) as f:
                self.assertIn(f.read(), merged)
        self.assertIn('floating_ips', merged)
        self.assertIn('test_get_hypervisor_uptime', merged)
