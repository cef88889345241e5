"""A ``dpm`` mechanism driver initialized from an ml2_conf.ini snippet."""

import os

import fixtures
from oslo_config import cfg
import testtools

from nova_dpm.neutron import mech_dpm


class DriverTestCase(testtools.TestCase):

    def driver(self, ml2_dpm=''):
        """A driver initialized as neutron-server does it."""
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'ml2_conf.ini')
        with open(path, 'w') as f:
            f.write('[ml2]\nmechanism_drivers = dpm\n[ml2_dpm]\n%s\n'
                    % ml2_dpm)
        conf = cfg.ConfigOpts()
        conf(['--config-file', path], project='neutron',
             default_config_files=[])
        driver = mech_dpm.DpmMechanismDriver(conf)
        driver.initialize()
        return driver
