"""The devstack plugin's knowledge of the simulator agrees with it."""

import os
import re

import testtools

from nova_dpm.simulator import inventory

PLUGIN = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'devstack',
                      'plugin.sh')


class TestSimulatorNetworkAdapters(testtools.TestCase):

    def test_plugin_maps_each_built_in_kind_to_its_network_adapter(self):
        with open(PLUGIN) as f:
            source = f.read()
        function = source[source.index('function _nova_dpm_sim_network_'
                                       'adapter'):]
        function = function[:function.index('\n}\n')]
        found = dict(re.findall(r'^\s*(\w+)\) echo ([0-9a-f-]+) ;;$',
                                function, re.M))
        self.assertEqual(
            {name: machine.nic_adapter_oid
             for name, machine in inventory.MACHINES.items()}, found)
        self.assertIn('"${DPM_HMC_SIM_INVENTORY:-%s}"'
                      % inventory.DEFAULT_INVENTORY, function)
