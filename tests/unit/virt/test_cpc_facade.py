"""nova_dpm.hmc.cpc.ManagedCpc on zhmcclient.mock via the real supervisor.

Start/stop jobs are not in zhmcclient.mock; their state machine is tested
here with scripted statuses and against the simulator functionally.
"""

from unittest import mock

import fixtures
from nova import exception
import testtools

from nova_dpm.hmc import cpc as cpc_mod
from nova_dpm.hmc import HMCSupervisor
from nova_dpm.hmc import waiters
from nova_dpm.hmc import WrongState
from tests.unit.hmc import fakes as hmc_fakes

PROPS = {'name': 'OpenStack-abcd1234-x', 'ifl-processors': 1,
         'initial-memory': 1024, 'maximum-memory': 1024}


class ManagedCpcTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.hmc = hmc_fakes.FakeHMC()
        state_dir = self.useFixture(fixtures.TempDir()).path
        self.sup = HMCSupervisor(
            hmc_fakes.settings(), connection_id='test', state_dir=state_dir,
            session_factory=self.hmc.factory, sleep=lambda s: None,
            guru_report=False)
        self.sup.start()
        self.addCleanup(self.sup.stop)
        self.cpc = cpc_mod.ManagedCpc(self.sup, hmc_fakes.CPC_OID,
                                      status_timeout=1, operation_timeout=1)

    def test_create_find_and_list_are_one_request_each(self):
        before = self.hmc.count('POST', '/partitions')
        uri = self.cpc.create_partition(dict(PROPS),
                                        exception.InstanceDeployFailure)
        self.assertEqual(before + 1, self.hmc.count('POST', '/partitions'))
        before = self.hmc.count('GET', '/partitions')
        found = self.cpc.find_partition(PROPS['name'])
        listed = self.cpc.list_partitions('^OpenStack-abcd1234-.*$')
        self.assertEqual(before + 2, self.hmc.count('GET', '/partitions'))
        self.assertEqual(uri, found['object-uri'])
        self.assertEqual([uri], [p['object-uri'] for p in listed])
        self.assertEqual(1024, listed[0]['maximum-memory'])

    def test_find_missing_partition_is_none(self):
        self.assertIsNone(self.cpc.find_partition('OpenStack-nothing'))

    def test_find_does_not_match_longer_names(self):
        self.cpc.create_partition(dict(PROPS, name=PROPS['name'] + 'y'),
                                  exception.InstanceDeployFailure)
        self.assertIsNone(self.cpc.find_partition(PROPS['name']))

    def test_delete_twice_is_success(self):
        uri = self.cpc.create_partition(dict(PROPS),
                                        exception.InstanceDeployFailure)
        self.cpc.delete_partition(uri, exception.InstanceTerminationFailure,
                                  'uuid')
        self.cpc.delete_partition(uri, exception.InstanceTerminationFailure,
                                  'uuid')
        self.assertEqual([], self.hmc.partitions())

    def test_status_of_missing_partition_is_instance_not_found(self):
        self.assertRaises(exception.InstanceNotFound,
                          self.cpc.partition_status,
                          '/api/partitions/missing', 'uuid')

    def test_cpc_properties(self):
        self.assertEqual('CPC1', self.cpc.properties()['name'])


class PowerStateMachineTest(testtools.TestCase):
    """start/stop decisions, with statuses scripted and jobs recorded."""

    def setUp(self):
        super().setUp()
        sup = mock.Mock()
        sup.watch_status.side_effect = waiters.WaitRegistry().watch_status
        self.cpc = cpc_mod.ManagedCpc(sup, 'oid', status_timeout=0.3,
                                      operation_timeout=0.3)
        self.jobs = []
        self.statuses = []
        self.cpc.partition_status = mock.Mock(side_effect=self._status)
        self.cpc._run_job = mock.Mock(side_effect=self._job)

    def _status(self, *args):
        return self.statuses.pop(0) if len(self.statuses) > 1 else \
            self.statuses[0]

    def _job(self, uri, operation, failure, instance_uuid):
        self.jobs.append(operation)
        self.statuses[:] = [{'start': 'active', 'stop': 'stopped'}[
            operation]]

    def test_start_of_active_partition_does_nothing(self):
        self.statuses = ['active']
        self.cpc.start_partition('/p', exception.InstancePowerOnFailure)
        self.assertEqual([], self.jobs)

    def test_start_waits_through_stopping(self):
        self.statuses = ['stopping', 'stopping', 'stopped']
        self.cpc.start_partition('/p', exception.InstancePowerOnFailure)
        self.assertEqual(['start'], self.jobs)

    def test_start_of_paused_partition_stops_first(self):
        self.statuses = ['paused']
        self.cpc.start_partition('/p', exception.InstancePowerOnFailure)
        self.assertEqual(['stop', 'start'], self.jobs)

    def test_wrong_state_rereads_and_retries(self):
        self.statuses = ['stopped']
        errors = [WrongState('start', 'busy')]

        def job(uri, operation, failure, instance_uuid):
            if errors:
                raise errors.pop()
            self._job(uri, operation, failure, instance_uuid)
        self.cpc._run_job.side_effect = job
        self.cpc.start_partition('/p', exception.InstancePowerOnFailure)
        self.assertEqual(['start'], self.jobs)

    def test_stuck_transition_fails_with_the_given_exception(self):
        self.statuses = ['starting']
        self.cpc._run_job.side_effect = WrongState('stop', 'busy')
        exc = self.assertRaises(exception.InstancePowerOffFailure,
                                self.cpc.stop_partition, '/p',
                                exception.InstancePowerOffFailure)
        self.assertIn('starting', str(exc))
