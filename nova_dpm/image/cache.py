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

"""Layout and locking of the on-disk image cache.

One image version has one key, ``<image id>`` plus its checksum, and three
files named after it:

``<key>``       the complete, verified image (appears only by atomic rename)
``<key>.part``  bytes received so far; a later fetch resumes from it
``<key>.lock``  an fcntl lock file so that processes sharing the directory
                download an image once

Threads of one process serialise on a per-key lock held by the cache
object itself (no module-level state); the second thread then finds the
finished file and does not download at all.
"""

import contextlib
import fcntl
import os
import re
import threading

from nova_dpm.image import errors
from nova_dpm import state_file

# Glance ids are UUIDs; allow a little more but nothing that could escape
# the cache directory or hide a file.
_SAFE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$')
_DIGEST_CHARS_IN_KEY = 32


class CacheEntry:
    """Paths of one image version in the cache."""

    def __init__(self, cache_dir, image_id, key):
        self.image_id = image_id
        self.key = key
        self.path = os.path.join(cache_dir, key)
        self.part_path = self.path + '.part'
        self.lock_path = self.path + '.lock'

    def is_complete(self, size=None):
        """Whether the verified file exists (and has *size* if known)."""
        try:
            actual = os.stat(self.path).st_size
        except FileNotFoundError:
            return False
        return size is None or actual == size


class ImageCache:
    """A directory of verified images, safe for threads and processes."""

    def __init__(self, cache_dir):
        self.cache_dir = cache_dir
        self._guard = threading.Lock()
        self._key_locks = {}   # key -> [threading.Lock, users]

    def entry(self, image_id, url, algo, digest):
        """The cache entry for one image version.

        :raises InvalidDownloadRequest: if *image_id* is not safe to use in
            a file name
        """
        if not isinstance(image_id, str) or not _SAFE_ID.match(image_id):
            raise errors.InvalidDownloadRequest(
                image_id, url,
                'the image id %r is not usable as a cache file name (use '
                'letters, digits, ".", "_" and "-", at most 128)' % (
                    image_id,))
        key = image_id
        if algo:
            key = '%s.%s-%s' % (image_id, algo,
                                digest[:_DIGEST_CHARS_IN_KEY])
        return CacheEntry(self.cache_dir, image_id, key)

    @contextlib.contextmanager
    def locked(self, entry):
        """Hold the entry exclusively against threads and processes."""
        with self._thread_lock(entry.key):
            try:
                os.makedirs(self.cache_dir, exist_ok=True)
                fd = os.open(entry.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise errors.CacheWriteError(
                    entry.image_id, entry.lock_path, exc)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)   # closing releases the flock

    @contextlib.contextmanager
    def _thread_lock(self, key):
        with self._guard:
            slot = self._key_locks.setdefault(key, [threading.Lock(), 0])
            slot[1] += 1
        try:
            with slot[0]:
                yield
        finally:
            with self._guard:
                slot[1] -= 1
                if not slot[1]:
                    del self._key_locks[key]


def publish(image_id, entry):
    """Atomically (and durably) give a verified file its final name."""
    try:
        state_file.replace(entry.part_path, entry.path)
    except OSError as exc:
        raise errors.CacheWriteError(image_id, entry.path, exc)
