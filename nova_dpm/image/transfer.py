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

"""One image streaming into its ``.part`` file, across reconnects.

The transfer owns the resume state: the open partial file, the offset, and
the running hash of exactly the bytes in the file.  Each :meth:`attempt`
is one HTTP request that continues from the offset with
``Range: bytes=N-`` and either finishes the image, raises
:class:`~nova_dpm.image.retry.TransientFailure` for the retry loop, or
raises a :class:`~nova_dpm.image.errors.DownloadError` that retrying will
not fix.  A server that ignores Range (200) or answers with a range that
does not start at N makes the file restart from byte 0 and the hash
reset, so the file never mixes two different byte streams.
"""

import errno
import http.client
import os
import socket
from urllib import parse

from oslo_log import log as logging
import requests
import urllib3

from nova_dpm import http_headers
from nova_dpm.image import errors
from nova_dpm.image import response
from nova_dpm.image import retry

LOG = logging.getLogger(__name__)

# Exceptions that a broken or stalled body stream can raise.
_STREAM_ERRORS = (requests.exceptions.RequestException,
                  urllib3.exceptions.HTTPError,
                  http.client.HTTPException,
                  OSError)


class TransferSettings:
    """Per-downloader knobs a transfer needs; immutable."""

    def __init__(self, connect_timeout, stall_timeout, chunk_size, verify):
        self.timeout = (connect_timeout, stall_timeout)
        self.stall_timeout = stall_timeout
        self.chunk_size = chunk_size
        self.verify = verify


