"""The mini-cloud's storage array client against a real simulated array.

``minicloud.san`` (all that talks to the array) runs against an
HMCSimulator with ``san=True`` over its HTTP control API. The thin Cinder
subclass on top of it is tested in tools/minicloud/minicloud_tests, in a
process without Nova (``tox -e tempest`` runs them).
"""

from minicloud import san
from minicloud_tests import base
from nova_dpm.simulator import HMCSimulator


class ArrayVolumesTest(base.ArrayCase):

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
        wwpns = [w.lower() for w in base.HOST_WWPNS]
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

        self.volumes.disconnect(volume, self.connector(base.HOST_WWPNS[:1]))
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
