"""Spawn: the steps, and the single point that rolls failures back."""

from unittest import mock

import fixtures
from nova.compute import task_states
from nova import exception
from nova.tests.unit import fake_instance
import testtools

from nova_dpm.virt.dpm import host
from nova_dpm.virt.dpm import partition
from nova_dpm.virt.dpm import spawn
from tests.unit.virt import fakes

UUID = '0c7d5b1e-8f3a-4d2e-9b6a-3e2f1d0c9b8a'


class FakeNetworking(object):
    def __init__(self, cpc):
        self.cpc = cpc
        self.created = []

    def plan(self, network_info):
        if len(network_info) > 12:
            raise exception.InvalidInput(reason='at most 12 NICs')
        return list(network_info)

    def create_nics(self, partition_uri, plans):
        self.cpc._record('create_nics', partition_uri)
        self.created.append(partition_uri)
        return '0001,0,fa163e000001;'


class FakeStorage(object):
    def __init__(self, cpc):
        self.cpc = cpc
        self.attached = set()
        self.prepared = set()       # instance uuids (get_volume_connector)

    def has_prepared_storage(self, instance):
        return instance.uuid in self.prepared

    def boot_volume(self, block_device_info):
        return (block_device_info or {}).get('boot')

    def data_volumes(self, block_device_info):
        data = (block_device_info or {}).get('data') or []
        if 'bad' in data:
            raise exception.InvalidInput(reason='data volume bad: iscsi')
        return data

    def attach_data_volumes(self, instance, partition_uri, volumes):
        self.cpc._record('attach_data_volumes', partition_uri)
        self.attached.add(partition_uri)

    def prepare_boot(self, instance, partition_uri, boot_volume):
        self.cpc._record('prepare_boot', partition_uri)
        self.attached.add(partition_uri)

    def release(self, instance, partition_uri):
        self.cpc._record('release_storage', partition_uri)
        self.attached.discard(partition_uri)
        self.prepared.discard(instance.uuid)


class FakeIsoBoot(object):
    def __init__(self, cpc):
        self.cpc = cpc
        self.mounted = set()

    def check(self, image_meta):
        if image_meta == 'bad':
            raise exception.ImageUnacceptable(image_id='x', reason='not iso')

    def prepare_boot(self, context, instance, image_meta, partition_uri):
        self.cpc._record('prepare_iso', partition_uri)
        self.mounted.add(partition_uri)

    def release(self, partition_uri):
        self.cpc._record('release_iso', partition_uri)
        self.mounted.discard(partition_uri)


BOOT_FROM_VOLUME = {'boot': object()}
WITH_DATA_VOLUMES = {'boot': object(), 'data': ['data-1', 'data-2']}
ISO_WITH_DATA_VOLUME = {'data': ['data-1']}
TWO_VIFS = ['vif1', 'vif2']


class SpawnTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cpc = fakes.FakeCpc()
        self.subset = host.CpcSubset(self.cpc, 'host-a', 8, 16384)
        self.networking = FakeNetworking(self.cpc)
        self.storage = FakeStorage(self.cpc)
        self.iso = FakeIsoBoot(self.cpc)
        self.spawner = spawn.Spawner(self.subset, self.networking,
                                     self.storage, self.iso)
        self.instance = fake_instance.fake_instance_obj(
            None, uuid=UUID, vcpus=2, memory_mb=2048)
        self.instance.flavor.vcpus = 2
        self.instance.flavor.memory_mb = 2048
        self.refresh = self.useFixture(
            fixtures.MockPatchObject(self.instance, 'refresh')).mock

    def spawn(self, network_info=TWO_VIFS, bdi=BOOT_FROM_VOLUME,
              image_meta=None, power_on=True):
        self.spawner.spawn(None, self.instance, image_meta, network_info,
                           bdi, power_on)

    def assertNothingLeft(self):
        self.assertEqual({}, self.cpc.partitions)
        self.assertEqual(set(), self.storage.attached)
        self.assertEqual(set(), self.iso.mounted)


