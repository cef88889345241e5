"""Storage: FCP boot volume, HBAs / storage groups, persistent WWPNs."""

import dataclasses
import os
import uuid

import fixtures
from nova import exception
from oslo_config import fixture as config_fixture
import testtools

from nova_dpm.hmc import settings as hmc_settings
from nova_dpm.hmc import supervisor as hmc_supervisor
from nova_dpm.virt.dpm import storage
from tests.unit.virt import network_storage_fakes as fakes

TARGET = '500507680b214ac1'
IGNORED = '500507680b214ac2'


class Instance(object):
    def __init__(self):
        self.uuid = str(uuid.uuid4())


def fc_connection(volume_id='vol-1', targets=(TARGET,), lun=2):
    return {'driver_volume_type': 'fibre_channel', 'serial': volume_id,
            'data': {'target_wwn': list(targets), 'target_lun': lun}}


def block_device_info(*connections):
    return {'block_device_mapping': [
        {'boot_index': index, 'connection_info': connection}
        for index, connection in enumerate(connections)]}


class StorageTestCase(testtools.TestCase):

    storage_management = True

    def setUp(self):
        super().setUp()
        self.fake = fakes.FakeHMC(self.storage_management)
        self.settings = fakes.settings()
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.sup = hmc_supervisor.HMCSupervisor(
            self.settings, connection_id='nova-compute:test',
            state_dir=self.state_dir,
            session_factory=self.fake.session_factory)
        self.sup.start()
        self.addCleanup(self.sup.stop)
        self.settings_with_ignore = self.settings
        self.storage = self.new_storage()
        self.instance = Instance()
        self.partition_uri = self.fake.partition_uri()

    def new_storage(self):
        """A Storage as after a nova-compute restart (no shared memory)."""
        settings = dataclasses.replace(
            self.settings, target_wwpn_ignore_list=(IGNORED,))
        return storage.Storage(self.sup, settings, self.state_dir)

    def boot(self, connection=None):
        volume = self.storage.boot_volume(
            block_device_info(connection or fc_connection()))
        self.storage.prepare_boot(self.instance, self.partition_uri, volume)
        return volume

    def boot_properties(self):
        return {k: v for k, v in self.fake.partition().properties.items()
                if k.startswith('boot-')}

    def assert_nothing_left(self):
        self.assertEqual([], self.fake.hbas())
        self.assertEqual([], self.fake.storage_groups())
        self.assertEqual([], self.fake.partition().properties.get(
            'storage-group-uris', []))


class TestBootVolume(StorageTestCase):

    def test_no_boot_volume(self):
        self.assertIsNone(self.storage.boot_volume(None))
        self.assertIsNone(self.storage.boot_volume({
            'block_device_mapping': [{'boot_index': None,
                                      'connection_info': fc_connection()}]}))

    def test_boot_volume_skips_ignored_targets(self):
        volume = self.storage.boot_volume(block_device_info(
            fc_connection(targets=('0x' + IGNORED.upper(), TARGET),
                          lun='0x4010'))),
        self.assertEqual(('vol-1', TARGET, 0x4010, '0000000000004010'),
                         (volume[0].volume_id, volume[0].target_wwpn,
                          volume[0].lun, volume[0].lun_hex))

    def test_non_fc_boot_volume_is_invalid_input(self):
        connection = dict(fc_connection(), driver_volume_type='iscsi')
        exc = self.assertRaises(exception.InvalidInput,
                                self.storage.boot_volume,
                                block_device_info(connection))
        self.assertIn("'iscsi'", str(exc))
        self.assertIn('vol-1', str(exc))

    def test_only_ignored_targets_is_invalid_input(self):
        exc = self.assertRaises(
            exception.InvalidInput, self.storage.boot_volume,
            block_device_info(fc_connection(targets=(IGNORED,))))
        self.assertIn('target_wwpn_ignore_list', str(exc))

    def test_bad_lun_is_invalid_input(self):
        self.assertRaises(exception.InvalidInput, self.storage.boot_volume,
                          block_device_info(fc_connection(lun='zz')))

    def test_data_volumes_are_the_others(self):
        bdi = block_device_info(fc_connection(), fc_connection('vol-2', lun=3))
        bdi['block_device_mapping'].append(
            {'boot_index': None, 'connection_info': fc_connection('vol-3')})
        self.assertEqual(['vol-2', 'vol-3'], [
            v.volume_id for v in self.storage.data_volumes(bdi)])
        self.assertEqual('vol-1', self.storage.boot_volume(bdi).volume_id)
        self.assertEqual([], self.storage.data_volumes(None))

    def test_non_fc_data_volume_is_invalid_input(self):
        bdi = block_device_info(fc_connection(), dict(
            fc_connection('vol-2'), driver_volume_type='iscsi'))
        exc = self.assertRaises(exception.InvalidInput,
                                self.storage.data_volumes, bdi)
        self.assertIn("data volume vol-2: its connection type is 'iscsi'",
                      str(exc))


