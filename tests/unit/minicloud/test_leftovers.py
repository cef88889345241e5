"""Services of runs whose runner was killed are found and stopped."""

import os
import subprocess

import fixtures
import testtools

from minicloud import leftovers


class LeftoversTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.runs = self.useFixture(fixtures.TempDir()).path

    def pid_file(self, run, name, pid):
        pids = os.path.join(self.runs, run, 'pids')
        os.makedirs(pids, exist_ok=True)
        with open(os.path.join(pids, name + '.pid'), 'w') as f:
            f.write('%d\n' % pid)

    def orphan(self):
        process = subprocess.Popen(['sleep', '300'], start_new_session=True)
        self.addCleanup(process.wait)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        return process

    def test_alive_services_are_found_and_dead_ones_ignored(self):
        process = self.orphan()
        self.pid_file('run-a', 'nova-compute', process.pid)
        dead = subprocess.Popen(['true'])
        dead.wait()
        self.pid_file('run-b', 'keystone-api', dead.pid)
        self.pid_file('run-b', 'garbage', 0)
        os.makedirs(os.path.join(self.runs, 'run-c', 'pids'))
        with open(os.path.join(self.runs, 'run-c', 'pids', 'x.pid'),
                  'w') as f:
            f.write('not a pid')

        self.assertEqual(
            [(os.path.join(self.runs, 'run-a'), 'nova-compute',
              process.pid)], leftovers.find(self.runs))

    def test_stop_kills_the_group_and_removes_the_pid_file(self):
        process = self.orphan()
        self.pid_file('run-a', 'nova-compute', process.pid)

        leftovers.stop(leftovers.find(self.runs))

        self.assertEqual(-9, process.wait(timeout=30))
        self.assertEqual([], leftovers.find(self.runs))
        self.assertEqual([], os.listdir(os.path.join(self.runs, 'run-a',
                                                     'pids')))

    def test_nothing_found_in_an_empty_or_missing_runs_directory(self):
        self.assertEqual([], leftovers.find(self.runs))
        self.assertEqual([], leftovers.find(os.path.join(self.runs, 'no')))
