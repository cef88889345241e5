"""Spawn with data volumes, and the connector of a rebuild, on the array.

A server booted from an ISO image with data volumes in its block device
info: what a rebuild of a server with attached volumes spawns (Nova's
default rebuild is destroy + spawn), and what a create request with extra
volumes spawns. The simulator has its FCP array (``san``): a data storage
volume is fulfilled only for a LUN mapped to the partition's WWPNs.
"""

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception

from tests.functional.virt import driver_base
from tests.functional.virt import test_image_boot

FOREIGN_WWPN = 'c05076ffffffff00'
FULFILL = r'/operations/fulfill-fcp-storage-volume$'
HBAS = r'^/api/partitions/[^/]+/hbas$'
ATTACH = r'/operations/attach-storage-group$'


@driver_base.on_every_kind
class TestSpawnWithDataVolumes(test_image_boot.IsoBootTestBase):
    """On every CPC kind."""

    san = True

    def configure(self, host):
        super().configure(host)
        # The budget a fulfilment that never completes is waited for.
        self.conf.config(group='dpm', operation_timeout=2)

    def mapped(self, initiators, volume_id):
        """A data volume's mapping: a new LUN mapped to ``initiators``."""
        array = self.sim.array
        targets = array.target_ports()
        lun = array.create_lun(1)['lun']
        for initiator in initiators:
            for target in targets:
                array.map_lun(lun, initiator, target)
        return {'boot_index': None, 'connection_info': {
            'driver_volume_type': 'fibre_channel', 'serial': volume_id,
            'data': {'target_wwn': targets, 'target_lun': lun,
                     'initiator_target_map': {
                         i: targets for i in initiators}}}}

    def spawn_iso(self, instance, *mappings):
        self.driver.spawn(self.context, instance, self.image_meta(), [],
                          None, {}, block_device_info={
                              'block_device_mapping': list(mappings)})

    def connector(self, instance):
        return self.driver.get_volume_connector(instance)['wwpns']

    def rebuilding(self, instance):
        """As Nova leaves it between the destroy and spawn of a rebuild."""
        instance.vm_state = vm_states.ACTIVE
        instance.task_state = task_states.REBUILD_BLOCK_DEVICE_MAPPING

    def test_every_data_volume_is_attached_before_the_start(self):
        instance = self.instance()
        wwpns = self.connector(instance)
        self.spawn_iso(instance, self.mapped(wwpns, 'data-1'),
                       self.mapped(wwpns, 'data-2'))

        self.assertEqual(['active'], list(
            self.sim.resources()['partition_status'].values()))
        if self.storage_management:
            self.assertEqual({'OpenStack-data-1': 'complete',
                              'OpenStack-data-2': 'complete'},
                             self.data_volume_states())
        instance.task_state = task_states.DELETING
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()
        # Nova unmaps the volumes after destroy: the WWPNs are still known.
        self.assertEqual(wwpns, self.connector(instance))
        self.assertNothingLeft()

    def test_rebuild_connector_names_the_new_partitions_wwpns(self):
        instance = self.instance()
        old = self.connector(instance)
        self.spawn_iso(instance, self.mapped(old, 'data-1'))
        # Nova's rebuild: the volumes stay recorded as attached when
        # destroy runs, so the old partition's WWPNs are still on record.
        self.driver.destroy(None, instance, None)
        self.rebuilding(instance)

        wwpns = self.connector(instance)

        self.assertEqual(2, len(wwpns))
        self.assertEqual(['stopped'], list(
            self.sim.resources()['partition_status'].values()))
        self.assertEqual(sorted(wwpns), driver_base.partition_wwpns(
            self.driver._ready.supervisor, self.sim.cpc_object_id,
            instance.uuid))
        self.spawn_iso(instance, self.mapped(wwpns, 'data-1'))
        if self.storage_management:
            self.assertEqual({'OpenStack-data-1': 'complete'},
                             self.data_volume_states())
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()

    def test_failing_rebuild_connector_leaves_nothing(self):
        instance = self.instance()
        self.rebuilding(instance)
        self.sim.fail_next(3, 500, 0, method='POST',
                           uri=ATTACH if self.storage_management else HBAS)
        exc = self.assertRaises(exception.NovaException, self.connector,
                                instance)
        self.assertNotIn(self.sim.password, str(exc))
        self.assertNothingLeft()

    def test_failed_data_volume_attach_rolls_the_spawn_back(self):
        instance = self.instance()
        if self.storage_management:
            # Nova's order: the connector, then spawn; the fulfilment of
            # the data volume is refused.
            wwpns = self.connector(instance)
            self.sim.fail_next(5, 500, 0, method='POST', uri=FULFILL)
        else:
            # The data volume step gives the partition its HBAs.
            wwpns = [FOREIGN_WWPN]
            self.sim.fail_next(3, 500, 0, method='POST', uri=HBAS)

        exc = self.assertRaises(exception.InstanceDeployFailure,
                                self.spawn_iso, instance,
                                self.mapped(wwpns, 'data-1'))

        self.assertIn('could not attach the data volumes', str(exc))
        self.assertNotIn(self.sim.password, str(exc))
        self.sim.clear_faults()
        self.assertNothingLeft()

    def test_unreachable_data_lun_rolls_the_spawn_back(self):
        if not self.storage_management:
            self.skipTest('with HBAs the HMC does not look for data LUNs')
        instance = self.instance()
        wwpns = self.connector(instance)

        exc = self.assertRaises(exception.InstanceDeployFailure,
                                self.spawn_iso, instance,
                                self.mapped(wwpns, 'data-1'),
                                self.mapped([FOREIGN_WWPN], 'data-2'))

        self.assertRegex(str(exc), 'could not attach the data volumes: .*'
                         'still not fulfilled after 2 s .*LUN masking')
        self.assertNothingLeft()
