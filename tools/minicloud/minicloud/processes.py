"""Child processes tracked by PID, each in its own session with one log.

Every service is started with ``start_new_session=True`` so that it and
whatever it forks (gunicorn workers, Erlang helpers, conductor workers)
form one process group, which teardown signals as a whole: SIGTERM, then
SIGKILL after a grace period. A PID file per service lets an operator
find and stop a run whose runner was killed with SIGKILL.
"""

import os
import signal
import subprocess
import threading
import time

from minicloud import ports


class ServiceFailed(Exception):
    """A service did not start; the message names it and its log."""


class Process(object):

    def __init__(self, name, popen, log_path, pid_path):
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self.pid_path = pid_path
        self.tee_thread = None

    def wait(self):
        """Wait for the exit and for the last output line to be passed on."""
        rc = self.popen.wait()
        if self.tee_thread is not None:
            self.tee_thread.join()
        return rc

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return ''


class ProcessTable(object):
    """Starts services, waits for them, and stops all of them by PID."""

    def __init__(self, log_dir, pid_dir, env=None):
        self.log_dir = log_dir
        self.pid_dir = pid_dir
        self.env = dict(env if env is not None else os.environ)
        self.processes = []
        os.makedirs(log_dir, exist_ok=True)
        os.makedirs(pid_dir, exist_ok=True)

    def log_path(self, name):
        return os.path.join(self.log_dir, '%s.log' % name)

    def start(self, name, argv, env=None, cwd=None, console=None):
        """Start ``argv``; with ``console``, pass it each output line too."""
        log_path = self.log_path(name)
        child_env = dict(self.env)
        child_env.update(env or {})
        with open(log_path, 'ab') as log:
            popen = subprocess.Popen(
                argv, stdout=subprocess.PIPE if console else log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=child_env, cwd=cwd, start_new_session=True)
        pid_path = os.path.join(self.pid_dir, '%s.pid' % name)
        with open(pid_path, 'w') as f:
            f.write('%d\n' % popen.pid)
        process = Process(name, popen, log_path, pid_path)
        if console:
            process.tee_thread = threading.Thread(
                target=_tee, args=(popen.stdout, log_path, console),
                daemon=True)
            process.tee_thread.start()
        self.processes.append(process)
        return process

    def run(self, name, argv, env=None, cwd=None, timeout=600):
        """Run a one-shot command to completion, output to its own log."""
        process = self.start(name, argv, env=env, cwd=cwd)
        try:
            rc = process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._stop(process, grace=5)
            raise ServiceFailed('%s did not finish within %d s; see %s' % (
                name, timeout, process.log_path))
        finally:
            self._forget(process)
        if rc != 0:
            raise ServiceFailed('%s failed (exit %d); see %s:\n%s' % (
                name, rc, process.log_path, process.log_tail()))

    def wait_for_port(self, process, port, timeout=120):
        """Wait until ``process`` listens on ``port``; fail if it exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ports.is_listening(port):
                return
            if not process.alive():
                raise ServiceFailed(
                    '%s exited (code %s) before listening on port %d; see '
                    '%s:\n%s' % (process.name, process.popen.returncode,
                                 port, process.log_path, process.log_tail()))
            time.sleep(0.2)
        raise ServiceFailed('%s did not listen on port %d within %d s; see '
                            '%s' % (process.name, port, timeout,
                                    process.log_path))

    def check_alive(self):
        """Raise ServiceFailed naming the first service that has exited."""
        for process in self.processes:
            if not process.alive():
                raise ServiceFailed('%s exited (code %s); see %s:\n%s' % (
                    process.name, process.popen.returncode,
                    process.log_path, process.log_tail()))

    def stop(self, name, grace=20):
        for process in list(self.processes):
            if process.name == name:
                self._stop(process, grace)
                self._forget(process)

    def stop_all(self, grace=20):
        """Stop every service, newest first (clients before servers)."""
        for process in reversed(list(self.processes)):
            self._stop(process, grace)
            self._forget(process)

    def forget(self, process):
        """A process that ended by itself: drop it and its PID file."""
        self._forget(process)

    def _forget(self, process):
        if process in self.processes:
            self.processes.remove(process)
        try:
            os.unlink(process.pid_path)
        except OSError:
            pass

    @staticmethod
    def _stop(process, grace):
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # The group may outlive its leader (forked workers): kill the rest.
        _signal_group(process.pid, signal.SIGKILL)
        try:
            process.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def _tee(stream, log_path, console):
    with open(log_path, 'ab') as log:
        for line in iter(stream.readline, b''):
            log.write(line)
            log.flush()
            console(line.decode(errors='replace').rstrip('\n'))


def _signal_group(pgid, signum):
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass
