"""ISO boot (nova_dpm.virt.dpm.image) and where image data comes from."""

import hashlib
import os
from unittest import mock

import fixtures
from keystoneauth1 import exceptions as ksa_exc
from nova import context as nova_context
from nova import exception
from nova import objects
from oslo_config import fixture as config_fixture
import testtools

import nova_dpm.conf
from nova_dpm.image import download
from nova_dpm.virt.dpm import image
from nova_dpm.virt.dpm import image_source

CONF = nova_dpm.conf.CONF
IMAGE_ID = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
DATA = b'ISO9660 image data ' * 4096


def image_meta(**fields):
    fields.setdefault('id', IMAGE_ID)
    return objects.ImageMeta.from_dict(fields)


def glance_record(data=DATA, **changes):
    record = {'id': IMAGE_ID, 'name': 'rhel-9-s390x', 'disk_format': 'iso',
              'size': len(data), 'checksum': hashlib.md5(data).hexdigest(),
              'os_hash_algo': 'sha512',
              'os_hash_value': hashlib.sha512(data).hexdigest(),
              'properties': {}}
    record.update(changes)
    return record


class FakeImageApi(object):
    """``nova.image.glance.API`` with one image and a download counter."""

    def __init__(self, record, data=DATA):
        self.record = record
        self.data = data
        self.downloads = 0

    def get(self, context, image_id):
        if image_id != self.record['id']:
            raise exception.ImageNotFound(image_id=image_id)
        return dict(self.record)

    def download(self, context, image_id, data=None, dest_path=None):
        self.downloads += 1
        with open(dest_path, 'wb') as out:
            out.write(self.data)


class CheckTest(testtools.TestCase):
    """check() decides before any HMC change whether an image can boot."""

    def setUp(self):
        super().setUp()
        self.boot = image.IsoBoot(None, None, source=mock.Mock(),
                                  cpc=mock.Mock())

    def test_iso_image_is_accepted(self):
        self.boot.check(image_meta(disk_format='iso'))

    def test_qcow2_and_raw_are_refused_naming_the_format(self):
        for disk_format in ('qcow2', 'raw'):
            exc = self.assertRaises(exception.ImageUnacceptable,
                                    self.boot.check,
                                    image_meta(disk_format=disk_format))
            message = exc.format_message()
            self.assertIn(IMAGE_ID, message)
            self.assertIn('disk format %s' % disk_format, message)
            self.assertIn('only disk_format iso', message)
            self.assertIn('FCP volume', message)

    def test_image_without_disk_format_is_refused(self):
        exc = self.assertRaises(exception.ImageUnacceptable,
                                self.boot.check, image_meta())
        self.assertIn('no disk format', exc.format_message())

    def test_no_image_and_no_volume_is_invalid_input(self):
        self.assertRaises(exception.InvalidInput, self.boot.check, None)

    def test_check_touches_neither_hmc_nor_glance(self):
        cpc, source = mock.Mock(), mock.Mock()
        boot = image.IsoBoot(None, None, source=source, cpc=cpc)
        self.assertRaises(exception.ImageUnacceptable, boot.check,
                          image_meta(disk_format='qcow2'))
        self.assertEqual([], cpc.mock_calls)
        self.assertEqual([], source.mock_calls)


class HttpLocationTest(testtools.TestCase):
    """Which URL and headers the downloader gets, or None (fallback)."""

    def setUp(self):
        super().setUp()
        self.servers = self.useFixture(fixtures.MockPatch(
            'nova.image.glance.get_api_servers')).mock
        self.servers.return_value = iter(['http://glance.example:9292/'])
        self.session = mock.Mock()
        self.session.get_auth_headers.return_value = {
            'X-Auth-Token': 'secret-token'}
        self.auth = self.useFixture(fixtures.MockPatch(
            'nova.image.glance._session_and_auth')).mock
        self.auth.return_value = (self.session, mock.sentinel.auth)
        downloader = mock.Mock(cache_dir='/nonexistent')
        self.source = image_source.GlanceImageSource(downloader,
                                                     FakeImageApi({}))
        self.context = mock.Mock(global_id='req-1234')

    def test_catalog_endpoint_and_context_token(self):
        location = self.source.http_location(self.context, IMAGE_ID)
        self.assertEqual(
            'http://glance.example:9292/v2/images/%s/file' % IMAGE_ID,
            location.url)
        self.assertEqual({'X-Auth-Token': 'secret-token',
                          'X-OpenStack-Request-ID': 'req-1234'},
                         location.headers)
        self.servers.assert_called_once_with(self.context)
        self.session.get_auth_headers.assert_called_once_with(
            auth=mock.sentinel.auth)
        self.assertNotIn('secret-token', repr(location))

    def test_version_suffix_of_endpoint_is_dropped(self):
        self.servers.return_value = iter(['https://cloud/image/v2/'])
        location = self.source.http_location(self.context, IMAGE_ID)
        self.assertEqual('https://cloud/image/v2/images/%s/file' % IMAGE_ID,
                         location.url)

    def test_no_catalog_endpoint_means_fallback(self):
        self.servers.side_effect = ksa_exc.EndpointNotFound()
        self.assertIsNone(self.source.http_location(self.context, IMAGE_ID))

    def test_endpoint_none_means_fallback(self):
        self.servers.return_value = iter([None])
        self.assertIsNone(self.source.http_location(self.context, IMAGE_ID))

    def test_no_token_means_fallback(self):
        self.session.get_auth_headers.return_value = None
        self.assertIsNone(self.source.http_location(self.context, IMAGE_ID))
        self.session.get_auth_headers.return_value = {'X-Auth-Token': None}
        self.servers.return_value = iter(['http://glance.example:9292/'])
        self.assertIsNone(self.source.http_location(self.context, IMAGE_ID))


