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

"""HMC operations for FCP storage of partitions, each one supervised call.

Two models exist on DPM CPCs:

* CPCs without the ``dpm-storage-management`` firmware feature (z13 era):
  the partition gets virtual HBAs (``partition.hbas.create``) on configured
  FCP adapter ports; each HBA has a WWPN.
* CPCs with the feature (z14 and later, every z17): the partition gets a
  storage group attached; the HMC then creates virtual storage resources,
  each with a WWPN for the partition. The group holds storage volumes
  (usage ``boot`` or ``data``); a volume is backed by a LUN once it is
  fulfilled ("Fulfill FCP Storage Volume"), and a partition boots from a
  fulfilled volume of an attached group (``boot-device =
  storage-volume``).

Errors: every method is one (or, where said, a few) supervised call(s)
through ``HMCSupervisor.call``, which turns zhmcclient errors into Nova
exceptions by the table in ``errors.py``: ``HypervisorUnavailable`` when
the HMC cannot be reached or refuses the logon, ``WrongState`` on HTTP
409.1, and the caller's ``failure`` class (``failure(reason=...)``,
default ``HMCOperationFailed``) for any other refusal. Removal methods
treat "already gone" (``gone.is_gone``) as success: release and rollback
run after partial failures and must converge, not fail again.

Deleting a storage volume or group here removes the *HMC's* object only:
the LUN on the storage system (the Cinder volume) is not touched.
"""

import zhmcclient

from nova_dpm.hmc import adapters
from nova_dpm.hmc import errors
from nova_dpm.hmc import gone
from nova_dpm.hmc import polling
from nova_dpm.hmc import statuses

STORAGE_MANAGEMENT_FEATURE = 'dpm-storage-management'
BOOT_DEVICE_VOLUME = 'storage-volume'
USAGE_BOOT = 'boot'
USAGE_DATA = 'data'
#: Update Partition Properties names a volume that is not fulfilled (yet).
NOT_FULFILLED = (409, 122)


def _cpc_uri(cpc_object_id):
    return '/api/cpcs/' + cpc_object_id


def _partition(client, cpc_object_id, partition_uri):
    cpc = client.cpcs.resource_object(_cpc_uri(cpc_object_id))
    return cpc.partitions.resource_object(partition_uri)


def _storage_groups(client):
    return client.consoles.console.storage_groups


def _storage_group(client, sg_uri):
    return _storage_groups(client).resource_object(sg_uri)


def _storage_volume(client, sv_uri):
    sg_uri = sv_uri.split('/storage-volumes/')[0]
    return _storage_group(client, sg_uri).storage_volumes.resource_object(
        sv_uri)


def _storage_port(client, cpc_object_id, port_uri):
    """The FCP storage port object of ``port_uri`` (no I/O)."""
    adapter_uri = port_uri.split('/storage-ports/')[0]
    cpc = client.cpcs.resource_object(_cpc_uri(cpc_object_id))
    # The family tells zhmcclient the port type without a GET.
    adapter = cpc.adapters.resource_object(adapter_uri,
                                           {'adapter-family': 'ficon'})
    return adapter.ports.resource_object(port_uri)


def _pulled(resource):
    """Pull the resource's full properties; False when it is gone."""
    try:
        resource.pull_full_properties()
    except zhmcclient.Error as exc:
        if gone.is_gone(exc):
            return False
        raise
    return True


def _ignore_gone(operation):
    """Run ``operation()``; an addressed object already gone is fine."""
    try:
        return operation()
    except zhmcclient.Error as exc:
        if not gone.is_gone(exc):
            raise
    return None


