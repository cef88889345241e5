"""A simulator with its FCP storage array, for the Cinder and array tests.

Shared by tests/unit/minicloud (``minicloud.san`` without Cinder) and this
package (the Cinder driver): imports neither Nova nor Cinder.
"""

import fixtures
import testtools

from minicloud import san
from nova_dpm.simulator import HMCSimulator

# A proxy in the environment (tox passes them on) must not divert calls to
# the loopback control API: tests point them at a dead port.
PROXY_VARIABLES = ('http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY')
HOST_WWPNS = ['C05076AAAAAA0001', 'c05076aaaaaa0002']


class ArrayCase(testtools.TestCase):
    """A simulator with an array, its control API client and volumes."""

    def setUp(self):
        super(ArrayCase, self).setUp()
        for name in PROXY_VARIABLES:
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
