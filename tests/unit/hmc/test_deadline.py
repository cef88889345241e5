"""Every call and every start ends by its deadline; one error path."""

import dataclasses
import threading
import time

import fixtures
from nova import exception
import testtools
import zhmcclient

from nova_dpm.hmc import errors
from nova_dpm.hmc import inflight
from nova_dpm.hmc import policy
from nova_dpm.hmc import supervisor
from tests.unit.hmc import fakes


def read_timeout():
    return zhmcclient.ReadTimeout('Read timed out', None, 10, 0)


class CallPolicyTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.settings = fakes.settings(retries_number=2, retry_after=1,
                                       call_deadline=60)
        self.first = policy.CallPolicy.begin(self.settings, 'list CPCs',
                                             now=100.0)

    def busy(self, retry_after=None):
        return policy.CallFailed(fakes.http_error(503, 1),
                                 errors.Kind.RETRY_STATUS,
                                 retry_after=retry_after)

    def test_a_policy_is_an_immutable_value(self):
        second, wait = self.first.after(self.busy(), now=101.0)
        self.assertEqual(0, self.first.count(errors.Kind.RETRY_STATUS))
        self.assertEqual(1, second.count(errors.Kind.RETRY_STATUS))
        self.assertEqual(1, wait)
        self.assertEqual(160.0, second.deadline)
        self.assertRaises(dataclasses.FrozenInstanceError, setattr,
                          second, 'check_done', True)
        third, _wait = second.after(self.busy(), now=102.0)
        self.assertRaises(policy.GiveUp, third.after, self.busy(), 103.0)
        # Deciding again from the same policy gives the same answer.
        self.assertEqual(second, self.first.after(self.busy(), 101.0)[0])

    def test_retry_after_beyond_the_deadline_gives_up_at_once(self):
        gave_up = self.assertRaises(policy.GiveUp, self.first.after,
                                    self.busy(retry_after=600), 130.0)
        self.assertRegex(gave_up.why,
                         r'^the HMC asked to be retried in 600 s \(at '
                         r'\d\d:\d\d:\d\d UTC\), after the call deadline '
                         r'\(30 s left of call_deadline = 60 s\)$')

    def test_own_wait_beyond_the_deadline_gives_up(self):
        gave_up = self.assertRaises(policy.GiveUp, self.first.after,
                                    self.busy(), 159.5)
        self.assertEqual('no result within the call deadline '
                         '(call_deadline = 60 s)', gave_up.why)


class CallDeadlineTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.hmc = fakes.FakeHMC()
        self.sleeps = fakes.Sleeps()

    def start(self, **overrides):
        return fakes.start_supervisor(self, self.hmc, self.sleeps,
                                      **overrides)

    @staticmethod
    def list_cpcs(sup, **kwargs):
        return sup.call(lambda c: [x.name for x in c.cpcs.list()],
                        what='list CPCs', **kwargs)

    def test_retry_after_beyond_the_deadline_fails_at_once(self):
        sup = self.start(call_deadline=30, retry_after=0)
        error = fakes.http_error(503, 1)
        self.hmc.fail('GET', '/api/cpcs', error)
        session = self.hmc.sessions[-1]
        original_get = session.get

        def get(uri, *args, **kwargs):
            session.last_retry_after = 600
            return original_get(uri, *args, **kwargs)
        self.useFixture(fixtures.MockPatchObject(session, 'get', get))
        exc = self.assertRaises(exception.InstanceDeployFailure,
                                self.list_cpcs, sup,
                                failure=exception.InstanceDeployFailure)
        self.assertIn('list CPCs: simulated (HTTP 503.1); the HMC asked to '
                      'be retried in 600 s (at ', str(exc))
        self.assertEqual([], self.sleeps.calls)

    def test_waiting_for_a_reconnection_ends_at_the_deadline(self):
        sup = self.start(call_deadline=1, connect_retries=10000,
                         max_retry_interval=0.2)
        self.hmc.fail('GET', '/api/', fakes.connection_error(), times=10**6)
        started = time.monotonic()
        exc = self.assertRaises(exception.HypervisorUnavailable,
                                self.list_cpcs, sup)
        self.assertLess(time.monotonic() - started, 1.5)
        self.assertIn('list CPCs: HMC 10.0.0.5:6794, 10.0.0.6:6794 not '
                      'reachable within the call deadline (call_deadline '
                      '= 1 s; HMC 10.0.0.5:6794 unreachable (connection '
                      'refused)); reconnecting in the background', str(exc))
        self.assertEqual('reconnecting', sup.status()['state'])
        with self.hmc.lock:
            self.hmc.script.clear()
        self.assertEqual('connected', fakes.wait_for_state(sup, 'connected'))
        self.assertEqual(['CPC1'], self.list_cpcs(sup))

    def test_waiting_for_a_pooled_session_ends_at_the_deadline(self):
        sup = self.start(call_deadline=0.5, pool_size=1)
        holding = threading.Event()
        release = threading.Event()

        def hold(client):
            holding.set()
            release.wait(5)
            return 'held'
        holder = threading.Thread(target=sup.call, args=(hold,),
                                  kwargs={'what': 'hold the session'})
        holder.start()
        self.addCleanup(holder.join, 5)
        self.addCleanup(release.set)
        self.assertTrue(holding.wait(5))
        started = time.monotonic()
        exc = self.assertRaises(exception.HypervisorUnavailable,
                                self.list_cpcs, sup)
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertIn('list CPCs: all 1 sessions to HMC 10.0.0.5:6794 '
                      'stayed busy until the call deadline '
                      '(call_deadline = 0.5 s)', str(exc))
        waiting = sup.status()['waiting_calls']
        self.assertEqual(['hold the session'],
                         [call['what'] for call in waiting])
        self.assertGreater(waiting[0]['waiting_s'], 0.3)

    def test_read_timeout_of_a_mutating_call_is_never_resent(self):
        sup = self.start()
        self.hmc.fail('POST', '/partitions', read_timeout())

        def create(client):
            cpc = client.cpcs.resource_object('/api/cpcs/' + fakes.CPC_OID)
            return cpc.partitions.create({
                'name': 'p1', 'initial-memory': 1024,
                'maximum-memory': 1024, 'ifl-processors': 1}).name
        exc = self.assertRaises(exception.InstanceDeployFailure, sup.call,
                                create, what='create partition p1',
                                mutating=True,
                                failure=exception.InstanceDeployFailure)
        self.assertIn('may have carried it out', str(exc))
        self.assertEqual(1, self.hmc.count('POST', '/partitions'))
        self.assertEqual('unresponsive', sup.status()['state'])
        self.assertFalse(sup.status()['connected'])
        # Any answer of the HMC ends it.
        self.assertEqual(['CPC1'], self.list_cpcs(sup))
        self.assertEqual('connected', fakes.wait_for_state(sup, 'connected'))


