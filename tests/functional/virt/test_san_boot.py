"""Booting from a LUN of the simulator's FCP storage array (``san``).

With an array behind the HMC a boot volume is found only when "Cinder"
mapped its LUN to the partition's WWPNs, as on hardware: the mapping is
made here the way the mini-cloud's Cinder driver makes it (every
initiator of Nova's connector through every target port).
"""

from nova import exception

from tests.functional.virt import driver_base

FOREIGN_WWPN = 'c05076ffffffff00'
PATH_READS = 'GET /api/storage-groups/{id}/virtual-storage-resources'


class TestBootFromTheArray(driver_base.DriverTestCase):
    """On the default kind (storage groups)."""

    san = True

    def setUp(self):
        super(TestBootFromTheArray, self).setUp()
        self.array = self.sim.array
        self.targets = self.array.target_ports()
        self.inst = self.instance()

    def configure(self, host):
        super(TestBootFromTheArray, self).configure(host)
        # The budget a fulfilment that never completes is waited for.
        self.conf.config(group='dpm', operation_timeout=2)

    def mapped(self, initiators, volume_id='vol-1'):
        """Connection info of a new LUN mapped to ``initiators``."""
        lun = self.array.create_lun(1)['lun']
        for initiator in initiators:
            for target in self.targets:
                self.array.map_lun(lun, initiator, target)
        return {'driver_volume_type': 'fibre_channel', 'serial': volume_id,
                'data': {'target_wwn': self.targets, 'target_lun': lun,
                         'target_discovered': False,
                         'initiator_target_map': {
                             i: self.targets for i in initiators}}}

    def mapped_boot(self, initiators):
        """Block device info of a new LUN mapped to ``initiators``."""
        return {'block_device_mapping': [{
            'boot_index': 0, 'connection_info': self.mapped(initiators)}]}

    def test_a_lun_mapped_to_the_partition_boots(self):
        wwpns = self.driver.get_volume_connector(self.inst)['wwpns']
        bdi = self.mapped_boot(wwpns)
        lun = bdi['block_device_mapping'][0]['connection_info']['data'][
            'target_lun']
        path_reads = self.sim.stats()['by_call'].get(PATH_READS)

        self.spawn(self.inst, bdi=bdi)

        # the connector recorded the partition's paths: the fulfilment
        # chose its adapter port (the one Cinder zoned) without reading
        # them again
        self.assertEqual(path_reads,
                         self.sim.stats()['by_call'].get(PATH_READS))

        volume = self.boot_settings(self.inst)['volume']
        self.assertEqual(('complete', self.array.luns()[0]['uuid']),
                         (volume['fulfillment-state'], volume['uuid']))
        self.assertEqual({(self.targets[0], '%016x' % lun)},
                         {(p['target-world-wide-port-name'],
                           p['logical-unit-number'])
                          for p in volume['paths']})
        self.driver.destroy(None, self.inst, None)
        self.assertNothingLeft()

    def test_a_lun_mapped_to_another_initiator_fails_the_boot(self):
        self.driver.get_volume_connector(self.inst)
        bdi = self.mapped_boot([FOREIGN_WWPN])

        exc = self.assertRaises(exception.InstanceDeployFailure, self.spawn,
                                self.inst, bdi=bdi)

        self.assertRegex(str(exc), 'storage volume /api/storage-groups/'
                         '[^ ]+ is still not fulfilled after 2 s .*LUN '
                         'masking')
        self.driver.destroy(None, self.inst, None)
        self.assertNothingLeft()

    def test_attach_waits_for_the_data_lun_and_fails_when_unmapped(self):
        wwpns = self.driver.get_volume_connector(self.inst)['wwpns']
        self.spawn(self.inst, bdi=self.mapped_boot(wwpns))
        mapped = self.mapped(wwpns, 'data-1')
        unmapped = self.mapped([FOREIGN_WWPN], 'data-2')

        # The HMC takes its time: attach returns once the LUN was reached.
        self.sim.set_fulfillment_delay(0.3)
        self.driver.attach_volume(None, mapped, self.inst, '/dev/sdb')
        self.assertEqual({'OpenStack-data-1': 'complete'},
                         self.data_volume_states())

        exc = self.assertRaises(
            exception.VolumeAttachFailed, self.driver.attach_volume, None,
            unmapped, self.inst, '/dev/sdc')

        self.assertRegex(str(exc), 'data-2.*still not fulfilled after 2 s '
                         '.*LUN masking')
        # Nothing of the failed attach stays in the group.
        self.assertEqual({'OpenStack-data-1': 'complete'},
                         self.data_volume_states())
        self.driver.detach_volume(None, mapped, self.inst, '/dev/sdb')
        self.assertEqual({}, self.data_volume_states())
        self.driver.destroy(None, self.inst, None)
        self.assertNothingLeft()
