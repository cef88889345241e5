"""NICs and FCP storage against the HTTPS HMC simulator, with faults.

Each test gets its own simulator (default z16-like inventory), a real
supervisor with TLS verification, and one partition created for it.
"""

from unittest import mock
import uuid

import fixtures
from nova import exception
from nova.network import model as network_model
import testtools

from nova_dpm.hmc import settings as hmc_settings
from nova_dpm.hmc import supervisor as hmc_supervisor
from nova_dpm.simulator import HMCSimulator
from nova_dpm.simulator import inventory
from nova_dpm.virt.dpm import network
from nova_dpm.virt.dpm import storage

NICS = r'/api/partitions/[^/]+/nics$'
HBAS = r'/api/partitions/[^/]+/hbas$'
TARGET = '500507680b214ac1'


def vif(index, vif_type='dpm_vswitch', adapter=inventory.OSA_ADAPTER_OID,
        port=0):
    return network_model.VIF(
        id=str(uuid.UUID(int=index)), type=vif_type,
        address='fa:16:3e:00:00:%02x' % index,
        details={'object_id': adapter, 'port': port},
        network=network_model.Network(id='net'))


def boot_bdi(volume_id='vol-1'):
    return {'block_device_mapping': [{
        'boot_index': 0, 'connection_info': {
            'driver_volume_type': 'fibre_channel', 'serial': volume_id,
            'data': {'target_wwn': [TARGET], 'target_lun': 1}}}]}


class Instance(object):
    def __init__(self):
        self.uuid = str(uuid.uuid4())


class SimulatorCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # Logs go with the test result (shown when it fails), not to the
        # runner's console.
        self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.sim = HMCSimulator(job_duration=0.1)
        self.sim.start()
        self.addCleanup(self.sim.stop)
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.settings = hmc_settings.HMCSettings(
            hosts=(self.sim.host,), port=self.sim.port,
            userid=self.sim.userid, password=self.sim.password,
            verify_cert=self.sim.ca_file,
            cpc_object_id=self.sim.cpc_object_id, max_processors=4,
            max_memory=16384,
            storage_adapter_mappings=tuple(
                (oid, 0) for oid in inventory.FCP_ADAPTER_OIDS),
            connect_timeout=5, read_timeout=5, connect_retries=2,
            startup_connect_retries=0, read_retries=1, retries_number=2,
            retry_after=0, max_retry_interval=0.1, pool_size=2)
        self.sup = hmc_supervisor.HMCSupervisor(
            self.settings, connection_id='nova-compute:func',
            state_dir=self.state_dir)
        self.sup.start()
        self.addCleanup(self.sup.stop)
        self.partition_uri = self.sup.call(self._create_partition,
                                           what='create test partition')
        self.networking = network.Networking(self.sup, self.settings)
        self.storage = storage.Storage(self.sup, self.settings,
                                       self.state_dir)
        self.instance = Instance()

    def _create_partition(self, client):
        cpc = client.cpcs.resource_object(
            '/api/cpcs/' + self.sim.cpc_object_id)
        return cpc.partitions.create({
            'name': 'OpenStack-func-' + uuid.uuid4().hex[:8],
            'initial-memory': 1024, 'maximum-memory': 1024,
            'ifl-processors': 1}).uri

    def _delete_partition(self, client):
        cpc = client.cpcs.resource_object(
            '/api/cpcs/' + self.sim.cpc_object_id)
        cpc.partitions.resource_object(self.partition_uri).delete()

    def partition(self, client):
        cpc = client.cpcs.resource_object(
            '/api/cpcs/' + self.sim.cpc_object_id)
        partition = cpc.partitions.resource_object(self.partition_uri)
        partition.pull_full_properties()
        return partition.properties

    def partition_properties(self):
        return self.sup.call(self.partition, what='read test partition')

    def without_storage_management(self):
        self.sim.update_cpc({'available-features-list': [
            {'name': 'dpm-storage-management', 'state': False,
             'description': ''}]})


class TestNicsOnSimulator(SimulatorCase):

    def assert_refused_without_hmc_request(self, vifs, expected):
        before = self.sim.stats()['total']
        exc = self.assertRaises(exception.InvalidInput,
                                self.networking.plan, vifs)
        self.assertIn(expected, str(exc))
        self.assertEqual(before, self.sim.stats()['total'])
        self.assertEqual(0, self.sim.resources()['nics'])

    def test_plan_errors_happen_before_any_hmc_request(self):
        self.assert_refused_without_hmc_request(
            [vif(i) for i in range(1, 14)], 'at most 12')
        self.assert_refused_without_hmc_request(
            [vif(1, vif_type='bridge')], 'dpm_vswitch, dpm_adapter')
        with mock.patch.object(network, 'MAX_BOOT_PARAMETERS', 50):
            self.assert_refused_without_hmc_request(
                [vif(1), vif(2), vif(3)], 'boot-os-specific-parameters')

    def test_vswitch_and_adapter_port_nics_and_boot_parameters(self):
        plans = self.networking.plan([
            vif(1), vif(2, 'dpm_adapter', inventory.ROCE_ADAPTER_OID, 1)])
        params = self.networking.create_nics(self.partition_uri, plans)
        self.assertEqual(2, self.sim.resources()['nics'])
        self.assertRegex(
            params, r'^[0-9a-f]{4},0,fa163e000001;[0-9a-f]{4},1,'
                    r'fa163e000002;$')

    def test_each_fault_kind_yields_exactly_one_nic(self):
        faults = [
            ('http500', lambda: self.sim.fail_next(
                1, 500, 1, method='POST', uri=NICS)),
            ('http503', lambda: self.sim.fail_next(
                1, 503, 1, retry_after=0, method='POST', uri=NICS)),
            ('dropped', lambda: self.sim.drop_next(1, 'POST', NICS)),
            ('lost response', lambda: self.sim.lose_response_next(
                1, 'POST', NICS)),
        ]
        for index, (name, inject) in enumerate(faults, start=1):
            before = self.sim.resources()['nics']
            inject()
            params = self.networking.create_nics(
                self.partition_uri, self.networking.plan([vif(index)]))
            self.assertEqual(before + 1, self.sim.resources()['nics'], name)
            self.assertIn('fa163e0000%02x;' % index, params, name)
            self.assertEqual([], self.sim.faults()['rules'], name)

    def test_persistent_failure_is_a_deploy_failure(self):
        self.sim.fail_next(10, 500, 1, method='POST', uri=NICS,
                           message='adapter busy')
        exc = self.assertRaises(
            exception.InstanceDeployFailure, self.networking.create_nics,
            self.partition_uri, self.networking.plan([vif(1)]))
        self.assertIn('adapter busy', str(exc))
        self.assertNotIn(self.sim.password, str(exc))


