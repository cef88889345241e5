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

"""NICs of an instance's partition, from Nova's network_info.

Three vif types are understood (specs/dpm-port-binding.rst):

``dpm`` (``port_binding.VIF_TYPE_DPM``)
    bound by this project's Neutron mechanism driver. The details name the
    ``physical_network`` (and ``vlan`` for VLAN segments), no HMC object:
    ``[dpm] physical_network_adapter_mappings`` gives the adapter port, and
    the NIC goes through that port's virtual switch when the CPC has one
    for it (OSA and HiperSockets before z17), else to the adapter port
    itself (z17's ``network-express-support``, RoCE, CNA). The choice is
    read from the HMC once per adapter port and service start.
``dpm_vswitch`` (networking-dpm's bindings)
    ``object_id`` names the OSA/HiperSockets adapter (or its virtual
    switch) and ``port`` its index (0 unless given); on a CPC without
    virtual switches the NIC is connected to the adapter port.
``dpm_adapter``
    ``object_id`` and ``port`` name a RoCE or CNA adapter port (or any
    network adapter port on z17), used directly.

``vlan`` (or the network's ``vlan`` meta data) becomes the NIC's
``vlan-id`` with ``vlan-type`` ``enforced``, whichever the backing: both
are NIC properties of Create NIC on virtual-switch and adapter-port NICs
alike (zhmc-ansible-modules ``zhmc_nic.py``: ``vlan_id`` since API 2.2,
``vlan_type`` since API 2.20; its sample vswitch NIC shows both).

The NIC is created with the port's MAC (``mac-address``) where the CPC
takes one (SE 2.14.0 on); older SEs assign their own. Either way the guest
learns its MAC addresses from the partition's
``boot-os-specific-parameters``: one ``<devno>,<port>,<mac>;`` entry per NIC
(MAC without colons). That property holds at most 256 characters, which is
why a partition gets at most 12 NICs. Everything about the ports is checked
by :meth:`Networking.plan` before the HMC is changed, so bad input never
leaves half-built partitions behind; interfaces attached to an existing
partition (:meth:`Networking.attach`) are checked the same way.

After an attach or detach the MAC list is written from the partition's
NICs as the HMC lists them (each NIC's description names its port's MAC
and adapter port), never patched from an earlier read of the list: Nova
serializes interface changes per server *and port* only (the compute
manager's ``interface-<instance>-<port>`` lock; the API sets no task
state), so two ports of one server can be attached or detached at once.
Without a lock (none may be held across an HMC request), each change ends
with compare-and-retry: read the NICs and the list, write the list they
call for, read both again, until a read finds them matching. Whoever
writes last re-reads after its write, so the list ends up naming every
NIC; see :meth:`Networking.write_mac_list`.

Spawn does not wait for ``network-vif-plugged``: no agent plugs anything.
Neutron's ``dpm`` mechanism driver sets the port ACTIVE when it binds it,
which Nova does before ``spawn``, so the event may arrive before a wait
could start (Nova logs it as unexpected, harmlessly); a wait would only
add Nova's ``vif_plugging_timeout`` to builds whose event came early.
"""

import dataclasses
import re

from nova import exception
from oslo_log import log as logging

from nova_dpm.hmc import errors
from nova_dpm.hmc import nics
from nova_dpm import port_binding

LOG = logging.getLogger(__name__)

VIF_TYPE_VSWITCH = 'dpm_vswitch'
VIF_TYPE_ADAPTER = 'dpm_adapter'
VIF_TYPE_DPM = port_binding.VIF_TYPE_DPM
VIF_TYPES = (VIF_TYPE_DPM, VIF_TYPE_VSWITCH, VIF_TYPE_ADAPTER)
MAPPING_OPTION = '[dpm] physical_network_adapter_mappings'