class TestStorageGroupCpc(StorageTestCase):

    def test_prepare_boot_attaches_a_storage_group_and_sets_boot(self):
        self.boot()
        groups = self.fake.storage_groups()
        self.assertEqual(['OpenStack-' + self.instance.uuid],
                         [g['name'] for g in groups])
        self.assertEqual([groups[0]['object-uri']],
                         self.fake.partition().properties[
                             'storage-group-uris'])
        volumes = self.fake.hmc.consoles.console.storage_groups.list()[
            0].storage_volumes.list()
        self.assertEqual([('OpenStack-vol-1', 'boot', 'complete')],
                         [(v.properties['name'], v.properties['usage'],
                           v.properties['fulfillment-state'])
                          for v in volumes])
        self.assertEqual({'boot-device': 'storage-volume',
                          'boot-storage-volume': volumes[0].uri},
                         self.boot_properties())
        connector = self.storage.get_volume_connector(self.instance)
        self.assertEqual(2, len(connector['wwpns']))
        self.assertEqual(('s390x', 'linux'),
                         (connector['platform'], connector['os_type']))

    def test_connector_before_spawn_then_boot_attaches_one_group(self):
        # Nova asks for the connector before spawn; the driver prepares
        # storage then, and prepare_boot must not repeat it.
        wwpns = self.storage.prepare_storage(self.instance,
                                             self.partition_uri)
        self.boot()
        self.assertEqual(1, len(self.fake.storage_groups()))
        self.assertEqual(wwpns, self.storage.get_volume_connector(
            self.instance)['wwpns'])

    def test_interrupted_attempt_is_resumed_without_duplicates(self):
        self.boot()
        self.storage._store.update(self.instance.uuid,
                                   lambda record: record.update(wwpns=[]))
        self.boot()
        self.assertEqual(1, len(self.fake.storage_groups()))
        self.assertEqual(1, len(self.fake.partition().properties[
            'storage-group-uris']))

    def test_release_detaches_and_deletes_the_empty_group(self):
        self.boot()
        self.storage.release(self.instance, self.partition_uri)
        self.assert_nothing_left()
        self.storage.release(self.instance, self.partition_uri)

    def test_release_deletes_the_group_with_its_storage_volumes(self):
        # The HMC's storage volume objects go; the Cinder volumes (LUNs)
        # are not the HMC's to delete.
        self.boot()
        self.storage.attach_volume(None, fc_connection('vol-2', lun=3),
                                   self.instance, '/dev/sdb')
        group = self.fake.hmc.consoles.console.storage_groups.list()[0]
        self.assertEqual(['boot', 'data'], sorted(
            v.properties['usage'] for v in group.storage_volumes.list()))
        self.storage.release(self.instance, self.partition_uri)
        self.assert_nothing_left()

    def test_release_without_state_file_still_removes_the_group(self):
        self.boot()
        os.unlink(self.storage._store.path)
        self.assertEqual(2, len(self.new_storage().get_volume_connector(
            self.instance)['wwpns']))
        self.new_storage().release(self.instance, self.partition_uri)
        self.assert_nothing_left()

    def test_release_with_a_damaged_state_file_still_removes_the_group(self):
        self.boot()
        with open(self.storage._store.path, 'w') as stream:
            stream.write('{garbage')
        storage_now = self.new_storage()
        self.assertEqual(2, len(storage_now.get_volume_connector(
            self.instance)['wwpns']))
        storage_now.release(self.instance, self.partition_uri)
        self.assert_nothing_left()

    def fulfilled_through(self):
        group = self.fake.hmc.consoles.console.storage_groups.list()[0]
        return [v.properties['fake-fulfilled-through']
                for v in group.storage_volumes.list()]

    def test_fulfilled_through_the_port_cinder_zoned_to_the_target(self):
        wwpns = self.storage.prepare_storage(self.instance,
                                             self.partition_uri)
        connection = fc_connection()
        connection['data']['initiator_target_map'] = {
            wwpns[1].upper(): [TARGET], wwpns[0]: ['500507680b214ac9']}
        self.storage.prepare_boot(self.instance, self.partition_uri,
                                  self.storage.boot_volume(
                                      block_device_info(connection)))
        self.assertEqual(['/api/adapters/%s/storage-ports/0'
                          % fakes.FCP_OIDS[1]], self.fulfilled_through())

    def test_without_a_zoning_map_the_first_path_is_used(self):
        self.boot()
        self.assertEqual(['/api/adapters/%s/storage-ports/0'
                          % fakes.FCP_OIDS[0]], self.fulfilled_through())

    def test_connector_ip_is_my_block_storage_ip(self):
        conf = self.useFixture(config_fixture.Config(storage.CONF))
        conf.config(my_ip='192.0.2.1', my_block_storage_ip='198.51.100.7')
        self.boot()
        self.assertEqual('198.51.100.7', self.storage.get_volume_connector(
            self.instance)['ip'])

    def test_volume_of_an_admin_is_matched_by_its_path(self):
        self.boot()
        group = self.fake.hmc.consoles.console.storage_groups.list()[0]
        group.storage_volumes.add({
            'name': 'made-by-admin', 'usage': 'data', 'size': 5,
            'description': '', 'fulfillment-state': 'complete',
            'paths': [{'target-world-wide-port-name': TARGET,
                       'logical-unit-number': '0000000000000007'}]})
        self.storage.attach_volume(None, fc_connection('vol-7', lun=7),
                                   self.instance, '/dev/sdb')
        self.assertEqual(['OpenStack-vol-1', 'made-by-admin'], sorted(
            v.properties['name'] for v in group.storage_volumes.list()))
        self.storage.detach_volume(None, fc_connection('vol-7', lun=7),
                                   self.instance, '/dev/sdb')
        self.assertEqual(['OpenStack-vol-1'], [
            v.properties['name'] for v in group.storage_volumes.list()])

    def test_detach_removes_only_the_data_volume(self):
        self.boot()
        self.storage.attach_volume(None, fc_connection('vol-2', lun=3),
                                   self.instance, '/dev/sdb')
        self.storage.detach_volume(None, fc_connection('vol-2', lun=3),
                                   self.instance, '/dev/sdb')
        group = self.fake.hmc.consoles.console.storage_groups.list()[0]
        self.assertEqual(['OpenStack-vol-1'], [
            v.properties['name'] for v in group.storage_volumes.list()])

    def data_volume_names(self):
        group = self.fake.hmc.consoles.console.storage_groups.list()[0]
        return sorted((v.properties['name'], v.properties['usage'],
                       v.properties['fulfillment-state'])
                      for v in group.storage_volumes.list())

    def test_spawn_attaches_the_data_volumes_to_the_group(self):
        self.boot()
        self.storage.attach_data_volumes(
            self.instance, self.partition_uri, self.storage.data_volumes(
                block_device_info(fc_connection(),
                                  fc_connection('vol-2', lun=3))))
        self.assertEqual([('OpenStack-vol-1', 'boot', 'complete'),
                          ('OpenStack-vol-2', 'data', 'complete')],
                         self.data_volume_names())

    def test_data_volumes_of_an_iso_server_get_a_group(self):
        volumes = self.storage.data_volumes({'block_device_mapping': [
            {'boot_index': None, 'connection_info': fc_connection('vol-2')}]})
        self.storage.attach_data_volumes(self.instance, self.partition_uri,
                                         volumes)
        self.assertEqual([('OpenStack-vol-2', 'data', 'complete')],
                         self.data_volume_names())
        self.assertEqual(2, len(self.storage.get_volume_connector(
            self.instance)['wwpns']))
        self.storage.release(self.instance, self.partition_uri)
        self.assert_nothing_left()

    def test_lost_responses_attach_exactly_one_group(self):
        self.fake.handler.fail_next('POST', r'/api/storage-groups$', 'lost')
        self.fake.handler.fail_next('POST', r'attach-storage-group', 'lost')
        self.boot()
        self.assertEqual(1, len(self.fake.storage_groups()))
        self.assertEqual(1, len(self.fake.partition().properties[
            'storage-group-uris']))

    def test_failed_attach_then_release_leaves_nothing(self):
        for _ in range(3):
            self.fake.handler.fail_next('POST', r'attach-storage-group',
                                        'http500')
        self.assertRaises(exception.InstanceDeployFailure, self.boot)
        self.storage.release(self.instance, self.partition_uri)
        self.assert_nothing_left()

    def test_group_created_without_answer_is_removed_by_release(self):
        self.boot()
        # As if the create had reached the HMC but its answer was lost.
        self.storage._store.update(self.instance.uuid, lambda r: r.update(
            storage_group_uri=None, created_storage_group=False))
        self.storage.release(self.instance, self.partition_uri)
        self.assert_nothing_left()

    def test_dropped_connections_during_release_still_converge(self):
        self.boot()
        self.fake.handler.fail_next('POST', r'detach-storage-group', 'drop')
        self.fake.handler.fail_next('POST', r'/operations/delete$', 'lost')
        self.storage.release(self.instance, self.partition_uri)
        self.assert_nothing_left()

    def test_release_after_partition_deleted_is_fine(self):
        self.boot()
        partition = self.fake.partition()
        partition.manager.remove(partition.oid)
        self.storage.release(self.instance, self.partition_uri)
        self.assertEqual([], self.fake.storage_groups())


