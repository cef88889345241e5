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

"""What the simulated HMC manages: a built-in z16-like CPC or a YAML file.

Object-ids of the built-in inventory are fixed so that a restarted simulator
agrees with configuration that names them (``cpc_object_id``, storage
adapter mappings).
"""

import jsonschema
import yaml
from zhmcclient import mock

HMC_NAME = 'HMCSIM'
HMC_VERSION = '2.16.0'
API_VERSION = '4.10'

DEFAULT_CPC_OID = '3931a0f0-5e16-11ef-9c1a-00106f0d0001'
OSA_ADAPTER_OID = '3931a0f0-5e16-11ef-9c1a-00106f0d0101'
ROCE_ADAPTER_OID = '3931a0f0-5e16-11ef-9c1a-00106f0d0102'
FCP_ADAPTER_OIDS = ('3931a0f0-5e16-11ef-9c1a-00106f0d0103',
                    '3931a0f0-5e16-11ef-9c1a-00106f0d0104')
VSWITCH_OID = '3931a0f0-5e16-11ef-9c1a-00106f0d0201'

_MIB_PER_TIB = 1024 * 1024


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


def default_inventory():
    """Return the built-in inventory in ``add_resources`` format."""
    cpc_props = {
        'object-id': DEFAULT_CPC_OID,
        'name': 'CPCSIM1',
        'description': 'Simulated z16 in DPM mode',
        'dpm-enabled': True,
        'iml-mode': 'dpm',
        'status': 'active',
        'has-unacceptable-status': False,
        'se-version': '2.16.0',
        'machine-type': '3931',
        'machine-model': 'A01',
        'machine-serial-number': '0000000SIM01',
        'processor-count-ifl': 40,
        'processor-count-general-purpose': 20,
        'processor-count-pending-ifl': 0,
        'storage-customer': 4 * _MIB_PER_TIB,
        'storage-customer-available': 4 * _MIB_PER_TIB,
        'storage-total-installed': 4 * _MIB_PER_TIB + 256 * 1024,
        'is-ensemble-member': False,
        'available-features-list': [
            _feature('dpm-storage-management'),
            _feature('dpm-fcp-tape-management'),
            _feature('dpm-smcd-partition-link-management', False),
        ],
    }
    return {
        'consoles': [{'properties': {
            'name': HMC_NAME, 'object-uri': '/api/console',
            'version': HMC_VERSION}}],
        'cpcs': [{
            'properties': cpc_props,
            'adapters': [
                _adapter(OSA_ADAPTER_OID, 'OSA 0110', 'osd', '110',
                         [_network_port(0), _network_port(1)], 'ports'),
                _adapter(ROCE_ADAPTER_OID, 'RoCE 0120', 'roce', '120',
                         [_network_port(0), _network_port(1)], 'ports'),
                _adapter(FCP_ADAPTER_OIDS[0], 'FCP 0130', 'fcp', '130',
                         [_storage_port(0)], 'ports'),
                _adapter(FCP_ADAPTER_OIDS[1], 'FCP 0131', 'fcp', '131',
                         [_storage_port(0)], 'ports'),
            ],
            'virtual_switches': [{'properties': {
                'object-id': VSWITCH_OID, 'name': 'VSWITCH OSA 0110 0',
                'type': 'osd', 'port': 0, 'description': '',
                'backing-adapter-uri': '/api/adapters/' + OSA_ADAPTER_OID,
                'connected-vnic-uris': [],
            }}],
        }],
    }


def load_faked_session(inventory_file, userid, password):
    """Return (FakedSession, default CPC object-id) for an inventory.

    ``inventory_file`` None selects the built-in inventory; otherwise it is
    an HMC definition in zhmcclient's YAML format. The default CPC is the
    first DPM-enabled CPC (else the first CPC, else None).
    """
    if inventory_file is None:
        session = mock.FakedSession('simulator', HMC_NAME, HMC_VERSION,
                                    API_VERSION, userid, password)
        session.hmc.add_resources(default_inventory())
    else:
        session = _session_from_yaml(inventory_file, userid, password)
    cpcs = session.hmc.cpcs.list()
    dpm_cpcs = [c for c in cpcs if c.properties.get('dpm-enabled')]
    chosen = (dpm_cpcs or cpcs or [None])[0]
    return session, (chosen.oid if chosen is not None else None)


def _session_from_yaml(path, userid, password):
    try:
        return mock.FakedSession.from_hmc_yaml_file(path, userid, password)
    except OSError as exc:
        raise InventoryError('cannot read inventory file %s: %s' %
                             (path, exc.strerror or exc))
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
