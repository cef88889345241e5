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

"""Errors raised by the image downloader, and URL redaction for them.

Every message names the image, the URL (with credentials and query string
removed, because signed URLs carry secrets there), what went wrong and what
an operator can do about it.  Nothing here imports Nova, so the downloader
stays usable and testable on its own; the driver translates these into
Nova exceptions.
"""

from urllib import parse


def redact_url(url):
    """Return *url* without user info and with its query string hidden.

    ``https://user:pw@glance:9292/v2/images/x/file?sig=abc`` becomes
    ``https://glance:9292/v2/images/x/file?...``.
    """
    try:
        parts = parse.urlsplit(url)
    except ValueError:
        return '<unparsable URL>'
    netloc = parts.hostname or ''
    if ':' in netloc:
        netloc = '[%s]' % netloc
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        netloc = '%s:%d' % (netloc, port)
    query = '...' if parts.query else ''
    return parse.urlunsplit((parts.scheme, netloc, parts.path, query, ''))


class DownloadError(Exception):
    """An image could not be downloaded into the cache.

    :ivar image_id: the image that was being fetched
    :ivar url: the redacted URL it was fetched from
    """

    def __init__(self, image_id, url, message):
        self.image_id = image_id
        self.url = redact_url(url) if url else url
        super().__init__(message)


class InvalidDownloadRequest(DownloadError, ValueError):
    """The caller passed something the downloader cannot work with."""

    def __init__(self, image_id, url, problem):
        super().__init__(
            image_id, url,
            'Cannot download image %s: %s' % (image_id, problem))


class DownloadHTTPError(DownloadError):
    """The server answered with a status that retrying will not change."""

    _HINTS = {
        401: 'the auth token was rejected; get a new token and retry',
        403: 'the token may not read this image; check the image '
             'visibility and the project of the token',
        404: 'the image or its data does not exist; check that the image '
             'is active and has data uploaded',
        410: 'the image data was deleted; re-upload it or use another '
             'image',
    }
    _DEFAULT_HINT = ('fix the request or the image service; the download '
                     'was not retried because this status is permanent')

    def __init__(self, image_id, url, status, reason=''):
        self.status = status
        hint = self._HINTS.get(status, self._DEFAULT_HINT)
        super().__init__(
            image_id, url,
            'Cannot download image %s from %s: HTTP %d %s; %s' % (
                image_id, redact_url(url), status, reason or '', hint))


class DownloadRetriesExhausted(DownloadError):
    """Transient failures went on for longer than the retry budget.

    :ivar last_error: a short description of the last failure
    :ivar attempts: how many requests were made in total
    """

    def __init__(self, image_id, url, attempts, received, size, last_error):
        self.attempts = attempts
        self.last_error = last_error
        of_size = ' of %d' % size if size is not None else ''
        super().__init__(
            image_id, url,
            'Gave up downloading image %s from %s after %d attempts with '
            '%d%s bytes in the cache: %s. Check that the image service is '
            'reachable from this compute host and healthy; the partial '
            'file is kept and the next attempt resumes it.' % (
                image_id, redact_url(url), attempts, received, of_size,
                last_error))


class ImageVerificationError(DownloadError):
    """The downloaded data does not match the size or checksum expected.

    The partial file is deleted, so the next fetch starts from scratch.
    """

    def __init__(self, image_id, url, problem):
        super().__init__(
            image_id, url,
            'Image %s downloaded from %s failed verification: %s. The '
            'data was discarded; check the image in the image service '
            '(it may be corrupt) and retry.' % (
                image_id, redact_url(url), problem))


class CacheWriteError(DownloadError):
    """The image cache directory cannot be written."""

    def __init__(self, image_id, path, error):
        super().__init__(
            image_id, None,
            'Cannot write image %s to the cache file %s: %s. Check free '
            'space and permissions of the image cache directory.' % (
                image_id, path, error))
