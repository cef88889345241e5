"""An in-memory stand-in for ``nova_dpm.hmc.cpc.ManagedCpc``.

It behaves like the facade as the driver sees it (plain dicts, Nova
exceptions) and records every call, so tests can assert what the driver
asked of the HMC and inject a failure into any operation.
"""

import itertools
import re

from nova import exception

STOPPED_STATUSES = ('stopped', 'reservation-error')


class FakeCpc(object):

    def __init__(self, se_version='2.16.0'):
        self.partitions = {}            # uri -> properties
        self.calls = []                 # (operation, argument)
        self.failures = {}              # operation -> exception to raise
        self.os_message_texts = []
        self.cpc_properties = {'name': 'CPC1', 'se-version': se_version,
                               'machine-type': '3906'}
        self._ids = itertools.count(1)

    def fail(self, operation, exc):
        self.failures[operation] = exc

    def _record(self, operation, argument=None):
        self.calls.append((operation, argument))
        exc = self.failures.pop(operation, None)
        if exc is not None:
            raise exc

    def count(self, operation):
        return sum(1 for op, _ in self.calls if op == operation)

    def _require(self, uri, instance_uuid):
        if uri not in self.partitions:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        return self.partitions[uri]

    # -- the ManagedCpc API -------------------------------------------------

    def properties(self):
        self._record('properties')
        return dict(self.cpc_properties)

    def list_partitions(self, name_regex):
        self._record('list_partitions', name_regex)
        return [dict(p) for p in self.partitions.values()
                if re.match(name_regex, p['name'])]

    def find_partition(self, name):
        self._record('find_partition', name)
        for props in self.partitions.values():
            if props['name'] == name:
                return dict(props)
        return None

    def partition_status(self, uri, instance_uuid=None, failure=None):
        self._record('partition_status', uri)
        return self._require(uri, instance_uuid)['status']

    def create_partition(self, properties, failure, instance_uuid=None):
        self._record('create_partition', properties['name'])
        uri = '/api/partitions/%d' % next(self._ids)
        props = dict(properties, status='stopped')
        props['object-uri'] = uri
        self.partitions[uri] = props
        return uri

    def update_partition(self, uri, properties, failure, instance_uuid=None):
        self._record('update_partition', properties)
        self._require(uri, instance_uuid).update(properties)

    def delete_partition(self, uri, failure, instance_uuid=None):
        self._record('delete_partition', uri)
        props = self.partitions.get(uri)
        if props is not None:
            assert props['status'] in STOPPED_STATUSES, props
            del self.partitions[uri]

    def start_partition(self, uri, failure, instance_uuid=None,
                        known_status=None):
        self._record('start_partition', uri)
        self._require(uri, instance_uuid)['status'] = 'active'

    def stop_partition(self, uri, failure, instance_uuid=None):
        self._record('stop_partition', uri)
        self._require(uri, instance_uuid)['status'] = 'stopped'

    def os_messages(self, uri, instance_uuid=None, failure=None):
        self._record('os_messages', uri)
        self._require(uri, instance_uuid)
        return [{'message-text': t} for t in self.os_message_texts]
