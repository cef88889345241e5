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
"""

import time

#: First interval of the ramp; it doubles up to MIN_INTERVAL.
FIRST_INTERVAL = 0.05
#: The smallest interval once the ramp is over (and the lateness allowed
#: for short waits).
MIN_INTERVAL = 0.25
#: The lateness allowed for long waits, as a fraction of the time waited.
LATENESS = 0.1


class PollSchedule(object):
    """When to poll next, from the start of a wait until its deadline.

    :param timeout: seconds from now until the deadline
    :param sleep: ``sleep(seconds)``; a caller that waits for a
        notification passes a function that returns early
    :param clock: monotonic clock (tests)
    """

    def __init__(self, timeout, sleep=time.sleep, clock=time.monotonic):
        self._sleep = sleep
        self._clock = clock
        self.started = clock()
        self.deadline = self.started + timeout
        self._ramp = FIRST_INTERVAL

    def interval(self, now):
        """Seconds until the next poll when the last one was at ``now``."""
        elapsed = now - self.started
        wanted = max(min(self._ramp, MIN_INTERVAL), LATENESS * elapsed)
        return max(0.0, min(wanted, self.deadline - now))

    def wait(self):
        """Sleep until the next poll; False (at once) past the deadline."""
        now = self._clock()
        if now >= self.deadline:
            return False
        self._sleep(self.interval(now))
        self._ramp *= 2
        return True


def poll_until(fetch, done, timeout, sleep=time.sleep, clock=time.monotonic):
    """Call ``fetch()`` until ``done(result)`` or ``timeout`` seconds passed.

    Polls on the :class:`PollSchedule`.  Returns the last result either
    way; exceptions of ``fetch`` propagate.
    """
    schedule = PollSchedule(timeout, sleep=sleep, clock=clock)
    while True:
        result = fetch()
        if done(result) or not schedule.wait():
            return result
