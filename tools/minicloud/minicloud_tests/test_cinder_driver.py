"""The mini-cloud's Cinder side with Cinder itself: driver and query filters.

Runs only where Cinder is installed (``tox -e tempest``), in a process
without Nova (see ``__init__``); a missing Cinder fails here instead of
skipping, so the tempest run cannot pass with these tests unrun.
"""

import json

from cinder.api import common as api_common
from cinder import exception
from cinder.volume import configuration
from cinder.volume import driver
import fixtures
from oslo_config import cfg
import testtools

from minicloud import cinder as minicloud_cinder
from minicloud import cinder_driver
from minicloud import configs
from minicloud import san
from minicloud_tests import base


class QueryFiltersTest(testtools.TestCase):
    """cinder-api reads the filters file the run's cinder.conf names."""

    def test_nova_may_list_a_servers_attachments_by_instance_id(self):
        etc = self.useFixture(fixtures.TempDir()).path
        copy = configs.copy_shipped('cinder', minicloud_cinder.FILTERS_FILE,
                                    etc)
        conf = minicloud_cinder.config(
            'mysql+pymysql://db/cinder', configs.Endpoints(1, 2, 3, 4, 5, 6),
            'pw', 'rabbit://', '/state', '/paste', copy,
            'http://127.0.0.1:4711')
        path = conf['DEFAULT']['resource_query_filters_file']
        with open(path) as f:
            self.assertIn('instance_id', json.load(f)['attachment'])
        # What cinder-api allows is what it loaded from that file.
        self.useFixture(fixtures.MonkeyPatch(
            'cinder.api.common._FILTERS_COLLECTION', None))
        cfg.CONF.set_override('resource_query_filters_file', path)
        self.addCleanup(cfg.CONF.clear_override,
                        'resource_query_filters_file')
        self.assertIn('instance_id', api_common.get_enabled_resource_filters(
            'attachment')['attachment'])


class CinderDriverTest(base.ArrayCase):
    """The Cinder subclass over the array client, through Cinder's API."""

    def setUp(self):
        super(CinderDriverTest, self).setUp()
        self.driver = cinder_driver.SimulatedSanDriver(
            configuration=configuration.Configuration(
                driver.volume_opts, config_group='hmc-sim-san'))
        cfg.CONF.set_override('hmc_simulator_control_url',
                              self.sim.control_url, group='hmc-sim-san')
        self.addCleanup(cfg.CONF.clear_override,
                        'hmc_simulator_control_url', group='hmc-sim-san')
        self.driver.do_setup(None)

    def test_cinder_drives_the_array_through_the_driver(self):
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
