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

"""What the simulated HMC manages: a built-in CPC kind or a YAML file.

Three built-in kinds, so that both kinds of CPC the driver must handle
exist (README.rst, "Inventory"):

* ``z16`` (default): dpm-storage-management (storage groups, no HBAs),
  OSA through a virtual switch, RoCE by port.
* ``z17``: dpm-storage-management and the network-express-support API
  feature: Network Express adapters used by port, no virtual switches.
* ``z13``: no storage management (HBAs), OSA through a virtual switch.

Object-ids of the built-in inventories are fixed so that a restarted
simulator agrees with configuration that names them (``cpc_object_id``,
adapter mappings).
"""

import collections

import jsonschema
import yaml
from zhmcclient import mock

HMC_NAME = 'HMCSIM'
HMC_VERSION = '2.16.0'
API_VERSION = '4.10'

_MIB_PER_TIB = 1024 * 1024
# zhmcclient.mock derives ports only for adapter types it knows; Network
# Express adapters are added as OSA and then given their own identity.
_NETWORK_EXPRESS = {'type': 'neth', 'adapter-family': 'network-express',
                    'detected-card-type': 'network-express-25gb'}


def _oid(machine_type, suffix):
    return '%sa0f0-5e16-11ef-9c1a-00106f0d%s' % (machine_type, suffix)


Machine = collections.namedtuple('Machine', [
    'name', 'machine_type', 'se_version', 'cpc_oid', 'nic_adapter_oid',
    'roce_adapter_oid', 'fcp_adapter_oids', 'vswitch_oid',
    'storage_management', 'network_express'])
Machine.__doc__ = """A built-in CPC kind and the object-ids of its parts.

``nic_adapter_oid``: the adapter for ordinary NICs (OSA through
``vswitch_oid`` on z16/z13, Network Express by port on z17, where
``vswitch_oid`` is None); ``roce_adapter_oid``: one used by port on every
kind; ``fcp_adapter_oids``: the FCP adapters (one storage port each).
"""


def _machine(name, machine_type, se_version, storage_management,
             network_express):
    return Machine(
        name, machine_type, se_version, _oid(machine_type, '0001'),
        _oid(machine_type, '0101'), _oid(machine_type, '0102'),
        (_oid(machine_type, '0103'), _oid(machine_type, '0104')),
        None if network_express else _oid(machine_type, '0201'),
        storage_management, network_express)


MACHINES = collections.OrderedDict((m.name, m) for m in (
    _machine('z16', '3931', '2.16.0', True, False),
    _machine('z17', '9175', '2.17.0', True, True),
    _machine('z13', '2964', '2.13.1', False, False),
))
DEFAULT_INVENTORY = 'z16'
INVENTORIES = tuple(MACHINES)

# The default (z16) inventory's object-ids, as configuration names them.
DEFAULT_CPC_OID = MACHINES[DEFAULT_INVENTORY].cpc_oid
OSA_ADAPTER_OID = MACHINES[DEFAULT_INVENTORY].nic_adapter_oid
ROCE_ADAPTER_OID = MACHINES[DEFAULT_INVENTORY].roce_adapter_oid
FCP_ADAPTER_OIDS = MACHINES[DEFAULT_INVENTORY].fcp_adapter_oids
VSWITCH_OID = MACHINES[DEFAULT_INVENTORY].vswitch_oid


class InventoryError(Exception):
    """The inventory file cannot be used (message is one line)."""


def _feature(name, state=True):
    return {'name': name, 'description': name, 'state': state}


def _network_port(index):
    return {'properties': {
        'element-id': str(index), 'name': 'Port %d' % index,
        'index': index, 'description': ''}}


def _storage_port(index):
    return {'properties': {
        'element-id': str(index), 'name': 'Port %d' % index,
        'index': index, 'description': '', 'fabric-id': '10000000C9A1B2C3'}}


def _adapter(oid, name, adapter_type, pchid, ports, port_kind):
    return {
        'properties': {
            'object-id': oid, 'name': name, 'type': adapter_type,
            'adapter-id': pchid, 'status': 'active', 'state': 'online',
            'description': '', 'port-count': len(ports),
            'detected-card-type': {
                'osd': 'osa-express-7s-10gb',
                'roce': 'roce-express-3-25gb',
                'fcp': 'ficon-express-32s'}[adapter_type],
        },
        port_kind: ports,
    }


def _features(machine):
    if not machine.storage_management:
        return []
    return [_feature('dpm-storage-management'),
            _feature('dpm-fcp-tape-management'),
            _feature('dpm-smcd-partition-link-management', False)]


