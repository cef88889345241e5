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

"""The HMC's rules: what a real HMC refuses, and with which answer.

Every refusal the simulator makes because a real HMC would refuse the
request names a rule of ``RULES`` (an id, the HTTP status and reason code,
and whether any source states the rule or it is assumed). RULES.rst lists
the same ids with their sources; a test keeps the two in agreement. The
handlers call the checks below before they change anything; checks that
zhmcclient.mock already makes are not repeated but given their rule id by
``enforced_by_mock()``. The backend counts every ``RuleViolation`` in the
statistics (``rule_violations``).
"""

import collections
import contextlib
import re

# FakedHTTPError is what zhmcclient.mock's handlers raise for HMC errors;
# it is not exported by zhmcclient.mock itself.
from zhmcclient.mock._urihandler import FakedHTTPError

from nova_dpm.simulator.errors import RuleViolation
from nova_dpm.simulator import storage_groups

Rule = collections.namedtuple('Rule', ['rule_id', 'status', 'reason',
                                       'assumed'])

_ALL = (
    # Requests in general.
    Rule('request-required-field', 400, 5, False),
    Rule('mock-refusal', 400, None, False),
    Rule('submit-requests-nested', 400, 5, True),
    Rule('job-not-ended', 409, 40, False),
    # Create Partition / Update Partition Properties.
    Rule('partition-create-field', 400, 6, False),
    Rule('partition-create-boot-storage-volume', 400, 6, False),
    Rule('partition-update-field', 400, 6, False),
    Rule('partition-update-while-active', 409, 1, True),
    Rule('partition-name-unique', 400, 8, True),
    Rule('boot-os-specific-parameters-length', 400, 7, True),
    Rule('boot-storage-adapter-storage-management', 400, 7, True),
    Rule('boot-storage-adapter-hba', 400, 7, True),
    Rule('boot-storage-volume-attached', 409, 122, True),
    Rule('boot-storage-volume-fulfilled', 409, 122, False),
    # Partition status.
    Rule('partition-start-status', 409, 1, False),
    Rule('partition-stop-status', 409, 1, False),
    Rule('partition-operation-status', 409, 1, False),
    Rule('partition-delete-status', 409, 1, False),
    Rule('partition-iso-status', 409, 1, False),
    Rule('partition-child-transitional', 409, 1, False),
    # NICs and HBAs.
    Rule('hba-storage-management', 400, 7, True),
    Rule('nic-network-express', 400, 7, True),
    Rule('nic-osa-needs-virtual-switch', 400, 7, True),
    Rule('nic-mac-address-se-version', 400, 6, True),
    # Storage groups and volumes.
    Rule('storage-group-storage-management', 400, 7, True),
    Rule('storage-group-delete-attached', 409, 1, True),
    Rule('storage-group-attach-twice', 409, 1, True),
    Rule('storage-group-not-attached', 409, 1, True),
    Rule('storage-group-unshared', 409, 1, True),
    Rule('storage-group-attach-transitional', 409, 1, False),
    Rule('storage-volume-field', 400, 6, False),
    Rule('storage-volume-value', 400, 7, True),
    Rule('storage-volume-fulfill-value', 400, 7, True),
)
RULES = collections.OrderedDict((rule.rule_id, rule) for rule in _ALL)

# Longest boot-os-specific-parameters value (assumed, see RULES.rst).
MAX_BOOT_OS_SPECIFIC_PARAMETERS = 256
TRANSITIONAL = ('starting', 'stopping')

