"""ISO boot against the HTTPS simulator and a real, misbehaving image server.

The image endpoint is found the way it is in production when ``[glance]
api_servers`` is set (``nova.image.glance.get_api_servers``), and the
token comes from a real ``nova.context.RequestContext`` through Nova's own
``_session_and_auth``; only the Glance *metadata* call is stubbed (the
test server serves image data, not the Glance API).
"""

import hashlib
from unittest import mock
import uuid

import fixtures
from nova import context as nova_context
from nova import exception
from nova import objects

import nova_dpm.conf
from nova_dpm.hmc import cpc as cpc_mod
from nova_dpm.hmc import HMCSettings
from nova_dpm.hmc import HMCSupervisor
from nova_dpm.virt.dpm import image
from tests.functional.virt import driver_base
from tests.unit.image import fake_image_server as fis

CONF = nova_dpm.conf.CONF
TOKEN = 'gAAAA-secret-user-token'
IMAGE_ID = str(uuid.uuid4())
# Several chunks, so that faults can cut the transfer in the middle.
MIB = 1024 * 1024
DATA = bytes(range(256)) * 4096 * 3


def glance_record(disk_format='iso', properties=None):
    return {'id': IMAGE_ID, 'name': 'sles-15-s390x.iso',
            'disk_format': disk_format, 'size': len(DATA),
            'checksum': hashlib.md5(DATA).hexdigest(),
            'os_hash_algo': 'sha512',
            'os_hash_value': hashlib.sha512(DATA).hexdigest(),
            'properties': properties or {}}


class IsoBootTestBase(driver_base.DriverTestCase):

    def setUp(self):
        self.image_server = self.useFixture(
            fis.ImageServer(fis.BytesSource(DATA)))
        self.cache_dir = self.useFixture(fixtures.TempDir()).path
        self.glance_get = self.useFixture(fixtures.MockPatch(
            'nova.image.glance.API.get',
            side_effect=lambda context, image_id: glance_record())).mock
        super().setUp()
        self.context = nova_context.RequestContext(
            user_id='demo', project_id='demo', auth_token=TOKEN,
            is_admin=False)

    def configure(self, host):
        super().configure(host)
        self.conf.config(group='glance', api_servers=[
            'http://127.0.0.1:%d' % self.image_server.port])
        self.conf.config(group='dpm', image_cache_dir=self.cache_dir,
                         image_stall_timeout=1, image_download_retries=3)

    def image_meta(self, disk_format='iso'):
        return objects.ImageMeta.from_dict(
            {'id': IMAGE_ID, 'disk_format': disk_format})

    def assert_downloaded_with_token(self):
        requests = self.image_server.requests
        self.assertTrue(requests)
        for request in requests:
            self.assertEqual('/v2/images/%s/file' % IMAGE_ID, request.path)
            self.assertEqual(TOKEN, request.headers.get('X-Auth-Token'))


