"""State files only inform: damaged or shared, nova-compute still works.

Real nova-compute start (``init_host``) against the HTTPS simulator, and
``nova-dpm-status`` reading what it wrote.
"""

import io
import os

import fixtures

from nova_dpm.cmd import status
from nova_dpm.hmc import connections
from nova_dpm.virt.dpm import wwpn_store
from tests.functional.virt import driver_base

DAMAGED = [b'{"version": 1, "connections": {"nova-compute:compu',
           b'\x00\x17garbage\xff', b'\xff\xfe{\x00}\x00', b'[]']


class TestStateFiles(driver_base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level='WARNING'))
        self.driver.cleanup_host(self.host)

    def set_aside(self):
        return sorted(n for n in os.listdir(self.state_path)
                      if '.damaged-' in n)

    def status(self):
        out = io.StringIO()
        code = status.show_state(self.state_path, False, out)
        return code, out.getvalue()

    def test_nova_compute_starts_with_a_damaged_status_file(self):
        path = connections.state_file(self.state_path)
        for number, content in enumerate(DAMAGED, 1):
            with open(path, 'wb') as f:
                f.write(content)
            code, text = self.status()
            self.assertEqual((1, 1), (code, text.count('\n')), text)
            driver = self.make_driver()
            self.assertEqual([], driver.list_instances())
            self.assertEqual(number, len(self.set_aside()))
            self.assertIn('HMC connection status file %s cannot be used'
                          % path, self.log.output)
            code, text = self.status()
            self.assertEqual(0, code, text)
            self.assertIn('nova-compute:%s: connected' % self.host, text)
            driver.cleanup_host(self.host)

    def test_two_services_sharing_a_state_path_both_show(self):
        first = self.make_driver()
        self.configure('compute-2')
        second = self.make_driver()
        first.list_instances()
        second.list_instances()
        code, text = self.status()
        self.assertEqual(0, code, text)
        self.assertIn('nova-compute:compute-1: connected', text)
        self.assertIn('nova-compute:compute-2: connected', text)
        second.cleanup_host('compute-2')
        code, text = self.status()
        self.assertEqual(1, code)
        self.assertIn('nova-compute:compute-1: connected', text)
        self.assertIn('nova-compute:compute-2: idle', text)

    def test_damaged_storage_state_does_not_stop_destroy(self):
        driver = self.make_driver()
        self.driver = driver
        instance = self.instance()
        driver.get_volume_connector(instance)   # as Nova does first
        self.spawn(instance)
        path = os.path.join(self.state_path, wwpn_store.FILE_NAME)
        with open(path, 'rb') as f:
            kept = f.read()
        with open(path, 'wb') as f:
            f.write(kept[:len(kept) // 2])
        driver.destroy(None, instance, None)
        self.assertEqual([], self.sim.resources()['partitions'])
        aside = [n for n in self.set_aside()
                 if n.startswith(wwpn_store.FILE_NAME)]
        self.assertEqual(1, len(aside))
        with open(os.path.join(self.state_path, aside[0]), 'rb') as f:
            self.assertEqual(kept[:len(kept) // 2], f.read())
        self.assertIn('DPM storage state file %s cannot be used' % path,
                      self.log.output)
        # Removing the storage group whatever the file says (the HMC is
        # the source of truth) belongs to storage.py's destroy.
