"""Who waits for which HMC notification, and whether one will come.

A caller waiting for a job or a partition status registers here what it
waits for and then sleeps on its own :class:`Waiter`; the notification
receiver hands every notification to :meth:`WaitRegistry.deliver`, which
wakes the waiters it answers.  The registry also knows whether the
channel is *up* (connected and subscribed) and counts its *generation*:
every change of the channel starts a new one, and a loss wakes every
waiter, so a wait that did not begin on a channel that is still up knows
it may have missed its notification and polls instead (a notification
sent while the channel is down is lost: nothing resends it).

A job's completion can arrive before its waiter registers (the job URI is
only known once the POST answered), so the last completions are kept.

A covered wait that a poll ends found its notification missing although
the channel looked up.  One such wait is a lost notification; several in
one generation mean a topic that does not deliver (a subscription the HMC
dropped or never made): the registry then asks the channel to connect
again with every topic, rather than leave every later job to the slow
fallback poll.
Thread-safe; no lock is held while a waiter sleeps or an HMC request runs.
"""

import collections
import threading

#: Job completions kept for waiters that register after the notification.
RECENT_JOBS = 512
#: Covered waits ended by a poll, in one generation, before the channel
#: is asked to subscribe again.
MISSES_BEFORE_RESUBSCRIBE = 3


class Waiter(object):
    """One wait: woken by its notification or by the channel's loss.

    :ivar generation: the registry's generation the wait counts on
    """

    def __init__(self, registry, key, wanted, generation):
        self._registry = registry
        self.key = key
        self.wanted = wanted
        self.generation = generation
        self._event = threading.Event()

    def covered(self):
        """Whether a notification will end this wait (channel up since)."""
        return self._registry.covers(self.generation)

    def sleep(self, seconds):
        """Sleep up to ``seconds``; True when woken (notified or channel lost).

        The wake-up is consumed: a notification arriving during the
        caller's next fetch wakes the next sleep.
        """
        woken = self._event.wait(seconds)
        self._event.clear()
        return woken

    def wake(self):
        self._event.set()

    def missed(self):
        """A poll, not the notification, ended this covered wait.

        Not when the notification came while that poll was on its way.
        """
        if not self._event.is_set():
            self._registry.missed(self.generation)

    def close(self):
        self._registry.unregister(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class WaitRegistry(object):
    """Waiters by what they wait for; the channel's state."""

    def __init__(self, on_missing=lambda: None):
        """Nobody waits yet; the channel is down.

        :param on_missing: called (no lock held) when covered waits keep
            ending without their notification: subscribe again
        """
        self._lock = threading.Lock()
        self._waiters = collections.defaultdict(set)
        self._recent_jobs = collections.OrderedDict()
        self._generation = 0
        self._up = False
        self._misses = 0
        self.on_missing = on_missing

    # -- the channel ------------------------------------------------------
    def mark(self):
        """The current generation, taken before starting a job."""
        with self._lock:
            return self._generation

    def covers(self, generation):
        """Up, and not lost since ``generation`` was current."""
        with self._lock:
            return self._up and generation == self._generation

    @property
    def up(self):
        with self._lock:
            return self._up

    def channel_up(self):
        """The receiver is connected and subscribed to every topic.

        A new generation: a job started while the channel was down may
        have ended unannounced.
        """
        with self._lock:
            self._up = True
            self._generation += 1
            self._misses = 0

    def channel_lost(self):
        """Notifications may be missed from now: every waiter polls."""
        with self._lock:
            was_up, self._up = self._up, False
            self._generation += 1
            self._misses = 0
            waiters = [w for ws in self._waiters.values() for w in ws]
        for waiter in waiters:
            waiter.wake()
        return was_up

    def missed(self, generation):
        """A wait covered since ``generation`` ended without its notification.

        Returns True when this miss asked the channel to subscribe again.
        """
        with self._lock:
            if not (self._up and generation == self._generation):
                return False
            self._misses += 1
            if self._misses < MISSES_BEFORE_RESUBSCRIBE:
                return False
            self._misses = 0
            on_missing = self.on_missing
        on_missing()
        return True

    # -- waiters ----------------------------------------------------------
    def watch_job(self, job_uri, since=None):
        """Register a wait for the completion of ``job_uri``.

        :param since: :meth:`mark` taken before the job was started; None:
            now (the caller then fetches once before it sleeps)
        """
        with self._lock:
            waiter = Waiter(self, ('job', job_uri), None,
                            self._generation if since is None else since)
            self._waiters[waiter.key].add(waiter)
            if job_uri in self._recent_jobs:
                waiter.wake()
        return waiter

    def watch_status(self, uri, wanted):
        """Register a wait for object ``uri`` to reach a wanted status.

        :param wanted: ``wanted(status) -> bool``
        """
        with self._lock:
            waiter = Waiter(self, ('status', uri), wanted, self._generation)
            self._waiters[waiter.key].add(waiter)
        return waiter

    def unregister(self, waiter):
        with self._lock:
            waiters = self._waiters.get(waiter.key)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[waiter.key]

    def waiting(self):
        """How many waits are registered (status output, tests)."""
        with self._lock:
            return sum(len(ws) for ws in self._waiters.values())

    # -- notifications ----------------------------------------------------
    def deliver(self, headers, message):
        """Wake the waiters one HMC notification answers."""
        kind = headers.get('notification-type')
        if kind == 'job-completion':
            self._job_completed(headers.get('job-uri'))
        elif kind == 'status-change':
            statuses = [report.get('new-status') for report in
                        (message or {}).get('change-reports') or ()
                        if isinstance(report, dict)]
            self._status_changed(headers.get('object-uri'), statuses)

    def _job_completed(self, job_uri):
        if not job_uri:
            return
        with self._lock:
            self._recent_jobs[job_uri] = True
            while len(self._recent_jobs) > RECENT_JOBS:
                self._recent_jobs.popitem(last=False)
            waiters = list(self._waiters.get(('job', job_uri), ()))
        for waiter in waiters:
            waiter.wake()

    def _status_changed(self, uri, statuses):
        with self._lock:
            waiters = list(self._waiters.get(('status', uri), ()))
        for waiter in waiters:
            if any(waiter.wanted(status) for status in statuses):
                waiter.wake()