MAX_NICS = 12
MAX_BOOT_PARAMETERS = 256
NIC_NAME_PREFIX = 'OpenStack_Port_'
#: Rounds of read-compare-write of the MAC list before giving up: each
#: further round needs another interface change of the same server that
#: landed between a read and a write.
MAC_LIST_ROUNDS = 5
_NIC_DESCRIPTION = 'OpenStack port %s, MAC %s, adapter port %d'
# What the MAC list needs from a NIC's description. NICs described before
# the adapter port was added have only the MAC.
_DESCRIBED = re.compile(r'MAC ([0-9a-f]{12})(?:, adapter port (\d+))?')
# The widest device number the HMC assigns ("FFFF"), used to check the
# boot parameters' length before the real numbers are known.
_WIDEST_DEVNO = 'ffff'

_MAC = re.compile(r'^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2}){5}$')
_OBJECT_ID = re.compile(
    r'^[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$')


@dataclasses.dataclass(frozen=True)
class NicPlan(object):
    """One NIC to create, derived and validated from one VIF."""

    vif_id: str
    vif_type: str
    adapter_oid: str
    port: int
    mac: str            # 12 lower-case hex digits, no separators
    vlan: int = None
    physical_network: str = None

    @property
    def nic_name(self):
        return NIC_NAME_PREFIX + self.vif_id

    @property
    def colon_mac(self):
        """The MAC as Create NIC takes it (``fa:16:3e:01:02:03``)."""
        return ':'.join(self.mac[i:i + 2] for i in range(0, 12, 2))

    @property
    def description(self):
        """The NIC's description: the MAC list is rebuilt from it."""
        return _NIC_DESCRIPTION % (self.vif_id, self.mac, self.port)

    def boot_entry(self, devno):
        """This NIC's ``<devno>,<port>,<mac>;`` boot parameter entry."""
        return _boot_entry(devno, self.port, self.mac)


def _boot_entry(devno, port, mac):
    return '%s,%d,%s;' % (devno.lower(), port, mac)


def _invalid(vif_id, problem, action):
    return exception.InvalidInput(reason='network port %s: %s; %s'
                                  % (vif_id, problem, action))


def normalized_mac(address):
    """12 lower-case hex digits of a MAC address in any usual notation."""
    return re.sub('[:-]', '', address or '').lower()


def _mapped_port(vif_id, details, mappings):
    """(adapter object-id, port index, physnet) of a ``dpm`` binding."""
    physnet = details.get(port_binding.DETAIL_PHYSICAL_NETWORK)
    if not physnet or not isinstance(physnet, str):
        return _invalid(vif_id, 'vif details "%s" is %r'
                        % (port_binding.DETAIL_PHYSICAL_NETWORK, physnet),
                        "bind the port with Neutron's dpm mechanism driver, "
                        'which names the physical network')
    if physnet not in mappings:
        return _invalid(vif_id, 'physical network %r is not mapped to a '
                        'network adapter of this CPC' % physnet,
                        'add it to %s (%s) or keep the port off this host'
                        % (MAPPING_OPTION, ', '.join(sorted(mappings)) or
                           'empty now'))
    return mappings[physnet]