class SpawnReusesPartitionTest(SpawnTestBase):
    """The partition get_volume_connector made before spawn."""

    def connector_made_partition(self):
        uri = self.spawner.ensure_partition(self.instance)
        self.storage.prepared.add(self.instance.uuid)
        return uri

    def test_spawn_reuses_the_stopped_partition(self):
        uri = self.connector_made_partition()
        self.spawn()
        self.assertEqual([uri], list(self.cpc.partitions))
        self.assertEqual('active', self.cpc.partitions[uri]['status'])
        self.assertEqual(1, self.cpc.count('create_partition'))

    def test_ensure_partition_is_idempotent(self):
        uri = self.connector_made_partition()
        self.assertEqual(uri, self.spawner.ensure_partition(self.instance))
        self.assertEqual(1, self.cpc.count('create_partition'))

    def test_a_running_partition_is_refused_and_rolled_back(self):
        uri = self.connector_made_partition()
        self.cpc.partitions[uri]['status'] = 'active'
        exc = self.assertRaises(exception.InstanceDeployFailure, self.spawn)
        self.assertIn('is active, not stopped', str(exc))
        self.assertNothingLeft()

    def test_failure_after_reuse_removes_the_partition(self):
        self.connector_made_partition()
        self.cpc.fail('start_partition',
                      exception.InstanceDeployFailure(reason='HMC said 500'))
        self.assertRaises(exception.InstanceDeployFailure, self.spawn)
        self.assertNothingLeft()
        self.assertEqual(set(), self.storage.prepared)

    def test_bad_request_after_the_connector_removes_the_partition(self):
        self.connector_made_partition()
        self.assertRaises(exception.ImageUnacceptable, self.spawn,
                          bdi=None, image_meta='bad')
        self.assertNothingLeft()

    def test_bad_request_without_the_connector_changes_nothing(self):
        self.assertRaises(exception.ImageUnacceptable, self.spawn,
                          bdi=None, image_meta='bad')
        self.assertEqual([], [c for c in self.cpc.calls
                              if c[0] != 'find_partition'])


class SpawnTest(SpawnTestBase):

    def test_partition_gets_flavor_resources_and_is_started(self):
        self.spawn()
        [props] = self.cpc.partitions.values()
        self.assertEqual(partition.partition_name('host-a', UUID),
                         props['name'])
        self.assertEqual(2, props['ifl-processors'])
        self.assertEqual(2048, props['initial-memory'])
        self.assertEqual(2048, props['maximum-memory'])
        self.assertEqual('active', props['status'])
        self.assertEqual('0001,0,fa163e000001;',
                         props['boot-os-specific-parameters'])
        self.assertIn(self.instance.name, props['description'])

    def test_power_on_false_leaves_partition_stopped(self):
        self.spawn(power_on=False)
        [props] = self.cpc.partitions.values()
        self.assertEqual('stopped', props['status'])

    def test_without_boot_volume_boots_the_iso_image(self):
        self.spawn(bdi=None, network_info=None)
        self.assertEqual(1, self.cpc.count('prepare_iso'))
        self.assertEqual(0, self.cpc.count('prepare_boot'))

    def test_data_volumes_are_attached_before_the_start(self):
        for bdi in (WITH_DATA_VOLUMES, ISO_WITH_DATA_VOLUME):
            self.cpc.calls = []
            self.spawn(bdi=bdi)
            operations = [op for op, _ in self.cpc.calls]
            self.assertEqual(1, operations.count('attach_data_volumes'))
            self.assertLess(operations.index('attach_data_volumes'),
                            operations.index('start_partition'))
            self.spawner.destroy(self.instance)

    def test_without_data_volumes_nothing_is_attached(self):
        self.spawn()
        self.assertEqual(0, self.cpc.count('attach_data_volumes'))

    def test_bad_data_volume_fails_before_any_hmc_change(self):
        self.assertRaises(exception.InvalidInput, self.spawn,
                          bdi={'boot': object(), 'data': ['bad']})
        self.assertEqual(0, self.cpc.count('create_partition'))

    def test_bad_image_fails_before_any_hmc_change(self):
        self.assertRaises(exception.ImageUnacceptable, self.spawn,
                          bdi=None, image_meta='bad')
        self.assertEqual(0, self.cpc.count('create_partition'))

    def test_too_many_nics_fail_before_any_hmc_change(self):
        self.assertRaises(exception.InvalidInput, self.spawn,
                          network_info=['vif'] * 13)
        self.assertEqual([], self.cpc.calls)

    def test_spawn_drops_the_snapshot(self):
        self.assertEqual((), self.subset.partitions(use_cache=True))
        self.spawn()
        self.assertEqual(1, len(self.subset.partitions(use_cache=True)))