#: Every fault kind a start-up step can meet.
FAULTS = {
    'refused': fakes.connection_error,
    'read timeout': read_timeout,
    'HTTP 500': lambda: fakes.http_error(500, 0),
    'HTTP 503': lambda: fakes.http_error(503, 0),
    'HTTP 403.1': lambda: fakes.http_error(403, 1),
    'bad JSON': lambda: zhmcclient.ParseError('Expecting value: line 1'),
}

#: The requests of the start, in order.
STEPS = {
    'version query': ('GET', '/api/version'),
    'logon': ('POST', '/api/sessions'),
    'CPC check': ('GET', '/api/cpcs/'),
    'adapter check': ('GET', '/api/adapters/'),
}


class StartFaultTest(testtools.TestCase):
    """No raw zhmcclient exception escapes start(), whatever fails."""

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level='DEBUG'))

    def test_each_fault_at_each_step_is_one_startup_error(self):
        for step, (method, uri) in STEPS.items():
            for fault, make in FAULTS.items():
                hmc = fakes.FakeHMC()
                hmc.fail(method, uri, make(), times=100)
                sup = supervisor.HMCSupervisor(
                    fakes.settings(storage_adapter_mappings=(
                        (fakes.FCP_OID, 0),)),
                    session_factory=hmc.factory, sleep=fakes.Sleeps(),
                    guru_report=False)
                try:
                    sup.start()
                except errors.HMCStartupError as exc:
                    message = str(exc)
                else:
                    self.fail('%s at %s: start succeeded' % (fault, step))
                finally:
                    sup.stop()
                self.assertNotIn('\n', message)
                self.assertNotIn(fakes.PASSWORD, message)
                self.assertIn('10.0.0.5', message, '%s/%s' % (step, fault))
                self.assertEqual(
                    hmc.logons, hmc.count('DELETE', '/this-session'),
                    '%s at %s left a session' % (fault, step))

    def test_adapter_read_failure_names_the_mapping(self):
        hmc = fakes.FakeHMC()
        hmc.fail('GET', '/api/adapters/', fakes.connection_error(),
                 times=100)
        sup = supervisor.HMCSupervisor(
            fakes.settings(storage_adapter_mappings=((fakes.FCP_OID, 0),)),
            session_factory=hmc.factory, sleep=fakes.Sleeps(),
            guru_report=False)
        exc = self.assertRaises(errors.HMCStartupError, sup.start)
        self.assertEqual(
            'physical_storage_adapter_mappings entry %s:0: the adapter '
            'could not be read: HMC 10.0.0.5:6794 unreachable (connection '
            "refused) (HMC 10.0.0.5:6794, user 'nova')" % fakes.FCP_OID,
            str(exc))


class InFlightTest(testtools.TestCase):

    def test_lists_waiting_calls_longest_first_and_reports_idle(self):
        now = [100.0]
        idle = []
        calls = inflight.InFlight(on_idle=lambda: idle.append(now[0]),
                                  clock=lambda: now[0])
        with calls.waiting('first') as first:
            now[0] = 101.0
            with calls.waiting('second'):
                now[0] = 103.5
                self.assertEqual([{'what': 'first', 'waiting_s': 3.5},
                                  {'what': 'second', 'waiting_s': 2.5}],
                                 calls.snapshot())
                self.assertIsNone(calls.oldest_request())
                with calls.on_hmc(first):
                    self.assertEqual(103.5, calls.oldest_request())
            self.assertEqual([], idle)
        self.assertEqual([103.5], idle)
        self.assertEqual([], calls.snapshot())