def _plan_one(vif, mappings):
    vif_id = vif.get('id') or '<no id>'
    vif_type = vif.get('type')
    if vif_type not in VIF_TYPES:
        return _invalid(vif_id, 'vif type %r is not supported by the DPM '
                        'driver' % vif_type,
                        "bind the port with Neutron's dpm mechanism driver "
                        '(vif type dpm; %s are also read)'
                        % ', '.join(VIF_TYPES[1:]))
    details = vif.get('details') or {}
    physnet = None
    if vif_type == VIF_TYPE_DPM:
        mapped = _mapped_port(vif_id, details, mappings)
        if isinstance(mapped, exception.InvalidInput):
            return mapped
        physnet, adapter_oid, mapped_port = mapped
        details = dict(details, object_id=adapter_oid, port=mapped_port)
    adapter_oid = details.get('object_id')
    if not adapter_oid or not _OBJECT_ID.match(str(adapter_oid)):
        return _invalid(vif_id, 'vif details "object_id" is %r' % adapter_oid,
                        'the port binding must name the HMC object-id of '
                        'the network adapter')
    try:
        port = int(details.get('port', 0))
    except (TypeError, ValueError):
        port = -1
    if not 0 <= port <= 9:
        return _invalid(vif_id, 'vif details "port" is %r'
                        % details.get('port'),
                        'use the adapter port index 0-9')
    mac = vif.get('address') or ''
    if not _MAC.match(mac):
        return _invalid(vif_id, 'MAC address %r is invalid' % mac,
                        'give the port a MAC address such as '
                        'fa:16:3e:01:02:03')
    vlan = details.get('vlan')
    if vlan is None and vif.get('network'):
        vlan = (vif['network'].get('meta') or {}).get('vlan')
    if vlan is not None:
        try:
            vlan = int(vlan)
        except (TypeError, ValueError):
            vlan = -1
        if not 1 <= vlan <= 4094:
            return _invalid(vif_id, 'VLAN %r is invalid'
                            % (details.get('vlan') or vlan),
                            'use a VLAN id between 1 and 4094')
    return NicPlan(vif_id=vif_id, vif_type=vif_type,
                   adapter_oid=adapter_oid.lower(), port=port,
                   mac=normalized_mac(mac), vlan=vlan,
                   physical_network=physnet)


def boot_entries(parameters):
    """``<devno>,<port>,<mac>;`` entries of boot-os-specific-parameters."""
    return [entry + ';' for entry in (parameters or '').split(';')
            if entry.strip()]


def _entry_fields(entry):
    """(port text, MAC) of a ``<devno>,<port>,<mac>;`` entry."""
    fields = entry.rstrip(';').split(',')
    return fields[1].strip() if len(fields) > 2 else '', \
        fields[-1].strip().lower()


def _nic_entry(nic, known_ports):
    """The MAC list entry of one OpenStack NIC, from its properties.

    MAC and adapter port come from the description written at creation;
    a NIC described before the adapter port was added keeps the port of
    its entry in the current list (``known_ports``: {MAC: port}), else 0.
    """
    described = _DESCRIBED.search(nic.get('description') or '')
    if described:
        mac, port = described.groups()
    else:
        mac, port = normalized_mac(nic.get('mac-address')), None
    if port is None:
        port = known_ports.get(mac, '0')
    return _boot_entry(nic['device-number'], int(port), mac)


def wanted_entries(nics, entries=()):
    """The MAC list the partition's OpenStack NICs call for, by devno.

    ``nics`` is {name: properties} as the HMC lists them; ``entries`` the
    current list (only read for NICs described without their port).
    """
    known_ports = {}
    for entry in entries:
        port, mac = _entry_fields(entry)
        if port.isdigit():
            known_ports[mac] = port
    return sorted(_nic_entry(nic, known_ports)
                  for name, nic in nics.items()
                  if name and name.startswith(NIC_NAME_PREFIX))


