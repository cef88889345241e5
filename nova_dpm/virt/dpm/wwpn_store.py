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
group), live in a small JSON file under ``state_path``, rewritten atomically
(temporary file, fsync, rename) under a lock.

Layout: ``{"version": 1, "instances": {uuid: record}}`` where a record holds
``partition_uri``, ``mode`` (hba or storage-group), ``wwpns``,
``hba_uris``, ``storage_group_uri``, ``created_storage_group``,
``volumes`` (volume ids attached) and ``released_at`` (epoch seconds once
the partition's storage was released).
"""

import contextlib
import fcntl
import json
import os
import tempfile
import threading
import time

from nova import exception

FILE_NAME = 'dpm_storage_state.json'
VERSION = 1
# A released record without volumes is dropped at once; one that still
# lists volumes (Nova deleted the server but never called detach) is kept
# this long so a retried delete can still unmap them.
RELEASED_RECORD_TTL = 30 * 24 * 3600


class StorageStateError(exception.NovaException):
    msg_fmt = ('The DPM storage state file %(path)s cannot be used: '
               '%(reason)s. Repair it from a backup or remove it (WWPNs of '
               'deleted servers are then forgotten).')


def empty_record():
    return {'partition_uri': None, 'mode': None, 'wwpns': [], 'hba_uris': [],
            'storage_group_uri': None, 'created_storage_group': False,
            'volumes': [], 'released_at': None}


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
        with self._thread_lock:
            try:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                fd = os.open(self.path + '.lock', os.O_RDWR | os.O_CREAT,
                             0o600)
            except OSError as exc:
                raise StorageStateError(path=self.path, reason=exc)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def get(self, instance_uuid):
        """A copy of the instance's record, or None."""
        with self._lock():
            record = self._load().get(instance_uuid)
        return None if record is None else dict(record)

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
        try:
            with open(self.path, encoding='utf-8') as stream:
                data = json.load(stream)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise StorageStateError(path=self.path, reason=exc)
        if not isinstance(data, dict) or data.get('version') != VERSION:
            raise StorageStateError(
                path=self.path, reason='unknown layout (expected version %d)'
                % VERSION)
        return data.get('instances') or {}

    def _save(self, instances):
        directory = os.path.dirname(self.path)
        try:
            fd, tmp = tempfile.mkstemp(prefix='.' + FILE_NAME,
                                       dir=directory)
            try:
                with os.fdopen(fd, 'w', encoding='utf-8') as stream:
                    json.dump({'version': VERSION, 'instances': instances},
                              stream, indent=1, sort_keys=True)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise StorageStateError(path=self.path, reason=exc)
