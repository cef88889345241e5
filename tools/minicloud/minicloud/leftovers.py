"""Services of earlier runs still alive (their runner was SIGKILLed).

Every run writes one PID file per service and removes it when the service
stops, so a PID file whose process is alive belongs to a run that never
reached its teardown. Such services do not disturb a new run (every run
has its own ports and directories), but they hold memory and ports; the
runner names them and ``--stop-leftovers`` stops them.
"""

import glob
import os
import signal


def find(runs_dir):
    """[(run directory, service name, pid)] of services still alive."""
    alive = []
    for pid_file in sorted(glob.glob(os.path.join(runs_dir, '*', 'pids',
                                                  '*.pid'))):
        try:
            with open(pid_file) as f:
                pid = int(f.read().strip())
            if pid <= 0:  # os.kill(0, ...) would mean our own group
                continue
            os.kill(pid, 0)
        except (OSError, ValueError):
            continue
        run_dir = os.path.dirname(os.path.dirname(pid_file))
        name = os.path.basename(pid_file)[:-len('.pid')]
        alive.append((run_dir, name, pid))
    return alive


def stop(leftovers):
    """SIGKILL each leftover's process group and remove its PID file."""
    for run_dir, name, pid in leftovers:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.unlink(os.path.join(run_dir, 'pids', name + '.pid'))
        except OSError:
            pass