class Networking(object):
    """Plans and creates the NICs of one instance's partition."""

    def __init__(self, supervisor, settings):
        self._nics = nics.NicFacade(supervisor, settings.cpc_object_id)
        self._mappings = {
            physnet: (physnet, adapter_oid, port) for physnet, adapter_oid,
            port in settings.network_adapter_mappings}

    def plan(self, network_info):
        """Validate ``network_info``; return the NIC plans (no HMC I/O).

        Raises InvalidInput naming the offending port and what to do, so
        Nova fails the build at once instead of rescheduling it.
        """
        vifs = list(network_info or [])
        if len(vifs) > MAX_NICS:
            raise exception.InvalidInput(reason=(
                '%d network ports requested but a DPM partition can have at '
                'most %d (its MAC addresses must fit into the 256 '
                'characters of boot-os-specific-parameters); boot the '
                'server with fewer ports' % (len(vifs), MAX_NICS)))
        plans = [self.plan_one(vif) for vif in vifs]
        self._check_unique(plans)
        _check_fits(plans)
        return plans

    def plan_one(self, vif):
        """The NIC plan of one VIF; InvalidInput naming what to fix."""
        plan = _plan_one(vif, self._mappings)
        if isinstance(plan, exception.InvalidInput):
            raise plan
        return plan

    @staticmethod
    def _check_unique(plans):
        seen_ids, seen_macs = set(), set()
        for plan in plans:
            if plan.vif_id in seen_ids:
                raise _invalid(plan.vif_id, 'the port is listed twice',
                               'attach each port once')
            if plan.mac in seen_macs:
                raise _invalid(plan.vif_id, 'MAC %s is used by another '
                               'port of this server' % plan.mac,
                               'give every port its own MAC address')
            seen_ids.add(plan.vif_id)
            seen_macs.add(plan.mac)

    def create_nics(self, partition_uri, plans):
        """Create the planned NICs; return boot-os-specific-parameters.

        Each NIC is created once even when an HMC response is lost (the
        supervisor looks it up by name before re-sending). Returns the
        ``<devno>,<port>,<mac>;`` entries ('' without NICs). Failures raise
        InstanceDeployFailure (or what the supervisor maps them to).
        """
        failure = exception.InstanceDeployFailure
        entries = [self._create_nic(partition_uri, plan, failure)
                   for plan in plans]
        parameters = ''.join(entries)
        if len(parameters) > MAX_BOOT_PARAMETERS:
            raise failure(reason=(
                'boot-os-specific-parameters for the NIC MAC addresses '
                'would be %d characters, more than %d'
                % (len(parameters), MAX_BOOT_PARAMETERS)))
        return parameters

    def _create_nic(self, partition_uri, plan, failure):
        """Create one planned NIC (or find it); return its boot entry."""
        properties = self._backing_properties(plan, failure)
        properties.update({'name': plan.nic_name,
                           'description': plan.description})
        if plan.vlan is not None:
            properties.update({'vlan-id': plan.vlan,
                               'vlan-type': 'enforced'})
        if self._nics.sets_mac_address(failure):
            properties['mac-address'] = plan.colon_mac
        nic_uri = self._nics.create_nic(partition_uri, properties, failure)
        devno = self._nics.nic_properties(
            nic_uri, failure).get('device-number')
        if not devno:
            raise failure(reason='NIC %s of %s has no device number'
                          % (plan.nic_name, partition_uri))
        LOG.info('Created NIC %s (device %s, MAC %s) in %s',
                 plan.nic_name, devno, plan.mac, partition_uri)
        return plan.boot_entry(devno)

    def _backing_properties(self, plan, failure):
        if plan.vif_type == VIF_TYPE_DPM:
            return self._nics.backing(plan.adapter_oid, plan.port, failure)
        if plan.vif_type == VIF_TYPE_VSWITCH and \
                self._nics.uses_virtual_switches(failure):
            return {'virtual-switch-uri': self._nics.virtual_switch_uri(
                plan.adapter_oid, plan.port, failure)}
        return {'network-adapter-port-uri': self._nics.network_port_uri(
            plan.adapter_oid, plan.port, failure)}

    # -- interfaces of an existing partition ---------------------------------

    def attach(self, partition_uri, vif):
        """Give an existing partition (running or stopped) a NIC for ``vif``.

        Checked before the HMC changes (InvalidInput, like ``plan``).
        Idempotent: a NIC of the port that exists is kept and the MAC list
        made right. When the MAC list cannot be written, the NIC created
        here is deleted again. The HMC refuses NIC changes while the
        partition is starting or stopping (WrongState).
        """
        failure = None  # HMCOperationFailed; Nova reports the attach failed
        plan = self.plan_one(vif)
        existing = self._nics.partition_nics(partition_uri, failure)
        created = plan.nic_name not in existing
        if created:
            if len(existing) >= MAX_NICS:
                raise _invalid(plan.vif_id, 'the server has %d network '
                               'ports, the most a DPM partition can have'
                               % len(existing), 'detach one first')
            _check_fits([plan], wanted_entries(existing))
            self._create_nic(partition_uri, plan, failure)
        try:
            self.write_mac_list(partition_uri, failure)
        except Exception:
            if created:
                self._undo_nic(partition_uri, plan.nic_name)
            raise

    def _undo_nic(self, partition_uri, nic_name):
        """Delete the NIC of a failed attach and drop its MAC entry."""
        try:
            self._nics.delete_nic(partition_uri, nic_name, None)
            self.write_mac_list(partition_uri, None)
        except Exception as exc:
            LOG.error('Could not remove NIC %(nic)s of %(partition)s after '
                      'the attach failed: %(cause)s; delete it on the HMC '
                      'or detach the port again',
                      {'nic': nic_name, 'partition': partition_uri,
                       'cause': exc})

    def detach(self, partition_uri, vif):
        """Remove the NIC of ``vif`` and its MAC entry; absent is success.

        Needs only the port's id (its binding may no longer be placeable).
        The NIC goes first: a failed MAC list update leaves a stale entry
        that a repeated detach (or any later attach or detach) removes.
        """
        failure = None  # HMCOperationFailed; Nova reports the detach failed
        vif_id = vif.get('id') or '<no id>'
        self._nics.delete_nic(partition_uri, NIC_NAME_PREFIX + vif_id,
                              failure)
        self.write_mac_list(partition_uri, failure)
        LOG.info('Detached port %s (MAC %s) from %s', vif_id,
                 normalized_mac(vif.get('address')), partition_uri)

    def write_mac_list(self, partition_uri, failure):
        """Make boot-os-specific-parameters list exactly the partition's NICs.

        Compare-and-retry, no lock: read the list and the NICs; done when
        they match, else write the list the NICs call for and read again.
        A concurrent attach or detach of another port may write a list
        built from an older NIC listing between our read and our write (or
        overwrite ours), but each writer reads again after writing, so the
        last one sees the final NICs and leaves their complete list. Gives
        up after MAC_LIST_ROUNDS rounds, and before writing a list longer
        than the HMC takes (more NICs than fit, attached concurrently).
        """
        refused = failure or errors.HMCOperationFailed
        for _ in range(MAC_LIST_ROUNDS):
            entries = boot_entries(self._nics.boot_parameters(partition_uri,
                                                              failure))
            wanted = wanted_entries(
                self._nics.partition_nics(partition_uri, failure), entries)
            if sorted(entries) == wanted:
                return
            parameters = ''.join(wanted)
            if len(parameters) > MAX_BOOT_PARAMETERS:
                raise refused(reason=(
                    'the MAC addresses of the %d NICs of %s need %d '
                    'characters of boot-os-specific-parameters, more than '
                    'its %d; detach a port'
                    % (len(wanted), partition_uri, len(parameters),
                       MAX_BOOT_PARAMETERS)))
            self._nics.set_boot_parameters(partition_uri, parameters,
                                           failure)
        raise refused(reason=(
            'the NICs of %s kept changing while their MAC list was written '
            '(%d rounds); attach or detach the port again'
            % (partition_uri, MAC_LIST_ROUNDS)))


def _check_fits(plans, kept=()):
    """The MAC entries of ``plans`` (with ``kept``) fit the 256 characters."""
    worst = ''.join(kept) + ''.join(p.boot_entry(_WIDEST_DEVNO)
                                    for p in plans)
    if len(worst) > MAX_BOOT_PARAMETERS:
        raise exception.InvalidInput(reason=(
            'the MAC addresses of %d network ports need %d characters '
            'of boot-os-specific-parameters, more than its %d; use fewer '
            'ports' % (len(plans) + len(kept), len(worst),
                       MAX_BOOT_PARAMETERS)))
