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
* CPCs with the feature (z14 and later): the partition gets a storage group
  attached; the HMC then creates virtual storage resources, each with a WWPN
  for the partition.

Removal methods treat "already gone" as success: release and rollback run
after partial failures and must converge, not fail again.
"""

import zhmcclient

from nova_dpm.hmc import adapters

STORAGE_MANAGEMENT_FEATURE = 'dpm-storage-management'


def _cpc_uri(cpc_object_id):
    return '/api/cpcs/' + cpc_object_id


def _partition(client, cpc_object_id, partition_uri):
    cpc = client.cpcs.resource_object(_cpc_uri(cpc_object_id))
    return cpc.partitions.resource_object(partition_uri)


def _storage_groups(client):
    return client.consoles.console.storage_groups


def _is_gone(exc):
    """True when an HMC error says the addressed object does not exist."""
    if isinstance(exc, (zhmcclient.NotFound, zhmcclient.CeasedExistence)):
        return True
    return (isinstance(exc, zhmcclient.HTTPError) and
            exc.http_status == 404)


class StorageFacade(object):
    """Supervised HMC calls for HBAs, storage groups and FCP boot."""

    def __init__(self, supervisor, cpc_object_id):
        self._sup = supervisor
        self._cpc_oid = cpc_object_id
        # Hardware facts (firmware features, adapter ports) do not change
        # while nova-compute runs; each is read from the HMC once.
        self._storage_management = None
        self._ports = adapters.PortDirectory(supervisor, cpc_object_id)

    def storage_management_enabled(self, failure):
        """Whether the CPC manages FCP storage through storage groups.

        Read once per service start (a firmware change needs a restart).
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
        """URI of storage port ``port`` (its index) of an FCP adapter."""
        return self._ports.uri(
            adapter_oid, port,
            what='find storage port %d of FCP adapter %s'
            % (port, adapter_oid),
            failure=failure,
            missing='FCP adapter %s has no port %d: fix [dpm] '
                    'physical_storage_adapter_mappings' % (adapter_oid, port))

    def create_hba(self, partition_uri, name, port_uri, failure):
        """Create an HBA unless one of that name exists; return its URI."""

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
        """Full properties of the partition's HBAs ([] if it is gone)."""

        def read(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            try:
                return [dict(hba.properties) for hba in
                        partition.hbas.list(full_properties=True)]
            except zhmcclient.Error as exc:
                if _is_gone(exc):
                    return []
                raise

        return self._sup.call(read, what='list HBAs of %s' % partition_uri,
                              failure=failure)

    def hba_properties(self, hba_uri, failure):
        """Full properties of one HBA (wwpn, device-number, ...)."""

        def read(client):
            partition_uri = hba_uri.split('/hbas/')[0]
            partition = _partition(client, self._cpc_oid, partition_uri)
            hba = partition.hbas.resource_object(hba_uri)
            hba.pull_full_properties()
            return dict(hba.properties)

        return self._sup.call(read, what='read HBA %s' % hba_uri,
                              failure=failure)

    def delete_hba(self, hba_uri, failure):
        """Delete an HBA; an HBA (or partition) already gone is fine."""
        partition_uri = hba_uri.split('/hbas/')[0]

        def delete(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            try:
                partition.hbas.resource_object(hba_uri).delete()
            except zhmcclient.Error as exc:
                if not _is_gone(exc):
                    raise

        def already_done(client):
            return hba_uri not in self._hba_uris(client, partition_uri), None

        self._sup.call(delete, what='delete HBA %s' % hba_uri,
                       failure=failure, mutating=True,
                       already_done=already_done)

    def _hba_uris(self, client, partition_uri):
        partition = _partition(client, self._cpc_oid, partition_uri)
        try:
            partition.pull_full_properties()
        except zhmcclient.Error as exc:
            if _is_gone(exc):
                return []
            raise
        return partition.properties.get('hba-uris') or []

    # --- storage groups (CPCs with dpm-storage-management) ---

    def create_storage_group(self, name, description, connectivity,
                             failure):
        """Create an unshared FCP storage group unless it exists; URI."""
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
        """URI of this CPC's storage group called ``name``, or None."""
        return self._sup.call(
            lambda client: self._storage_group_named(client, name),
            what='find storage group %s' % name, failure=failure)

    def attached_storage_groups(self, partition_uri, failure):
        """URIs of the groups attached to a partition ([] if it is gone)."""
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
        try:
            partition.pull_full_properties()
        except zhmcclient.Error as exc:
            if _is_gone(exc):
                return None
            raise
        return partition.properties.get('storage-group-uris') or []

    def attach_storage_group(self, partition_uri, sg_uri, failure):
        """Attach a storage group unless it already is attached."""

        def attach(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            partition.attach_storage_group(
                _storage_groups(client).resource_object(sg_uri))

        def already_done(client):
            attached = self._attached_storage_group_uris(
                client, partition_uri)
            return sg_uri in (attached or []), None

        self._sup.call(
            attach, what='attach storage group %s to %s'
            % (sg_uri, partition_uri), failure=failure, mutating=True,
            already_done=already_done)

    def detach_storage_group(self, partition_uri, sg_uri, failure):
        """Detach a storage group; not attached or partition gone is fine."""

        def detach(client):
            attached = self._attached_storage_group_uris(
                client, partition_uri)
            if not attached or sg_uri not in attached:
                return
            partition = _partition(client, self._cpc_oid, partition_uri)
            partition.detach_storage_group(
                _storage_groups(client).resource_object(sg_uri))

        def already_done(client):
            attached = self._attached_storage_group_uris(
                client, partition_uri)
            return sg_uri not in (attached or []), None

        self._sup.call(
            detach, what='detach storage group %s from %s'
            % (sg_uri, partition_uri), failure=failure, mutating=True,
            already_done=already_done)

    def delete_storage_group_if_unused(self, sg_uri, failure):
        """Delete a storage group that has no storage volumes.

        A group with storage volumes is kept: it may describe user data.
        The HMC itself refuses to delete a group still attached to a
        partition, so callers detach first. Returns True when the group is
        gone afterwards.
        """

        def delete(client):
            sg = _storage_groups(client).resource_object(sg_uri)
            try:
                sg.pull_full_properties()
                if sg.properties.get('storage-volume-uris'):
                    return False
                sg.delete()
            except zhmcclient.Error as exc:
                if not _is_gone(exc):
                    raise
            return True

        def already_done(client):
            sg = _storage_groups(client).resource_object(sg_uri)
            try:
                sg.pull_full_properties()
            except zhmcclient.Error as exc:
                if _is_gone(exc):
                    return True, True
                raise
            return False, None

        return self._sup.call(
            delete, what='delete storage group %s' % sg_uri,
            failure=failure, mutating=True, already_done=already_done)

    def storage_group_wwpns(self, sg_uri, partition_uri, failure):
        """WWPNs the HMC gave the partition in a storage group."""

        def read(client):
            sg = _storage_groups(client).resource_object(sg_uri)
            wwpns = []
            # One GET per resource: full_properties=True becomes a bulk
            # request that older HMCs lack.
            for vsr in sg.virtual_storage_resources.list():
                vsr.pull_full_properties()
                if vsr.properties.get('partition-uri') == partition_uri:
                    wwpns.append(vsr.properties.get('world-wide-port-name'))
            return wwpns

        return self._sup.call(
            read, what='read the WWPNs of %s in storage group %s'
            % (partition_uri, sg_uri), failure=failure)

    # --- boot ---

    def set_partition_properties(self, partition_uri, properties, failure):
        """Update partition properties (idempotent, so retried freely)."""

        def update(client):
            _partition(client, self._cpc_oid,
                       partition_uri).update_properties(properties)

        self._sup.call(update, what='set %s of %s'
                       % (', '.join(sorted(properties)), partition_uri),
                       failure=failure)
