"""Runtime behaviour against a simulated HMC: retry, recover, fail fast."""

import threading
import time

from nova import exception

from nova_dpm.hmc import errors
from tests.functional.hmc import base


class RuntimeTest(base.SupervisorTestCase):

    def setUp(self):
        super().setUp()
        self.sup = self.supervisor()
        self.cpc_uri = '/api/cpcs/' + self.sim.cpc_object_id

    def cpc(self, client):
        return client.cpcs.resource_object(self.cpc_uri)

    def names(self):
        return self.sup.call(
            lambda c: sorted(p.name for p in self.cpc(c).partitions.list()),
            what='list partitions')

    def create(self, name, **kwargs):
        return self.sup.call(
            lambda c: self.cpc(c).partitions.create({
                'name': name, 'initial-memory': 1024,
                'maximum-memory': 1024, 'ifl-processors': 1}).uri,
            what='create partition %s' % name, mutating=True,
            failure=exception.InstanceDeployFailure, **kwargs)

    def test_outage_shorter_than_budget_is_invisible(self):
        self.sim.down()
        self.later(0.5, self.sim.up)
        result, seconds = self.timed(self.names)
        self.assertIsInstance(result, list)
        self.assertLess(seconds, 6)

    def test_long_outage_fails_fast_and_recovers_without_restart(self):
        self.sim.down()
        exc, seconds = self.timed(self.names)
        self.assertIsInstance(exc, exception.HypervisorUnavailable)
        self.assertIn('unreachable after 4 attempts', str(exc))
        self.assertLess(seconds, 2 * 4 + 4 + 3)
        exc, seconds = self.timed(self.names)
        self.assertIsInstance(exc, exception.HypervisorUnavailable)
        self.assertLess(seconds, 0.1)
        self.assertEqual('down', self.sup.status()['state'])
        self.sim.up()
        up_at = time.monotonic()
        while time.monotonic() - up_at < 10:
            try:
                self.names()
                break
            except exception.HypervisorUnavailable:
                time.sleep(0.05)
        recovery = time.monotonic() - up_at
        self.assertLess(recovery, 3)
        self.assertEqual([], self.names())

    def test_busy_hmc_while_reconnecting_is_retried_not_given_up(self):
        # The connection breaks; the first version query of the reconnect
        # gets a 503. Busy is not unreachable: reconnect again, succeed.
        self.sim.drop_next(1, method='GET', uri='/partitions$')
        self.sim.fail_next(1, 503, 0, method='GET', uri='/api/version$')
        self.assertEqual([], self.names())
        self.assertEqual('connected', self.sup.status()['state'])
        self.assertEqual([], self.sim.faults()['rules'])

    def test_hmc_busy_beyond_the_reconnect_budget_fails_fast(self):
        self.sim.drop_next(1, method='GET', uri='/partitions$')
        self.sim.fail_next(20, 503, 0, method='GET', uri='/api/version$')
        exc = self.assertRaises(exception.HypervisorUnavailable, self.names)
        self.assertIn('after 4 attempts', str(exc))
        self.assertIn('503', str(exc))

    def test_503_with_retry_after_is_honoured(self):
        self.sim.fail_next(1, 503, 0, retry_after=1, method='GET',
                           uri='/partitions$')
        result, seconds = self.timed(self.names)
        self.assertEqual([], result)
        self.assertGreaterEqual(seconds, 0.9)
        self.assertLess(seconds, 5)

    def test_503_beyond_budget_fails_with_the_operation_error(self):
        self.sim.fail_next(5, 503, 0, method='POST')
        exc = self.assertRaises(exception.InstanceDeployFailure,
                                self.create, 'p-503')
        self.assertIn('HTTP 503.0', str(exc))
        # The first try and retries_number (2) retries; 503 means the HMC
        # did not act, so even a mutating call may be re-sent.
        self.assertEqual(3, self.sim.stats()['by_call'][
            'POST /api/cpcs/{id}/partitions'])

    def test_session_expiry_is_a_transparent_relogon(self):
        logons = self.sim.stats()['logons']
        self.sim.expire_sessions()
        self.assertEqual([], self.names())
        self.assertEqual(logons + 1, self.sim.stats()['logons'])

    def partition_exists(self, name):
        """``already_done`` of creating partition ``name``."""
        def already_done(client):
            found = self.cpc(client).partitions.list(
                filter_args={'name': name})
            return (True, found[0].uri) if found else (False, None)
        return already_done

    def test_lost_create_response_leaves_exactly_one_partition(self):
        self.sim.lose_response_next(1, method='POST',
                                    uri='/partitions$')

        uri = self.create('p-once',
                          already_done=self.partition_exists('p-once'))
        self.assertTrue(uri.startswith('/api/partitions/'))
        self.assertEqual(['p-once'], self.names())

    def test_a_check_that_fails_is_made_again_before_any_resend(self):
        # What tempest-faults met: the create's answer lost, then a 503 on
        # the check's List Partitions; a second create would be refused
        # (400,8, the name is taken) and fail the build.
        self.sim.lose_response_next(1, method='POST', uri='/partitions$')
        self.sim.fail_next(1, 503, 1, retry_after=0, method='GET',
                           uri='/partitions')

        uri = self.create('p-checked',
                          already_done=self.partition_exists('p-checked'))
        self.assertTrue(uri.startswith('/api/partitions/'))
        self.assertEqual(['p-checked'], self.names())
        self.assertEqual(0, self.sim.stats()['rule_violations'])

    def test_lost_create_response_without_already_done_is_not_resent(self):
        self.sim.lose_response_next(1, method='POST',
                                    uri='/partitions$')
        self.assertRaises(exception.InstanceDeployFailure, self.create,
                          'p-maybe')
        self.assertEqual(['p-maybe'], self.names())

    def test_concurrent_calls_use_several_sessions(self):
        self.sim.set_latency(0.3)
        results = []
        threads = [threading.Thread(
            target=lambda: results.append(self.names())) for _ in range(3)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        self.assertEqual(3, len(results))
        self.assertEqual(3, self.sim.stats()['sessions_active'])
        # In parallel, not queued behind one session.
        self.assertLess(time.monotonic() - started, 3 * 0.3 * 3)
        self.sup.stop()
        self.assertEqual(0, self.sim.stats()['sessions_active'])

    def test_job_completion_is_seen_quickly(self):
        uri = self.create('p-job')
        self.sim.set_job_duration(0.3)

        def start(client):
            partition = self.cpc(client).partitions.resource_object(uri)
            job = partition.start(wait_for_completion=False)
            began = time.monotonic()
            self.sup.wait_for_job(client, job.uri, what='start p-job')
            return time.monotonic() - began
        seconds = self.sup.call(start, what='start p-job', mutating=True)
        self.assertLess(seconds, 0.3 + 0.5 + 0.5)

    def test_failed_job_raises_the_operation_failure(self):
        uri = self.create('p-fail')
        self.sim.fail_job_next(1, status=500, reason=263,
                               message='boot failed')

        def start(client):
            partition = self.cpc(client).partitions.resource_object(uri)
            job = partition.start(wait_for_completion=False)
            self.sup.wait_for_job(client, job.uri, what='start p-fail',
                                  failure=exception.InstancePowerOnFailure)
        exc = self.assertRaises(exception.InstancePowerOnFailure,
                                self.sup.call, start, mutating=True)
        self.assertIn('500.263', str(exc))

    def test_wrong_state_reaches_the_caller(self):
        uri = self.create('p-busy')

        def start(client):
            job = self.cpc(client).partitions.resource_object(uri).start(
                wait_for_completion=False)
            self.sup.wait_for_job(client, job.uri, what='start p-busy')
        self.sup.call(start, mutating=True)
        exc = self.assertRaises(
            errors.WrongState, self.sup.call,
            lambda c: c.session.delete(uri),
            mutating=True)
        self.assertEqual(409, exc.http_status)

    def test_stop_leaves_no_session(self):
        self.names()
        self.sup.stop()
        self.assertEqual(0, self.sim.stats()['sessions_active'])
        self.assertRaises(exception.HypervisorUnavailable, self.names)
        self.assertNotIn(base.PASSWORD, str(self.sup.status()))


class FailoverTest(base.SupervisorTestCase):

    hosts = ('127.0.0.1', '127.0.0.2')

    def test_fails_over_to_the_alternate_address(self):
        sup = self.supervisor()
        self.assertEqual('127.0.0.1:%d' % self.sim.port,
                         sup.status()['current_hmc'])
        self.sim.down('127.0.0.1')
        result = sup.call(lambda c: len(c.cpcs.list()), what='list CPCs')
        self.assertEqual(1, result)
        self.assertEqual('127.0.0.2:%d' % self.sim.port,
                         sup.status()['current_hmc'])
        sup.stop()
        self.assertEqual(0, self.sim.stats()['sessions_active'])
