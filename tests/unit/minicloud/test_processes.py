"""ProcessTable with real child processes in a temporary directory."""

import os
import signal
import sys
import time

import fixtures
import testtools

from minicloud import ports
from minicloud import processes

# Generous deadline for conditions polled on a shared, noisy machine.
DEADLINE = 60


def _group_members(pgid):
    """PIDs of living (not zombie) processes in process group ``pgid``."""
    members = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if fields[0] != 'Z' and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def _eventually(predicate):
    # Signals are delivered asynchronously: a killed process may take a
    # moment to disappear after stop_all() returned.
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class ProcessTableTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.pid_dir = os.path.join(tmp, 'pids')
        self.table = processes.ProcessTable(os.path.join(tmp, 'logs'),
                                            self.pid_dir)
        self.addCleanup(self.table.stop_all, grace=1)

    def wait_for_log(self, name, text):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            with open(self.table.log_path(name)) as f:
                content = f.read()
            if text in content:
                return content
            time.sleep(0.02)
        self.fail('%r never appeared in the log of %s' % (text, name))

    def test_stop_all_kills_the_whole_group_and_removes_pid_file(self):
        process = self.table.start(
            'forker', ['sh', '-c', 'sleep 300 & echo "child $!"; sleep 300'])
        pid_file = os.path.join(self.pid_dir, 'forker.pid')
        with open(pid_file) as f:
            self.assertEqual(process.pid, int(f.read()))
        log = self.wait_for_log('forker', 'child ')
        child = int(log.split('child ')[1].split()[0])
        self.assertTrue(_alive(child))

        self.table.stop_all(grace=5)

        self.assertTrue(_eventually(lambda: not _alive(child)))
        self.assertTrue(_eventually(lambda: not _group_members(process.pid)))
        self.assertFalse(os.path.exists(pid_file))
        self.assertEqual([], self.table.processes)

    def test_stop_all_kills_a_process_that_ignores_sigterm(self):
        process = self.table.start(
            'stubborn', ['sh', '-c', 'trap "" TERM; echo ready; sleep 300'])
        self.wait_for_log('stubborn', 'ready')

        self.table.stop_all(grace=0.2)

        self.assertEqual(-signal.SIGKILL, process.popen.returncode)
        self.assertTrue(_eventually(lambda: not _group_members(process.pid)))

    def test_stop_by_name_stops_only_that_service(self):
        first = self.table.start('first', ['sleep', '300'])
        second = self.table.start('second', ['sleep', '300'])

        self.table.stop('first', grace=5)

        self.assertFalse(first.alive())
        self.assertTrue(second.alive())
        self.assertEqual([second], self.table.processes)
        self.assertEqual(['second.pid'], os.listdir(self.pid_dir))

    def test_run_failure_names_the_command_and_shows_its_log_tail(self):
        exc = self.assertRaises(
            processes.ServiceFailed, self.table.run, 'db-sync',
            ['sh', '-c', 'echo starting; echo "table missing" >&2; exit 4'])

        message = str(exc)
        self.assertIn('db-sync failed (exit 4)', message)
        self.assertIn(self.table.log_path('db-sync'), message)
        self.assertIn('starting\ntable missing', message)
        self.assertEqual([], os.listdir(self.pid_dir))
        self.assertEqual([], self.table.processes)

    def test_run_success_returns_and_removes_its_pid_file(self):
        self.assertIsNone(self.table.run('setup', ['sh', '-c', 'echo ok']))

        self.assertEqual([], os.listdir(self.pid_dir))
        self.assertEqual([], self.table.processes)
        with open(self.table.log_path('setup')) as f:
            self.assertEqual('ok\n', f.read())

    def test_run_passes_extra_environment_and_cwd(self):
        cwd = self.useFixture(fixtures.TempDir()).path
        self.table.run('env', ['sh', '-c', 'echo "$MINI_VALUE $(pwd)"'],
                       env={'MINI_VALUE': 'forty-two'}, cwd=cwd)

        with open(self.table.log_path('env')) as f:
            self.assertEqual('forty-two %s\n' % os.path.realpath(cwd),
                             f.read())

    def test_run_that_times_out_is_stopped_and_reported(self):
        exc = self.assertRaises(
            processes.ServiceFailed, self.table.run, 'hang',
            ['sleep', '300'], timeout=0.2)

        self.assertIn('hang did not finish within', str(exc))
        self.assertEqual([], os.listdir(self.pid_dir))

    def test_wait_for_port_fails_when_the_process_exits_first(self):
        port = ports.free_ports(1)[0]
        process = self.table.start('api', ['sh', '-c', 'echo boom; exit 3'])

        exc = self.assertRaises(processes.ServiceFailed,
                                self.table.wait_for_port, process, port,
                                timeout=DEADLINE)

        message = str(exc)
        self.assertIn('api exited (code 3) before listening on port %d'
                      % port, message)
        self.assertIn('boom', message)

    def test_wait_for_port_returns_once_the_process_listens(self):
        port = ports.free_ports(1)[0]
        process = self.table.start('web', [
            sys.executable, '-m', 'http.server', '--bind', '127.0.0.1',
            str(port)])

        self.table.wait_for_port(process, port, timeout=DEADLINE)

        self.assertTrue(ports.is_listening(port))

    def test_console_gets_every_line_before_wait_returns(self):
        lines = []

        def console(line):
            time.sleep(0.05)    # a slow consumer must not lose the tail
            lines.append(line)

        process = self.table.start(
            'tempest', ['sh', '-c', 'echo one; echo two >&2; echo three'],
            console=console)

        self.assertEqual(0, process.wait())
        self.assertEqual(['one', 'two', 'three'], lines)
        with open(self.table.log_path('tempest')) as f:
            self.assertEqual('one\ntwo\nthree\n', f.read())

    def test_check_alive_names_the_dead_process(self):
        self.table.start('healthy', ['sleep', '300'])
        dead = self.table.start('doomed',
                                ['sh', '-c', 'echo "out of memory"; exit 2'])
        dead.popen.wait(timeout=DEADLINE)

        exc = self.assertRaises(processes.ServiceFailed,
                                self.table.check_alive)

        self.assertIn('doomed exited (code 2)', str(exc))
        self.assertIn('out of memory', str(exc))
        self.assertNotIn('healthy', str(exc))

    def test_check_alive_passes_while_everything_runs(self):
        self.table.start('healthy', ['sleep', '300'])

        self.table.check_alive()

    def test_forget_drops_a_finished_process_and_its_pid_file(self):
        process = self.table.start('once', ['true'])
        process.wait()

        self.table.forget(process)

        self.assertEqual([], self.table.processes)
        self.assertEqual([], os.listdir(self.pid_dir))