class TestHbaCpc(StorageTestCase):

    storage_management = False

    def test_prepare_boot_creates_one_hba_per_mapping(self):
        self.boot()
        hbas = self.fake.hbas()
        self.assertEqual(
            sorted('/api/adapters/%s/storage-ports/0' % oid
                   for oid in fakes.FCP_OIDS),
            sorted(h['adapter-port-uri'] for h in hbas))
        self.assertEqual(hbas[0]['element-uri'],
                         self.boot_properties()['boot-storage-device'])
        self.assertEqual(
            sorted(h['wwpn'].lower() for h in hbas),
            sorted(self.storage.get_volume_connector(
                self.instance)['wwpns']))
        self.assertEqual([], self.fake.posts('storage-groups'))

    def test_connector_before_spawn_then_boot_creates_hbas_once(self):
        self.storage.prepare_storage(self.instance, self.partition_uri)
        self.boot()
        self.assertEqual(2, len(self.fake.hbas()))

    def test_interrupted_attempt_is_resumed_without_duplicates(self):
        self.boot()
        self.storage = self.new_storage()
        self.storage._store.update(self.instance.uuid,
                                   lambda record: record.update(wwpns=[]))
        self.boot()
        self.assertEqual(2, len(self.fake.hbas()))

    def test_lost_hba_create_response_yields_one_hba(self):
        self.fake.handler.fail_next('POST', r'/hbas$', 'lost')
        self.fake.handler.fail_next('POST', r'/hbas$', 'http500')
        self.boot()
        self.assertEqual(2, len(self.fake.hbas()))

    def test_release_deletes_hbas_even_unrecorded_ones(self):
        self.boot()
        # An HBA created by a request whose answer never came back.
        self.fake.partition().hbas.add({
            'name': storage.HBA_NAME_PREFIX + 'orphan',
            'adapter-port-uri': '/api/adapters/%s/storage-ports/0'
                                % fakes.FCP_OIDS[0]})
        self.fake.handler.fail_next('DELETE', r'/hbas/', 'lost')
        self.storage.release(self.instance, self.partition_uri)
        self.assert_nothing_left()

    def test_data_volumes_need_only_the_hbas(self):
        volumes = self.storage.data_volumes({'block_device_mapping': [
            {'boot_index': None, 'connection_info': fc_connection('vol-2')}]})
        self.storage.attach_data_volumes(self.instance, self.partition_uri,
                                         volumes)
        self.assertEqual(2, len(self.fake.hbas()))
        wwpns = self.storage.get_volume_connector(self.instance)['wwpns']
        self.storage.release(self.instance, self.partition_uri)
        self.assert_nothing_left()
        # Recorded with the volume: Cinder can still unmap it.
        self.assertEqual(wwpns, self.new_storage().get_volume_connector(
            self.instance)['wwpns'])

    def test_no_mappings_fail_the_deploy_naming_the_option(self):
        self.settings = fakes.settings(storage_adapter_mappings=())
        self.storage = self.new_storage()
        exc = self.assertRaises(exception.InstanceDeployFailure, self.boot)
        self.assertIn('physical_storage_adapter_mappings', str(exc))


