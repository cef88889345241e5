"""wait_for_job: adaptive polling, failures, time bound."""

from unittest import mock

from nova import exception
import testtools
import zhmcclient

from nova_dpm.hmc import errors
from nova_dpm.hmc import jobs
from tests.unit.hmc import fakes


def client_answering(*answers):
    client = mock.Mock()
    client.session.get.side_effect = list(answers)
    return client


RUNNING = {'status': 'running'}
DONE = {'status': 'complete', 'job-status-code': 200,
        'job-results': {'ok': 1}}


class WaitForJobTest(testtools.TestCase):

    def wait(self, client, clock, timeout=60, **kwargs):
        return jobs.wait_for_job(client, '/api/jobs/1', 'start p1',
                                 timeout=timeout, sleep=clock.sleep,
                                 clock=clock, **kwargs)

    def test_polls_on_the_one_poll_schedule(self):
        clock = fakes.FakeClock()
        client = client_answering(*([RUNNING] * 14 + [DONE]))
        self.assertEqual({'ok': 1}, self.wait(client, clock))
        # the ramp, 0.25 s until 2.5 s have passed, then 10 % of the time
        # waited
        self.assertEqual([0.05, 0.1, 0.2] + [0.25] * 9 + [0.26, 0.286],
                         [round(s, 3) for s in clock.sleeps])
        client.session.delete.assert_called_once_with('/api/jobs/1')

    def test_failed_job_raises_the_operation_failure(self):
        clock = fakes.FakeClock()
        client = client_answering({
            'status': 'complete', 'job-status-code': 409,
            'job-reason-code': 1, 'job-results': {'message': 'in use'}})
        exc = self.assertRaises(exception.InstancePowerOnFailure, self.wait,
                                client, clock,
                                failure=exception.InstancePowerOnFailure)
        self.assertIn('409.1', str(exc))
        self.assertIn('in use', str(exc))

    def test_timeout_raises_failure_within_bound(self):
        clock = fakes.FakeClock()
        client = mock.Mock()
        client.session.get.return_value = RUNNING
        exc = self.assertRaises(errors.HMCOperationFailed, self.wait,
                                client, clock, timeout=3)
        self.assertIn('operation_timeout', str(exc))
        self.assertLessEqual(clock.now, 3.0)

    def test_tolerates_a_short_outage_while_polling(self):
        clock = fakes.FakeClock()
        client = client_answering(fakes.connection_error(), RUNNING, DONE)
        self.assertEqual({'ok': 1}, self.wait(client, clock))

    def test_long_outage_propagates_connection_error(self):
        clock = fakes.FakeClock()
        client = mock.Mock()
        client.session.get.side_effect = fakes.connection_error()
        self.assertRaises(zhmcclient.ConnectionError, self.wait, client,
                          clock, unreachable_grace=2)
        self.assertLess(clock.now, 3)

    def test_vanished_job_is_a_failure(self):
        clock = fakes.FakeClock()
        client = client_answering(fakes.http_error(404, 1))
        self.assertRaises(errors.HMCOperationFailed, self.wait, client,
                          clock)
