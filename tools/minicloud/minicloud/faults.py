"""Transient HMC faults on a schedule that stays within the retry budget.

Used by ``tox -e tempest-faults``. Two kinds of fault:

* by rate: every N-th HMC request (counted by the simulator) gets a 503,
  every M-th has its connection dropped without an answer;
* by time, in a repeating cycle: the response to the next Create Partition
  is lost after the partition was created, the HMC is unreachable for a
  few seconds, every HMC session expires.

All of them are within what the supervisor retries with nova.conf's
defaults, so tempest is expected to pass with zero failures. The schedule
records what it injected; ``summary()`` says how much of it the HMC
actually served (a rule nobody triggered is reported, not hidden).
"""

import collections
import threading
import time

LOST_CREATE_URI = r'/api/cpcs/[^/]+/partitions$'


class FaultSchedule(object):

    def __init__(self, client, every_503=20, every_drop=50, cycle=120.0,
                 lose_create_at=15.0, outage_at=45.0, outage_seconds=5.0,
                 expire_at=80.0, tick=0.25):
        self.client = client
        self.every_503 = every_503
        self.every_drop = every_drop
        self.cycle = cycle
        self.timed = sorted([
            (lose_create_at, 'lost create response', self._lose_create),
            (outage_at, 'HMC unreachable for %gs' % outage_seconds,
             self._outage),
            (expire_at, 'HMC sessions expired', self._expire),
        ])
        self.outage_seconds = outage_seconds
        self.tick = tick
        self.injected = collections.Counter()
        self.errors = []
        self._stop = threading.Event()
        self._thread = None
        self._base_total = None

    # --- the faults ---

    def _lose_create(self):
        self.client.fault('lose-response', method='POST',
                          uri=LOST_CREATE_URI)

    def _outage(self):
        self.client.fault('down')
        try:
            self._stop.wait(self.outage_seconds)
        finally:
            self.client.fault('up')

    def _expire(self):
        self.client.fault('expire-sessions')

    def _rate_faults(self):
        served = self.client.stats()['total'] - self._base_total
        due_503 = served // self.every_503 - self.injected['503']
        if due_503 > 0:
            self.client.fault('fail', status=503, reason=0, count=due_503)
            self.injected['503'] += due_503
        due_drop = served // self.every_drop - self.injected['dropped']
        if due_drop > 0:
            self.client.fault('drop', count=due_drop)
            self.injected['dropped'] += due_drop

    # --- the schedule ---

    def start(self):
        self._base_total = self.client.stats()['total']
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='hmc-fault-schedule')
        self._thread.start()

    def stop(self):
        """Stop injecting and remove every rule still pending."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.outage_seconds + 30)
        pending = self.client.faults()
        self.client.fault('clear')
        return pending

    def _run(self):
        started = time.monotonic()
        done_in_cycle = set()
        cycle_no = 0
        while not self._stop.wait(self.tick):
            elapsed = time.monotonic() - started
            if int(elapsed // self.cycle) != cycle_no:
                cycle_no = int(elapsed // self.cycle)
                done_in_cycle = set()
            offset = elapsed - cycle_no * self.cycle
            try:
                self._rate_faults()
                for at, name, inject in self.timed:
                    if offset >= at and name not in done_in_cycle:
                        done_in_cycle.add(name)
                        inject()
                        self.injected[name] += 1
            except Exception as exc:  # keep injecting; report at the end
                self.errors.append('%s: %s' % (type(exc).__name__, exc))

    def summary(self, pending):
        """Lines saying what was injected and what the HMC served."""
        left = collections.Counter()
        for rule in pending['rules']:
            left[_rule_key(rule)] += rule['remaining']
        lines = []
        for name, count in sorted(self.injected.items()):
            unserved = left.get(name, 0)
            lines.append('%-28s injected %4d, served %4d' % (
                name, count, count - unserved))
        for error in self.errors:
            lines.append('schedule error: %s' % error)
        return lines


def _rule_key(rule):
    kind = rule['kind']
    if kind == 'fail':
        return str(rule['status'])
    return {'drop': 'dropped', 'lose-response': 'lost create response'}.get(
        kind, kind)