# Create Partition input fields: zhmc-ansible-modules zhmc_partition.py
# ZHMC_PARTITION_PROPERTIES (create column) and the fields zhmcclient.mock's
# Create Partition takes with defaults.
_PARTITION_CREATE_FIELDS = frozenset("""
    name description type short-name partition-id autogenerate-partition-id
    ifl-processors cp-processors processor-mode initial-memory maximum-memory
    reserve-resources boot-device boot-timeout boot-ftp-host
    boot-ftp-username boot-ftp-password boot-ftp-insfile boot-removable-media
    boot-removable-media-type boot-configuration-selector boot-record-lba
    access-global-performance-data permit-cross-partition-commands
    access-basic-counter-set access-problem-state-counter-set
    access-crypto-activity-counter-set access-extended-counter-set
    access-coprocessor-group-set access-basic-sampling
    access-diagnostic-sampling permit-des-key-import-functions
    permit-aes-key-import-functions permit-ecc-key-import-functions
    ssc-host-name ssc-ipv4-gateway ssc-ipv6-gateway ssc-dns-servers
    ssc-master-userid ssc-master-pw secure-boot
    initial-ifl-processing-weight initial-cp-processing-weight
    acceptable-status cp-absolute-processor-capping
    cp-absolute-processor-capping-value cp-processing-weight-capped
    ifl-absolute-processor-capping ifl-absolute-processor-capping-value
    ifl-processing-weight-capped maximum-cp-processing-weight
    maximum-ifl-processing-weight minimum-cp-processing-weight
    minimum-ifl-processing-weight processor-management-enabled
""".split())
# Update Partition Properties fields (same table, update column).
_PARTITION_UPDATE_FIELDS = (
    _PARTITION_CREATE_FIELDS - frozenset(['type'])) | frozenset("""
    boot-network-device boot-storage-device boot-storage-volume
    boot-logical-unit-number boot-world-wide-port-name boot-load-parameters
    boot-os-specific-parameters boot-iso-ins-file ssc-boot-selection
""".split())
# Fields Update Partition Properties refuses while the partition is active
# (same table, update_while_active column).
_PARTITION_STOPPED_ONLY_FIELDS = frozenset("""
    short-name partition-id autogenerate-partition-id processor-mode
    maximum-memory permit-des-key-import-functions
    permit-aes-key-import-functions
""".split())
# Storage volume fields of Modify Storage Group Properties (create and
# modify): zhmc-ansible-modules zhmc_storage_volume.py.
_VOLUME_FIELDS = frozenset(['name', 'description', 'size', 'usage', 'model',
                            'cylinders', 'device-number'])
_VOLUME_USAGES = ('boot', 'data')
_HEX16 = re.compile(r'^[0-9a-fA-F]{16}$')
# Adapter families whose ports need a virtual switch before z17.
_VSWITCH_FAMILIES = ('osa', 'hipersockets')


def violation(rule_id, message):
    """The HMC's answer for a request that breaks ``rule_id``."""
    rule = RULES[rule_id]
    return RuleViolation(rule_id, rule.status, rule.reason, message)


def refuse(rule_id, message):
    """Raise the HMC's answer for a request that breaks ``rule_id``."""
    raise violation(rule_id, message)


@contextlib.contextmanager
def enforced_by_mock(rule_id):
    """Give zhmcclient.mock's refusal of ``rule_id`` that rule's id."""
    try:
        yield
    except FakedHTTPError as exc:
        rule = RULES[rule_id]
        if (exc.http_status, exc.reason) == (rule.status, rule.reason):
            raise RuleViolation(rule_id, rule.status, rule.reason,
                                exc.message) from None
        raise


def from_mock_error(exc):
    """A RuleViolation for a 400/409 of zhmcclient.mock, else None."""
    if exc.http_status not in (400, 409):
        return None
    rule_id = ('request-required-field'
               if (exc.http_status, exc.reason) == (400, 5)
               else 'mock-refusal')
    return RuleViolation(rule_id, exc.http_status, exc.reason, exc.message)


# --- what the CPC offers ---

def storage_management(cpc):
    """True when the CPC has the dpm-storage-management feature on."""
    for feature in cpc.properties.get('available-features-list') or []:
        if feature.get('name') == 'dpm-storage-management':
            return bool(feature.get('state'))
    return False


def network_express(cpc):
    """True when the CPC has the network-express-support API feature."""
    return 'network-express-support' in (cpc.api_features or [])


def _lookup(hmc, uri):
    try:
        return hmc.lookup_by_uri(uri)
    except (KeyError, TypeError):
        return None


# --- partitions ---

def check_create_partition(cpc, body):
    """Create Partition: input fields only, boot settings that can work."""
    if 'boot-storage-volume' in body:
        refuse('partition-create-boot-storage-volume',
               "Property cannot be provided as input: "
               "'boot-storage-volume' (set it with Update Partition "
               "Properties after attaching its storage group)")
    _check_fields(body, _PARTITION_CREATE_FIELDS, 'partition-create-field',
                  'Create Partition')
    _check_boot(None, cpc, body, dict(body))


