"""FaultSchedule against a fake simulator control client."""

import re
import threading
import time

import testtools

from minicloud import faults

DEADLINE = 60


class FakeClient(object):
    """The control API surface FaultSchedule uses, recording every call."""

    def __init__(self, total=1000, pending=None, failing=()):
        self.total = total
        self.pending = pending or {'latency': 0, 'rules': []}
        self.failing = failing
        self.calls = []
        self.lock = threading.Lock()

    def stats(self):
        return {'total': self.total, 'by_status': {}}

    def faults(self):
        return self.pending

    def fault(self, kind, **body):
        with self.lock:
            self.calls.append((kind, body))
        if kind in self.failing:
            raise RuntimeError('control API said no to %s' % kind)
        return {}

    def kinds(self):
        with self.lock:
            return [kind for kind, _ in self.calls]


def _normal(lines):
    return [' '.join(line.split()) for line in lines]


class RateFaultsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.client = FakeClient()
        self.schedule = faults.FaultSchedule(self.client, every_503=20,
                                             every_drop=50)
        self.schedule._base_total = 1000

    def served(self, count):
        self.client.total = 1000 + count
        self.schedule._rate_faults()

    def test_nothing_is_injected_before_the_first_period(self):
        self.served(19)

        self.assertEqual([], self.client.calls)

    def test_one_503_per_every_503_requests(self):
        self.served(100)

        self.assertIn(('fail', {'status': 503, 'reason': 0, 'count': 5}),
                      self.client.calls)
        self.assertEqual(5, self.schedule.injected['503'])

        del self.client.calls[:]
        self.served(130)

        self.assertEqual(
            [('fail', {'status': 503, 'reason': 0, 'count': 1})],
            self.client.calls)
        self.assertEqual(6, self.schedule.injected['503'])

    def test_one_drop_per_every_drop_requests(self):
        self.served(100)

        self.assertIn(('drop', {'count': 2}), self.client.calls)

        del self.client.calls[:]
        self.served(149)

        self.assertNotIn('drop', self.client.kinds())

        self.served(150)

        self.assertIn(('drop', {'count': 1}), self.client.calls)
        self.assertEqual(3, self.schedule.injected['dropped'])

    def test_requests_before_start_are_not_counted(self):
        self.client.total = 5000
        self.schedule._base_total = 5000

        self.schedule._rate_faults()

        self.assertEqual([], self.client.calls)


class SummaryTest(testtools.TestCase):

    def test_summary_reports_injected_and_served(self):
        schedule = faults.FaultSchedule(FakeClient())
        schedule.injected.update({'503': 6, 'dropped': 2,
                                  'lost create response': 1,
                                  'HMC sessions expired': 3})
        pending = {'latency': 0, 'rules': [
            {'kind': 'fail', 'method': None, 'uri': None, 'status': 503,
             'reason': 0, 'retry_after': None, 'message': None,
             'operation': None, 'remaining': 2},
            {'kind': 'lose-response', 'method': 'POST',
             'uri': faults.LOST_CREATE_URI, 'status': None, 'reason': None,
             'retry_after': None, 'message': None, 'operation': None,
             'remaining': 1},
        ]}

        lines = _normal(schedule.summary(pending))

        self.assertEqual([
            '503 injected 6, served 4',
            'HMC sessions expired injected 3, served 3',
            'dropped injected 2, served 2',
            'lost create response injected 1, served 0',
        ], lines)

    def test_summary_counts_pending_rules_of_one_kind_together(self):
        schedule = faults.FaultSchedule(FakeClient())
        schedule.injected['dropped'] = 5
        pending = {'latency': 0, 'rules': [
            {'kind': 'drop', 'remaining': 1},
            {'kind': 'drop', 'remaining': 2},
        ]}

        self.assertEqual(['dropped injected 5, served 2'],
                         _normal(schedule.summary(pending)))

    def test_summary_lists_schedule_errors(self):
        schedule = faults.FaultSchedule(FakeClient())
        schedule.errors.append('RuntimeError: gone')

        self.assertEqual(['schedule error: RuntimeError: gone'],
                         schedule.summary({'latency': 0, 'rules': []}))


class OutageTest(testtools.TestCase):

    def test_outage_takes_the_hmc_down_then_up(self):
        client = FakeClient()
        schedule = faults.FaultSchedule(client, outage_seconds=0.01)

        schedule._outage()

        self.assertEqual(['down', 'up'], client.kinds())

    def test_outage_ends_early_when_the_schedule_stops(self):
        client = FakeClient()
        schedule = faults.FaultSchedule(client, outage_seconds=3600)
        schedule._stop.set()

        schedule._outage()

        self.assertEqual(['down', 'up'], client.kinds())

    def test_outage_brings_the_hmc_up_when_interrupted(self):
        client = FakeClient()
        schedule = faults.FaultSchedule(client, outage_seconds=3600)

        class Interrupted(object):
            def wait(self, timeout):
                raise KeyboardInterrupt()

        schedule._stop = Interrupted()

        self.assertRaises(KeyboardInterrupt, schedule._outage)
        self.assertEqual(['down', 'up'], client.kinds())


class ScheduleTest(testtools.TestCase):

    def schedule(self, client):
        schedule = faults.FaultSchedule(
            client, cycle=0.3, lose_create_at=0.05, outage_at=0.1,
            outage_seconds=0.01, expire_at=0.15, tick=0.01)
        schedule.start()
        self.addCleanup(schedule._stop.set)
        return schedule

    def wait_for(self, client, kinds):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if set(kinds) <= set(client.kinds()):
                return
            time.sleep(0.01)
        self.fail('never injected %s; got %s' % (kinds, client.kinds()))

    def test_timed_faults_are_injected_and_stop_clears(self):
        pending = {'latency': 0, 'rules': [{'kind': 'drop', 'remaining': 1}]}
        client = FakeClient(pending=pending)
        schedule = self.schedule(client)

        self.wait_for(client, ['lose-response', 'down', 'up',
                               'expire-sessions'])
        result = schedule.stop()

        self.assertIs(pending, result)
        self.assertEqual('clear', client.kinds()[-1])
        self.assertEqual(1, client.kinds().count('clear'))
        for name in ('lost create response', 'HMC unreachable for 0.01s',
                     'HMC sessions expired'):
            self.assertGreaterEqual(schedule.injected[name], 1, name)
        self.assertEqual([], schedule.errors)
        lose = [body for kind, body in client.calls
                if kind == 'lose-response'][0]
        self.assertEqual('POST', lose['method'])
        self.assertIsNotNone(re.search(lose['uri'],
                                       '/api/cpcs/abc-123/partitions'))
        self.assertIsNone(re.search(lose['uri'],
                                    '/api/cpcs/abc-123/partitions/p1'))

    def test_rate_faults_count_from_start(self):
        client = FakeClient(total=700)
        schedule = self.schedule(client)
        client.total = 740

        self.wait_for(client, ['fail'])
        schedule.stop()

        self.assertEqual(2, schedule.injected['503'])
        self.assertEqual(0, schedule.injected['dropped'])

    def test_client_errors_are_recorded_not_raised(self):
        client = FakeClient(failing=('expire-sessions',))
        schedule = self.schedule(client)

        self.wait_for(client, ['expire-sessions'])
        pending = schedule.stop()

        lines = schedule.summary(pending)
        self.assertIn('schedule error: RuntimeError: control API said no '
                      'to expire-sessions', lines)
        self.assertNotIn('HMC sessions expired', schedule.injected)
        self.assertEqual('clear', client.kinds()[-1])
