"""nova-compute finds DPMDriver the way it finds in-tree drivers."""

import importlib.metadata
import json
import os

import fixtures
from nova import test
from nova.virt import driver as virt_driver

from nova_dpm.simulator import HMCSimulator
from nova_dpm.virt.dpm import driver as dpm_driver


class _VirtAPI(object):
    """The compute manager's virtapi; loading does not use it."""


class TestDriverLoading(test.NoDBTestCase):

    def test_shim_is_installed_inside_novas_own_virt_package(self):
        import nova.virt
        import nova.virt.dpm as shim
        self.assertEqual(
            os.path.dirname(nova.virt.__file__),
            os.path.dirname(os.path.dirname(shim.__file__)),
            'nova.virt.dpm must come from nova/virt/dpm inside the nova '
            'installation (regular install), not from a path hack')
        dist = importlib.metadata.distribution('nova-dpm')
        files = {str(f) for f in dist.files}
        self.assertIn('nova/virt/dpm/__init__.py', files)
        self.assertNotIn('nova/__init__.py', files)
        self.assertNotIn('nova/virt/__init__.py', files)

    def test_install_is_not_editable(self):
        dist = importlib.metadata.distribution('nova-dpm')
        direct_url = dist.read_text('direct_url.json')
        if direct_url:
            info = json.loads(direct_url).get('dir_info', {})
            self.assertFalse(info.get('editable'),
                             'nova-dpm is installed editable; the shim is '
                             'then not inside nova/virt')

    def test_load_compute_driver_returns_dpm_driver_without_hmc_io(self):
        with HMCSimulator(job_duration=0.1) as sim:
            self.flags(group='dpm', hmc=[sim.host], hmc_port=sim.port,
                       hmc_username=sim.userid, hmc_password=sim.password,
                       hmc_ca_file=sim.ca_file,
                       cpc_object_id=sim.cpc_object_id,
                       max_processors=4, max_memory=8192)
            self.flags(state_path=self.useFixture(fixtures.TempDir()).path)
            sim.reset_stats()
            drv = virt_driver.load_compute_driver(_VirtAPI(),
                                                  'dpm.DPMDriver')
            self.assertIsInstance(drv, dpm_driver.DPMDriver)
            self.assertEqual(0, sim.stats()['total'],
                             'constructing the driver must not talk to '
                             'the HMC')