def check_update_partition(hmc, partition, body):
    """Update Partition Properties: writable fields, valid boot settings."""
    _check_fields(body, _PARTITION_UPDATE_FIELDS, 'partition-update-field',
                  'Update Partition Properties')
    status = partition.properties.get('status')
    if status not in ('stopped', 'reservation-error'):
        for name in sorted(_PARTITION_STOPPED_ONLY_FIELDS.intersection(body)):
            refuse('partition-update-while-active',
                   "Property '%s' cannot be changed while partition %s is "
                   "%s" % (name, partition.name, status))
    merged = dict(partition.properties)
    merged.update(body)
    _check_boot(hmc, partition.manager.parent, body, merged, partition)


def _check_fields(body, allowed, rule_id, operation):
    for name in sorted(body):
        if name not in allowed:
            refuse(rule_id, "Property '%s' is unrecognized or not writable "
                   "in %s" % (name, operation))


def _check_boot(hmc, cpc, body, merged, partition=None):
    params = body.get('boot-os-specific-parameters')
    if params is not None and (
            not isinstance(params, str) or
            len(params) > MAX_BOOT_OS_SPECIFIC_PARAMETERS):
        refuse('boot-os-specific-parameters-length',
               'boot-os-specific-parameters must be a string of at most %d '
               'characters, got %d' % (MAX_BOOT_OS_SPECIFIC_PARAMETERS,
                                       len(str(params))))
    device = merged.get('boot-device')
    if device == 'storage-adapter' and (
            'boot-device' in body or 'boot-storage-device' in body):
        _check_boot_adapter(cpc, merged, partition)
    if body.get('boot-storage-volume') is not None or (
            device == 'storage-volume' and 'boot-device' in body):
        _check_boot_volume(hmc, merged.get('boot-storage-volume'),
                           partition)


def _check_boot_adapter(cpc, merged, partition):
    if storage_management(cpc):
        refuse('boot-storage-adapter-storage-management',
               "boot-device 'storage-adapter' is not available on CPC %s: "
               "it manages FCP storage with storage groups (boot from "
               "'storage-volume')" % cpc.name)
    hba = merged.get('boot-storage-device')
    hbas = []
    if partition is not None:
        hbas = partition.properties.get('hba-uris') or []
    if hba not in hbas:
        refuse('boot-storage-adapter-hba',
               "boot-device 'storage-adapter' needs boot-storage-device to "
               "name an HBA of the partition, got %r" % (hba,))


def _check_boot_volume(hmc, volume_uri, partition):
    volume = _lookup(hmc, volume_uri) if hmc and volume_uri else None
    group = volume.manager.parent if volume is not None else None
    attached = (partition.properties.get('storage-group-uris') or []
                if partition is not None else [])
    if group is None or group.uri not in attached:
        refuse('boot-storage-volume-attached',
               'boot-storage-volume %r is not a storage volume of a storage '
               'group attached to the partition' % (volume_uri,))
    if volume.properties.get('fulfillment-state') != 'complete':
        refuse('boot-storage-volume-fulfilled',
               'Storage volume is not fulfilled: %s' % volume_uri)


# --- NICs and HBAs ---

def check_create_hba(partition):
    cpc = partition.manager.parent
    if storage_management(cpc):
        refuse('hba-storage-management',
               'HBAs cannot be created on CPC %s: it manages FCP storage '
               'with storage groups (dpm-storage-management)' % cpc.name)


#: The first SE version whose NICs take a ``mac-address`` on Create NIC.
MAC_ADDRESS_WRITABLE_SE = (2, 14, 0)


def se_version(cpc):
    """The CPC's ``se-version`` as a tuple of ints ((0,) when unknown)."""
    text = str(cpc.properties.get('se-version') or '0')
    return tuple(int(part) for part in re.findall(r'\d+', text)) or (0,)


def check_create_nic(hmc, partition, body):
    cpc = partition.manager.parent
    if 'mac-address' in body and se_version(cpc) < MAC_ADDRESS_WRITABLE_SE:
        refuse('nic-mac-address-se-version',
               'mac-address is not writable on CPC %s (SE %s): NICs take '
               'a MAC address from SE 2.14.0 on; omit it and the HMC '
               'assigns one' % (cpc.name, cpc.properties.get('se-version')))
    if network_express(cpc):
        if 'virtual-switch-uri' in body:
            refuse('nic-network-express',
                   'CPC %s has no virtual switches (network-express-'
                   'support): create the NIC with network-adapter-port-uri'
                   % cpc.name)
        return
    port = _lookup(hmc, body.get('network-adapter-port-uri'))
    if port is not None and port.manager.parent.properties.get(
            'adapter-family') in _VSWITCH_FAMILIES:
        refuse('nic-osa-needs-virtual-switch',
               'Ports of OSA and HiperSockets adapters are used through '
               'their virtual switch on CPC %s: give virtual-switch-uri'
               % cpc.name)


