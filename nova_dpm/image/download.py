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

"""Resumable, verified download of images into a local cache.

Nothing here imports Nova: the driver passes the Glance URL, the token
header and the image's ``size``/``os_hash_algo``/``os_hash_value``/
``checksum``, and gets back the path of a file whose size and checksum
were verified.  Why a download of its own instead of glanceclient's: an
ISO of several gigabytes over a WAN link must survive dropped connections
and stalls by resuming (``Range``), not by starting again, and a partial
or corrupt file must never be handed to the HMC.

Usage::

    downloader = ImageDownloader('/var/lib/nova/dpm-images')
    path = downloader.fetch(image.id, glance_url + '/v2/images/%s/file'
                            % image.id, headers={'X-Auth-Token': token},
                            size=image.size, hash_algo=image.os_hash_algo,
                            hash_value=image.os_hash_value,
                            md5=image.checksum)
"""

import os
import threading
import time
from urllib import parse

from oslo_log import log as logging
import requests
import tenacity

from nova_dpm.image import cache
from nova_dpm.image import checksum
from nova_dpm.image import errors
from nova_dpm.image import progress
from nova_dpm.image import retry
from nova_dpm.image import transfer

# The public names callers need, importable from this module.
DownloadError = errors.DownloadError
DownloadHTTPError = errors.DownloadHTTPError
DownloadRetriesExhausted = errors.DownloadRetriesExhausted
ImageVerificationError = errors.ImageVerificationError
InvalidDownloadRequest = errors.InvalidDownloadRequest
CacheWriteError = errors.CacheWriteError
FetchStats = progress.FetchStats

LOG = logging.getLogger(__name__)
MiB = 1024 * 1024


