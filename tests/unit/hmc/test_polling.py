"""The one poll schedule: lateness bound, logarithmic request count."""

import math

import testtools

from nova_dpm.hmc import polling
from tests.unit.hmc import fakes


def wait_for(duration, timeout=3600):
    """Poll a job that ends after ``duration`` s; (polls, seen at, clock)."""
    clock = fakes.FakeClock()
    polls = []

    def fetch():
        polls.append(clock.now)
        return clock.now >= duration

    polling.poll_until(fetch, bool, timeout, sleep=clock.sleep, clock=clock)
    return polls, clock


class PollScheduleTest(testtools.TestCase):

    def test_ramps_up_to_a_quarter_second_first(self):
        polls, clock = wait_for(1.0)
        self.assertEqual([0.05, 0.1, 0.2, 0.25, 0.25, 0.25],
                         clock.sleeps[:6])

    def test_poll_count_for_2_10_30_60_second_jobs(self):
        # Before the schedule: 11, 42, 121, 241 polls (every 0.25 s).
        counts = {d: len(wait_for(d)[0]) for d in (2, 10, 30, 60)}
        self.assertEqual({2: 11, 10: 28, 30: 39, 60: 46}, counts)

    def test_request_count_grows_logarithmically(self):
        # Past the ramp every interval is 10 % longer than the last: doubling
        # the wait adds about log(2)/log(1.1) = 7.3 polls, whatever its length.
        step = math.log(2) / math.log(1.1)
        for duration in (30, 300, 3000):
            added = (len(wait_for(2 * duration, timeout=10000)[0]) -
                     len(wait_for(duration, timeout=10000)[0]))
            self.assertLessEqual(added, math.ceil(step) + 1, duration)

    def test_seen_within_ten_percent_or_a_quarter_second(self):
        for duration in (0.01, 0.3, 1.7, 2.6, 9.99, 31.4, 59.0, 600.0):
            polls, clock = wait_for(duration)
            late = polls[-1] - duration
            self.assertGreaterEqual(late, 0.0)
            self.assertLessEqual(late, max(0.25, 0.1 * duration) + 1e-9,
                                 duration)

    def test_last_poll_is_at_the_deadline_and_returns_the_last_result(self):
        polls, clock = wait_for(100, timeout=7.0)
        self.assertEqual(7.0, polls[-1])
        self.assertEqual(7.0, clock.now)

    def test_wait_refuses_at_once_past_the_deadline(self):
        clock = fakes.FakeClock()
        schedule = polling.PollSchedule(0.5, sleep=clock.sleep, clock=clock)
        while schedule.wait():
            pass
        self.assertEqual(0.5, clock.now)
        self.assertFalse(schedule.wait())
        self.assertEqual(0.5, clock.now)

    def test_exceptions_of_fetch_propagate(self):
        def fetch():
            raise ValueError('boom')

        self.assertRaises(ValueError, polling.poll_until, fetch, bool, 5)


class NotifiedWaiter(object):
    """A covered waiter on a fake clock: notified when the job ends.

    ``lost``: the notification never comes; ``drop_at``: the channel is
    lost then (the wait wakes and is no longer covered).
    """

    def __init__(self, clock, ends_at, lost=False, drop_at=None):
        self.clock = clock
        self.ends_at = ends_at
        self.lost = lost
        self.drop_at = drop_at
        self.misses = 0

    def missed(self):
        self.misses += 1

    def covered(self):
        return self.drop_at is None or self.clock.now < self.drop_at

    def sleep(self, seconds):
        wake = self.clock.now + seconds
        events = [t for t in (None if self.lost else self.ends_at,
                              self.drop_at)
                  if t is not None and self.clock.now < t <= wake]
        self.clock.sleep(min(events + [wake]) - self.clock.now)
        return bool(events)


def notified_wait(duration, fetch_first=False, waiter=None, **kwargs):
    clock = fakes.FakeClock()
    polls = []

    def fetch():
        polls.append(round(clock.now, 3))
        return clock.now >= duration

    waiter = waiter or NotifiedWaiter(clock, duration, **kwargs)
    waiter.clock = clock
    polling.poll_until(fetch, bool, 3600, clock=clock, waiter=waiter,
                       fetch_first=fetch_first)
    return polls


class CoveredScheduleTest(testtools.TestCase):
    """Waits a notification will end: sparse polls as a guard only."""

    def test_a_notified_job_costs_one_request_whatever_its_length(self):
        for duration in (0.5, 2, 10, 14.9):
            self.assertEqual([duration], notified_wait(duration))

    def test_thirty_second_job_costs_three_requests(self):
        # polls at 15 and 22.5 s, then the notification's confirmation
        self.assertEqual([15.0, 22.5, 30.0], notified_wait(30))
        self.assertEqual(5, len(notified_wait(60)))

    def test_a_lost_notification_costs_at_most_half_the_wait(self):
        for duration in (1, 14, 16, 30, 100, 1000):
            polls = notified_wait(duration, lost=True)
            late = polls[-1] - duration
            self.assertLessEqual(late, max(polling.QUIET - duration,
                                           polling.TAIL * duration) + 1e-9)

    def test_a_dropped_channel_polls_at_once_and_on_the_schedule(self):
        polls = notified_wait(30, drop_at=10.0)
        self.assertEqual(10.0, polls[0])
        # from then on within 10 % of the time waited
        self.assertLessEqual(polls[-1] - 30, 3.0)
        self.assertEqual(polls, sorted(polls))

    def test_the_waiter_hears_of_a_notification_that_did_not_come(self):
        for duration, lost, misses in ((30, True, 1), (30, False, 0),
                                       (1, True, 1)):
            waiter = NotifiedWaiter(None, duration, lost=lost)
            notified_wait(duration, waiter=waiter)
            self.assertEqual(misses, waiter.misses, (duration, lost))
        # a dropped channel is no miss: the wait polled on the schedule
        waiter = NotifiedWaiter(None, 30, lost=True, drop_at=10.0)
        notified_wait(30, waiter=waiter)
        self.assertEqual(0, waiter.misses)

    def test_fetch_first_looks_before_sleeping(self):
        self.assertEqual([0.0, 5.0], notified_wait(5, fetch_first=True))
