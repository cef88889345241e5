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

Neutron ports bound for DPM carry, in their binding ``vif_details``:

``object_id``
    object-id of the network adapter on the HMC (required).
``port``
    index of the adapter port, 0 unless given.
``vlan``
    VLAN id enforced on the NIC (optional; the network's ``vlan`` meta
    data is used when the details have none).

Two vif types are understood:

``dpm_vswitch`` (``VIF_TYPE_VSWITCH``)
    OSA or HiperSockets adapter on a CPC before z17: the NIC is connected to
    the virtual switch the HMC keeps for that adapter port. For
    compatibility with networking-dpm, ``object_id`` may also name the
    virtual switch itself. On a CPC without virtual switches (z17,
    ``network-express-support``) the NIC is connected to the adapter port,
    as for ``dpm_adapter``.
``dpm_adapter`` (``VIF_TYPE_ADAPTER``)
    RoCE or CNA adapters, and every network adapter on z17 (which has no
    virtual switches): the NIC is connected to the adapter port directly.

The guest learns its MAC addresses from the partition's
``boot-os-specific-parameters``: one ``<devno>,<port>,<mac>;`` entry per NIC
(MAC without colons). That property holds at most 256 characters, which is
why a partition gets at most 12 NICs. Everything about the ports is checked
by :meth:`Networking.plan` before the HMC is changed, so bad input never
leaves half-built partitions behind.
"""

import dataclasses
import re

from nova import exception
from oslo_log import log as logging

from nova_dpm.hmc import nics

LOG = logging.getLogger(__name__)

VIF_TYPE_VSWITCH = 'dpm_vswitch'
VIF_TYPE_ADAPTER = 'dpm_adapter'
VIF_TYPES = (VIF_TYPE_VSWITCH, VIF_TYPE_ADAPTER)

MAX_NICS = 12
MAX_BOOT_PARAMETERS = 256
NIC_NAME_PREFIX = 'OpenStack_Port_'
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

    @property
    def nic_name(self):
        return NIC_NAME_PREFIX + self.vif_id

    def boot_entry(self, devno):
        """This NIC's ``<devno>,<port>,<mac>;`` boot parameter entry."""
        return '%s,%d,%s;' % (devno.lower(), self.port, self.mac)


def _invalid(vif_id, problem, action):
    return exception.InvalidInput(reason='network port %s: %s; %s'
                                  % (vif_id, problem, action))


def _plan_one(vif):
    vif_id = vif.get('id') or '<no id>'
    vif_type = vif.get('type')
    if vif_type not in VIF_TYPES:
        return _invalid(vif_id, 'vif type %r is not supported by the DPM '
                        'driver' % vif_type,
                        'bind the port with networking-dpm so that its vif '
                        'type is one of %s' % ', '.join(VIF_TYPES))
    details = vif.get('details') or {}
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
                   mac=re.sub('[:-]', '', mac).lower(), vlan=vlan)


class Networking(object):
    """Plans and creates the NICs of one instance's partition."""

    def __init__(self, supervisor, settings):
        self._nics = nics.NicFacade(supervisor, settings.cpc_object_id)

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
        plans = []
        for vif in vifs:
            plan = _plan_one(vif)
            if isinstance(plan, exception.InvalidInput):
                raise plan
            plans.append(plan)
        self._check_unique(plans)
        worst = ''.join(p.boot_entry(_WIDEST_DEVNO) for p in plans)
        if len(worst) > MAX_BOOT_PARAMETERS:
            raise exception.InvalidInput(reason=(
                'the MAC addresses of %d network ports need %d characters '
                'of boot-os-specific-parameters, more than its %d; boot '
                'the server with fewer ports'
                % (len(plans), len(worst), MAX_BOOT_PARAMETERS)))
        return plans

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
        backing = {}
        entries = []
        for plan in plans:
            key = (plan.vif_type, plan.adapter_oid, plan.port)
            if key not in backing:
                backing[key] = self._backing_properties(plan, failure)
            properties = dict(backing[key])
            properties.update({
                'name': plan.nic_name,
                'description': 'OpenStack port %s, MAC %s'
                               % (plan.vif_id, plan.mac)})
            if plan.vlan is not None:
                properties.update({'vlan-id': plan.vlan,
                                   'vlan-type': 'enforced'})
            nic_uri = self._nics.create_nic(partition_uri, properties,
                                            failure)
            devno = self._nics.nic_properties(
                nic_uri, failure).get('device-number')
            if not devno:
                raise failure(reason='NIC %s of %s has no device number'
                              % (plan.nic_name, partition_uri))
            LOG.info('Created NIC %s (device %s, MAC %s) in %s',
                     plan.nic_name, devno, plan.mac, partition_uri)
            entries.append(plan.boot_entry(devno))
        parameters = ''.join(entries)
        if len(parameters) > MAX_BOOT_PARAMETERS:
            raise failure(reason=(
                'boot-os-specific-parameters for the NIC MAC addresses '
                'would be %d characters, more than %d'
                % (len(parameters), MAX_BOOT_PARAMETERS)))
        return parameters

    def _backing_properties(self, plan, failure):
        if plan.vif_type == VIF_TYPE_VSWITCH and \
                self._nics.uses_virtual_switches(failure):
            return {'virtual-switch-uri': self._nics.virtual_switch_uri(
                plan.adapter_oid, plan.port, failure)}
        return {'network-adapter-port-uri': self._nics.network_port_uri(
            plan.adapter_oid, plan.port, failure)}