# One row per step: (operation that fails, step named in the error, volume
# boot?).  Every row must leave nothing behind.
FAILING_STEPS = [
    ('create_partition', 'create the partition', True),
    ('create_nics', 'create the NICs', True),
    ('prepare_boot', 'prepare booting from the volume', True),
    ('prepare_iso', 'prepare booting from the ISO image', False),
    ('attach_data_volumes', 'attach the data volumes', True),
    ('update_partition', 'pass the NIC MAC addresses', True),
    ('start_partition', 'start the partition', True),
]

CAUSES = [
    exception.InstanceDeployFailure(reason='HMC said 500'),
    exception.HypervisorUnavailable(host='hmc1'),
    RuntimeError('unexpected bug'),
]


class SpawnRollbackTest(SpawnTestBase):

    def _spawn_failing(self, operation, volume_boot, cause):
        self.cpc.fail(operation, cause)
        return self.assertRaises(
            exception.InstanceDeployFailure, self.spawn,
            bdi=WITH_DATA_VOLUMES if volume_boot else ISO_WITH_DATA_VOLUME)

    def test_every_step_failure_rolls_back_and_names_the_step(self):
        for operation, step, volume_boot in FAILING_STEPS:
            for cause in CAUSES:
                self.cpc.calls = []
                exc = self._spawn_failing(operation, volume_boot, cause)
                self.assertIn(step, str(exc), (operation, cause))
                self.assertIs(cause, exc.__cause__)
                self.assertNothingLeft()

    def test_rollback_detaches_storage_before_deleting(self):
        self._spawn_failing('start_partition', True, RuntimeError('x'))
        operations = [op for op, _ in self.cpc.calls]
        self.assertLess(operations.index('release_storage'),
                        operations.index('delete_partition'))

    def test_failed_rollback_is_said_in_the_error(self):
        self.cpc.fail('start_partition', RuntimeError('start'))
        with mock.patch.object(self.cpc, 'delete_partition',
                               side_effect=RuntimeError('hmc down')):
            exc = self.assertRaises(exception.InstanceDeployFailure,
                                    self.spawn)
        self.assertIn('rollback failed', str(exc))

    def test_instance_deleted_meanwhile_cleans_up_quietly(self):
        def deleting():
            self.instance.task_state = task_states.DELETING
        self.refresh.side_effect = deleting
        self.cpc.fail('start_partition',
                      exception.InstanceNotFound(instance_id=UUID))
        self.spawn()
        self.assertNothingLeft()

    def test_instance_gone_from_nova_cleans_up_quietly(self):
        self.refresh.side_effect = exception.InstanceNotFound(
            instance_id=UUID)
        self.cpc.fail('create_nics', exception.InstanceDeployFailure(
            reason='x'))
        self.spawn()
        self.assertNothingLeft()

    def test_partition_vanishing_while_instance_lives_is_a_failure(self):
        self.cpc.fail('start_partition',
                      exception.InstanceNotFound(instance_id=UUID))
        self.assertRaises(exception.InstanceDeployFailure, self.spawn)
        self.assertNothingLeft()
