"""Where the bytes of a Glance image come from, and how they are verified.

Two ways, one cache:

* **HTTP** (the normal case): ``GET <image endpoint>/v2/images/{id}/file``
  with the request's token, through :class:`nova_dpm.image.download.
  ImageDownloader`, which resumes dropped or stalled transfers.  The
  endpoint is the one Nova's own Glance client uses:
  ``nova.image.glance.get_api_servers(context)``, i.e. ``[glance]
  api_servers`` if set, else the ``image`` endpoint of the service catalog
  of the request context (keystoneauth adapter from the ``[glance]``
  options).  The auth headers come from Nova's ``_session_and_auth``
  (user token, plus the service token when ``[service_user]`` says so);
  they are handed to the downloader and never logged.
* **Nova's image API** when no HTTP endpoint or token can be had (no
  catalog entry, keystone not configured, Nova's GlanceFixture in
  functional tests): ``nova.image.glance.API().download(dest_path=...)``
  into the same cache entry, verified against the image's checksum and
  renamed into place atomically.  It cannot resume, so this is logged.

Both produce the same cache file name, so an image fetched one way is a
cache hit for the other.
"""

import dataclasses
import os
import re

from keystoneauth1 import exceptions as ksa_exc
from nova.image import glance
from oslo_log import log as logging

from nova_dpm.image import cache
from nova_dpm.image import checksum
from nova_dpm.image import errors

LOG = logging.getLogger(__name__)

_VERSION_SUFFIX = re.compile(r'/v\d+(\.\d+)?/?$')
_READ_SIZE = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class GlanceImage(object):
    """What the image service says about one image (no data)."""

    id: str
    name: str = None
    disk_format: str = None
    size: int = None
    checksum: str = None
    os_hash_algo: str = None
    os_hash_value: str = None
    properties: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_glance(cls, record):
        """From the dict ``nova.image.glance.API().get`` returns."""
        return cls(id=record['id'], name=record.get('name'),
                   disk_format=record.get('disk_format'),
                   size=record.get('size') or None,
                   checksum=record.get('checksum'),
                   os_hash_algo=record.get('os_hash_algo'),
                   os_hash_value=record.get('os_hash_value'),
                   properties=dict(record.get('properties') or {}))

    def expected(self, url):
        """The size and digest the downloaded data must have."""
        return checksum.ExpectedImage(
            self.id, url, self.size, self.os_hash_algo, self.os_hash_value,
            self.checksum)


@dataclasses.dataclass(frozen=True)
class HttpLocation(object):
    """URL and request headers of an image's data; repr hides headers."""

    url: str
    headers: dict = dataclasses.field(repr=False)


class GlanceImageSource(object):
    """Fetches Glance images into the downloader's cache directory.

    :param downloader: ``nova_dpm.image.download.ImageDownloader``
    :param image_api: ``nova.image.glance.API`` (default: a new one)
    """

    def __init__(self, downloader, image_api=None):
        self._downloader = downloader
        self._image_api = image_api or glance.API()
        self._cache = cache.ImageCache(downloader.cache_dir)

    def describe(self, context, image_id):
        """The image's record in Glance (one request)."""
        return GlanceImage.from_glance(self._image_api.get(context, image_id))

    def http_location(self, context, image_id):
        """URL and auth headers of the image data, or None if unusable."""
        try:
            endpoint = next(glance.get_api_servers(context))
            session, auth = glance._session_and_auth(context)
            headers = session.get_auth_headers(auth=auth)
        except ksa_exc.ClientException as exc:
            LOG.debug('No HTTP endpoint for the image service: %s', exc)
            return None
        if not endpoint or not headers or not all(headers.values()):
            return None
        headers = dict(headers)
        global_id = getattr(context, 'global_id', None)
        if global_id:
            headers['X-OpenStack-Request-ID'] = global_id
        base = _VERSION_SUFFIX.sub('', endpoint.rstrip('/')).rstrip('/')
        return HttpLocation('%s/v2/images/%s/file' % (base, image_id),
                            headers)

    def fetch(self, context, image):
        """Path of the verified image in the cache, downloading if needed.

        :param image: :class:`GlanceImage`
        :raises nova_dpm.image.download.DownloadError: (and subclasses)
            the data could not be fetched or verified
        """
        location = self.http_location(context, image.id)
        if location is not None:
            return self._downloader.fetch(
                image.id, location.url, headers=location.headers,
                size=image.size, hash_algo=image.os_hash_algo,
                hash_value=image.os_hash_value, md5=image.checksum)
        return self._fetch_through_nova(context, image)

    def _fetch_through_nova(self, context, image):
        source = 'glance://%s' % image.id
        expected = image.expected(source)
        entry = self._cache.entry(image.id, source, expected.algo,
                                  expected.digest)
        with self._cache.locked(entry):
            if entry.is_complete(expected.size):
                return entry.path
            LOG.info('Image %s: no HTTP endpoint of the image service is '
                     'usable (no [glance] api_servers, no image endpoint '
                     'in the service catalog, or no token); downloading it '
                     'through the Nova image API instead, which cannot '
                     'resume an interrupted transfer', image.id)
            try:
                self._image_api.download(context, image.id,
                                         dest_path=entry.part_path)
                problem = expected.mismatch(*_size_and_digest(
                    entry.part_path, expected))
                if problem:
                    raise errors.ImageVerificationError(image.id, source,
                                                        problem)
                cache.publish(image.id, entry)
            except BaseException:
                _remove(entry.part_path)
                raise
        return entry.path


def _size_and_digest(path, expected):
    hasher = expected.new_hasher()
    size = 0
    with open(path, 'rb') as data:
        for block in iter(lambda: data.read(_READ_SIZE), b''):
            hasher.update(block)
            size += len(block)
    return size, hasher.hexdigest()


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