class StorageFacade(object):
    """Supervised HMC calls for HBAs, storage groups, volumes, FCP boot."""

    def __init__(self, supervisor, cpc_object_id):
        self._sup = supervisor
        self._cpc_oid = cpc_object_id
        # Hardware facts (firmware features, adapter ports) do not change
        # while nova-compute runs; each is read from the HMC once.
        self._storage_management = None
        self._ports = adapters.PortDirectory(supervisor, cpc_object_id)

    def storage_management_enabled(self, failure):
        """Whether the CPC manages FCP storage through storage groups.

        HMC: Get CPC Properties (``available-features-list``), once per
        service start (a firmware change needs a restart).
        """
        if self._storage_management is None:
            # Two threads may both read it; they read the same answer.
            self._storage_management = self._read_features(failure)
        return self._storage_management

    def _read_features(self, failure):

        def read(client):
            cpc = client.cpcs.resource_object(_cpc_uri(self._cpc_oid))
            cpc.pull_full_properties()
            features = cpc.properties.get('available-features-list') or []
            return any(f.get('name') == STORAGE_MANAGEMENT_FEATURE and
                       f.get('state') for f in features)

        return self._sup.call(
            read, what='read the firmware features of CPC %s'
            % self._cpc_oid, failure=failure)

    # --- HBAs (CPCs without dpm-storage-management) ---

    def storage_port_uri(self, adapter_oid, port, failure):
        """URI of storage port ``port`` (its index) of an FCP adapter.

        HMC: List Storage Ports of the adapter (once per port and service
        start). Raises ``failure`` when the adapter has no such port.
        """
        return self._ports.uri(
            adapter_oid, port,
            what='find storage port %d of FCP adapter %s'
            % (port, adapter_oid),
            failure=failure,
            missing='FCP adapter %s has no port %d: fix [dpm] '
                    'physical_storage_adapter_mappings' % (adapter_oid, port))

    def create_hba(self, partition_uri, name, port_uri, failure):
        """Create an HBA unless one of that name exists; return its URI.

        HMC: Create HBA (a lost answer is settled by List HBAs of a
        Partition before anything is re-sent).
        """

        def create(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            return partition.hbas.create(
                {'name': name, 'adapter-port-uri': port_uri,
                 'description': 'OpenStack FCP access'}).uri

        def already_done(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            for hba in partition.hbas.list(full_properties=True):
                if hba.get_property('name') == name:
                    return True, hba.uri
            return False, None

        return self._sup.call(
            create, what='create HBA %s' % name, failure=failure,
            mutating=True, already_done=already_done)

    def hbas(self, partition_uri, failure):
        """Full properties of the partition's HBAs ([] if it is gone).

        HMC: List HBAs of a Partition with full properties.
        """

        def read(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            return _ignore_gone(lambda: [
                dict(hba.properties)
                for hba in partition.hbas.list(full_properties=True)]) or []

        return self._sup.call(read, what='list HBAs of %s' % partition_uri,
                              failure=failure)

    def hba_properties(self, hba_uri, failure):
        """Full properties of one HBA (wwpn, device-number, ...).

        HMC: Get HBA Properties.
        """

        def read(client):
            partition_uri = hba_uri.split('/hbas/')[0]
            partition = _partition(client, self._cpc_oid, partition_uri)
            hba = partition.hbas.resource_object(hba_uri)
            hba.pull_full_properties()
            return dict(hba.properties)

        return self._sup.call(read, what='read HBA %s' % hba_uri,
                              failure=failure)

    def delete_hba(self, hba_uri, failure):
        """Delete an HBA; an HBA (or partition) already gone is fine.

        HMC: Delete HBA.
        """
        partition_uri = hba_uri.split('/hbas/')[0]

        def delete(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            _ignore_gone(partition.hbas.resource_object(hba_uri).delete)

        def already_done(client):
            return hba_uri not in self._hba_uris(client, partition_uri), None

        self._sup.call(delete, what='delete HBA %s' % hba_uri,
                       failure=failure, mutating=True,
                       already_done=already_done)

    def _hba_uris(self, client, partition_uri):
        partition = _partition(client, self._cpc_oid, partition_uri)
        if not _pulled(partition):
            return []
        return partition.properties.get('hba-uris') or []

    # --- storage groups (CPCs with dpm-storage-management) ---

    def create_storage_group(self, name, description, connectivity,
                             failure):
        """Create an unshared FCP storage group unless it exists; URI.

        HMC: Create Storage Group (a lost answer is settled by List
        Storage Groups before anything is re-sent).
        """
        cpc_uri = _cpc_uri(self._cpc_oid)

        def create(client):
            return _storage_groups(client).create({
                'name': name, 'cpc-uri': cpc_uri, 'type': 'fcp',
                'shared': False, 'connectivity': connectivity,
                'description': description}).uri

        def already_done(client):
            uri = self._storage_group_named(client, name)
            return uri is not None, uri

        return self._sup.call(
            create, what='create storage group %s' % name, failure=failure,
            mutating=True, already_done=already_done)

    def find_storage_group(self, name, failure):
        """URI of this CPC's storage group called ``name``, or None.

        HMC: List Storage Groups (filtered by name and CPC).
        """
        return self._sup.call(
            lambda client: self._storage_group_named(client, name),
            what='find storage group %s' % name, failure=failure)

    def attached_storage_groups(self, partition_uri, failure):
        """URIs of the groups attached to a partition ([] if it is gone).

        HMC: Get Partition Properties (``storage-group-uris``).
        """
        return self._sup.call(
            lambda client: self._attached_storage_group_uris(
                client, partition_uri) or [],
            what='list storage groups of %s' % partition_uri,
            failure=failure)

    def _storage_group_named(self, client, name):
        # Two filters: the HMC filters server-side and zhmcclient skips its
        # name-to-URI cache, which may predate a create we cannot see.
        found = _storage_groups(client).list(filter_args={
            'name': name, 'cpc-uri': _cpc_uri(self._cpc_oid)})
        return found[0].uri if found else None

    def _attached_storage_group_uris(self, client, partition_uri):
        partition = _partition(client, self._cpc_oid, partition_uri)
        if not _pulled(partition):
            return None
        return partition.properties.get('storage-group-uris') or []

    def attach_storage_group(self, partition_uri, sg_uri, failure):
        """Attach a storage group unless it already is attached.

        HMC: Attach Storage Group to Partition (also while the partition is
        active; a lost answer is settled by Get Partition Properties).
        """

        def attach(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            partition.attach_storage_group(_storage_group(client, sg_uri))

        def already_done(client):
            attached = self._attached_storage_group_uris(
                client, partition_uri)
            return sg_uri in (attached or []), None

        self._sup.call(
            attach, what='attach storage group %s to %s'
            % (sg_uri, partition_uri), failure=failure, mutating=True,
            already_done=already_done)

    def detach_storage_group(self, partition_uri, sg_uri, failure):
        """Detach a storage group; not attached or partition gone is fine.

        HMC: Get Partition Properties, then Detach Storage Group from
        Partition when it is attached.
        """

        def detach(client):
            attached = self._attached_storage_group_uris(
                client, partition_uri)
            if not attached or sg_uri not in attached:
                return
            partition = _partition(client, self._cpc_oid, partition_uri)
            partition.detach_storage_group(_storage_group(client, sg_uri))

        def already_done(client):
            attached = self._attached_storage_group_uris(
                client, partition_uri)
            return sg_uri not in (attached or []), None

        self._sup.call(
            detach, what='detach storage group %s from %s'
            % (sg_uri, partition_uri), failure=failure, mutating=True,
            already_done=already_done)

    def delete_storage_group(self, sg_uri, failure):
        """Delete a storage group and its storage volumes; gone is fine.

        HMC: Delete Storage Group, which the HMC refuses while the group is
        attached to a partition (callers detach first). It removes the
        HMC's storage volume objects of the group, not the LUNs behind
        them: the Cinder volumes stay.
        """

        def delete(client):
            _ignore_gone(_storage_group(client, sg_uri).delete)

        def already_done(client):
            return not _pulled(_storage_group(client, sg_uri)), None

        self._sup.call(
            delete, what='delete storage group %s' % sg_uri,
            failure=failure, mutating=True, already_done=already_done)

    def virtual_storage_resources(self, sg_uri, partition_uri, failure):
        """The partition's paths into a storage group.

        HMC: List Virtual Storage Resources of a Storage Group, then Get
        Virtual Storage Resource Properties for each (one GET per resource:
        ``full_properties=True`` becomes a bulk request older HMCs lack).

        :param partition_uri: only this partition's paths; None: all (an
            unshared group has one partition)
        :returns: list of dicts with ``world-wide-port-name`` (the
            partition's initiator WWPN), ``adapter-port-uri`` and
            ``device-number``; [] when the group is gone
        """

        def read(client):
            sg = _storage_group(client, sg_uri)
            found = []
            for vsr in _ignore_gone(sg.virtual_storage_resources.list) or []:
                vsr.pull_full_properties()
                if partition_uri in (None,
                                     vsr.properties.get('partition-uri')):
                    found.append(dict(vsr.properties))
            return found

        return self._sup.call(
            read, what='read the paths of %s in storage group %s'
            % (partition_uri, sg_uri), failure=failure)

    # --- storage volumes ---

    def storage_volumes(self, sg_uri, failure):
        """Full properties of the group's storage volumes ([] if gone).

        HMC: List Storage Volumes of a Storage Group, then Get Storage
        Volume Properties for each.
        """

        def read(client):
            sg = _storage_group(client, sg_uri)
            volumes = _ignore_gone(sg.storage_volumes.list) or []
            return [dict(volume.properties) for volume in volumes
                    if _pulled(volume)]

        return self._sup.call(
            read, what='list storage volumes of %s' % sg_uri,
            failure=failure)

    def create_storage_volume(self, sg_uri, name, description, size_gib,
                              usage, failure):
        """Add a storage volume to the group unless one of that name exists.

        HMC: Modify Storage Group Properties (a ``create`` storage volume
        request; a lost answer is settled by listing the group's volumes
        before anything is re-sent). Returns the volume's URI.
        """

        def create(client):
            sg = _storage_group(client, sg_uri)
            return sg.storage_volumes.create({
                'name': name, 'description': description,
                'size': size_gib, 'usage': usage}).uri

        def already_done(client):
            sg = _storage_group(client, sg_uri)
            for volume in sg.storage_volumes.list():
                if volume.properties.get('name') == name:
                    return True, volume.uri
            return False, None

        return self._sup.call(
            create, what='create storage volume %s in %s' % (name, sg_uri),
            failure=failure, mutating=True, already_done=already_done)

    def fulfill_fcp_volume(self, sv_uri, target_wwpn, lun_hex, port_uri,
                           failure):
        """Name the LUN behind a storage volume and the port to reach it.

        HMC: Fulfill FCP Storage Volume. The volume becomes ``complete``
        when the CPC reached the LUN, which may take a while (see
        :meth:`set_boot_volume`). Naming the same LUN twice has the effect
        of naming it once, so the request is retried like a read.
        """

        def fulfill(client):
            _storage_volume(client, sv_uri).indicate_fulfillment_fcp(
                target_wwpn, lun_hex,
                _storage_port(client, self._cpc_oid, port_uri))

        self._sup.call(
            fulfill, what='fulfill storage volume %s with LUN %s of target '
            '%s' % (sv_uri, lun_hex, target_wwpn), failure=failure)

    def delete_storage_volume(self, sv_uri, failure):
        """Remove a storage volume from its group; already gone is fine.

        HMC: Get Storage Volume Properties, then Modify Storage Group
        Properties (a ``delete`` storage volume request). The LUN behind
        it (the Cinder volume) is not deleted: the HMC only forgets its
        view of it.
        """

        def delete(client):
            volume = _storage_volume(client, sv_uri)
            # Modify Storage Group Properties answers 404.2 (not "gone")
            # for a volume that no longer exists: look first.
            if _pulled(volume):
                volume.delete()

        def already_done(client):
            return not _pulled(_storage_volume(client, sv_uri)), None

        self._sup.call(
            delete, what='delete storage volume %s' % sv_uri,
            failure=failure, mutating=True, already_done=already_done)

    # --- boot ---

    def set_partition_properties(self, partition_uri, properties, failure):
        """Update partition properties (idempotent, so retried freely).

        HMC: Update Partition Properties.
        """

        def update(client):
            _partition(client, self._cpc_oid,
                       partition_uri).update_properties(properties)

        self._sup.call(update, what='set %s of %s'
                       % (', '.join(sorted(properties)), partition_uri),
                       failure=failure)

    def wait_fulfilled(self, sv_uri, failure, timeout=None):
        """Wait until the storage volume's fulfilment is complete.

        HMC: Get Storage Volume Properties (``fulfillment-state``) on the
        one poll schedule (``polling.poll_until``) for up to ``timeout``
        seconds (default ``operation_timeout``). A LUN the group's WWPNs
        cannot reach (SAN zoning, LUN masking) never completes: beyond the
        timeout ``failure`` names the volume and what to check.
        """
        timeout = timeout or self._sup.settings.operation_timeout
        self._poll_fulfilled(sv_uri, 'wait for the fulfilment of storage '
                             'volume %s' % sv_uri, lambda: True, failure,
                             timeout)

    def _poll_fulfilled(self, sv_uri, what, then, failure, timeout):
        """Poll until ``sv_uri`` is fulfilled and ``then()`` says True."""

        def fulfilled(client):
            volume = _storage_volume(client, sv_uri)
            volume.pull_properties(['fulfillment-state'])
            return (volume.properties['fulfillment-state'] ==
                    statuses.FULFILLMENT_COMPLETE)

        def attempt():
            return (self._sup.call(fulfilled, what=what, failure=failure) and
                    then())

        if not polling.poll_until(attempt, bool, timeout):
            raise (failure or errors.HMCOperationFailed)(reason=(
                'storage volume %s is still not fulfilled after %s s '
                '([dpm] operation_timeout): the CPC has not reached its LUN '
                'through the storage group\'s WWPNs; check the SAN zoning '
                'and LUN masking of the volume' % (sv_uri, timeout)))

    def set_boot_volume(self, partition_uri, sv_uri, failure, timeout=None):
        """Make the partition boot from a storage volume of its group.

        HMC: Get Storage Volume Properties until its ``fulfillment-state``
        is ``complete`` (as :meth:`wait_fulfilled`), then Update Partition
        Properties (``boot-device = storage-volume``,
        ``boot-storage-volume``). The HMC refuses a volume whose fulfilment
        is pending with 409,122: should it still say so, the wait goes on.
        Beyond the timeout ``failure`` names the volume.
        """
        timeout = timeout or self._sup.settings.operation_timeout
        properties = {'boot-device': BOOT_DEVICE_VOLUME,
                      'boot-storage-volume': sv_uri}
        what = 'boot %s from storage volume %s' % (partition_uri, sv_uri)

        def update(client):
            try:
                _partition(client, self._cpc_oid,
                           partition_uri).update_properties(properties)
            except zhmcclient.HTTPError as exc:
                if (exc.http_status, exc.reason) == NOT_FULFILLED:
                    return False
                raise
            return True

        self._poll_fulfilled(
            sv_uri, what,
            lambda: self._sup.call(update, what=what, failure=failure),
            failure, timeout)
