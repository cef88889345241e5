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

"""Per-instance FCP state that must outlive the partition and the process.

Cinder unmaps a volume from the initiator WWPNs Nova reports through
``get_volume_connector``; Nova asks for them *after* ``destroy`` deleted the
partition (and its HBAs), and possibly after a nova-compute restart. So the
WWPNs, and what was created on the HMC for the instance (HBAs, storage
group), live in a small JSON file under ``state_path``, rewritten with
:func:`nova_dpm.state_file.write_json` under a lock.

A damaged file never makes a call fail: one that cannot be read
(truncated, not JSON, an unknown layout) is renamed aside with a warning
naming both files, which keeps its records for an operator, and the store
starts afresh.

Layout: ``{"version": 1, "instances": {uuid: record}}`` where a record holds
``partition_uri``, ``mode`` (hba or storage-group), ``wwpns``,
``hba_uris``, ``storage_group_uri``, ``created_storage_group``,
``volumes`` (volume ids attached) and ``released_at`` (epoch seconds once
the partition's storage was released).
"""

import contextlib
import os
import threading
import time

from nova import exception

from nova_dpm import state_file

FILE_NAME = 'dpm_storage_state.json'
VERSION = 1
# A released record without volumes is dropped at once; one that still
# lists volumes (Nova deleted the server but never called detach) is kept
# this long so a retried delete can still unmap them.
RELEASED_RECORD_TTL = 30 * 24 * 3600

WHAT = 'DPM storage state file'

_LIST_FIELDS = ('wwpns', 'hba_uris', 'volumes', 'paths')
_TEXT_FIELDS = ('partition_uri', 'mode', 'storage_group_uri')


class StorageStateError(exception.NovaException):
    msg_fmt = ('The DPM storage state file %(path)s cannot be read or '
               'written: %(reason)s. Make state_path writable for '
               'nova-compute (nothing in the file is lost).')


def empty_record():
    return {'partition_uri': None, 'mode': None, 'wwpns': [], 'hba_uris': [],
            'storage_group_uri': None, 'created_storage_group': False,
            'volumes': [], 'paths': [], 'released_at': None}


def _valid_record(record):
    return (isinstance(record, dict) and
            all(isinstance(record.get(f, []), list) for f in _LIST_FIELDS) and
            all(isinstance(record.get(f), (str, type(None)))
                for f in _TEXT_FIELDS) and
            isinstance(record.get('released_at'), (int, float, type(None))))


def _valid(data):
    """The layout this module writes (any other is set aside)."""
    return (isinstance(data, dict) and data.get('version') == VERSION and
            isinstance(data.get('instances', {}), dict) and
            all(_valid_record(r) for r in data.get('instances', {}).values()))


class WWPNStore(object):
    """Thread-safe, crash-safe map instance uuid -> storage record."""

    def __init__(self, state_dir):
        self.path = os.path.join(state_dir, FILE_NAME)
        self._thread_lock = threading.Lock()

    @contextlib.contextmanager
    def _lock(self):
        """Exclusive access to the file.

        Among threads, and among stores and processes sharing the file (a
        re-created driver object, nova-dpm tools).
        """
        with self._thread_lock, contextlib.ExitStack() as stack:
            try:
                stack.enter_context(state_file.locked(self.path))
            except OSError as exc:
                raise StorageStateError(path=self.path, reason=exc)
            yield

    def get(self, instance_uuid):
        """A copy of the instance's record, or None."""
        with self._lock():
            record = self._load().get(instance_uuid)
        return None if record is None else dict(empty_record(), **record)

    def update(self, instance_uuid, change):
        """Apply ``change(record)`` (in place) and persist; return a copy.

        ``change`` receives the existing record or a fresh empty one. A
        record left with nothing worth keeping is deleted.
        """
        with self._lock():
            instances = self._load()
            record = dict(empty_record(),
                          **instances.get(instance_uuid, {}))
            change(record)
            if self._worth_keeping(record):
                instances[instance_uuid] = record
            else:
                instances.pop(instance_uuid, None)
            self._prune(instances)
            self._save(instances)
        return dict(record)

    @staticmethod
    def _worth_keeping(record):
        if record['released_at'] is None:
            return True
        return bool(record['volumes'])

    @staticmethod
    def _prune(instances):
        horizon = time.time() - RELEASED_RECORD_TTL
        for uuid in [u for u, r in instances.items()
                     if r.get('released_at') and r['released_at'] < horizon]:
            del instances[uuid]

    def _load(self):
        """The records; a damaged file is set aside (never raises for it).

        :raises StorageStateError: the file cannot be read at all (EACCES)
        """
        try:
            data = state_file.load_or_set_aside(self.path, _valid, WHAT)
        except OSError as exc:
            raise StorageStateError(path=self.path, reason=exc)
        return {} if data is None else data.get('instances', {})

    def _save(self, instances):
        try:
            state_file.write_json(self.path, {'version': VERSION,
                                              'instances': instances})
        except OSError as exc:
            raise StorageStateError(path=self.path, reason=exc)
