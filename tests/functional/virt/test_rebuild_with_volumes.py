"""Rebuild of a server with a data volume, through real Nova.

What tempest's ``test_rebuild_server_with_volume_attached`` does: a server
booted from an ISO image gets a data volume, then is rebuilt. Nova's
default rebuild detaches the volume, destroys the partition, asks the
driver for the volume connector (Cinder maps the volume to the WWPNs it
names) and spawns with the volume in ``block_device_info``.

Cinder here is Nova's fixture with the mini-cloud driver's behaviour: a
connector without WWPNs is refused, each volume is a LUN of the
simulator's FCP array, mapped to the connector's WWPNs through every
target port, unmapped when the attachment goes. With the array the HMC
fulfils a storage volume only for a LUN mapped to the partition's WWPNs,
as on hardware.
"""

import io

from nova import context as nova_context
from nova import exception
from oslo_utils.fixture import uuidsentinel as uuids

from nova_dpm.simulator import inventory
from tests.functional.e2e import base
from tests.functional.virt import driver_base

ISO_DATA = b'ISO9660' * 585


class ArrayCinderFixture(base.FCCinderFixture):
    """Cinder with FC volumes on the simulator's array (see module doc)."""

    def __init__(self, test, array):
        super().__init__(test)
        self.array = array
        self.luns = {}          # Cinder volume id -> LUN number
        self.initiators = {}    # attachment id -> WWPNs it was mapped to

    def lun_of(self, volume_id):
        if volume_id not in self.luns:
            self.luns[volume_id] = self.array.create_lun(1)['lun']
        return self.luns[volume_id]

    def _find_connection_info(self, volume_id, attachment_id):
        info = super()._find_connection_info(volume_id, attachment_id)
        targets = self.array.target_ports()
        info['data'].update(
            target_wwn=targets, target_lun=self.lun_of(volume_id),
            initiator_target_map={
                i: targets for i in self.initiators.get(attachment_id, [])})
        return info

    def fake_attachment_update(self, context, attachment_id, connector,
                               mountpoint=None):
        # As the mini-cloud's Cinder driver's validate_connector.
        if not (connector or {}).get('wwpns'):
            raise exception.InvalidInput(
                reason='Connector doesn\'t have required information: wwpns')
        volume_id, _, _ = self._find_attachment(attachment_id)
        lun = self.lun_of(volume_id)
        for initiator in connector['wwpns']:
            for target in self.array.target_ports():
                self.array.map_lun(lun, initiator, target)
        self.initiators[attachment_id] = list(connector['wwpns'])
        return super().fake_attachment_update(context, attachment_id,
                                              connector, mountpoint)

    def fake_attachment_delete(self, context, attachment_id):
        volume_id, _, _ = self._find_attachment(attachment_id)
        for initiator in self.initiators.pop(attachment_id, []):
            self.array.unmap_lun(self.lun_of(volume_id), initiator)
        super().fake_attachment_delete(context, attachment_id)


class TestRebuildWithDataVolume(base.DPMNovaTestCase):
    """On z16 (storage groups); subclasses: z17 and z13 (HBAs)."""

    SAN = True

    def setUp(self):
        super().setUp()
        self.cinder = self.useFixture(ArrayCinderFixture(self,
                                                         self.sim.array))
        self.glance.create(nova_context.get_admin_context(), {
            'id': uuids.iso_image, 'name': 'installer.iso',
            'status': 'active', 'container_format': 'bare',
            'disk_format': 'iso', 'min_ram': 0, 'min_disk': 0,
            'size': len(ISO_DATA),
            'properties': {'architecture': 's390x',
                           'dpm_ins_file': '/generic.ins'}},
            data=io.BytesIO(ISO_DATA))

    @property
    def storage_management(self):
        return inventory.MACHINES[self.INVENTORY].storage_management

    def supervisor(self):
        return self.compute.manager.driver._ready.supervisor

    def mapped_initiators(self, volume_id):
        lun = self.cinder.lun_of(volume_id)
        return sorted({m['initiator'] for m in self.sim.array.mappings()
                       if m['lun'] == lun})

    def assert_volume_reachable(self, server, volume_id):
        """The LUN is mapped to exactly the partition's WWPNs.

        On storage group CPCs the HMC also reached it (fulfilment complete).
        """
        wwpns = driver_base.partition_wwpns(
            self.supervisor(), self.sim.cpc_object_id, server['id'])
        self.assertEqual(2, len(wwpns))
        self.assertEqual(wwpns, self.mapped_initiators(volume_id))
        if self.storage_management:
            self.assertEqual({'OpenStack-' + volume_id: 'complete'},
                             driver_base.data_volume_states(
                                 self.supervisor()))
        return wwpns

    def wait_for_task(self, server):
        """The server once no task runs on it any more."""
        found = {}

        def idle():
            found.update(self.api.get_server(server['id']))
            return (found['status'] in ('ACTIVE', 'ERROR') and
                    found['OS-EXT-STS:task_state'] is None)

        self.wait_until(idle, timeout=60, what='the server to settle')
        return found

    def test_rebuild_keeps_the_data_volume_attached(self):
        server = self._create_server(
            name='rebuild', image_uuid=uuids.iso_image,
            flavor_id=self.flavor_id, networks='none')
        self.api.post_server_volume(server['id'], {'volumeAttachment': {
            'volumeId': base.FC_DATA_VOLUME}})
        self._wait_for_volume_attach(server['id'], base.FC_DATA_VOLUME)
        self._wait_for_instance_action_event(
            server, 'attach_volume', 'compute_attach_volume', 'success')
        self.assert_volume_reachable(server, base.FC_DATA_VOLUME)

        self.api.post_server_action(server['id'], {
            'rebuild': {'imageRef': uuids.iso_image}})
        server = self.wait_for_task(server)

        self.assertEqual('ACTIVE', server['status'], server.get('fault'))
        self.assertEqual('active', self.sim.resources()['partition_status'][
            self.partitions()[0]])
        self.assertEqual([base.FC_DATA_VOLUME], [
            v['volumeId'] for v in self.api.get_server_volumes(server['id'])])
        self.assert_volume_reachable(server, base.FC_DATA_VOLUME)
        self.assertEqual(1, self.sim.resources()['iso_mounts'])

        self._delete_server(server)
        self.assertEqual([], self.sim.array.mappings())
        left = self.sim.resources()
        self.assertEqual(([], 0, [], 0, 0, 0),
                         (left['partitions'], left['hbas'],
                          left['storage_groups'], left['storage_volumes'],
                          left['virtual_storage_resources'],
                          left['iso_mounts']))


class TestRebuildWithDataVolumeOnZ17(TestRebuildWithDataVolume):
    """z17: storage groups, NICs by adapter port."""

    INVENTORY = 'z17'


class TestRebuildWithDataVolumeOnHbaCpc(TestRebuildWithDataVolume):
    """z13: the partition reaches the volumes through its HBAs."""

    INVENTORY = 'z13'