class TestPersistentWwpns(StorageTestCase):

    def test_wwpns_survive_restart_and_destroy_until_detach(self):
        self.boot()
        wwpns = self.storage.get_volume_connector(self.instance)['wwpns']
        self.storage.attach_volume(None, fc_connection('vol-2'),
                                   self.instance, '/dev/sdb')
        self.storage = self.new_storage()          # restart
        self.storage.release(self.instance, self.partition_uri)  # destroy
        partition = self.fake.partition()
        partition.manager.remove(partition.oid)
        self.storage = self.new_storage()          # restart again
        self.assertEqual(wwpns, self.storage.get_volume_connector(
            self.instance)['wwpns'])
        self.storage.detach_volume(None, fc_connection('vol-1'),
                                   self.instance, '/dev/sda')
        self.assertEqual(wwpns, self.storage.get_volume_connector(
            self.instance)['wwpns'])
        self.storage.detach_volume(None, fc_connection('vol-2'),
                                   self.instance, '/dev/sdb')
        self.assertEqual([], self.new_storage().get_volume_connector(
            self.instance)['wwpns'])

    def test_attach_needs_fc_and_wwpns(self):
        exc = self.assertRaises(
            exception.VolumeAttachFailed, self.storage.attach_volume, None,
            fc_connection('vol-9'), self.instance, '/dev/sdb')
        self.assertIn('vol-9', str(exc))
        self.assertIn('no storage group', str(exc))
        self.boot()
        self.assertRaises(
            exception.VolumeAttachFailed, self.storage.attach_volume, None,
            dict(fc_connection(), driver_volume_type='rbd'), self.instance,
            '/dev/sdb')


class IgnoreListFromConfigTest(testtools.TestCase):

    def test_settings_carry_the_ignore_list_to_storage(self):
        conf = self.useFixture(config_fixture.Config(storage.CONF))
        conf.config(group='dpm', hmc=['10.0.0.5'], hmc_username='nova',
                    hmc_password='pw', cpc_object_id=fakes.CPC_OID,
                    max_processors=4, max_memory=4096,
                    target_wwpn_ignore_list=[IGNORED.upper()])
        settings = hmc_settings.HMCSettings.from_conf(storage.CONF.dpm)
        self.assertEqual((IGNORED,), settings.target_wwpn_ignore_list)
        state_dir = self.useFixture(fixtures.TempDir()).path
        volumes = storage.Storage(object(), settings, state_dir)
        volume = volumes.boot_volume(block_device_info(
            fc_connection(targets=(IGNORED, TARGET))))
        self.assertEqual(TARGET, volume.target_wwpn)
        exc = self.assertRaises(
            exception.InvalidInput, volumes.boot_volume,
            block_device_info(fc_connection(targets=(IGNORED,))))
        self.assertIn(IGNORED, str(exc))
