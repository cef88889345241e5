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

"""What an image must look like once downloaded: size and Glance checksum.

Glance publishes ``os_hash_algo``/``os_hash_value`` (the "multihash",
sha512 by default) and the legacy md5 ``checksum``.  The multihash wins
when present because md5 is not collision resistant.  The digest is
computed incrementally while the bytes stream in, so verification costs no
second read of a multi-gigabyte file.
"""

import hashlib
import string

from nova_dpm.image import errors

_HEX = frozenset(string.hexdigits)


class ExpectedImage:
    """Size and digest an image must have; immutable.

    :param image_id: used in error messages and the cache key
    :param size: expected size in bytes, or None if unknown
    :param hash_algo: Glance ``os_hash_algo`` (e.g. ``sha512``) or None
    :param hash_value: Glance ``os_hash_value`` (hex) or None
    :param md5: Glance ``checksum`` (hex md5), used when there is no
        multihash
    :raises InvalidDownloadRequest: for an unknown algorithm, a value that
        is not hex of the algorithm's length, or a negative size
    """

    def __init__(self, image_id, url, size=None, hash_algo=None,
                 hash_value=None, md5=None):
        self.size = size
        if size is not None and (not isinstance(size, int) or size < 0):
            raise errors.InvalidDownloadRequest(
                image_id, url,
                'size must be a non-negative integer, got %r' % (size,))
        if bool(hash_algo) != bool(hash_value):
            raise errors.InvalidDownloadRequest(
                image_id, url,
                'os_hash_algo and os_hash_value must be given together '
                '(got algo=%r, value %s)' % (
                    hash_algo, 'set' if hash_value else 'missing'))
        if hash_algo:
            self.algo, self.digest = hash_algo.lower(), hash_value.lower()
        elif md5:
            self.algo, self.digest = 'md5', md5.lower()
        else:
            self.algo, self.digest = None, None
        if self.algo:
            self._validate(image_id, url)

    def _validate(self, image_id, url):
        try:
            length = hashlib.new(self.algo).digest_size * 2
        except ValueError:
            raise errors.InvalidDownloadRequest(
                image_id, url,
                'unsupported hash algorithm %r; supported are %s' % (
                    self.algo,
                    ', '.join(sorted(hashlib.algorithms_guaranteed))))
        if len(self.digest) != length or not _HEX.issuperset(self.digest):
            raise errors.InvalidDownloadRequest(
                image_id, url,
                'expected %s digest must be %d hex digits, got %r' % (
                    self.algo, length, self.digest))

    @property
    def verifiable(self):
        """Whether a checksum is known (else only the size is checked)."""
        return self.algo is not None

    def new_hasher(self):
        """A fresh incremental hash object, or a no-op one."""
        if self.algo is None:
            return _NoHash()
        return hashlib.new(self.algo)

    def mismatch(self, size, hexdigest):
        """Describe how the result differs from what is expected, or None.

        :param size: bytes actually received
        :param hexdigest: digest of those bytes (ignored without a
            checksum)
        """
        if self.size is not None and size != self.size:
            return 'size is %d bytes, expected %d' % (size, self.size)
        if self.algo is not None and hexdigest != self.digest:
            return '%s is %s, expected %s' % (
                self.algo, hexdigest, self.digest)
        return None


class _NoHash:
    """Stands in for a hash object when no checksum is known."""

    def update(self, data):
        pass

    def hexdigest(self):
        return None