class TestPrepareBootAndRelease(IsoBootTestBase):
    """IsoBoot on its own, on a partition created for the test."""

    def setUp(self):
        super().setUp()
        settings = HMCSettings.from_conf(CONF.dpm)
        self.sup = HMCSupervisor(settings, connection_id='iso-test',
                                 state_dir=self.state_path)
        self.sup.start()
        self.addCleanup(self.sup.stop)
        self.cpc = cpc_mod.ManagedCpc(self.sup, settings.cpc_object_id)
        self.uri = self.cpc.create_partition(
            {'name': 'OpenStack-iso-' + uuid.uuid4().hex[:8],
             'initial-memory': 1024, 'maximum-memory': 1024,
             'ifl-processors': 1}, exception.InstanceDeployFailure)
        self.boot = image.IsoBoot(self.sup, settings)
        self.instance = mock.Mock(uuid=str(uuid.uuid4()))

    def prepare(self):
        self.boot.prepare_boot(self.context, self.instance,
                               self.image_meta(), self.uri)

    def properties(self):
        return self.sup.call(
            lambda client: client.session.get(self.uri), what='get')

    def test_download_survives_faults_then_mounts_and_release_unmounts(self):
        # The downloader keeps whole 1 MiB chunks: each cut is past one.
        self.image_server.inject(fis.Drop(after=MIB * 3 // 2),
                                 fis.Status(503, retry_after=0),
                                 fis.CloseEarly(after=MIB * 6 // 5),
                                 fis.Stall(after=0, seconds=5))
        self.prepare()
        self.assertEqual(1, self.sim.resources()['iso_mounts'])
        properties = self.properties()
        self.assertEqual('iso-image', properties['boot-device'])
        self.assertEqual('%s.iso' % IMAGE_ID,
                         properties['boot-iso-image-name'])
        self.assertEqual('/generic.ins', properties['boot-iso-ins-file'])
        self.assert_downloaded_with_token()
        self.assertGreaterEqual(len(self.image_server.requests), 5)
        # Resumed (Range) instead of starting again; where exactly depends
        # on how much of the reset connection's data arrived.
        self.assertTrue(any(r.start >= MIB
                            for r in self.image_server.requests))

        self.boot.release(self.uri)
        self.assertEqual(0, self.sim.resources()['iso_mounts'])
        self.boot.release(self.uri)   # nothing mounted: still fine

    def test_mount_dropped_or_lost_is_sent_again_whole(self):
        # A mount replaces the partition's image, so a request the HMC may
        # or may not have taken is sent again, from the image's start.
        for inject in (self.sim.drop_next, self.sim.lose_response_next):
            inject(1, method='POST', uri='/operations/mount-iso-image$')
            self.prepare()
            self.assertEqual([len(DATA)],
                             self.sim.resources()['iso_mount_bytes'])
            self.assertEqual('%s.iso' % IMAGE_ID,
                             self.properties()['boot-iso-image-name'])
            self.assertEqual([], self.sim.faults()['rules'])
            self.boot.release(self.uri)

    def test_second_boot_of_same_image_uses_the_cache(self):
        self.prepare()
        self.boot.release(self.uri)
        self.image_server.reset_counters()
        self.prepare()
        self.assertEqual([], self.image_server.requests)
        self.assertEqual(1, self.sim.resources()['iso_mounts'])

    def test_failed_download_leaves_nothing_mounted(self):
        self.image_server.inject(fis.Status(404))
        exc = self.assertRaises(exception.InstanceDeployFailure,
                                self.prepare)
        self.assertIn('HTTP 404', str(exc))
        self.assertNotIn(TOKEN, str(exc))
        self.assertEqual(0, self.sim.resources()['iso_mounts'])
        self.assertNotEqual('iso-image', self.properties().get('boot-device'))

    def test_ins_file_from_image_property(self):
        self.glance_get.side_effect = lambda context, image_id: (
            glance_record(properties={'dpm_ins_file': '/suse.ins'}))
        self.prepare()
        self.assertEqual('/suse.ins', self.properties()['boot-iso-ins-file'])


class TestIsoSpawnThroughDriver(IsoBootTestBase):
    """The driver's spawn/destroy with an ISO image instead of a volume."""

    def spawn_image(self, instance, disk_format='iso'):
        self.driver.spawn(self.context, instance,
                          self.image_meta(disk_format), [], None, {},
                          network_info=None, block_device_info=None)

    def test_iso_image_boots_and_destroy_unmounts(self):
        self.image_server.inject(fis.Drop(after=MIB * 3 // 2))
        instance = self.instance()
        self.spawn_image(instance)
        resources = self.sim.resources()
        self.assertEqual(1, resources['iso_mounts'])
        self.assertEqual(['active'],
                         list(resources['partition_status'].values()))
        self.assert_downloaded_with_token()
        self.driver.destroy(self.context, instance, None)
        self.assertNothingLeft()

    def test_qcow2_image_fails_before_any_hmc_change(self):
        self.sim.reset_stats()
        exc = self.assertRaises(exception.ImageUnacceptable,
                                self.spawn_image, self.instance(), 'qcow2')
        self.assertIn('qcow2', exc.format_message())
        self.assertNothingLeft()
        self.assertEqual([], self.image_server.requests)

    def test_failed_download_rolls_the_spawn_back(self):
        self.image_server.inject(*[fis.Status(503, retry_after=0)] * 10)
        exc = self.assertRaises(exception.InstanceDeployFailure,
                                self.spawn_image, self.instance())
        self.assertTrue(exc.format_message().startswith(
            'Failed to deploy instance: could not prepare booting from the '
            'ISO image: Gave up downloading image %s' % IMAGE_ID),
            exc.format_message())
        self.assertNothingLeft()
