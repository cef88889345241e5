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

"""Attaching FCP storage groups: the virtual storage resources an HMC makes.

When a storage group is attached to a partition, a real HMC gives the
partition one virtual storage resource (a virtual HBA with its own
initiator WWPN) per FCP adapter port it will use: the storage group's
candidate adapter ports, or all FCP ports of the CPC when there are none
yet, at most ``connectivity`` of them. Cinder maps volumes to those WWPNs,
so the simulator must invent them. zhmcclient.mock stores the resources but
never creates them.

WWPNs start with IBM's ``c05076`` prefix and are derived from the partition
and adapter port URIs: the same pair always gets the same WWPN (stable),
and a WWPN already used anywhere on the HMC is never handed out again
(unique).
"""

import hashlib

WWPN_PREFIX = 'c05076'
_FIRST_DEVICE_NUMBER = 0x1900


def _fcp_port_uris(hmc, storage_group):
    """Adapter ports the storage group's partitions use, in a fixed order."""
    props = storage_group.properties
    ports = list(props.get('candidate-adapter-port-uris') or [])
    if not ports:
        try:
            cpc = hmc.lookup_by_uri(props.get('cpc-uri'))
        except KeyError:
            return []
        for adapter in cpc.adapters.list():
            if adapter.properties.get('type') == 'fcp':
                ports.extend(port.uri for port in adapter.ports.list())
    connectivity = props.get('connectivity') or len(ports)
    return ports[:max(int(connectivity), 1)]


def _all_storage_groups(hmc):
    return hmc.consoles.console.storage_groups.list()


def _used_wwpns(hmc):
    used = set()
    for group in _all_storage_groups(hmc):
        for vsr in group.virtual_storage_resources.list():
            used.add(str(vsr.properties.get('world-wide-port-name')).lower())
    return used


def _used_device_numbers(hmc, partition_uri):
    used = set()
    for group in _all_storage_groups(hmc):
        for vsr in group.virtual_storage_resources.list():
            if vsr.properties.get('partition-uri') == partition_uri:
                used.add(vsr.properties.get('device-number'))
    return used


def stable_wwpn(partition_uri, port_uri, taken=()):
    """``c05076`` + 10 hex digits, stable for (partition, port), unique."""
    attempt = 0
    while True:
        seed = '%s|%s|%d' % (partition_uri, port_uri, attempt)
        digest = hashlib.sha256(seed.encode('utf-8')).hexdigest()
        wwpn = WWPN_PREFIX + digest[:10]
        if wwpn not in taken:
            return wwpn
        attempt += 1


def create_virtual_storage_resources(hmc, storage_group, partition):
    """Give ``partition`` one virtual storage resource per adapter port."""
    taken = _used_wwpns(hmc)
    devices = _used_device_numbers(hmc, partition.uri)
    number = _FIRST_DEVICE_NUMBER
    for index, port_uri in enumerate(_fcp_port_uris(hmc, storage_group)):
        wwpn = stable_wwpn(partition.uri, port_uri, taken)
        taken.add(wwpn)
        while '%04x' % number in devices:
            number += 1
        device = '%04x' % number
        devices.add(device)
        storage_group.virtual_storage_resources.add({
            'name': '%s-%s-%d' % (partition.name, storage_group.name, index),
            'description': 'Virtual HBA of partition %s' % partition.name,
            'partition-uri': partition.uri,
            'adapter-port-uri': port_uri,
            'world-wide-port-name': wwpn,
            'device-number': device,
        })


def remove_virtual_storage_resources(storage_group, partition_uri):
    """Remove the partition's virtual storage resources from the group."""
    manager = storage_group.virtual_storage_resources
    uris = storage_group.properties.setdefault(
        'virtual-storage-resource-uris', [])
    for vsr in manager.list():
        if vsr.properties.get('partition-uri') == partition_uri:
            manager.remove(vsr.oid)
            if vsr.uri in uris:
                uris.remove(vsr.uri)


def attached_partitions(hmc, storage_group):
    """The partitions a storage group is attached to."""
    found = []
    for cpc in hmc.cpcs.list():
        for partition in cpc.partitions.list():
            if storage_group.uri in (
                    partition.properties.get('storage-group-uris') or []):
                found.append(partition)
    return found


def count_storage_volumes(hmc):
    return sum(len(group.storage_volumes.list())
               for group in _all_storage_groups(hmc))


def count_virtual_storage_resources(hmc):
    return sum(len(group.virtual_storage_resources.list())
               for group in _all_storage_groups(hmc))


def storage_group_names(hmc):
    return sorted(group.name for group in _all_storage_groups(hmc))
