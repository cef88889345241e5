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

* CPC without ``dpm-storage-management`` (z13 era): one virtual HBA per
  ``[dpm] physical_storage_adapter_mappings`` entry, named
  ``OpenStack_HBA_<adapter-object-id>_<port>``; the partition boots with
  ``boot-device = storage-adapter`` (HBA, target WWPN, LUN).
* CPC with it (z14 and later, every z17): an unshared FCP storage group
  ``OpenStack-<instance uuid>`` attached to the partition (the HMC picks
  the adapter paths, its virtual storage resources; connectivity is the
  number of mappings, at least 1). The group holds one storage volume per
  Cinder volume of the server, named ``OpenStack-<Cinder volume id>``: the
  boot volume (usage ``boot``, size from the block device mapping) and one
  data volume per attached volume. Each is fulfilled ("Fulfill FCP Storage
  Volume") with the target WWPN and LUN Cinder returned for the group's
  WWPNs, through the adapter port of the group's path the target is
  reached from. The partition boots with ``boot-device = storage-volume``
  and ``boot-storage-volume`` = the boot volume (Update Partition
  Properties, never at create); a fulfilment still pending (409,122) is
  waited for within ``operation_timeout``.

The HMC is the source of truth: destroy finds the instance's HBAs and
storage group on the HMC (by name), whatever the local state file says.
The WWPNs are what Cinder maps volumes to; they are also kept in the
:class:`~nova_dpm.virt.dpm.wwpn_store.WWPNStore` so that
:meth:`Storage.get_volume_connector` reports them after the partition is
gone, until the last volume is detached. A state file that cannot be read
or written only loses that after-destroy memory (a warning names it); it
never fails a spawn or a destroy.

Nothing here deletes a Cinder volume: removing a storage volume or group
removes the HMC's objects, never the LUN behind them.
"""

import dataclasses
import functools
import time

from nova import exception
from nova import objects
from nova.virt import driver as virt_driver
from oslo_log import log as logging
from oslo_utils import excutils

import nova_dpm.conf
from nova_dpm.hmc import errors as hmc_errors
from nova_dpm.hmc import storage as hmc_storage
from nova_dpm.virt.dpm import wwpn_store

LOG = logging.getLogger(__name__)
CONF = nova_dpm.conf.CONF

FIBRE_CHANNEL = 'fibre_channel'
HBA_NAME_PREFIX = 'OpenStack_HBA_'
STORAGE_GROUP_PREFIX = 'OpenStack-'
STORAGE_VOLUME_PREFIX = 'OpenStack-'
MODE_HBA = 'hba'
MODE_STORAGE_GROUP = 'storage-group'
#: What the state file keeps of a path into the storage group (a virtual
#: storage resource): enough to choose the adapter port of a fulfilment.
PATH_KEYS = ('world-wide-port-name', 'adapter-port-uri')
#: Size (GiB) asked for a storage volume when Nova does not know the
#: Cinder volume's size. After fulfilment the HMC reports the LUN's real
#: size; a LUN larger than asked is usable (assumed: "overprovisioned" is
#: a fulfilment state, not an error).
DEFAULT_VOLUME_SIZE_GIB = 1


@dataclasses.dataclass(frozen=True)
class FcpVolume(object):
    """A validated FCP (fibre channel) Cinder volume connection."""

    volume_id: str
    target_wwpn: str     # 16 lower-case hex digits
    lun: int
    connection_info: dict = dataclasses.field(repr=False, compare=False)
    size_gib: float = None

    @property
    def lun_hex(self):
        """The LUN as the HMC wants it: 16 hex digits."""
        return '%016x' % self.lun

    @property
    def hmc_name(self):
        """Name of the storage volume standing for it on the HMC."""
        return STORAGE_VOLUME_PREFIX + self.volume_id


class _Unusable(Exception):
    """A connection that cannot be used; the message says why."""


def normalize_wwpn(wwpn):
    text = str(wwpn).lower()
    return text[2:] if text.startswith('0x') else text


def _bdm_field(bdm, name):
    """A field of a driver block device mapping (or a plain dict)."""
    try:
        value = bdm[name]
    except (KeyError, TypeError):
        value = None
    return value if value is not None else getattr(bdm, name, None)


def _volume_id(bdm, connection_info):
    data = connection_info.get('data') or {}
    return (_bdm_field(bdm, 'volume_id') or connection_info.get('serial') or
            data.get('volume_id') or '<unknown volume>')


def _as_lun(value):
    if isinstance(value, int):
        return value
    text = str(value).lower()
    return int(text, 16) if text.startswith('0x') else int(text)


def _attached_size(context, instance, volume_id):
    """The Cinder volume's size (GiB) Nova recorded, or None."""
    if context is None:
        return None
    try:
        bdm = objects.BlockDeviceMapping.get_by_volume_and_instance(
            context, volume_id, instance.uuid)
    except exception.NovaException as exc:
        LOG.debug('Size of volume %s unknown: %s', volume_id, exc,
                  instance=instance)
        return None
    return bdm.volume_size


@dataclasses.dataclass(frozen=True)
class _Access(object):
    """How a partition reaches its FCP volumes."""

    wwpns: list
    hba_uris: list = dataclasses.field(default_factory=list)
    storage_group_uri: str = None
    #: the partition's paths into its storage group (initiator WWPN and
    #: adapter port), kept so a fulfilment need not read them again
    paths: list = dataclasses.field(default_factory=list)


class Storage(object):
    """FCP storage of partitions, with persistent WWPN bookkeeping."""

    def __init__(self, supervisor, settings, state_dir):
        self._hmc = hmc_storage.StorageFacade(supervisor,
                                              settings.cpc_object_id)
        self._mappings = tuple(settings.storage_adapter_mappings or ())
        self._ignored = frozenset(normalize_wwpn(w) for w in
                                  settings.target_wwpn_ignore_list or ())
        self._store = wwpn_store.WWPNStore(state_dir)

    # --- the state file: it informs, it never blocks ---

    def _record(self, instance_uuid):
        """The instance's record, or None (also when the file is damaged)."""
        try:
            return self._store.get(instance_uuid)
        except wwpn_store.StorageStateError as exc:
            LOG.warning('%s; the HMC is asked instead', exc.format_message())
            return None

    def _remember(self, instance_uuid, change):
        """Apply ``change`` to the record; a damaged file only warns."""
        try:
            self._store.update(instance_uuid, change)
        except wwpn_store.StorageStateError as exc:
            LOG.warning('%s; not recorded: %s', exc.format_message(),
                        getattr(change, '__name__', 'a change'))

    # --- validation (no I/O) ---

    def boot_volume(self, block_device_info):
        """The boot volume (boot_index 0) of ``block_device_info`` or None.

        Raises InvalidInput when it is not a usable FCP volume.
        """
        found = self._volumes(block_device_info, boot=True)
        return found[0] if found else None

    def data_volumes(self, block_device_info):
        """The other volumes of ``block_device_info`` (a list).

        Those attached to the server before a rebuild, or given with its
        create request. Raises InvalidInput when one is not a usable FCP
        volume.
        """
        return self._volumes(block_device_info, boot=False)

    def _volumes(self, block_device_info, boot):
        volumes = []
        for bdm in virt_driver.block_device_info_get_mapping(
                block_device_info):
            if (bdm.get('boot_index') in (0, '0')) != boot:
                continue
            connection_info = bdm.get('connection_info') or {}
            volume_id = _volume_id(bdm, connection_info)
            try:
                volumes.append(self._parse(
                    volume_id, connection_info,
                    _bdm_field(bdm, 'volume_size') or
                    _bdm_field(bdm, 'size')))
            except _Unusable as exc:
                raise exception.InvalidInput(
                    reason='%s volume %s: %s' % ('boot' if boot else 'data',
                                                 volume_id, exc))
        return volumes

    def _parse(self, volume_id, connection_info, size_gib=None):
        volume_type = connection_info.get('driver_volume_type')
        if volume_type != FIBRE_CHANNEL:
            raise _Unusable('its connection type is %r but DPM partitions '
                            'reach only %s volumes; use an FCP (fibre '
                            'channel) volume type' % (volume_type,
                                                      FIBRE_CHANNEL))
        data = connection_info.get('data') or {}
        targets = self._usable_targets(data)
        if not targets:
            raise _Unusable('no usable target WWPN in the connection '
                            '(given: %s; ignored by [dpm] '
                            'target_wwpn_ignore_list: %s)'
                            % (data.get('target_wwn'),
                               ', '.join(sorted(self._ignored)) or 'none'))
        lun = data.get('target_lun')
        try:
            lun = _as_lun(lun)
        except (TypeError, ValueError):
            raise _Unusable('target_lun %r is not a LUN number' % (lun,))
        return FcpVolume(volume_id=volume_id, target_wwpn=targets[0],
                         lun=lun, connection_info=connection_info,
                         size_gib=size_gib)

    def _usable_targets(self, data):
        targets = data.get('target_wwn') or data.get('target_wwpn') or []
        if isinstance(targets, str):
            targets = [targets]
        return [normalize_wwpn(t) for t in targets
                if normalize_wwpn(t) not in self._ignored]

    # --- spawn ---

    def _storage_groups(self, failure):
        """Does the CPC manage FCP storage with storage groups?"""
        return self._hmc.storage_management_enabled(failure)

    def prepare_boot(self, instance, partition_uri, boot_volume):
        """Give the partition FCP access and make it boot from the volume.

        Raises InstanceDeployFailure (or what the supervisor maps an HMC
        failure to); what was created is found again by :meth:`release`.
        """
        failure = exception.InstanceDeployFailure
        access = self._prepare(instance, partition_uri, failure)
        self._remember(instance.uuid, functools.partial(
            _add_volume, volume_id=boot_volume.volume_id))
        if access.storage_group_uri:
            sv_uri = self._ensure_group_volume(
                instance, access.storage_group_uri, partition_uri,
                boot_volume, hmc_storage.USAGE_BOOT, failure, access.paths)
            self._hmc.set_boot_volume(partition_uri, sv_uri, failure)
            return
        properties = {
            'boot-device': 'storage-adapter',
            'boot-world-wide-port-name': boot_volume.target_wwpn,
            'boot-logical-unit-number': boot_volume.lun_hex,
        }
        if access.hba_uris:
            properties['boot-storage-device'] = access.hba_uris[0]
        self._hmc.set_partition_properties(partition_uri, properties,
                                           failure)

    def attach_data_volumes(self, instance, partition_uri, volumes):
        """Make the data volumes reachable by the partition being spawned.

        Gives the partition its FCP access if it has none yet; with
        storage groups each volume gets a fulfilled data storage volume in
        the instance's group (waited for like :meth:`attach_volume`), with
        HBAs Cinder's LUN mapping to their WWPNs is all it takes. Raises
        InstanceDeployFailure; what was created is found again by
        :meth:`release`, which the spawn rollback calls.
        """
        failure = exception.InstanceDeployFailure
        access = self._prepare(instance, partition_uri, failure)
        for volume in volumes:
            # Recorded first: should the attach fail, the WWPNs stay known
            # for Cinder to unmap the volume after the rollback.
            self._remember(instance.uuid, functools.partial(
                _add_volume, volume_id=volume.volume_id))
            if access.storage_group_uri:
                self._attach_group_volume(instance, access.storage_group_uri,
                                          partition_uri, volume, failure,
                                          access.paths)
            LOG.info('Data volume %s attached', volume.volume_id,
                     instance=instance)

    def prepare_storage(self, instance, partition_uri, failure=None):
        """Create HBAs or attach a storage group (idempotent); WWPNs.

        Also what the driver calls from ``get_volume_connector`` when the
        partition exists but has no storage yet.
        """
        return self._prepare(instance, partition_uri, failure).wwpns

    def _prepare(self, instance, partition_uri, failure):
        record = self._record(instance.uuid)
        if (record and record['wwpns'] and record['released_at'] is None and
                record['partition_uri'] == partition_uri and
                (record['hba_uris'] or record['storage_group_uri'])):
            return _Access(list(record['wwpns']), list(record['hba_uris']),
                           record['storage_group_uri'],
                           list(record.get('paths') or []))
        mode = (MODE_STORAGE_GROUP if self._storage_groups(failure)
                else MODE_HBA)

        def start(record):
            record.update(partition_uri=partition_uri, mode=mode,
                          released_at=None)

        self._remember(instance.uuid, start)
        if mode == MODE_HBA:
            access = self._create_hbas(instance.uuid, partition_uri, failure)
        else:
            access = self._attach_storage_group(instance.uuid,
                                                partition_uri, failure)
        if not access.wwpns:
            raise (failure or hmc_errors.HMCOperationFailed)(
                reason='the HMC assigned no FCP WWPNs to %s'
                % partition_uri)

        def prepared(record):
            record.update(wwpns=access.wwpns, hba_uris=access.hba_uris,
                          storage_group_uri=access.storage_group_uri,
                          paths=access.paths,
                          created_storage_group=bool(
                              access.storage_group_uri))

        self._remember(instance.uuid, prepared)
        LOG.info('Partition %s has FCP WWPNs %s', partition_uri,
                 ', '.join(access.wwpns), instance=instance)
        return access

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
        wwpns, hba_uris = [], []
        for adapter_oid, port in self._mappings:
            name = '%s%s_%d' % (HBA_NAME_PREFIX, adapter_oid, port)
            hba_uri = existing.get(name)
            if hba_uri is None:
                port_uri = self._hmc.storage_port_uri(adapter_oid, port,
                                                      failure)
                hba_uri = self._hmc.create_hba(partition_uri, name,
                                               port_uri, failure)
            hba_uris.append(hba_uri)
            wwpn = self._hmc.hba_properties(hba_uri, failure).get('wwpn')
            if wwpn:
                wwpns.append(normalize_wwpn(wwpn))
        return _Access(wwpns, hba_uris)

    def _attach_storage_group(self, instance_uuid, partition_uri, failure):
        name = STORAGE_GROUP_PREFIX + instance_uuid
        # A group left by an interrupted earlier attempt is reused.
        sg_uri = self._hmc.find_storage_group(name, failure)
        if sg_uri is None:
            sg_uri = self._hmc.create_storage_group(
                name, 'FCP volumes of OpenStack server %s' % instance_uuid,
                max(len(self._mappings), 1), failure)
            attached = []   # a group created now is attached nowhere
        else:
            attached = self._hmc.attached_storage_groups(partition_uri,
                                                         failure)
        if sg_uri not in attached:
            self._hmc.attach_storage_group(partition_uri, sg_uri, failure)
        paths = self._hmc.virtual_storage_resources(sg_uri, partition_uri,
                                                    failure)
        return _Access(_wwpns_of(paths), storage_group_uri=sg_uri,
                       paths=[{key: path.get(key) for key in PATH_KEYS}
                              for path in paths])

    # --- storage volumes of a group ---

    def _ensure_group_volume(self, instance, sg_uri, partition_uri, volume,
                             usage, failure, paths=None):
        """The group's storage volume for ``volume``, fulfilled; its URI.

        Reuses a volume an earlier attempt made (matched by name or by its
        paths' target WWPN and LUN).  ``paths``: the partition's paths as
        :meth:`_prepare` recorded them (None: read from the HMC).
        """
        found = self._find_group_volume(sg_uri, volume.volume_id,
                                        self._usable_targets(
                                            volume.connection_info.get(
                                                'data') or {}),
                                        volume.lun_hex, failure)
        if found is not None:
            sv_uri = found['element-uri']
        else:
            sv_uri = self._hmc.create_storage_volume(
                sg_uri, volume.hmc_name,
                'Cinder volume %s of OpenStack server %s'
                % (volume.volume_id, instance.uuid),
                volume.size_gib or DEFAULT_VOLUME_SIZE_GIB, usage, failure)
        paths = paths or self._hmc.virtual_storage_resources(
            sg_uri, partition_uri, failure)
        self._hmc.fulfill_fcp_volume(sv_uri, volume.target_wwpn,
                                     volume.lun_hex,
                                     _host_port(paths, volume, failure),
                                     failure)
        LOG.info('Storage volume %s (%s) stands for Cinder volume %s, LUN '
                 '%s of target %s', sv_uri, usage, volume.volume_id,
                 volume.lun_hex, volume.target_wwpn, instance=instance)
        return sv_uri

    def _find_group_volume(self, sg_uri, volume_id, targets, lun_hex,
                           failure):
        """The group's storage volume of a Cinder volume (dict), or None.

        Matched by the name or description carrying the Cinder volume id,
        else by a path to one of its targets with its LUN (only a volume
        not named after another Cinder volume: a LUN is never shared).
        """
        name = STORAGE_VOLUME_PREFIX + volume_id
        volumes = self._hmc.storage_volumes(sg_uri, failure)
        for props in volumes:
            if props.get('name') == name or \
                    volume_id in (props.get('description') or ''):
                return props
        for props in volumes:
            if str(props.get('name')).startswith(STORAGE_VOLUME_PREFIX):
                continue
            for path in props.get('paths') or []:
                if (normalize_wwpn(path.get('target-world-wide-port-name'))
                        in targets and
                        str(path.get('logical-unit-number')).lower() ==
                        lun_hex):
                    return props
        return None

    # --- destroy / rollback ---

    def release(self, instance, partition_uri):
        """Remove the instance's FCP access from the HMC; before the delete.

        The HMC is asked what exists (the storage group named after the
        instance, the partition's ``OpenStack_HBA_`` HBAs), whatever the
        state file says: the group is detached and deleted with its
        storage volumes (the HMC's objects; the Cinder volumes stay), HBAs
        are deleted. ``partition_uri`` None: the partition is gone already.
        Things already gone are fine. The WWPNs stay recorded while volumes
        are attached. Raises InstanceTerminationFailure when the HMC
        refuses.
        """
        failure = exception.InstanceTerminationFailure
        record = self._record(instance.uuid) or {}
        partition_uri = partition_uri or record.get('partition_uri')
        if self._storage_groups(failure):
            sg_uri = self._hmc.find_storage_group(
                STORAGE_GROUP_PREFIX + instance.uuid, failure)
            if sg_uri and partition_uri:
                self._hmc.detach_storage_group(partition_uri, sg_uri,
                                               failure)
            if sg_uri:
                self._hmc.delete_storage_group(sg_uri, failure)
        else:
            hba_uris = set(record.get('hba_uris') or [])
            if partition_uri:
                hba_uris.update(
                    hba['element-uri']
                    for hba in self._hmc.hbas(partition_uri, failure)
                    if str(hba.get('name', '')).startswith(HBA_NAME_PREFIX))
            for hba_uri in sorted(hba_uris):
                self._hmc.delete_hba(hba_uri, failure)
        if record:
            self._remember(instance.uuid, _released)

    # --- volumes ---

    def recorded_wwpns(self, instance):
        """The instance's initiator WWPNs from persistent state ([])."""
        record = self._record(instance.uuid) or {}
        return list(record.get('wwpns') or [])

    def known_wwpns(self, instance):
        """The initiator WWPNs: recorded, else read from the HMC ([]).

        On storage-group CPCs the group named after the instance says them
        while it exists, whatever happened to the state file.
        """
        wwpns = self.recorded_wwpns(instance)
        if wwpns or not self._storage_groups(None):
            return wwpns
        sg_uri = self._hmc.find_storage_group(
            STORAGE_GROUP_PREFIX + instance.uuid, None)
        if sg_uri is None:
            return []
        return _wwpns_of(self._hmc.virtual_storage_resources(sg_uri, None,
                                                             None))

    def has_prepared_storage(self, instance):
        """Did prepare_storage run for the instance, with no release yet?

        True also when the state file cannot say (the caller then removes
        what may exist; removing nothing is fine).
        """
        try:
            record = self._store.get(instance.uuid)
        except wwpn_store.StorageStateError:
            return True
        return record is not None and record['released_at'] is None

    def get_volume_connector(self, instance, wwpns=None):
        """Initiator data Cinder maps volumes to.

        :param wwpns: the WWPNs if the caller knows them (else
            :meth:`known_wwpns`)
        """
        if wwpns is None:
            wwpns = self.known_wwpns(instance)
        if not wwpns:
            LOG.warning('No FCP WWPNs are known for this server; Cinder '
                        'cannot map or unmap its volumes until its '
                        'partition has storage', instance=instance)
        return {'wwpns': wwpns, 'host': CONF.host,
                'ip': CONF.my_block_storage_ip,
                'platform': 's390x', 'os_type': 'linux',
                'multipath': len(wwpns) > 1, 'do_local_attach': False}

    def attach_volume(self, context, connection_info, instance, mountpoint):
        """Make an attached FCP volume reachable by the partition.

        With storage groups: a data storage volume for it in the
        instance's group, fulfilled with the LUN Cinder mapped (running
        and stopped partitions alike); the attach waits for the fulfilment
        like a boot volume's (``operation_timeout``), and a LUN the
        partition cannot reach fails it with nothing left in the group.
        With HBAs: nothing changes on the
        HMC (Cinder mapped the LUN to the HBAs' WWPNs). Either way the
        WWPNs are kept until the volume is detached again.
        """
        volume_id = _volume_id({}, connection_info)
        failure = functools.partial(exception.VolumeAttachFailed,
                                    volume_id=volume_id)
        try:
            volume = self._parse(volume_id, connection_info, _attached_size(
                context, instance, volume_id))
        except _Unusable as exc:
            raise failure(reason=str(exc))
        if self._storage_groups(failure):
            sg_uri = self._hmc.find_storage_group(
                STORAGE_GROUP_PREFIX + instance.uuid, failure)
            if sg_uri is None:
                raise failure(reason='the partition has no storage group '
                              '%s%s (it has no FCP storage yet)'
                              % (STORAGE_GROUP_PREFIX, instance.uuid))
            self._attach_group_volume(instance, sg_uri, None, volume,
                                      failure)
        elif not self.recorded_wwpns(instance):
            raise failure(reason='the partition has no FCP WWPNs (it was '
                          'not booted from an FCP volume)')
        self._remember(instance.uuid, functools.partial(
            _add_volume, volume_id=volume_id))
        LOG.info('Volume %s attached at %s', volume_id, mountpoint,
                 instance=instance)

    def _attach_group_volume(self, instance, sg_uri, partition_uri, volume,
                             failure, paths=None):
        """A fulfilled data storage volume for ``volume`` in the group.

        Waits for the fulfilment; a volume the CPC cannot reach is removed
        again, since Nova's attach rolls back only Cinder's side (the
        attachment and the LUN mapping).
        """
        sv_uri = self._ensure_group_volume(instance, sg_uri, partition_uri,
                                           volume, hmc_storage.USAGE_DATA,
                                           failure, paths)
        try:
            self._hmc.wait_fulfilled(sv_uri, failure)
        except Exception:
            with excutils.save_and_reraise_exception():
                try:
                    self._hmc.delete_storage_volume(sv_uri, None)
                except exception.NovaException as exc:
                    LOG.warning('Storage volume %s of the failed attach of '
                                'volume %s stays: %s', sv_uri,
                                volume.volume_id, exc, instance=instance)

    def detach_volume(self, context, connection_info, instance, mountpoint):
        """Remove the volume's storage volume from the group, if any.

        The Cinder volume itself is untouched: the storage volume is the
        HMC's view of it. The WWPNs go with the last volume once the
        partition is gone.
        """
        volume_id = _volume_id({}, connection_info)
        failure = functools.partial(exception.VolumeDetachFailed,
                                    volume_id=volume_id)
        if self._storage_groups(failure):
            sg_uri = self._hmc.find_storage_group(
                STORAGE_GROUP_PREFIX + instance.uuid, failure)
            data = connection_info.get('data') or {}
            try:
                lun_hex = '%016x' % _as_lun(data.get('target_lun'))
            except (TypeError, ValueError):
                lun_hex = None
            found = sg_uri and self._find_group_volume(
                sg_uri, volume_id, self._usable_targets(data), lun_hex,
                failure)
            if found:
                self._hmc.delete_storage_volume(found['element-uri'],
                                                failure)

        def forget(record):
            if volume_id in record['volumes']:
                record['volumes'].remove(volume_id)

        if self._record(instance.uuid) is not None:
            self._remember(instance.uuid, forget)
        LOG.info('Volume %s detached from %s', volume_id, mountpoint,
                 instance=instance)


def _wwpns_of(paths):
    """Initiator WWPNs of virtual storage resources, normalized."""
    return [normalize_wwpn(p['world-wide-port-name']) for p in paths
            if p.get('world-wide-port-name')]


def _host_port(paths, volume, failure):
    """The adapter port to reach ``volume``'s target through.

    The path whose initiator WWPN Cinder zoned to the target (the
    connection's ``initiator_target_map``), else the group's first path.
    """
    if not paths:
        raise (failure or hmc_errors.HMCOperationFailed)(
            reason='the storage group of volume %s has no paths (virtual '
                   'storage resources) to fulfil it through'
            % volume.volume_id)
    zoned = (volume.connection_info.get('data') or {}).get(
        'initiator_target_map') or {}
    for path in paths:
        wwpn = normalize_wwpn(path.get('world-wide-port-name'))
        targets = [normalize_wwpn(t) for initiator, wanted in zoned.items()
                   if normalize_wwpn(initiator) == wwpn for t in wanted]
        if volume.target_wwpn in targets:
            return path['adapter-port-uri']
    return paths[0]['adapter-port-uri']


def _released(record):
    record.update(hba_uris=[], storage_group_uri=None, paths=[],
                  created_storage_group=False, released_at=time.time())


def _add_volume(record, volume_id):
    if volume_id not in record['volumes']:
        record['volumes'] = list(record['volumes']) + [volume_id]