def check_partition_not_transitional(partition, rule_id):
    status = partition.properties.get('status')
    if status in TRANSITIONAL:
        refuse(rule_id, 'The operation cannot be performed because '
               'partition %s has a status that is not valid for the '
               'operation: %s' % (partition.name, status))


# --- storage groups and volumes ---

def check_create_storage_group(hmc, body):
    cpc = _lookup(hmc, body.get('cpc-uri')) if isinstance(body, dict) \
        else None
    if cpc is not None and not storage_management(cpc):
        refuse('storage-group-storage-management',
               'CPC %s does not have the dpm-storage-management feature: '
               'use HBAs' % cpc.name)


def check_delete_storage_group(hmc, group):
    names = [p.name for p in storage_groups.attached_partitions(hmc, group)]
    if names:
        refuse('storage-group-delete-attached',
               'Storage group %s is attached to partition(s) %s: detach '
               'it first' % (group.name, ', '.join(sorted(names))))


def check_attach(hmc, partition, group):
    check_partition_not_transitional(partition,
                                     'storage-group-attach-transitional')
    if group.uri in (partition.properties.get('storage-group-uris') or []):
        refuse('storage-group-attach-twice',
               'Storage group %s is already attached to partition %s'
               % (group.name, partition.name))
    if not group.properties.get('shared', True):
        others = [p.name for p in
                  storage_groups.attached_partitions(hmc, group)]
        if others:
            refuse('storage-group-unshared',
                   'Storage group %s is not shared and already attached to '
                   'partition %s' % (group.name, others[0]))


def check_detach(partition, group_uri):
    check_partition_not_transitional(partition,
                                     'storage-group-attach-transitional')
    if group_uri not in (partition.properties.get('storage-group-uris')
                         or []):
        refuse('storage-group-not-attached',
               'Storage group %s is not attached to partition %s'
               % (group_uri, partition.name))


def check_volume_request(request, creating):
    """One storage-volume request of Modify Storage Group Properties."""
    fields = set(request) - {'operation', 'element-uri'}
    for name in sorted(fields - _VOLUME_FIELDS):
        refuse('storage-volume-field', "Property '%s' is unrecognized or "
               'not writable for a storage volume' % name)
    if creating and 'size' not in request:
        refuse('request-required-field', 'Missing required field in '
               'storage-volumes request: size')
    usage = request.get('usage', 'data')
    if usage not in _VOLUME_USAGES:
        refuse('storage-volume-value', 'Storage volume usage must be boot '
               'or data, got %r' % (usage,))
    if 'size' in request:
        size = request['size']
        if isinstance(size, bool) or not isinstance(size, (int, float)) \
                or size <= 0:
            refuse('storage-volume-value', 'Storage volume size must be a '
                   'positive number of GiB, got %r' % (size,))


def check_fulfil(hmc, group, body):
    """Fulfill FCP Storage Volume: WWPN, LUN and an FCP port of the CPC."""
    for name in ('world-wide-port-name', 'logical-unit-number',
                 'adapter-port-uri'):
        if name not in body:
            refuse('request-required-field', 'Missing required field in '
                   'request body: %s' % name)
    if group.properties.get('type') != 'fcp':
        refuse('storage-volume-fulfill-value', 'Storage group %s is not '
               'an FCP storage group' % group.name)
    for name in ('world-wide-port-name', 'logical-unit-number'):
        if not _HEX16.match(str(body[name])):
            refuse('storage-volume-fulfill-value', '%s must be 16 '
                   'hexadecimal digits, got %r' % (name, body[name]))
    port = _lookup(hmc, body['adapter-port-uri'])
    adapter = port.manager.parent if port is not None else None
    if adapter is None or adapter.properties.get('type') != 'fcp' or \
            adapter.manager.parent.uri != group.properties.get('cpc-uri'):
        refuse('storage-volume-fulfill-value', 'adapter-port-uri %r is not '
               'a storage port of an FCP adapter of the storage group\'s '
               'CPC' % (body['adapter-port-uri'],))
