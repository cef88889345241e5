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

"""HMC operations on partition NICs, each one supervised call.

Only this module (with the rest of ``nova_dpm.hmc``) touches zhmcclient
objects for networking; ``nova_dpm.virt.dpm.network`` decides *what* NICs a
partition gets and calls these methods to make them exist.

Errors: every method is one supervised call through
``HMCSupervisor.call``, which turns zhmcclient errors into Nova exceptions
by the table in ``errors.py``: ``HypervisorUnavailable`` when the HMC
cannot be reached or refuses the logon, ``WrongState`` on HTTP 409.1 (e.g.
a NIC created while the partition is starting or stopping), and the
caller's ``failure`` class (``failure(reason=...)``, default
``HMCOperationFailed``) for any other refusal.
"""

import threading

from oslo_utils import versionutils

from nova_dpm.hmc import adapters
from nova_dpm.hmc import errors
from nova_dpm.hmc import gone

#: API feature of CPCs without virtual switches (z17).
NETWORK_EXPRESS_FEATURE = 'network-express-support'
#: The first SE version whose Create NIC takes ``mac-address`` (API 2.20).
MAC_ADDRESS_WRITABLE_SE = '2.14.0'


def _cpc(client, cpc_object_id):
    # resource_object() does no I/O: it only builds the URI-scoped object.
    return client.cpcs.resource_object('/api/cpcs/' + cpc_object_id)


def _partition(client, cpc_object_id, partition_uri):
    return _cpc(client, cpc_object_id).partitions.resource_object(
        partition_uri)


def _nics(client, cpc_object_id, partition_uri):
    """The partition's NICs with full properties (fresh reads).

    The HMC lists a partition's NICs by URI and each is then read on its
    own; a NIC that a concurrent detach of another port deletes in between
    is gone, not a failure of the listing (zhmcclient's own
    ``list(full_properties=True)`` fails with CeasedExistence there).
    """
    partition = _partition(client, cpc_object_id, partition_uri)
    present = []
    for nic in partition.nics.list():
        try:
            nic.pull_full_properties()
        except Exception as exc:
            if not gone.is_gone(exc):
                raise
            continue
        present.append(nic)
    return present


def _nic_named(client, cpc_object_id, partition_uri, name):
    """The NIC called ``name`` in the partition, or None (fresh reads)."""
    for nic in _nics(client, cpc_object_id, partition_uri):
        if nic.get_property('name') == name:
            return nic
    return None


def _se_version(cpc):
    """The CPC's ``se-version`` as an int (0 when unknown)."""
    cpc.pull_properties(['se-version'])
    return versionutils.convert_version_to_int(
        cpc.properties.get('se-version') or '0')