class Transfer:
    """Resume state of one fetch; not thread-safe (one per fetch).

    :param expected: :class:`~nova_dpm.image.checksum.ExpectedImage`
    :param entry: :class:`~nova_dpm.image.cache.CacheEntry`
    :param headers: caller's headers (auth); never logged
    :param progress: :class:`~nova_dpm.image.progress.ProgressLog`
    """

    def __init__(self, image_id, url, headers, expected, entry, session,
                 settings, progress):
        self.image_id = image_id
        self.url = url
        self._headers = dict(headers or {})
        self._headers['Accept-Encoding'] = 'identity'
        self._expected = expected
        self._entry = entry
        self._session = session
        self._settings = settings
        self._progress = progress
        self.size = expected.size
        self.offset = 0
        self.high_water = 0
        self.received = 0
        self.requests = 0
        self.restarts = 0
        self.resumed_from = 0
        self._file = None
        self._hasher = expected.new_hasher()

    # -- the partial file -------------------------------------------------

    def open(self):
        """Open ``<key>.part``, resuming (and re-hashing) what it holds."""
        path = self._entry.part_path
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            self._file = os.fdopen(fd, 'r+b')
            existing = os.fstat(fd).st_size
            if self.size is not None and existing > self.size:
                self._file.truncate(0)
                existing = 0
            while self.offset < existing:
                block = self._file.read(self._settings.chunk_size)
                if not block:
                    break
                self._hasher.update(block)
                self.offset += len(block)
        except OSError as exc:
            raise errors.CacheWriteError(self.image_id, path, exc)
        self.resumed_from = self.high_water = self.offset
        if self.offset:
            LOG.info('Image %(id)s: resuming the partial download at byte '
                     '%(off)d', {'id': self.image_id, 'off': self.offset})

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def discard(self):
        """Delete the partial file (after a verification failure)."""
        self.close()
        try:
            os.unlink(self._entry.part_path)
        except FileNotFoundError:
            pass

    @property
    def complete(self):
        return self.size is not None and self.offset == self.size

    def finish(self):
        """Flush to disk and verify size and checksum.

        :raises ImageVerificationError: if they do not match
        """
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise errors.CacheWriteError(
                self.image_id, self._entry.part_path, exc)
        problem = self._expected.mismatch(self.offset,
                                          self._hasher.hexdigest())
        if problem:
            raise errors.ImageVerificationError(self.image_id, self.url,
                                                problem)

    def describe(self):
        size = '?' if self.size is None else str(self.size)
        return 'Image %s from %s at byte %d of %s' % (
            self.image_id, errors.redact_url(self.url), self.offset, size)

    # -- one request ------------------------------------------------------

    def attempt(self):
        """Make one request and store its body.

        Returns when the body ended normally and, if the size is known,
        the file is complete.
        """
        start = self.offset
        headers = dict(self._headers)
        if start:
            headers['Range'] = 'bytes=%d-' % start
        self.requests += 1
        resp = self._send(headers)
        with resp:
            self._accept(resp, start)
            self._stream(resp)
        if self.size is not None and self.offset < self.size:
            raise self._failure('the server closed the connection at byte '
                                '%d of %d' % (self.offset, self.size))

    def _send(self, headers):
        try:
            return self._session.get(
                self.url, headers=headers, stream=True,
                timeout=self._settings.timeout, allow_redirects=True,
                verify=self._settings.verify)
        except requests.exceptions.SSLError as exc:
            raise errors.DownloadError(
                self.image_id, self.url,
                'Cannot download image %s from %s: TLS handshake failed '
                '(%s); check the CA bundle and the server certificate' % (
                    self.image_id, errors.redact_url(self.url),
                    self._redact(exc)))
        except (requests.exceptions.ConnectionError,
                requests.exceptions.Timeout) as exc:
            raise self._failure(self._explain(exc))
        except requests.exceptions.RequestException as exc:
            raise errors.DownloadError(
                self.image_id, self.url,
                'Cannot download image %s from %s: %s' % (
                    self.image_id, errors.redact_url(self.url),
                    self._redact(exc)))

    def _accept(self, resp, start):
        """Check status and headers; restart from 0 if Range was ignored."""
        status = resp.status_code
        if status == 200:
            if start:
                LOG.warning('Image %(id)s: the server ignored the Range '
                            'request at byte %(off)d and sent the whole '
                            'image; restarting from byte 0',
                            {'id': self.image_id, 'off': start})
                self._restart()
            self._learn_size(response.parse_content_length(
                resp.headers.get('Content-Length')))
        elif status == 206:
            found = response.parse_content_range(
                resp.headers.get('Content-Range'))
            if found is None or found.first != start:
                self._restart()
                raise self._failure(
                    'the server answered Range bytes=%d- with Content-Range '
                    '%r; restarting from byte 0' % (
                        start, resp.headers.get('Content-Range')))
            self._learn_size(found.total)
        elif status == 416 and start:
            self._restart()
            raise self._failure('the server cannot serve from byte %d '
                                '(416); restarting from byte 0' % start)
        elif response.is_retryable(status):
            raise self._failure(
                'HTTP %d %s' % (status, resp.reason or ''),
                retry_after=http_headers.parse_retry_after(
                    resp.headers.get('Retry-After')))
        else:
            raise errors.DownloadHTTPError(self.image_id, self.url, status,
                                           resp.reason)

    def _learn_size(self, announced):
        if announced is None:
            return
        if self.size is None:
            self.size = announced
        elif announced != self.size:
            raise errors.ImageVerificationError(
                self.image_id, self.url,
                'the server announces %d bytes but %d are expected' % (
                    announced, self.size))

    def _stream(self, resp):
        # read1 hands over whatever has arrived (up to chunk_size), so a
        # connection reset loses nothing already received: the resume
        # starts exactly where the data stopped.
        while True:
            try:
                chunk = resp.raw.read1(self._settings.chunk_size)
            except _STREAM_ERRORS as exc:
                raise self._failure(self._explain(exc))
            if not chunk:
                return
            self._store(chunk)

    def _store(self, chunk):
        if self.size is not None and self.offset + len(chunk) > self.size:
            raise errors.ImageVerificationError(
                self.image_id, self.url,
                'the server sent more than the %d bytes expected' %
                self.size)
        try:
            self._file.write(chunk)
        except OSError as exc:
            raise errors.CacheWriteError(
                self.image_id, self._entry.part_path, exc)
        self._hasher.update(chunk)
        self.offset += len(chunk)
        self.received += len(chunk)
        self._progress.update(self.offset, self.size, self.received,
                              self.requests - 1)

    def _restart(self):
        try:
            self._file.seek(0)
            self._file.truncate(0)
        except OSError as exc:
            raise errors.CacheWriteError(
                self.image_id, self._entry.part_path, exc)
        self._hasher = self._expected.new_hasher()
        self.offset = 0
        self.restarts += 1

    def _failure(self, reason, retry_after=None):
        """A TransientFailure; progress means a new high-water mark.

        Measuring against the best offset ever reached (not the offset at
        the start of the attempt) keeps a server that ignores Range and
        drops at the same point from counting as "making progress".
        """
        progressed = self.offset > self.high_water
        self.high_water = max(self.high_water, self.offset)
        return retry.TransientFailure(reason, progressed=progressed,
                                      retry_after=retry_after)

    def _explain(self, exc):
        """A short reason for logs: what kind of failure, then details."""
        text = self._redact(exc)
        causes = list(_causes(exc))
        # Order matters: urllib3's NewConnectionError (refused, DNS)
        # subclasses ConnectTimeoutError.
        if _any(causes, ConnectionRefusedError) or any(
                getattr(c, 'errno', None) == errno.ECONNREFUSED
                for c in causes):
            return 'connection refused (%s)' % text
        if _any(causes, socket.gaierror,
                urllib3.exceptions.NameResolutionError):
            return 'host name lookup failed (%s)' % text
        if _any(causes, requests.exceptions.ReadTimeout,
                urllib3.exceptions.ReadTimeoutError, socket.timeout):
            return 'stalled: no data for %s s (%s)' % (
                self._settings.stall_timeout, text)
        if _any(causes, requests.exceptions.ConnectTimeout,
                urllib3.exceptions.ConnectTimeoutError):
            return 'connect timed out (%s)' % text
        return 'connection broken (%s: %s)' % (type(exc).__name__, text)

    def _redact(self, exc, limit=300):
        """Exception text without the URL's query string or password."""
        text = str(exc)
        parts = parse.urlsplit(self.url)
        if parts.query:
            text = text.replace(parts.query, '...')
        if parts.password:
            text = text.replace(parts.password, '***')
        return text if len(text) <= limit else text[:limit] + '...'


def _causes(exc, depth=6):
    """Yield *exc* and the exceptions it wraps.

    requests and urllib3 nest them in ``args``, ``reason``, ``__cause__``
    and ``__context__``.
    """
    seen = set()
    pending = [exc]
    while pending and len(seen) < depth * 4:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [getattr(current, 'reason', None), current.__cause__,
                  current.__context__]
        linked.extend(a for a in current.args if isinstance(a, Exception))
        pending.extend(e for e in linked if isinstance(e, BaseException))


def _any(causes, *types):
    return any(isinstance(c, types) for c in causes)
