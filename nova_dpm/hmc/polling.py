"""The one poll schedule for HMC state that changes by itself.

A job, a partition status after its job ("deferred status"), a storage
volume's fulfilment: the driver asks until the HMC says it is done.
Asking at a fixed rate costs requests in proportion to the wait (a 30 s
partition start polled every 0.25 s is 121 GETs, and one HMC serves every
nova-compute of every CPC it manages).  Here the interval grows with the
time already waited: after a short ramp (50 ms doubling to 0.25 s, so
quick jobs are seen quickly) it is ``max(0.25 s, 10 % of the elapsed
time)``.  A change is therefore seen at most 0.25 s or 10 % of its
elapsed time late, and the number of polls grows with the logarithm of
the wait (the interval grows geometrically, by 10 % a poll).  Every wait
ends at its deadline: the last interval is cut short to poll once more
at the deadline itself.

When an HMC notification will announce the change (the wait is
*covered*: the notification channel was up when the wait began and has
not dropped since, see :mod:`nova_dpm.hmc.waiters`), the sleep ends as
soon as it comes and polling is only the guard against a lost one: the
first poll after QUIET seconds, then every TAIL of the time waited (a
30 s job: polls at 15 and 22.5 s, and one to confirm the notification).
A lost notification is therefore seen at most max(QUIET, 50 %) late, and
the waiter hears of it (repeated misses make the channel subscribe again);
when the channel drops, the wait wakes and polls on the schedule above.
"""

import time

#: First interval of the ramp; it doubles up to MIN_INTERVAL.
FIRST_INTERVAL = 0.05
#: The smallest interval once the ramp is over (and the lateness allowed
#: for short waits).
MIN_INTERVAL = 0.25
#: The lateness allowed for long waits, as a fraction of the time waited.
LATENESS = 0.1
#: Covered waits: seconds before the first poll ...
QUIET = 15.0
#: ... and then the interval as a fraction of the time waited.
TAIL = 0.5


class PollSchedule(object):
    """When to poll next, from the start of a wait until its deadline.

    :param timeout: seconds from now until the deadline
    :param sleep: ``sleep(seconds)``; a caller that waits for a
        notification passes a function that returns early
    :param clock: monotonic clock (tests)
    :param covered: ``covered() -> bool``: a notification will end the
        wait (the sparse tail applies)
    """

    def __init__(self, timeout, sleep=time.sleep, clock=time.monotonic,
                 covered=lambda: False):
        self._sleep = sleep
        self._clock = clock
        self._covered = covered
        self.started = clock()
        self.deadline = self.started + timeout
        self._ramp = FIRST_INTERVAL
        #: The last sleep was covered and ran its full time (no
        #: notification and no loss woke it).
        self.slept_through = False

    def interval(self, now, covered=False):
        """Seconds until the next poll when the last one was at ``now``."""
        elapsed = now - self.started
        if covered:
            wanted = max(QUIET - elapsed, TAIL * elapsed)
        else:
            wanted = max(min(self._ramp, MIN_INTERVAL), LATENESS * elapsed)
        return max(0.0, min(wanted, self.deadline - now))

    def wait(self):
        """Sleep until the next poll; False (at once) past the deadline."""
        now = self._clock()
        if now >= self.deadline:
            return False
        covered = self._covered()
        woken = self._sleep(self.interval(now, covered))
        self.slept_through = covered and woken is False
        self._ramp *= 2
        return True


def poll_until(fetch, done, timeout, sleep=time.sleep, clock=time.monotonic,
               waiter=None, fetch_first=True):
    """Call ``fetch()`` until ``done(result)`` or ``timeout`` seconds passed.

    Polls on the :class:`PollSchedule`.  Returns the last result either
    way (``fetch`` is called at least once); exceptions of ``fetch``
    propagate.

    :param waiter: a :class:`~nova_dpm.hmc.waiters.Waiter` registered
        before the change can happen: its notification ends a sleep at
        once, and while it is covered the polls are sparse
    :param fetch_first: fetch before the first sleep even when covered
        (a status may already be reached; a job just started is not done)
    """
    covered = waiter.covered if waiter is not None else lambda: False
    schedule = PollSchedule(
        timeout, sleep=waiter.sleep if waiter is not None else sleep,
        clock=clock, covered=covered)
    result, fetched = None, False
    if fetch_first or not covered():
        result, fetched = fetch(), True
    while not (fetched and done(result)):
        if not schedule.wait() and fetched:
            break
        result, fetched = fetch(), True
    if waiter is not None and schedule.slept_through and done(result):
        waiter.missed()
    return result