class NicFacade(object):
    """Supervised HMC calls that find adapter ports and create NICs."""

    def __init__(self, supervisor, cpc_object_id):
        self._sup = supervisor
        self._cpc_oid = cpc_object_id
        self._ports = adapters.PortDirectory(supervisor, cpc_object_id)
        # Hardware facts: read from the HMC once per service start.
        self._virtual_switches = None
        self._mac_writable = None
        self._switch_uris = {}     # (adapter oid, port) -> vswitch URI
        self._lock = threading.Lock()

    def uses_virtual_switches(self, failure):
        """Whether OSA/HiperSockets NICs go through virtual switches.

        True before z17. CPCs with the ``network-express-support`` API
        feature (z17) have no virtual switches: every NIC names its adapter
        port. HMC: List CPC API Features (an HMC too old to list them
        predates z17: virtual switches), once per service start.
        """
        if self._virtual_switches is None:
            # Two threads may both read it; they read the same answer.
            self._virtual_switches = NETWORK_EXPRESS_FEATURE not in \
                self._sup.call(
                    lambda client: _cpc(client, self._cpc_oid)
                    .list_api_features(),
                    what='read the API features of CPC %s' % self._cpc_oid,
                    failure=failure)
        return self._virtual_switches

    def sets_mac_address(self, failure):
        """Whether Create NIC takes the NIC's ``mac-address``.

        Writable from API version 2.20 (SE 2.14.0, z14) on
        (zhmc-ansible-modules ``zhmc_nic.py``, ZHMC_NIC_PROPERTIES); older
        SEs assign the MAC themselves and the guest learns the port's MAC
        from boot-os-specific-parameters. HMC: Get CPC Properties
        (``se-version``), once per service start.
        """
        if self._mac_writable is None:
            version = self._sup.call(
                lambda client: _se_version(_cpc(client, self._cpc_oid)),
                what='read the SE version of CPC %s' % self._cpc_oid,
                failure=failure)
            self._mac_writable = version >= \
                versionutils.convert_version_to_int(MAC_ADDRESS_WRITABLE_SE)
        return self._mac_writable

    def _find_virtual_switch(self, adapter_oid, port, failure):
        """URI of the virtual switch of an adapter port, or None.

        HMC: List Virtual Switches of a CPC, then Get Virtual Switch
        Properties for each (once per adapter port and service start).
        ``adapter_oid`` may also name the virtual switch itself, as
        networking-dpm's bindings did.
        """
        key = (adapter_oid, port)
        with self._lock:
            if key in self._switch_uris:
                return self._switch_uris[key]
        adapter_uri = '/api/adapters/' + adapter_oid

        def find(client):
            cpc = _cpc(client, self._cpc_oid)
            # One GET per switch rather than full_properties=True, which
            # zhmcclient turns into a bulk request older HMCs lack.
            for vswitch in cpc.virtual_switches.list():
                vswitch.pull_full_properties()
                backs_port = (
                    vswitch.get_property('backing-adapter-uri') ==
                    adapter_uri and int(vswitch.get_property('port')) == port)
                if backs_port or vswitch.uri.endswith('/' + adapter_oid):
                    return vswitch.uri
            return None

        uri = self._sup.call(
            find, what='find the virtual switch of adapter %s port %d'
            % (adapter_oid, port), failure=failure)
        with self._lock:
            return self._switch_uris.setdefault(key, uri)

    def virtual_switch_uri(self, adapter_oid, port, failure):
        """URI of the virtual switch backing port ``port`` of an adapter.

        OSA and HiperSockets adapters are reached through the virtual switch
        the HMC keeps per adapter port (CPCs before z17). Raises ``failure``
        when the adapter has no such virtual switch.
        """
        uri = self._find_virtual_switch(adapter_oid, port, failure)
        if uri is None:
            raise (failure or errors.HMCOperationFailed)(reason=(
                'the CPC has no virtual switch for adapter %s port %d: the '
                'adapter is not an OSA/HiperSockets adapter of this CPC (use '
                'vif type dpm_adapter for RoCE/CNA adapters and on z17) or '
                'the port does not exist' % (adapter_oid, port)))
        return uri

    def backing(self, adapter_oid, port, failure):
        """Create NIC properties naming what backs a NIC on an adapter port.

        The port's virtual switch on a CPC that has virtual switches and
        one for this port (OSA, HiperSockets before z17); otherwise the
        adapter port (z17, RoCE, CNA), as zhmc-ansible-modules' zhmc_nic
        decides. Read once per adapter port and service start.
        """
        if self.uses_virtual_switches(failure):
            uri = self._find_virtual_switch(adapter_oid, port, failure)
            if uri is not None:
                return {'virtual-switch-uri': uri}
        return {'network-adapter-port-uri': self.network_port_uri(
            adapter_oid, port, failure)}

    def network_port_uri(self, adapter_oid, port, failure):
        """URI of network port ``port`` (its index) of an adapter.

        HMC: List Network Ports of the adapter (once per port and service
        start). Raises ``failure`` when the adapter has no such port.
        """
        return self._ports.uri(
            adapter_oid, port,
            what='find network port %d of adapter %s' % (port, adapter_oid),
            failure=failure,
            missing='adapter %s has no network port with index %d: check '
                    'the port in the Neutron port binding (vif details '
                    '"port")' % (adapter_oid, port))

    def create_nic(self, partition_uri, properties, failure):
        """Create a NIC unless one of that name exists; return its URI.

        HMC: Create NIC. Idempotent: when the create request may have
        reached the HMC without an answer, the partition is searched for the
        NIC by name (List NICs of a Partition) before anything is re-sent,
        so a lost response never yields two NICs.
        """
        name = properties['name']

        def create(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            return partition.nics.create(properties).uri

        def already_done(client):
            nic = _nic_named(client, self._cpc_oid, partition_uri, name)
            return (nic is not None, nic.uri if nic is not None else None)

        return self._sup.call(
            create, what='create NIC %s' % name, failure=failure,
            mutating=True, already_done=already_done)

    def nic_properties(self, nic_uri, failure):
        """Full properties of a NIC (device number, MAC, ...).

        HMC: Get NIC Properties.
        """

        def read(client):
            partition_uri = nic_uri.split('/nics/')[0]
            partition = _partition(client, self._cpc_oid, partition_uri)
            nic = partition.nics.resource_object(nic_uri)
            nic.pull_full_properties()
            return dict(nic.properties)

        return self._sup.call(read, what='read NIC %s' % nic_uri,
                              failure=failure)

    def partition_nics(self, partition_uri, failure):
        """{name: full properties} of the NICs of a partition.

        HMC: List NICs of a Partition with full properties.
        """

        def read(client):
            return {nic.get_property('name'): dict(nic.properties)
                    for nic in _nics(client, self._cpc_oid, partition_uri)}

        return self._sup.call(read, what='list NICs of %s' % partition_uri,
                              failure=failure)

    def delete_nic(self, partition_uri, name, failure):
        """Delete the NIC called ``name``; a NIC already gone is success.

        HMC: List NICs of a Partition, then Delete NIC. Refused (409,
        WrongState) while the partition is starting or stopping.
        """

        def delete(client):
            nic = _nic_named(client, self._cpc_oid, partition_uri, name)
            if nic is None:
                return False
            try:
                nic.delete()
            except Exception as exc:
                if not gone.is_gone(exc):
                    raise
            return True

        def already_done(client):
            return (_nic_named(client, self._cpc_oid, partition_uri,
                               name) is None, True)

        return self._sup.call(delete, what='delete NIC %s' % name,
                              failure=failure, mutating=True,
                              already_done=already_done)

    def boot_parameters(self, partition_uri, failure):
        """The partition's ``boot-os-specific-parameters`` ('' when unset).

        HMC: Get Partition Properties (that one property).
        """

        def read(client):
            partition = _partition(client, self._cpc_oid, partition_uri)
            partition.pull_properties(['boot-os-specific-parameters'])
            return partition.properties.get('boot-os-specific-parameters')

        return self._sup.call(
            read, what='read the NIC MAC list of %s' % partition_uri,
            failure=failure) or ''

    def set_boot_parameters(self, partition_uri, parameters, failure):
        """Set ``boot-os-specific-parameters`` (the guest's MAC list).

        HMC: Update Partition Properties; allowed on an active partition.
        Setting the same value twice is harmless, so it is retried like a
        read.
        """
        return self._sup.call(
            lambda client: _partition(
                client, self._cpc_oid, partition_uri).update_properties(
                    {'boot-os-specific-parameters': parameters}),
            what='write the NIC MAC list of %s' % partition_uri,
            failure=failure)