class ImageDownloader:
    """Downloads images into *cache_dir*, once per image version.

    Safe to share between threads: fetches of the same image share one
    download (the others wait and then hit the cache), fetches of
    different images run in parallel.  Processes sharing *cache_dir* are
    serialised per image by an fcntl lock file.

    :param cache_dir: directory of the cache; created when needed
    :param stall_timeout: seconds without any data before a connection
        counts as stalled and is replaced
    :param connect_timeout: seconds to establish a connection
    :param retries: consecutive failures *without progress* tolerated
        before giving up; a failure after new bytes arrived resets the
        count and reconnects at once (see :mod:`nova_dpm.image.retry`)
    :param chunk_size: bytes read and written at a time
    :param max_backoff: cap in seconds of the exponential backoff
    :param progress_interval: seconds between progress log lines; 0 turns
        them off
    :param http_session: a ``requests.Session`` to use (e.g. with client
        certificates); by default each fetch uses a session of its own.
        A shared session must not be used by other threads meanwhile.
    :param initial_backoff: the first backoff in seconds
    :param max_retry_after: cap in seconds of a server's Retry-After
    :param max_reconnects: cap of reconnects within one fetch, even while
        progress is made
    :param verify: TLS verification for requests (True, False or a CA
        bundle path); None keeps the session's setting
    :param sleep: sleep function used between attempts (for tests)
    """

    def __init__(self, cache_dir, stall_timeout=30, connect_timeout=30,
                 retries=10, chunk_size=MiB, max_backoff=30,
                 progress_interval=10, http_session=None,
                 initial_backoff=0.5, max_retry_after=60,
                 max_reconnects=1000, verify=None, sleep=None):
        if stall_timeout <= 0 or connect_timeout <= 0 or chunk_size <= 0:
            raise ValueError('stall_timeout, connect_timeout and chunk_size '
                             'must be positive')
        self._cache = cache.ImageCache(cache_dir)
        self._settings = transfer.TransferSettings(
            connect_timeout, stall_timeout, chunk_size, verify)
        self._policy = retry.ReconnectPolicy(
            retries=retries, initial_backoff=initial_backoff,
            max_backoff=max_backoff, max_retry_after=max_retry_after,
            max_reconnects=max_reconnects, sleep=sleep)
        self._progress_interval = progress_interval
        self._session = http_session
        self._per_thread = threading.local()

    @property
    def cache_dir(self):
        return self._cache.cache_dir

    @property
    def last_stats(self):
        """:class:`FetchStats` of the calling thread's last fetch, or None.

        Set for failed fetches too, so callers can log what was tried.
        """
        return getattr(self._per_thread, 'stats', None)

    def fetch(self, image_id, url, headers=None, size=None, hash_algo=None,
              hash_value=None, md5=None):
        """Return the path of the verified image, downloading if needed.

        :param image_id: Glance image id (also the cache key)
        :param url: http(s) URL of the image data
        :param headers: request headers such as ``X-Auth-Token``; they
            are sent with every request and never logged
        :param size: expected size in bytes (Glance ``size``), or None
        :param hash_algo: Glance ``os_hash_algo``, e.g. ``sha512``
        :param hash_value: Glance ``os_hash_value`` (hex)
        :param md5: Glance ``checksum``; used when there is no multihash
        :returns: path of the cached file; do not modify it
        :raises InvalidDownloadRequest: bad id, URL, size or checksum
        :raises DownloadHTTPError: a status that retrying cannot fix
        :raises DownloadRetriesExhausted: transient failures went on too
            long; the partial file is kept and the next fetch resumes it
        :raises ImageVerificationError: wrong size or checksum; the data
            is discarded
        :raises CacheWriteError: the cache directory cannot be written
        """
        started = time.monotonic()
        _check_url(image_id, url)
        expected = checksum.ExpectedImage(image_id, url, size, hash_algo,
                                          hash_value, md5)
        entry = self._cache.entry(image_id, url, expected.algo,
                                  expected.digest)
        self._per_thread.stats = None
        with self._cache.locked(entry):
            if entry.is_complete(expected.size):
                LOG.debug('Image %s found in the cache at %s', image_id,
                          entry.path)
                self._per_thread.stats = FetchStats(
                    image_id, cache_hit=True,
                    size=os.path.getsize(entry.path),
                    seconds=time.monotonic() - started)
                return entry.path
            self._download(image_id, url, headers, expected, entry)
        return entry.path

    def _download(self, image_id, url, headers, expected, entry):
        if not expected.verifiable:
            LOG.warning('Image %s has no checksum in the image service; '
                        'only its size can be verified', image_id)
        session = self._session or requests.Session()
        log = progress.ProgressLog(image_id, self._progress_interval)
        job = transfer.Transfer(image_id, url, headers, expected, entry,
                                session, self._settings, log)
        try:
            job.open()
            if not job.complete:
                self._run_attempts(job)
            job.finish()
            cache.publish(job.image_id, entry)
        except errors.ImageVerificationError:
            job.discard()
            raise
        except Exception:
            if not job.offset:
                job.discard()   # nothing worth resuming
            raise
        finally:
            job.close()
            if session is not self._session:
                session.close()
            self._per_thread.stats = FetchStats(
                image_id, size=job.offset, bytes_received=job.received,
                requests=job.requests, restarts=job.restarts,
                resumed_from=job.resumed_from, seconds=log.elapsed())
        log.finished(self._per_thread.stats)

    def _run_attempts(self, job):
        retrying, state = self._policy.start(job.describe)
        try:
            for attempt in retrying:
                with attempt:
                    job.attempt()
        except tenacity.RetryError:
            raise errors.DownloadRetriesExhausted(
                job.image_id, job.url, job.requests, job.offset, job.size,
                state.last_failure.reason)


def _check_url(image_id, url):
    try:
        parts = parse.urlsplit(url)
    except (TypeError, ValueError, AttributeError):
        parts = None
    if parts is None or parts.scheme not in ('http', 'https') or \
            not parts.hostname:
        raise errors.InvalidDownloadRequest(
            image_id, None,
            'the URL %s is not an http(s) URL with a host' % (
                errors.redact_url(url) if isinstance(url, str) else
                repr(url)))
