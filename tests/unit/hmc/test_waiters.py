"""The wait registry: who is woken by which notification, and when."""

import threading

import testtools

from nova_dpm.hmc import waiters

JOB = '/api/jobs/1'
PART = '/api/partitions/1'


def status_change(uri, *statuses):
    return ({'notification-type': 'status-change', 'object-uri': uri},
            {'change-reports': [{'old-status': 'x', 'new-status': s}
                                for s in statuses]})


class WaitRegistryTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.registry = waiters.WaitRegistry()

    def test_a_job_completion_wakes_its_waiter_only(self):
        with self.registry.watch_job(JOB) as mine, \
                self.registry.watch_job('/api/jobs/2') as other:
            self.registry.deliver({'notification-type': 'job-completion',
                                   'job-uri': JOB}, None)
            self.assertTrue(mine.sleep(0))
            self.assertFalse(other.sleep(0))
            # consumed
            self.assertFalse(mine.sleep(0))
        self.assertEqual(0, self.registry.waiting())

    def test_a_completion_before_registering_is_remembered(self):
        self.registry.deliver({'notification-type': 'job-completion',
                               'job-uri': JOB}, None)
        with self.registry.watch_job(JOB) as waiter:
            self.assertTrue(waiter.sleep(0))

    def test_only_wanted_statuses_wake(self):
        with self.registry.watch_status(
                PART, lambda s: s == 'active') as waiter:
            self.registry.deliver(*status_change(PART, 'starting'))
            self.registry.deliver(*status_change('/api/partitions/2',
                                                 'active'))
            self.assertFalse(waiter.sleep(0))
            self.registry.deliver(*status_change(PART, 'active'))
            self.assertTrue(waiter.sleep(0))

    def test_covered_only_while_up_since_the_mark(self):
        mark = self.registry.mark()
        self.registry.channel_up()
        with self.registry.watch_job(JOB, since=mark) as before_up:
            # the channel came up after the job started: it may have
            # missed the completion
            self.assertFalse(before_up.covered())
        with self.registry.watch_job(JOB) as waiter:
            self.assertTrue(waiter.covered())
            self.assertTrue(self.registry.channel_lost())
            # woken at once, and polls from now on
            self.assertTrue(waiter.sleep(0))
            self.assertFalse(waiter.covered())
            self.registry.channel_up()
            self.assertFalse(waiter.covered())

    def test_repeated_misses_in_one_generation_ask_to_subscribe_again(self):
        asked = []
        self.registry.on_missing = lambda: asked.append(True)
        self.registry.channel_up()
        misses = waiters.MISSES_BEFORE_RESUBSCRIBE
        for _ in range(misses - 1):
            with self.registry.watch_job(JOB) as waiter:
                waiter.missed()
        self.assertEqual([], asked)
        # a new generation (the channel dropped and came back) starts over
        self.registry.channel_lost()
        self.registry.channel_up()
        for n in range(misses):
            with self.registry.watch_job(JOB + str(n)) as waiter:
                waiter.missed()
        self.assertEqual([True], asked)

    def test_no_miss_when_uncovered_or_notified_meanwhile(self):
        asked = []
        self.registry.on_missing = lambda: asked.append(True)
        for n in range(waiters.MISSES_BEFORE_RESUBSCRIBE):
            # the channel is down: the wait polled, nothing was missed
            with self.registry.watch_job(JOB) as waiter:
                waiter.missed()
        self.registry.channel_up()
        for n in range(waiters.MISSES_BEFORE_RESUBSCRIBE):
            with self.registry.watch_job('/api/jobs/x%d' % n) as waiter:
                # the notification came while the poll was on its way
                self.registry.deliver({'notification-type': 'job-completion',
                                       'job-uri': '/api/jobs/x%d' % n}, None)
                waiter.missed()
        self.assertEqual([], asked)

    def test_a_notification_wakes_a_sleeping_thread(self):
        with self.registry.watch_job(JOB) as waiter:
            timer = threading.Timer(0.05, self.registry.deliver, (
                {'notification-type': 'job-completion', 'job-uri': JOB},
                None))
            timer.start()
            self.addCleanup(timer.cancel)
            self.assertTrue(waiter.sleep(5))

    def test_recent_completions_are_bounded(self):
        for n in range(waiters.RECENT_JOBS + 10):
            self.registry.deliver({'notification-type': 'job-completion',
                                   'job-uri': '/api/jobs/%d' % n}, None)
        with self.registry.watch_job('/api/jobs/0') as waiter:
            self.assertFalse(waiter.sleep(0))
