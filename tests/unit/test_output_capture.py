"""A green test run is quiet: tests/__init__.py keeps logs off the console.

Each case runs a small test module in a child process, as a stestr worker
would, and looks at what reached its stdout and stderr.
"""

import os
import subprocess
import sys
import textwrap

import fixtures
import testtools

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

NOISY_TESTS = textwrap.dedent('''
    import logging
    import sys
    import threading

    import testtools

    import tests  # noqa: F401 (captures every test's logs)

    # As importing nova.test does: a console handler on the root logger.
    logging.getLogger().addHandler(logging.StreamHandler(sys.stdout))
    logging.getLogger().setLevel(logging.DEBUG)
    LOG = logging.getLogger('noisy')


    class Noisy(testtools.TestCase):

        def test_logs_during_and_after_itself(self):
            LOG.warning('IN-TEST-RECORD')
            self.timer = threading.Timer(0.2, LOG.warning, ['LATE-RECORD'])
            self.timer.start()
            if FAIL:
                self.fail('failing on purpose')

        def test_waits_for_the_late_record(self):
            threading.Event().wait(0.5)
    ''')


class GreenRunIsQuietTest(testtools.TestCase):

    def _run(self, fail):
        tmp = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(tmp, 'noisy_tests.py'), 'w') as f:
            f.write('FAIL = %r\n' % fail + NOISY_TESTS)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([tmp, REPO]))
        return subprocess.run(
            [sys.executable, '-m', 'testtools.run', 'noisy_tests'],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp)

    def test_passing_tests_print_no_log_record(self):
        result = self._run(fail=False)
        self.assertEqual(0, result.returncode, result.stderr)
        output = result.stdout + result.stderr
        self.assertNotIn('IN-TEST-RECORD', output)
        self.assertNotIn('LATE-RECORD', output)

    def test_a_failing_test_shows_its_log_records(self):
        result = self._run(fail=True)
        self.assertNotEqual(0, result.returncode)
        self.assertIn('IN-TEST-RECORD', result.stdout + result.stderr)