def built_in_inventory(name=DEFAULT_INVENTORY):
    """Return a built-in inventory in ``add_resources`` format."""
    machine = MACHINES[name]
    cpc_props = {
        'object-id': machine.cpc_oid,
        'name': 'CPCSIM1',
        'description': 'Simulated %s in DPM mode' % machine.name,
        'dpm-enabled': True,
        'iml-mode': 'dpm',
        'status': 'active',
        'has-unacceptable-status': False,
        'se-version': machine.se_version,
        'machine-type': machine.machine_type,
        'machine-model': 'A01',
        'machine-serial-number': '0000000SIM01',
        'processor-count-ifl': 40,
        'processor-count-general-purpose': 20,
        'processor-count-pending-ifl': 0,
        'storage-customer': 4 * _MIB_PER_TIB,
        'storage-customer-available': 4 * _MIB_PER_TIB,
        'storage-total-installed': 4 * _MIB_PER_TIB + 256 * 1024,
        'is-ensemble-member': False,
        'available-features-list': _features(machine),
    }
    two_ports = [_network_port(0), _network_port(1)]
    nic_name, roce_name = (('NETH 0110', 'NETH 0120')
                           if machine.network_express
                           else ('OSA 0110', 'RoCE 0120'))
    cpc = {
        'properties': cpc_props,
        'adapters': [
            _adapter(machine.nic_adapter_oid, nic_name, 'osd', '110',
                     two_ports, 'ports'),
            _adapter(machine.roce_adapter_oid, roce_name,
                     'osd' if machine.network_express else 'roce', '120',
                     [_network_port(0), _network_port(1)], 'ports'),
            _adapter(machine.fcp_adapter_oids[0], 'FCP 0130', 'fcp', '130',
                     [_storage_port(0)], 'ports'),
            _adapter(machine.fcp_adapter_oids[1], 'FCP 0131', 'fcp', '131',
                     [_storage_port(0)], 'ports'),
        ],
    }
    if machine.vswitch_oid:
        cpc['virtual_switches'] = [{'properties': {
            'object-id': machine.vswitch_oid, 'name': 'VSWITCH OSA 0110 0',
            'type': 'osd', 'port': 0, 'description': '',
            'backing-adapter-uri': '/api/adapters/' +
                                   machine.nic_adapter_oid,
            'connected-vnic-uris': [],
        }}]
    return {
        'consoles': [{'properties': {
            'name': HMC_NAME, 'object-uri': '/api/console',
            'version': HMC_VERSION}}],
        'cpcs': [cpc],
    }


def _add_built_in(hmc, name):
    hmc.add_resources(built_in_inventory(name))
    machine = MACHINES[name]
    if machine.network_express:
        cpc = hmc.cpcs.lookup_by_oid(machine.cpc_oid)
        cpc.api_features = ['network-express-support']
        for oid in (machine.nic_adapter_oid, machine.roce_adapter_oid):
            cpc.adapters.lookup_by_oid(oid).properties.update(
                _NETWORK_EXPRESS)


def load_faked_session(inventory, userid, password):
    """Return (FakedSession, default CPC object-id) for an inventory.

    ``inventory`` None selects the default built-in inventory, a name of
    ``INVENTORIES`` that one; anything else is the path of an HMC
    definition in zhmcclient's YAML format. The default CPC is the first
    DPM-enabled CPC (else the first CPC, else None).
    """
    name = DEFAULT_INVENTORY if inventory is None else inventory
    if name in MACHINES:
        session = mock.FakedSession('simulator', HMC_NAME, HMC_VERSION,
                                    API_VERSION, userid, password)
        _add_built_in(session.hmc, name)
    else:
        session = _session_from_yaml(inventory, userid, password)
    cpcs = session.hmc.cpcs.list()
    dpm_cpcs = [c for c in cpcs if c.properties.get('dpm-enabled')]
    chosen = (dpm_cpcs or cpcs or [None])[0]
    return session, (chosen.oid if chosen is not None else None)


def _session_from_yaml(path, userid, password):
    try:
        return mock.FakedSession.from_hmc_yaml_file(path, userid, password)
    except OSError as exc:
        raise InventoryError(
            'inventory %s is neither a built-in inventory (%s) nor a '
            'readable file: %s' % (path, ', '.join(INVENTORIES),
                                   exc.strerror or exc))
    except (mock.HmcDefinitionYamlError, mock.HmcDefinitionSchemaError,
            mock.InputError, yaml.YAMLError,
            jsonschema.ValidationError) as exc:
        reason = ' '.join(str(exc).split())
        raise InventoryError('invalid inventory file %s: %s' %
                             (path, reason))
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise InventoryError(
            'invalid inventory file %s: not an HMC definition in '
            "zhmcclient's YAML format (%s: %s)" %
            (path, type(exc).__name__, exc))
