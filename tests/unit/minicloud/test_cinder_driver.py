"""The mini-cloud's Cinder volume driver against a real simulated array.

``minicloud.san`` (all that talks to the array) runs against an
HMCSimulator with ``san=True`` over its HTTP control API; the thin Cinder
subclass is tested only where Cinder is installed.
"""

import fixtures
import testtools

from minicloud import san
from nova_dpm.simulator import HMCSimulator
from tests.unit.minicloud import test_hmc

HOST_WWPNS = ['C05076AAAAAA0001', 'c05076aaaaaa0002']


class ArrayCase(testtools.TestCase):
    """A simulator with an array, its control API client and volumes."""

    def setUp(self):
        super(ArrayCase, self).setUp()
        for name in test_hmc.PROXY_VARIABLES:
            self.useFixture(fixtures.EnvironmentVariable(
                name, 'http://127.0.0.1:9'))
        self.useFixture(fixtures.FakeLogger())
        self.sim = HMCSimulator(control_port=0, san=True)
        self.sim.start()
        self.addCleanup(self.sim.stop)
        self.client = san.ArrayClient(self.sim.control_url)
        self.volumes = san.ArrayVolumes(self.client, 'san-1')
        self.targets = self.sim.array.target_ports()

    def created(self, size=2):
        volume = {'id': 'vol-%d' % len(self.sim.array.luns()),
                  'size': size}
        volume.update(self.volumes.create(volume))
        return volume

    def connector(self, wwpns=HOST_WWPNS):
        return {'host': 'dpm-host', 'wwpns': list(wwpns),
                'platform': 's390x'}


class ArrayVolumesTest(ArrayCase):

    def test_create_extend_delete_a_lun(self):
        self.volumes.check()
        volume = self.created(2)
        lun = san.lun_of(volume)
        self.assertEqual('lun:%d' % lun, volume['provider_location'])
        self.assertEqual([(lun, 2.0, 'volume-vol-0')],
                         [(r['lun'], r['size'], r['name'])
                          for r in self.sim.array.luns()])
        self.volumes.extend(volume, 5)
        self.assertEqual(5.0, self.sim.array.luns()[0]['size'])
        stats = self.volumes.stats()
        self.assertEqual(('san-1', 'FC', 10240 - 5),
                         (stats['volume_backend_name'],
                          stats['storage_protocol'],
                          stats['free_capacity_gb']))
        self.volumes.delete(volume)
        self.volumes.delete(volume)     # Cinder may repeat a delete
        self.volumes.delete({'id': 'never-created'})
        self.assertEqual([], self.sim.array.luns())

    def test_connection_info_maps_every_initiator_to_every_target(self):
        volume = self.created()
        info = self.volumes.connect(volume, self.connector())
        wwpns = [w.lower() for w in HOST_WWPNS]
        lun = san.lun_of(volume)
        self.assertEqual({
            'driver_volume_type': 'fibre_channel',
            'data': {'target_discovered': False, 'target_lun': lun,
                     'target_wwn': self.targets,
                     'initiator_target_map': {w: self.targets
                                              for w in wwpns},
                     'volume_id': volume['id'], 'discard': False}}, info)
        self.assertEqual(
            sorted((lun, w, t) for w in wwpns for t in self.targets),
            [(m['lun'], m['initiator'], m['target_port'])
             for m in self.sim.array.mappings()])
        self.volumes.connect(volume, self.connector())     # idempotent
        self.assertEqual(4, len(self.sim.array.mappings()))

        self.volumes.disconnect(volume, self.connector(HOST_WWPNS[:1]))
        self.assertEqual({wwpns[1]}, {m['initiator'] for m in
                                      self.sim.array.mappings()})
        self.volumes.disconnect(volume, None)       # a forced detach
        self.assertEqual([], self.sim.array.mappings())
        self.volumes.delete(volume)

    def test_a_mapped_lun_is_not_deleted(self):
        volume = self.created()
        self.volumes.connect(volume, self.connector())
        exc = self.assertRaises(san.ArrayError, self.volumes.delete, volume)
        self.assertEqual(409, exc.status)
        self.assertIn('still mapped', str(exc))
        self.assertEqual(1, len(self.sim.array.luns()))

    def test_bad_input_gets_one_clear_line(self):
        volume = self.created()
        exc = self.assertRaises(san.ArrayError, self.volumes.connect,
                                volume, {'host': 'h1', 'wwpns': []})
        self.assertEqual('the connector of host h1 has no WWPNs: an FCP '
                         'volume cannot be mapped to it', str(exc))
        exc = self.assertRaises(san.ArrayError, self.volumes.extend,
                                volume, 1)
        self.assertIn('cannot shrink', str(exc))
        self.assertNotIn('\n', str(exc))
        exc = self.assertRaises(san.ArrayError, self.volumes.extend,
                                {'id': 'v9'}, 3)
        self.assertIn('volume v9 has no LUN on the storage array', str(exc))

    def test_an_unreachable_array_is_named(self):
        url = self.sim.control_url
        self.sim.stop()
        exc = self.assertRaises(san.ArrayError, san.ArrayVolumes(
            san.ArrayClient(url)).check)
        self.assertIn('cannot be reached', str(exc))
        self.assertIn(url, str(exc))

    def test_a_simulator_without_an_array_says_so(self):
        plain = HMCSimulator(control_port=0)
        plain.start()
        self.addCleanup(plain.stop)
        exc = self.assertRaises(san.ArrayError, san.ArrayVolumes(
            san.ArrayClient(plain.control_url)).check)
        self.assertEqual(409, exc.status)
        self.assertIn('--san', str(exc))


