"""call(): the retry policy and the translation table in action."""

import threading

import fixtures
from nova import exception
import testtools
import zhmcclient

from nova_dpm.hmc import errors
from nova_dpm.hmc import supervisor
from tests.unit.hmc import fakes

CPC_URI = '/api/cpcs/' + fakes.CPC_OID
UUID = '6f1e4c1a-0000-4000-8000-000000000001'


def create_partition(name):
    def action(client):
        cpc = client.cpcs.resource_object(CPC_URI)
        return cpc.partitions.create({
            'name': name, 'initial-memory': 1024, 'maximum-memory': 1024,
            'ifl-processors': 1}).name
    return action


def partition_exists(name):
    """``already_done`` of creating partition ``name``."""
    def already_done(client):
        cpc = client.cpcs.resource_object(CPC_URI)
        found = cpc.partitions.list(filter_args={'name': name})
        return (True, found[0].name) if found else (False, None)
    return already_done


class CallTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.hmc = fakes.FakeHMC()
        self.sleeps = fakes.Sleeps()
        self.sup = self.start(retry_after=3)

    def start(self, **overrides):
        return fakes.start_supervisor(self, self.hmc, self.sleeps,
                                      **overrides)

    def list_cpcs(self, **kwargs):
        return self.sup.call(lambda c: [x.name for x in c.cpcs.list()],
                             what='list CPCs', **kwargs)

    def test_retryable_status_waits_retry_after_then_succeeds(self):
        self.hmc.fail('GET', '/api/cpcs', fakes.http_error(503, 1), times=2)
        self.assertEqual(['CPC1'], self.list_cpcs())
        self.assertEqual([3, 3], self.sleeps.calls)

    def test_retryable_status_beyond_budget_is_the_operation_failure(self):
        self.hmc.fail('GET', '/api/cpcs', fakes.http_error(503, 1), times=3)
        exc = self.assertRaises(exception.InstancePowerOnFailure,
                                self.list_cpcs,
                                failure=exception.InstancePowerOnFailure)
        self.assertIn('list CPCs', str(exc))
        self.assertIn('HTTP 503.1', str(exc))
        self.assertIsNotNone(exc.__cause__)
        self.assertIn('GET /api/cpcs: HTTP 503.1', self.log.output)

    def test_default_failure_is_hmc_operation_failed(self):
        self.hmc.fail('GET', '/api/cpcs', fakes.http_error(400, 7))
        self.assertRaises(errors.HMCOperationFailed, self.list_cpcs)

    def test_missing_partition_of_an_instance_is_instance_not_found(self):
        self.hmc.fail('GET', '/api/cpcs', fakes.http_error(404, 1))
        exc = self.assertRaises(exception.InstanceNotFound, self.list_cpcs,
                                instance_uuid=UUID)
        self.assertIn(UUID, str(exc))

    def test_wrong_state_is_for_the_caller(self):
        self.hmc.fail('GET', '/api/cpcs', fakes.http_error(
            409, 1, message='partition is starting'))
        exc = self.assertRaises(errors.WrongState, self.list_cpcs)
        self.assertEqual(1, exc.reason)
        self.assertIn('partition is starting', str(exc))

    def test_session_expiry_relogs_on_once(self):
        self.hmc.fail('GET', '/api/cpcs', fakes.http_error(403, 5))
        logons = self.hmc.logons
        self.assertEqual(['CPC1'], self.list_cpcs())
        self.assertEqual(logons + 1, self.hmc.logons)

    def test_runtime_auth_failure_says_credentials(self):
        self.hmc.fail('GET', '/api/cpcs', fakes.http_error(403, 5), times=2)
        self.hmc.fail('POST', '/api/sessions', zhmcclient.ServerAuthError(
            'HTTP authentication failed with 403,0',
            fakes.http_error(403, 0, 'POST', '/api/sessions')))
        exc = self.assertRaises(exception.HypervisorUnavailable,
                                self.list_cpcs)
        self.assertIn('hmc_password', str(exc))
        self.assertNotIn(fakes.PASSWORD, str(exc) + self.log.output)

    def test_read_retries_freely(self):
        self.hmc.fail('GET', '/api/cpcs', fakes.connection_error(
            'Connection aborted.'))
        self.assertEqual(['CPC1'], self.list_cpcs())

    def drop_after_create(self, then=lambda: None):
        """The HMC creates the partition, then the connection breaks.

        ``then`` runs between the two (a fault for what follows).
        """
        real_post = fakes.ScriptedSession.post
        dropped = []

        def post_then_drop(session, uri, *args, **kwargs):
            result = real_post(session, uri, *args, **kwargs)
            if uri.endswith('/partitions') and not dropped:
                dropped.append(uri)
                then()
                raise fakes.connection_error('Connection aborted.')
            return result
        self.useFixture(fixtures.MockPatchObject(
            fakes.ScriptedSession, 'post', post_then_drop))

    def test_lost_create_response_uses_already_done(self):
        self.drop_after_create()
        result = self.sup.call(create_partition('p1'), what='create p1',
                               mutating=True,
                               already_done=partition_exists('p1'))
        self.assertEqual('p1', result)
        self.assertEqual(['p1'], self.hmc.partitions())

    def test_a_failed_already_done_check_is_asked_again(self):
        # The create's answer is lost, then the check's own GET gets a 503:
        # the next attempt must ask again, not send a second create.
        self.drop_after_create(then=lambda: self.hmc.fail(
            'GET', '/partitions', fakes.http_error(503, 1)))
        result = self.sup.call(create_partition('p5'), what='create p5',
                               mutating=True,
                               already_done=partition_exists('p5'))
        self.assertEqual('p5', result)
        self.assertEqual(['p5'], self.hmc.partitions())
        self.assertEqual(1, self.hmc.count('POST', '/partitions'))

    def test_mutating_call_without_already_done_is_not_resent(self):
        self.hmc.fail('POST', '/partitions', fakes.connection_error(
            'Connection aborted.'))
        exc = self.assertRaises(
            exception.InstanceDeployFailure, self.sup.call,
            create_partition('p2'), what='create p2', mutating=True,
            failure=exception.InstanceDeployFailure)
        self.assertIn('not re-sent', str(exc))
        self.assertEqual(1, self.hmc.count('POST', '/partitions'))

    def test_mutating_500_without_already_done_is_not_resent(self):
        self.hmc.fail('POST', '/partitions', fakes.http_error(500, 0))
        self.assertRaises(errors.HMCOperationFailed, self.sup.call,
                          create_partition('p3'), mutating=True)
        self.assertEqual(1, self.hmc.count('POST', '/partitions'))

    def test_outage_longer_than_budget_fails_fast_then_recovers(self):
        self.hmc.fail('GET', '/api/', fakes.connection_error(), times=10000)
        exc = self.assertRaises(exception.HypervisorUnavailable,
                                self.list_cpcs)
        self.assertIn('unreachable after 3 attempts', str(exc))
        self.assertEqual('down', self.sup.status()['state'])
        # Fails fast while down, without sending the call to the HMC.
        cpc_gets = self.hmc.count('GET', '/api/cpcs')
        self.assertRaises(exception.HypervisorUnavailable, self.list_cpcs)
        self.assertEqual(cpc_gets, self.hmc.count('GET', '/api/cpcs'))
        with self.hmc.lock:
            self.hmc.script.clear()
        fakes.wait_for_state(self.sup, 'connected')
        self.assertEqual(['CPC1'], self.list_cpcs())

    def test_outage_shorter_than_budget_is_invisible(self):
        self.hmc.fail('GET', '/api/', fakes.connection_error(), times=2)
        self.assertEqual(['CPC1'], self.list_cpcs())

    def test_reconnect_fails_over_to_the_alternate(self):
        self.hmc.fail('GET', '/api/cpcs', fakes.connection_error())
        self.hmc.fail('GET', '/api/version', fakes.connection_error())
        self.assertEqual(['CPC1'], self.list_cpcs())
        self.assertEqual('10.0.0.6:6794', self.sup.status()['current_hmc'])
        self.assertEqual('10.0.0.6', self.hmc.requests[-1][2])

    def test_call_before_start_is_unavailable(self):
        sup = supervisor.HMCSupervisor(fakes.settings(), guru_report=False,
                                       session_factory=self.hmc.factory)
        self.assertRaises(exception.HypervisorUnavailable, sup.call,
                          lambda c: None)

    def test_concurrent_calls_use_several_sessions(self):
        sup = self.start(pool_size=3)
        barrier = threading.Barrier(3, timeout=5)
        seen = set()

        def action(client):
            seen.add(id(client.session))
            barrier.wait()
            return True
        threads = [threading.Thread(target=sup.call, args=(action,))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual(3, len(seen))
        self.assertEqual(3, sup.status()['sessions']['alive'])
        before = self.hmc.count('DELETE', '/api/sessions/this-session')
        sup.stop()
        self.assertEqual(
            before + 3, self.hmc.count('DELETE',
                                       '/api/sessions/this-session'))
