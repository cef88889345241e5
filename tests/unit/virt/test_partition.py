"""Partition naming, descriptions and the DPM status -> power state table."""

import re

from nova.compute import power_state
from nova.tests.unit import fake_instance
import testtools

from nova_dpm.virt.dpm import partition
from tests.unit.virt import fakes

UUID = '6b1a8a5e-2f0c-4b8e-9a57-1f6f0c3e0d11'
ALL_DPM_STATUSES = ('stopped', 'starting', 'active', 'stopping', 'degraded',
                    'reservation-error', 'paused', 'terminated',
                    'communications-not-active', 'status-check')


class NamingTest(testtools.TestCase):

    def test_name_fits_the_hmc_limit_for_any_host(self):
        for host in ('a', 'compute-1.example.org', 'x' * 255):
            name = partition.partition_name(host, UUID)
            self.assertLessEqual(len(name), 64)
            self.assertRegex(name, r'^[A-Za-z0-9-]+$')

    def test_two_hosts_on_one_cpc_get_different_prefixes(self):
        self.assertNotEqual(partition.name_prefix('cpc-a'),
                            partition.name_prefix('cpc-b'))
        regex = partition.name_regex('cpc-a')
        self.assertFalse(re.match(regex, partition.partition_name(
            'cpc-b', UUID)))
        self.assertTrue(re.match(regex, partition.partition_name(
            'cpc-a', UUID)))

    def test_regex_metacharacters_in_host_stay_out_of_the_filter(self):
        host = 'host.*(1)[a]+?$^|\\'
        regex = partition.name_regex(host)
        self.assertNotIn(host, regex)
        self.assertTrue(re.match(regex, partition.partition_name(host, UUID)))
        self.assertFalse(re.match(regex, partition.partition_name(
            'hostX(1)', UUID)))

    def test_description_names_instance_and_host_readably(self):
        instance = fake_instance.fake_instance_obj(None, uuid=UUID)
        host = 'weird host.*'
        text = partition.description(host, instance)
        summary = partition.PartitionSummary({
            'object-uri': '/api/partitions/1',
            'name': partition.partition_name(host, UUID),
            'status': 'active', 'description': text})
        self.assertIn(host, text)
        self.assertEqual(instance.name, summary.instance_name)
        self.assertEqual(UUID, summary.instance_uuid)
        self.assertTrue(summary.belongs_to(host))
        self.assertFalse(summary.belongs_to('other'))

    def test_summary_without_description_still_yields_uuid(self):
        summary = partition.PartitionSummary({
            'object-uri': '/api/partitions/1',
            'name': partition.partition_name('h', UUID), 'status': 'x'})
        self.assertEqual(UUID, summary.instance_uuid)
        self.assertEqual(summary.name, summary.instance_name)
        self.assertTrue(summary.belongs_to('h'))


class PowerStateTest(testtools.TestCase):

    def test_every_dpm_status_has_a_power_state(self):
        for status in ALL_DPM_STATUSES:
            self.assertIn(status, partition.POWER_STATES)

    def test_table(self):
        expected = {
            'active': power_state.RUNNING,
            'degraded': power_state.RUNNING,
            'stopped': power_state.SHUTDOWN,
            'stopping': power_state.SHUTDOWN,
            'reservation-error': power_state.SHUTDOWN,
            'starting': power_state.NOSTATE,
            'paused': power_state.PAUSED,
            'terminated': power_state.CRASHED,
            'status-check': power_state.NOSTATE,
            'communications-not-active': power_state.NOSTATE,
        }
        for status, state in expected.items():
            self.assertEqual(state, partition.power_state_for(status), status)

    def test_unknown_status_is_nostate(self):
        self.assertEqual(power_state.NOSTATE,
                         partition.power_state_for('brand-new-status'))


class InstancePartitionTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cpc = fakes.FakeCpc()
        self.instance = fake_instance.fake_instance_obj(None, uuid=UUID)
        self.target = partition.InstancePartition(self.cpc, 'host1',
                                                  self.instance)

    def _create(self, status='active'):
        uri = self.cpc.create_partition({'name': self.target.name}, None)
        self.cpc.partitions[uri]['status'] = status
        return uri

    def test_destroy_missing_partition_is_success(self):
        self.target.destroy()
        self.assertEqual(0, self.cpc.count('delete_partition'))

    def test_destroy_stops_releases_then_deletes(self):
        uri = self._create('active')
        released = []
        self.target.destroy([lambda u: released.append(
            (u, self.cpc.partitions[u]['status']))])
        self.assertEqual([(uri, 'stopped')], released)
        self.assertEqual({}, self.cpc.partitions)

    def test_destroy_tolerates_partition_vanishing_midway(self):
        from nova import exception
        self._create('active')
        self.cpc.fail('stop_partition',
                      exception.InstanceNotFound(instance_id=UUID))
        self.target.destroy()

    def test_power_on_of_missing_partition_is_instance_not_found(self):
        from nova import exception
        self.assertRaises(exception.InstanceNotFound, self.target.power_on)

    def test_reboot_stops_and_starts(self):
        uri = self._create('active')
        self.target.reboot()
        self.assertEqual(['stop_partition', 'start_partition'],
                         [op for op, _ in self.cpc.calls
                          if op.endswith('_partition')
                          and op != 'create_partition'
                          and op != 'find_partition'])
        self.assertEqual('active', self.cpc.partitions[uri]['status'])

    def test_console_output_is_bytes_of_the_os_messages(self):
        self._create('active')
        self.cpc.os_message_texts = ['Linux version 6.1\n', 'login: ']
        output = self.target.console_output()
        self.assertIsInstance(output, bytes)
        self.assertEqual(b'Linux version 6.1\nlogin: \n', output)