class CinderDriverTest(ArrayCase):
    """The Cinder subclass: only where Cinder is installed."""

    def setUp(self):
        try:
            from cinder.volume import configuration
        except ImportError:
            self.skipTest('Cinder is not installed here')
        super(CinderDriverTest, self).setUp()
        from cinder.volume import driver
        from minicloud import cinder_driver
        from oslo_config import cfg
        self.driver = cinder_driver.SimulatedSanDriver(
            configuration=configuration.Configuration(
                driver.volume_opts, config_group='hmc-sim-san'))
        cfg.CONF.set_override('hmc_simulator_control_url',
                              self.sim.control_url, group='hmc-sim-san')
        self.addCleanup(cfg.CONF.clear_override,
                        'hmc_simulator_control_url', group='hmc-sim-san')
        self.driver.do_setup(None)

    def test_cinder_drives_the_array_through_the_driver(self):
        from cinder import exception
        self.driver.check_for_setup_error()
        volume = {'id': 'v1', 'size': 1}
        volume.update(self.driver.create_volume(volume))
        self.driver.create_export(None, volume, self.connector())
        info = self.driver.initialize_connection(volume, self.connector())
        self.assertEqual(('fibre_channel', san.lun_of(volume)),
                         (info['driver_volume_type'],
                          info['data']['target_lun']))
        self.assertEqual(4, len(self.sim.array.mappings()))
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.delete_volume, volume)
        self.assertRaises(exception.InvalidConnectorException,
                          self.driver.initialize_connection, volume,
                          {'host': 'h1'})
        self.driver.terminate_connection(volume, self.connector())
        self.driver.remove_export(None, volume)
        self.driver.extend_volume(volume, 3)
        stats = self.driver.get_volume_stats(refresh=True)
        self.assertEqual(('FC', 10240 - 3),
                         (stats['storage_protocol'],
                          stats['free_capacity_gb']))
        self.driver.delete_volume(volume)
        self.assertEqual(([], []), (self.sim.array.luns(),
                                    self.sim.array.mappings()))

    def test_copies_are_stand_in_luns_and_need_the_image(self):
        from cinder import exception

        class Images(object):
            def __init__(self):
                self.uploaded = {}

            def show(self, context, image_id):
                if image_id != 'img-1':
                    raise exception.ImageNotFound(image_id=image_id)

            def update(self, context, image_id, meta, data):
                self.uploaded[image_id] = data.read()

        images = Images()
        volume = {'id': 'v1', 'size': 2}
        update, cloned = self.driver.clone_image(
            None, volume, None, {'id': 'img-1'}, images)
        volume.update(update)
        self.assertTrue(cloned)
        self.assertRaises(exception.ImageNotFound, self.driver.clone_image,
                          None, {'id': 'v2', 'size': 1}, None,
                          {'id': 'img-2'}, images)
        snapshot = {'id': 's1', 'volume_size': 2}
        snapshot.update(self.driver.create_snapshot(snapshot))
        copy = {'id': 'v3', 'size': 2}
        copy.update(self.driver.create_volume_from_snapshot(copy, snapshot))
        clone = {'id': 'v4', 'size': 3}
        clone.update(self.driver.create_cloned_volume(clone, volume))
        self.assertEqual(
            [('volume-v1', 2.0), ('volume-s1', 2.0), ('volume-v3', 2.0),
             ('volume-v4', 3.0)],
            [(r['name'], r['size']) for r in self.sim.array.luns()])
        self.driver.copy_volume_to_image(None, volume, images,
                                         {'id': 'img-9'})
        self.assertIn(b'stand-in for the data of volume v1',
                      images.uploaded['img-9'])
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_cloned_volume,
                          {'id': 'v5', 'size': 1}, {'id': 'v0'})
        for record in (volume, snapshot, copy, clone):
            (self.driver.delete_snapshot if record is snapshot else
             self.driver.delete_volume)(record)
        self.assertEqual([], self.sim.array.luns())
