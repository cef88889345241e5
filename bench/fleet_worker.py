"""One nova-compute of the fleet benchmark, in a process of its own.

Nova's configuration (``CONF.host`` above all) is global to a process, so
each CPC subset of the fleet runs in its own process, the way each
nova-compute does.  The process answers commands from bench/fleet_bench.py
over a ``multiprocessing`` pipe: ``(command, args)`` in, ``('ok', result)``
or ``('error', one line)`` out.  A worker is either a DPMDriver (notifications
off or on) or the naive zhmcclient baseline, and can be switched between them
so that the fleet's processes start once for the three runs.  Nova and the
benches that import it are imported only in ``serve``, after Nova's set-up.
"""

import logging
import os
import time
import uuid

#: Seconds between a worker's attempts to use the HMC while it is away.
RETRY_INTERVAL = 0.25
#: The modes of a worker: the baseline, then DPMDriver without and with
#: HMC notifications.
NAIVE = 'naive'
POLLING = 'polling'
NOTIFICATIONS = 'notifications'
MODES = (NAIVE, POLLING, NOTIFICATIONS)


class _Naive(object):
    """The naive baseline as a fleet member (bench/naive.py)."""

    def __init__(self, sim, index):
        from bench import naive
        self.driver = naive.NaiveDriver(sim, prefix='naive-%02d-' % index)

    def add_stopped(self, count):
        from bench import driver_bench
        driver_bench._naive_stopped(self.driver, count)

    def build(self):
        self.driver.spawn(str(uuid.uuid4()))

    def cycle(self):
        self.driver.periodic_cycle()

    def probe(self):
        self.driver.list_instance_uuids()

    def close(self):
        for name in self.driver.list_instance_uuids():
            self.driver.destroy(name)
        self.driver.close()


class _NovaDpm(object):
    """A DPMDriver for one CPC subset, as nova-compute runs it."""

    def __init__(self, sim, index, state_path, notifications):
        from bench import driver_bench
        self._bench = driver_bench
        self.driver = driver_bench.started_driver(
            sim, state_path, driver_bench.HBA_KIND, host='fleet-%02d' % index,
            notifications=notifications)
        self.instances = []

    def add_stopped(self, count):
        for _ in range(count):
            instance = self._bench._instance()
            self._bench._spawn(self.driver, instance, power_on=False)
            self.instances.append(instance)

    def build(self):
        """Volume connector, then spawn, as nova-compute builds."""
        instance = self._bench._instance()
        self.instances.append(instance)
        self._bench._build(self.driver, instance)

    def cycle(self):
        self._bench._cycle(self.driver, self.instances)()

    def probe(self):
        self.driver.list_instance_uuids()

    def close(self):
        try:
            for instance in self.instances:
                self.driver.destroy(None, instance, None)
        finally:
            self.driver.cleanup_host(self.driver.get_available_nodes()[0])


def _until_working(member):
    """Use the HMC until a call succeeds; when it did (monotonic clock).

    CLOCK_MONOTONIC is one clock for every process of the machine, so the
    parent can compare it with the moment it brought the HMC back.
    """
    while True:
        try:
            member.probe()
            return time.monotonic()
        except Exception:  # noqa: B902 - any failure: the HMC is away
            time.sleep(RETRY_INTERVAL)


def _timed(function):
    started = time.monotonic()
    function()
    return time.monotonic() - started


class _Worker(object):
    def __init__(self, sim, index, state_dir):
        self.sim = sim
        self.index = index
        self.state_dir = state_dir
        self.member = None

    def become(self, mode, stopped):
        """Log on as ``mode``; create ``stopped`` instances and start one.

        The started one makes the driver wait for a job before the
        measured builds, as a nova-compute that has run a while has.
        """
        state_path = os.path.join(self.state_dir, mode)
        os.makedirs(state_path, exist_ok=True)
        if mode == NAIVE:
            self.member = _Naive(self.sim, self.index)
        else:
            self.member = _NovaDpm(self.sim, self.index, state_path,
                                   notifications=(mode == NOTIFICATIONS))
        self.member.add_stopped(stopped)
        self.member.build()

    def build(self):
        return _timed(self.member.build)

    def cycle(self):
        return _timed(self.member.cycle)

    def recover(self):
        return _until_working(self.member)

    def close(self):
        member, self.member = self.member, None
        if member is not None:
            member.close()


def serve(conn, sim, index, state_dir):
    """The worker process: answer commands until ``('exit', ())``."""
    os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
    # Warnings of 20 drivers during the HMC restart go to a file each.
    logging.basicConfig(filename=os.path.join(state_dir, 'worker.log'),
                        level=logging.WARNING)
    # Nova's set-up (tests/unit/__init__.py) first, then its objects.
    import nova.tests.unit  # noqa: F401
    import nova.objects  # noqa: H306 - after Nova's set-up
    nova.objects.register_all()
    worker = _Worker(sim, index, state_dir)
    conn.send(('ok', None))
    while True:
        command, args = conn.recv()
        if command == 'exit':
            worker.close()
            conn.send(('ok', None))
            return
        try:
            conn.send(('ok', getattr(worker, command)(*args)))
        except Exception as exc:  # noqa: B902 - reported to the parent
            conn.send(('error', '%s: %s' % (type(exc).__name__,
                                            ' '.join(str(exc).split()))))
