# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""FCP volumes of an instance's partition: boot volume, WWPNs, attach.

A partition reaches FCP volumes through initiator WWPNs the HMC assigns:

* CPC without ``dpm-storage-management``: one virtual HBA per
  ``[dpm] physical_storage_adapter_mappings`` entry, named
  ``OpenStack_HBA_<adapter-object-id>_<port>``;
* CPC with it: an unshared FCP storage group ``OpenStack-<instance uuid>``
  attached to the partition (the HMC picks the adapter paths; connectivity
  is the number of mappings, at least 1).

The WWPNs are what Cinder maps volumes to, so they are kept in the
persistent :class:`~nova_dpm.virt.dpm.wwpn_store.WWPNStore` and reported by
:meth:`Storage.get_volume_connector` even after the partition is gone,
until the last volume is detached. Nothing here ever deletes a volume or a
storage group that lists storage volumes.
"""

import dataclasses
import functools
import time

from nova import exception
from nova.virt import driver as virt_driver
from oslo_log import log as logging

import nova_dpm.conf
from nova_dpm.hmc import errors as hmc_errors
from nova_dpm.hmc import storage as hmc_storage
from nova_dpm.virt.dpm import wwpn_store

LOG = logging.getLogger(__name__)
CONF = nova_dpm.conf.CONF

FIBRE_CHANNEL = 'fibre_channel'
HBA_NAME_PREFIX = 'OpenStack_HBA_'
STORAGE_GROUP_PREFIX = 'OpenStack-'
MODE_HBA = 'hba'
MODE_STORAGE_GROUP = 'storage-group'


@dataclasses.dataclass(frozen=True)
class BootVolume(object):
    """The validated boot volume of a server (boot_index 0, FCP)."""

    volume_id: str
    target_wwpn: str     # 16 lower-case hex digits
    lun: int
    connection_info: dict = dataclasses.field(repr=False, compare=False)

    @property
    def lun_hex(self):
        """The LUN as the HMC wants it: 16 hex digits."""
        return '%016x' % self.lun


def normalize_wwpn(wwpn):
    text = str(wwpn).lower()
    return text[2:] if text.startswith('0x') else text


def _volume_id(bdm, connection_info):
    volume_id = None
    try:
        volume_id = bdm['volume_id']
    except (KeyError, TypeError):
        volume_id = getattr(bdm, 'volume_id', None)
    data = connection_info.get('data') or {}
    return (volume_id or connection_info.get('serial') or
            data.get('volume_id') or '<unknown volume>')


def _as_lun(value):
    if isinstance(value, int):
        return value
    text = str(value).lower()
    return int(text, 16) if text.startswith('0x') else int(text)


class Storage(object):
    """FCP storage of partitions, with persistent WWPN bookkeeping."""

    def __init__(self, supervisor, settings, state_dir):
        self._hmc = hmc_storage.StorageFacade(supervisor,
                                              settings.cpc_object_id)
        self._mappings = tuple(settings.storage_adapter_mappings or ())
        self._ignored = frozenset(normalize_wwpn(w) for w in
                                  settings.target_wwpn_ignore_list or ())
        self._store = wwpn_store.WWPNStore(state_dir)

    # --- validation (no I/O) ---

    def boot_volume(self, block_device_info):
        """The boot volume (boot_index 0) of ``block_device_info`` or None.

        Raises InvalidInput when it is not a usable FCP volume.
        """
        for bdm in virt_driver.block_device_info_get_mapping(
                block_device_info):
            if bdm.get('boot_index') not in (0, '0'):
                continue
            connection_info = bdm.get('connection_info') or {}
            return self._validated(_volume_id(bdm, connection_info),
                                   connection_info)
        return None

    def _validated(self, volume_id, connection_info):
        def invalid(problem):
            return exception.InvalidInput(reason='boot volume %s: %s'
                                          % (volume_id, problem))

        volume_type = connection_info.get('driver_volume_type')
        if volume_type != FIBRE_CHANNEL:
            raise invalid('its connection type is %r but DPM partitions '
                          'boot only from %s volumes; use an FCP (fibre '
                          'channel) volume type' % (volume_type,
                                                    FIBRE_CHANNEL))
        data = connection_info.get('data') or {}
        targets = self._usable_targets(data)
        if not targets:
            raise invalid('no usable target WWPN in the connection (given: '
                          '%s; ignored by [dpm] target_wwpn_ignore_list: %s)'
                          % (data.get('target_wwn'),
                             ', '.join(sorted(self._ignored)) or 'none'))
        lun = data.get('target_lun')
        try:
            lun = _as_lun(lun)
        except (TypeError, ValueError):
            raise invalid('target_lun %r is not a LUN number' % (lun,))
        return BootVolume(volume_id=volume_id, target_wwpn=targets[0],
                          lun=lun, connection_info=connection_info)

    def _usable_targets(self, data):
        targets = data.get('target_wwn') or data.get('target_wwpn') or []
        if isinstance(targets, str):
            targets = [targets]
        return [normalize_wwpn(t) for t in targets
                if normalize_wwpn(t) not in self._ignored]

    # --- spawn ---

    def prepare_boot(self, instance, partition_uri, boot_volume):
        """Give the partition FCP access and make it boot from the volume.

        Everything created is recorded first, so :meth:`release` can undo
        it after any failure. Raises InstanceDeployFailure (or what the
        supervisor maps an HMC failure to).
        """
        failure = exception.InstanceDeployFailure
        self.prepare_storage(instance, partition_uri, failure=failure)
        self._store.update(instance.uuid, functools.partial(
            _add_volume, volume_id=boot_volume.volume_id))
        record = self._store.get(instance.uuid)
        properties = {
            'boot-device': 'storage-adapter',
            'boot-world-wide-port-name': boot_volume.target_wwpn,
            'boot-logical-unit-number': boot_volume.lun_hex,
        }
        if record['hba_uris']:
            properties['boot-storage-device'] = record['hba_uris'][0]
        self._hmc.set_partition_properties(partition_uri, properties,
                                           failure)

    def prepare_storage(self, instance, partition_uri, failure=None):
        """Create HBAs or attach a storage group (idempotent); WWPNs.

        Also what the driver calls from ``get_volume_connector`` when the
        partition exists but has no storage yet.
        """
        record = self._store.get(instance.uuid)
        if (record and record['wwpns'] and record['released_at'] is None and
                record['partition_uri'] == partition_uri):
            return list(record['wwpns'])
        mode = (MODE_STORAGE_GROUP
                if self._hmc.storage_management_enabled(failure)
                else MODE_HBA)

        def start(record):
            record.update(partition_uri=partition_uri, mode=mode,
                          released_at=None)

        self._store.update(instance.uuid, start)
        if mode == MODE_HBA:
            wwpns = self._create_hbas(instance.uuid, partition_uri, failure)
        else:
            wwpns = self._attach_storage_group(instance.uuid, partition_uri,
                                               failure)
        if not wwpns:
            raise (failure or hmc_errors.HMCOperationFailed)(
                reason='the HMC assigned no FCP WWPNs to %s'
                % partition_uri)
        self._store.update(instance.uuid,
                           lambda record: record.update(wwpns=wwpns))
        LOG.info('Partition %s has FCP WWPNs %s', partition_uri,
                 ', '.join(wwpns), instance=instance)
        return wwpns

    def _create_hbas(self, instance_uuid, partition_uri, failure):
        if not self._mappings:
            raise (failure or hmc_errors.HMCOperationFailed)(
                reason='[dpm] physical_storage_adapter_mappings is empty: '
                       'this CPC has no dpm-storage-management, so volumes '
                       'need FCP adapter ports; add '
                       '<adapter-object-id>:<port> lines')
        # HBAs left by an interrupted earlier attempt are reused.
        existing = {hba.get('name'): hba['element-uri']
                    for hba in self._hmc.hbas(partition_uri, failure)}
        wwpns = []
        for adapter_oid, port in self._mappings:
            name = '%s%s_%d' % (HBA_NAME_PREFIX, adapter_oid, port)
            hba_uri = existing.get(name)
            if hba_uri is None:
                port_uri = self._hmc.storage_port_uri(adapter_oid, port,
                                                      failure)
                hba_uri = self._hmc.create_hba(partition_uri, name,
                                               port_uri, failure)
            self._store.update(instance_uuid, functools.partial(
                _add_unique, key='hba_uris', value=hba_uri))
            wwpn = self._hmc.hba_properties(hba_uri, failure).get('wwpn')
            if wwpn:
                wwpns.append(normalize_wwpn(wwpn))
        return wwpns

    def _attach_storage_group(self, instance_uuid, partition_uri, failure):
        name = STORAGE_GROUP_PREFIX + instance_uuid
        # A group left by an interrupted earlier attempt is reused.
        sg_uri = self._hmc.find_storage_group(name, failure)
        if sg_uri is None:
            sg_uri = self._hmc.create_storage_group(
                name, 'FCP volumes of OpenStack server %s' % instance_uuid,
                max(len(self._mappings), 1), failure)
        self._store.update(instance_uuid, lambda record: record.update(
            storage_group_uri=sg_uri, created_storage_group=True))
        attached = self._hmc.attached_storage_groups(partition_uri, failure)
        if sg_uri not in attached:
            self._hmc.attach_storage_group(partition_uri, sg_uri, failure)
        return [normalize_wwpn(w) for w in self._hmc.storage_group_wwpns(
            sg_uri, partition_uri, failure) if w]

    # --- destroy / rollback ---

    def release(self, instance, partition_uri):
        """Undo what prepare created; call before deleting the partition.

        Detaches (and deletes, when it holds no volumes) the instance's
        storage group and deletes its HBAs. Things already gone are fine.
        The WWPNs stay recorded while volumes are attached. Raises
        InstanceTerminationFailure when the HMC refuses.
        """
        failure = exception.InstanceTerminationFailure
        record = self._store.get(instance.uuid)
        if record is None:
            return
        partition_uri = partition_uri or record['partition_uri']
        sg_uri = record['storage_group_uri']
        created = record['created_storage_group']
        if not sg_uri and record.get('mode') == MODE_STORAGE_GROUP:
            # Created by a request whose answer never came back.
            sg_uri = self._hmc.find_storage_group(
                STORAGE_GROUP_PREFIX + instance.uuid, failure)
            created = True
        if sg_uri and partition_uri:
            self._hmc.detach_storage_group(partition_uri, sg_uri, failure)
        if sg_uri and created:
            if not self._hmc.delete_storage_group_if_unused(sg_uri, failure):
                LOG.warning('Kept storage group %s: it lists storage '
                            'volumes', sg_uri, instance=instance)
        hba_uris = set(record['hba_uris'])
        if partition_uri and record.get('mode') == MODE_HBA:
            hba_uris.update(
                hba['element-uri']
                for hba in self._hmc.hbas(partition_uri, failure)
                if str(hba.get('name', '')).startswith(HBA_NAME_PREFIX))
        for hba_uri in sorted(hba_uris):
            self._hmc.delete_hba(hba_uri, failure)

        def released(record):
            record.update(hba_uris=[], storage_group_uri=None,
                          created_storage_group=False,
                          released_at=time.time())

        self._store.update(instance.uuid, released)

    # --- volumes ---

    def recorded_wwpns(self, instance):
        """The instance's initiator WWPNs from persistent state ([])."""
        record = self._store.get(instance.uuid) or {}
        return list(record.get('wwpns') or [])

    def has_prepared_storage(self, instance):
        """Did prepare_storage run for the instance, with no release yet?"""
        record = self._store.get(instance.uuid)
        return record is not None and record['released_at'] is None

    def get_volume_connector(self, instance):
        """Initiator data Cinder maps volumes to (from persistent state)."""
        wwpns = self.recorded_wwpns(instance)
        if not wwpns:
            LOG.warning('No FCP WWPNs are recorded for this server; Cinder '
                        'cannot map or unmap its volumes until its '
                        'partition has storage', instance=instance)
        return {'wwpns': wwpns, 'host': CONF.host, 'ip': CONF.my_ip,
                'platform': 's390x', 'os_type': 'linux',
                'multipath': len(wwpns) > 1, 'do_local_attach': False}

    def attach_volume(self, context, connection_info, instance, mountpoint):
        """Record an attached FCP volume; the guest finds it by its LUN.

        The LUN is mapped to the partition's WWPNs by Cinder, so nothing
        changes on the HMC; this checks the connection and keeps the WWPNs
        until the volume is detached again.
        """
        volume_id = _volume_id({}, connection_info)
        failure = functools.partial(exception.VolumeAttachFailed,
                                    volume_id=volume_id)
        if connection_info.get('driver_volume_type') != FIBRE_CHANNEL:
            raise failure(reason='only %s volumes can be attached to DPM '
                          'partitions, not %r' % (
                              FIBRE_CHANNEL,
                              connection_info.get('driver_volume_type')))
        if not self._usable_targets(connection_info.get('data') or {}):
            raise failure(reason='every target WWPN is in [dpm] '
                          'target_wwpn_ignore_list')
        record = self._store.get(instance.uuid)
        if not record or not record.get('wwpns'):
            raise failure(reason='the partition has no FCP WWPNs (it was '
                          'not booted from an FCP volume)')
        self._store.update(instance.uuid, functools.partial(
            _add_volume, volume_id=volume_id))
        LOG.info('Volume %s attached at %s', volume_id, mountpoint,
                 instance=instance)

    def detach_volume(self, context, connection_info, instance, mountpoint):
        """Forget a detached volume.

        The WWPNs go with the last volume once the partition is gone.
        """
        volume_id = _volume_id({}, connection_info)

        def forget(record):
            if volume_id in record['volumes']:
                record['volumes'].remove(volume_id)

        if self._store.get(instance.uuid) is not None:
            self._store.update(instance.uuid, forget)
        LOG.info('Volume %s detached from %s', volume_id, mountpoint,
                 instance=instance)


def _add_unique(record, key, value):
    if value not in record[key]:
        record[key] = list(record[key]) + [value]


def _add_volume(record, volume_id):
    _add_unique(record, 'volumes', volume_id)