class HttpLocationWithNovaHelpersTest(testtools.TestCase):
    """The same decisions with Nova's real helpers and request contexts."""

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.source = image_source.GlanceImageSource(
            mock.Mock(cache_dir='/nonexistent'), FakeImageApi({}))

    def context(self, token='user-token', catalog=None):
        return nova_context.RequestContext(
            user_id='u', project_id='p', auth_token=token, is_admin=False,
            service_catalog=catalog or [])

    def test_image_endpoint_of_the_service_catalog(self):
        catalog = [{'type': 'image', 'name': 'glance', 'endpoints': [{
            'region': 'R', 'publicURL': 'https://public:9292',
            'internalURL': 'http://internal:9292/v2'}]}]
        location = self.source.http_location(self.context(catalog=catalog),
                                             IMAGE_ID)
        # [glance] valid_interfaces defaults to internal first.
        self.assertEqual('http://internal:9292/v2/images/%s/file' % IMAGE_ID,
                         location.url)
        self.assertEqual('user-token', location.headers['X-Auth-Token'])

    def test_api_servers_option_wins_over_the_catalog(self):
        self.conf.config(group='glance', api_servers=['http://g1:9292'])
        location = self.source.http_location(self.context(), IMAGE_ID)
        self.assertEqual('http://g1:9292/v2/images/%s/file' % IMAGE_ID,
                         location.url)

    def test_no_catalog_entry_falls_back(self):
        self.assertIsNone(self.source.http_location(self.context(),
                                                    IMAGE_ID))

    def test_context_without_token_falls_back(self):
        self.conf.config(group='glance', api_servers=['http://g1:9292'])
        self.assertIsNone(self.source.http_location(
            self.context(token=None), IMAGE_ID))


class FetchTest(testtools.TestCase):
    """fetch(): HTTP through the downloader, else Nova's image API."""

    def setUp(self):
        super().setUp()
        self.cache_dir = self.useFixture(fixtures.TempDir()).path
        self.downloader = download.ImageDownloader(self.cache_dir)
        self.api = FakeImageApi(glance_record())
        self.source = image_source.GlanceImageSource(self.downloader,
                                                     self.api)
        self.image = self.source.describe(None, IMAGE_ID)
        self.logs = self.useFixture(fixtures.FakeLogger(
            name='nova_dpm.virt.dpm.image_source'))

    def use_http(self, url='http://glance/v2/images/x/file'):
        location = image_source.HttpLocation(url, {'X-Auth-Token': 't'})
        self.useFixture(fixtures.MockPatchObject(
            self.source, 'http_location', return_value=location))
        return self.useFixture(fixtures.MockPatchObject(
            self.downloader, 'fetch', return_value='/cache/x')).mock

    def use_fallback(self):
        self.useFixture(fixtures.MockPatchObject(
            self.source, 'http_location', return_value=None))

    def test_http_passes_token_and_glance_checksums_to_downloader(self):
        fetch = self.use_http()
        self.assertEqual('/cache/x', self.source.fetch(None, self.image))
        fetch.assert_called_once_with(
            IMAGE_ID, 'http://glance/v2/images/x/file',
            headers={'X-Auth-Token': 't'}, size=len(DATA),
            hash_algo='sha512', hash_value=hashlib.sha512(DATA).hexdigest(),
            md5=hashlib.md5(DATA).hexdigest())
        self.assertEqual(0, self.api.downloads)

    def test_fallback_downloads_verified_file_and_logs_once(self):
        self.use_fallback()
        path = self.source.fetch(None, self.image)
        with open(path, 'rb') as data:
            self.assertEqual(DATA, data.read())
        self.assertEqual(path, self.source.fetch(None, self.image))
        self.assertEqual(1, self.api.downloads)
        self.assertEqual(1, self.logs.output.count(
            'through the Nova image API'))
        self.assertEqual([os.path.basename(path),
                          os.path.basename(path) + '.lock'],
                         sorted(os.listdir(self.cache_dir)))

    def test_fallback_rejects_corrupt_data_and_keeps_nothing(self):
        self.use_fallback()
        self.api.data = DATA[:-1] + b'X'
        exc = self.assertRaises(download.ImageVerificationError,
                                self.source.fetch, None, self.image)
        self.assertIn('sha512', str(exc))
        self.assertEqual([], [name for name in os.listdir(self.cache_dir)
                              if not name.endswith('.lock')])

    def test_fallback_file_is_a_cache_hit_for_http(self):
        self.use_fallback()
        path = self.source.fetch(None, self.image)
        # The downloader finds the same entry complete: no request is made.
        self.assertEqual(path, self.downloader.fetch(
            IMAGE_ID, 'http://127.0.0.1:9/unreachable', size=len(DATA),
            hash_algo='sha512', hash_value=hashlib.sha512(DATA).hexdigest()))