class TestStorageOnSimulator(SimulatorCase):

    def boot(self):
        volume = self.storage.boot_volume(boot_bdi())
        self.storage.prepare_boot(self.instance, self.partition_uri, volume)

    def boot_or_skip_without_vsrs(self):
        try:
            self.boot()
        except exception.InstanceDeployFailure as exc:
            if 'assigned no FCP WWPNs' in str(exc):
                self.storage.release(self.instance, self.partition_uri)
                self.assertEqual(
                    0, self.sim.resources()['storage_group_attachments'])
                self.skipTest('simulator gap: attaching a storage group '
                              'creates no virtual storage resources')
            raise

    def test_hba_cpc_prepare_and_release_with_faults(self):
        self.without_storage_management()
        self.sim.lose_response_next(1, 'POST', HBAS)
        self.sim.drop_next(1, 'POST', HBAS)
        self.boot()
        self.assertEqual(2, self.sim.resources()['hbas'])
        props = self.partition_properties()
        self.assertEqual(('storage-adapter', TARGET, '0000000000000001'), (
            props['boot-device'], props['boot-world-wide-port-name'],
            props['boot-logical-unit-number']))
        self.assertEqual(2, len(self.storage.get_volume_connector(
            self.instance)['wwpns']))
        self.sim.lose_response_next(1, 'DELETE', r'/hbas/')
        self.storage.release(self.instance, self.partition_uri)
        self.assertEqual(0, self.sim.resources()['hbas'])

    def test_hba_cpc_failed_prepare_then_release_leaves_no_hba(self):
        self.without_storage_management()
        self.sim.fail_next(1, 500, 1, method='POST', uri=HBAS)
        self.sim.fail_next(10, 409, 2, method='POST', uri=HBAS,
                           message='port in use')
        self.assertRaises(exception.InstanceDeployFailure, self.boot)
        self.storage.release(self.instance, self.partition_uri)
        self.assertEqual(0, self.sim.resources()['hbas'])

    def test_storage_group_cpc_prepare_and_release_with_faults(self):
        self.sim.lose_response_next(1, 'POST', r'attach-storage-group')
        self.boot_or_skip_without_vsrs()
        self.assertEqual(1, self.sim.resources()['storage_group_attachments'])
        self.assertEqual(0, self.sim.resources()['hbas'])
        self.sim.drop_next(1, 'POST', r'detach-storage-group')
        self.storage.release(self.instance, self.partition_uri)
        self.assertEqual(0, self.sim.resources()['storage_group_attachments'])

    def test_storage_group_cpc_failed_attach_then_release(self):
        self.sim.fail_next(10, 500, 1, method='POST',
                           uri=r'attach-storage-group')
        self.assertRaises(exception.InstanceDeployFailure, self.boot)
        self.storage.release(self.instance, self.partition_uri)
        self.assertEqual(0, self.sim.resources()['storage_group_attachments'])

    def test_wwpns_survive_restart_and_destroy_until_detach(self):
        self.without_storage_management()
        self.boot()
        wwpns = self.storage.get_volume_connector(self.instance)['wwpns']
        self.assertEqual(2, len(wwpns))
        restarted = storage.Storage(self.sup, self.settings, self.state_dir)
        restarted.release(self.instance, self.partition_uri)
        self.sup.call(self._delete_partition, what='delete test partition')
        self.assertEqual(0, self.sim.resources()['hbas'])
        again = storage.Storage(self.sup, self.settings, self.state_dir)
        self.assertEqual(wwpns,
                         again.get_volume_connector(self.instance)['wwpns'])
        again.detach_volume(None, boot_bdi()['block_device_mapping'][0][
            'connection_info'], self.instance, '/dev/sda')
        self.assertEqual([], storage.Storage(
            self.sup, self.settings, self.state_dir).get_volume_connector(
                self.instance)['wwpns'])

    def test_release_of_unknown_instance_changes_nothing(self):
        # The HMC is asked (it is the source of truth), nothing changed.
        before = self.sim.stats()['by_method']
        self.storage.release(Instance(), self.partition_uri)
        after = self.sim.stats()['by_method']
        for method in ('POST', 'DELETE'):
            self.assertEqual(before.get(method, 0), after.get(method, 0))
