"""Servers through Nova's REST API on DPMDriver and the HMC simulator."""

import io

from nova.compute import power_state
from nova import context as nova_context
from oslo_utils.fixture import uuidsentinel as uuids

from tests.functional.e2e import base


class TestServerLifecycle(base.DPMNovaTestCase):

    def test_boot_from_volume_stop_start_reboot_delete(self):
        server = self._boot_from_volume('bfv')
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])
        self.assertEqual(1, len(self.partitions()))
        self.assertEqual('active', self.partition_status(server))

        server = self._stop_server(server)
        self.assertEqual(power_state.SHUTDOWN,
                         server['OS-EXT-STS:power_state'])
        self.assertEqual('stopped', self.partition_status(server))

        server = self._start_server(server)
        self.assertEqual('active', self.partition_status(server))

        for hard in (False, True):
            before = self.sim.stats()['by_uri']
            server = self._reboot_server(server, hard=hard)
            self.assertEqual(power_state.RUNNING,
                             server['OS-EXT-STS:power_state'])
            self.assertEqual('active', self.partition_status(server))
            after = self.sim.stats()['by_uri']
            self.assertNotEqual(before, after, 'reboot did not reach HMC')

        listed = {s['id']: s for s in self.api.get_servers()}
        self.assertEqual('ACTIVE', listed[server['id']]['status'])

        self._delete_server(server)
        self.assertEqual([], self.partitions())
        left = self.sim.resources()
        self.assertEqual((0, 0, 0), (left['nics'], left['hbas'],
                                     left['storage_group_attachments']))

    def test_boot_from_a_fulfilled_storage_volume_and_attach_data(self):
        # The storage-management CPC (z16): the partition boots from a
        # storage volume of its group, fulfilled with Cinder's LUN.
        server = self._boot_from_volume('bfv-sg')
        boot = self.boot_settings(server)
        self.assertEqual('storage-volume', boot['boot-device'])
        self.assertEqual(('boot', 'complete', 'OpenStack-' +
                          base.FC_BOOT_VOLUME),
                         (boot['volume']['usage'],
                          boot['volume']['fulfillment-state'],
                          boot['volume']['name']))
        self.assertEqual({(base.TARGET_WWPN, '0' * 16)}, {
            (p['target-world-wide-port-name'], p['logical-unit-number'])
            for p in boot['volume']['paths']})

        # A data volume attaches to and detaches from the running server.
        self.api.post_server_volume(server['id'], {'volumeAttachment': {
            'volumeId': base.FC_DATA_VOLUME}})
        # The API lists the attachment before the driver has made it.
        self.wait_until(lambda: self.volume_usages() == ['boot', 'data'],
                        what='the data volume in the storage group')
        self._wait_for_volume_attach(server['id'], base.FC_DATA_VOLUME)
        self.api.delete_server_volume(server['id'], base.FC_DATA_VOLUME)
        self._wait_for_volume_detach(server['id'], base.FC_DATA_VOLUME)
        self.wait_until(lambda: self.volume_usages() == ['boot'],
                        what='the data volume to leave the storage group')

        self._delete_server(server)
        left = self.sim.resources()
        self.assertEqual(([], [], 0, 0), (left['partitions'],
                                          left['storage_groups'],
                                          left['storage_volumes'],
                                          left['storage_group_attachments']))

    def volume_usages(self):
        """Usages of the storage volumes of the HMC's only group."""
        def read(client):
            groups = client.consoles.console.storage_groups.list()
            self.assertEqual(1, len(groups))
            volumes = groups[0].storage_volumes.list()
            for volume in volumes:
                volume.pull_full_properties()
            return sorted(v.properties['usage'] for v in volumes)
        return self.compute.manager.driver._ready.supervisor.call(read)

    def test_boot_from_iso_image(self):
        data = b'ISO9660' * 585
        image = {
            'id': uuids.iso_image, 'name': 'installer.iso',
            'status': 'active', 'container_format': 'bare',
            'disk_format': 'iso', 'min_ram': 0, 'min_disk': 0,
            'size': len(data),
            'properties': {'architecture': 's390x',
                           'dpm_ins_file': '/generic.ins'}}
        self.glance.create(nova_context.get_admin_context(), image,
                           data=io.BytesIO(data))
        server = self._create_server(
            name='iso', image_uuid=uuids.iso_image,
            flavor_id=self.flavor_id, networks='none')
        self.assertEqual('active', self.partition_status(server))
        self.assertEqual(1, self.sim.resources()['iso_mounts'])
        self._delete_server(server)
        self.assertEqual([], self.partitions())
        self.assertEqual(0, self.sim.resources()['iso_mounts'])

    def test_provider_inventory_and_traits(self):
        rp_uuid = self._get_provider_uuid_by_host('compute')
        inventory = self._get_provider_inventory(rp_uuid)
        self.assertEqual({'VCPU', 'MEMORY_MB'}, set(inventory))
        self.assertEqual(self.MAX_PROCESSORS, inventory['VCPU']['total'])
        self.assertEqual(self.MAX_MEMORY, inventory['MEMORY_MB']['total'])
        traits = set(self._get_provider_traits(rp_uuid))
        self.assertIn('HW_ARCH_S390X', traits)
        self.assertIn('COMPUTE_VOLUME_ATTACH', traits)
        self.assertNotIn('COMPUTE_DEVICE_TAGGING', traits)

    def test_console_output(self):
        server = self._boot_from_volume('console')
        output = self.api.post_server_action(
            server['id'], {'os-getConsoleOutput': {'length': 50}})
        self.assertTrue(output['output'].strip())
        self._delete_server(server)

    def partition_status(self, server):
        """The DPM status of the server's partition on the HMC."""
        statuses = self.sim.resources().get('partition_status', {})
        names = [n for n in statuses if server['id'] in n]
        self.assertEqual(1, len(names), 'partition of %s' % server['id'])
        return statuses[names[0]]


class TestBootFromVolumeOnHbaCpc(base.DPMNovaTestCase):
    """A CPC without storage management (z13): the volume through HBAs."""

    INVENTORY = 'z13'

    def test_boot_from_volume_through_an_hba(self):
        server = self._boot_from_volume('bfv-hba')
        boot = self.boot_settings(server)
        self.assertEqual(('storage-adapter', base.TARGET_WWPN, '0' * 16),
                         (boot['boot-device'],
                          boot['boot-world-wide-port-name'],
                          boot['boot-logical-unit-number']))
        self.assertIn('/hbas/', boot['boot-storage-device'])
        self._delete_server(server)
        left = self.sim.resources()
        self.assertEqual(([], 0, []), (left['partitions'], left['hbas'],
                                       left['storage_groups']))


class TestBootFromVolumeOnZ17(base.DPMNovaTestCase):
    """z17: storage groups, and no virtual switches."""

    INVENTORY = 'z17'

    def test_boot_from_a_storage_volume(self):
        server = self._boot_from_volume('bfv-z17')
        boot = self.boot_settings(server)
        self.assertEqual(('storage-volume', 'boot', 'complete'),
                         (boot['boot-device'], boot['volume']['usage'],
                          boot['volume']['fulfillment-state']))
        self._delete_server(server)
        self.assertEqual([], self.sim.resources()['storage_groups'])