class PrepareBootTest(testtools.TestCase):
    """prepare_boot(): download, mount, boot device; release unmounts."""

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.cpc = mock.Mock()
        self.source = mock.Mock()
        self.source.describe.return_value = image_source.GlanceImage.\
            from_glance(glance_record())
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'img')
        with open(path, 'wb') as out:
            out.write(DATA)
        self.source.fetch.return_value = path
        self.boot = image.IsoBoot(None, None, source=self.source,
                                  cpc=self.cpc)
        self.instance = mock.Mock(uuid='inst-uuid')

    def prepare(self):
        self.boot.prepare_boot(mock.sentinel.context, self.instance,
                               image_meta(disk_format='iso'), '/api/p/1')

    def test_mounts_streaming_from_a_file_and_sets_boot_device(self):
        mounted = []
        self.cpc.mount_iso.side_effect = lambda uri, data, *a, **k: (
            mounted.append((data.read(), data.name)))
        self.prepare()
        args = self.cpc.mount_iso.call_args[0]
        self.assertEqual(('/api/p/1',), args[:1])
        self.assertEqual(('%s.iso' % IMAGE_ID, '/generic.ins',
                          exception.InstanceDeployFailure, 'inst-uuid'),
                         args[2:])
        self.assertEqual(DATA, mounted[0][0])
        self.cpc.update_partition.assert_called_once_with(
            '/api/p/1', {'boot-device': 'iso-image'},
            exception.InstanceDeployFailure, 'inst-uuid')

    def test_ins_file_from_image_property_wins(self):
        self.source.describe.return_value = image_source.GlanceImage.\
            from_glance(glance_record(properties={
                'dpm_ins_file': '/images/rhel.ins'}))
        self.prepare()
        self.assertEqual('/images/rhel.ins',
                         self.cpc.mount_iso.call_args[0][3])

    def test_ins_file_default_from_config(self):
        self.conf.config(group='dpm', default_ins_file='/suse.ins')
        self.boot = image.IsoBoot(None, None, source=self.source,
                                  cpc=self.cpc)
        self.prepare()
        self.assertEqual('/suse.ins', self.cpc.mount_iso.call_args[0][3])

    def test_download_failure_is_deploy_failure_and_nothing_mounted(self):
        self.source.fetch.side_effect = download.DownloadHTTPError(
            IMAGE_ID, 'http://glance/v2/images/x/file', 404, 'Not Found')
        exc = self.assertRaises(exception.InstanceDeployFailure,
                                self.prepare)
        self.assertTrue(exc.format_message().startswith(
            'Cannot download image %s from http://glance/v2/images/x/file: '
            'HTTP 404' % IMAGE_ID), exc.format_message())
        self.cpc.mount_iso.assert_not_called()
        self.cpc.update_partition.assert_not_called()

    def test_release_unmounts(self):
        self.boot.release('/api/p/1')
        self.cpc.unmount_iso.assert_called_once_with(
            '/api/p/1', exception.InstanceTerminationFailure)


class ConstructionTest(testtools.TestCase):

    def test_builds_downloader_from_config_without_io(self):
        conf = self.useFixture(config_fixture.Config(CONF))
        missing = os.path.join(self.useFixture(fixtures.TempDir()).path,
                               'not-yet')
        conf.config(group='dpm', image_cache_dir=missing)
        conf.config(group='glance', cafile='/etc/ssl/glance-ca.pem')
        settings = mock.Mock(cpc_object_id='cpc1', status_timeout=60,
                             operation_timeout=3600)
        boot = image.IsoBoot(mock.Mock(), settings)
        self.assertFalse(os.path.exists(missing))
        self.assertEqual(missing, boot._source._downloader.cache_dir)

    def test_tls_verify_follows_glance_options(self):
        self.assertFalse(image.glance_tls_verify(
            mock.Mock(insecure=True, cafile='/ca')))
        self.assertEqual('/ca', image.glance_tls_verify(
            mock.Mock(insecure=False, cafile='/ca')))
        self.assertIs(True, image.glance_tls_verify(
            mock.Mock(insecure=False, cafile=None)))
