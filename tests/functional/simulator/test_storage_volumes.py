# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""FCP storage volumes, fulfilment and the built-in inventories."""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import fixtures
import testtools
import zhmcclient

from nova_dpm.simulator import HMCSimulator
from nova_dpm.simulator import inventory
from tests.functional.simulator import base
from tests.functional.simulator import test_rules

TARGET_WWPN = test_rules.TARGET_WWPN
LUN = test_rules.LUN
UUID = re.compile(r'^[0-9A-F]{32}$')


class VolumeTest(test_rules.RuleTestCase):

    def setUp(self):
        super(VolumeTest, self).setUp()
        self.group_obj = self.group(volumes=[
            {'name': 'boot', 'size': 20, 'usage': 'boot'},
            {'name': 'data', 'size': 5}])
        found = {v.name: v for v in self.group_obj.storage_volumes.list()}
        self.boot, self.data = found['boot'], found['data']

    def props(self, resource):
        resource.pull_full_properties()
        return dict(resource.properties)

    def group_state(self):
        return self.props(self.group_obj)['fulfillment-state']

    def test_volumes_are_modelled_as_the_hmc_does(self):
        boot = self.props(self.boot)
        self.assertEqual(('boot', 20.0, 20.0, 'pending', None, []),
                         (boot['usage'], boot['size'], boot['active-size'],
                          boot['fulfillment-state'], boot['uuid'],
                          boot['paths']))
        self.assertEqual('data', self.props(self.data)['usage'])
        self.assertEqual(sorted([self.boot.uri, self.data.uri]),
                         sorted(self.props(self.group_obj)
                                ['storage-volume-uris']))
        self.assertEqual('pending', self.group_state())

    def test_fulfilment_completes_after_the_delay_with_paths(self):
        self.sim.set_fulfillment_delay(0.2)
        self.partition.attach_storage_group(self.group_obj)
        self.boot.indicate_fulfillment_fcp(TARGET_WWPN.upper(), LUN,
                                           self.fcp_port())
        self.assertEqual('pending', self.props(self.boot)
                         ['fulfillment-state'])
        time.sleep(0.25)
        boot = self.props(self.boot)
        self.assertEqual('complete', boot['fulfillment-state'])
        self.assertRegex(boot['uuid'], UUID)
        devices = set()
        for vsr in self.group_obj.virtual_storage_resources.list():
            vsr.pull_full_properties()
            devices.add(vsr.get_property('device-number'))
        self.assertEqual(2, len(boot['paths']))
        for path in boot['paths']:
            self.assertEqual((self.partition.uri, TARGET_WWPN, LUN),
                             (path['partition-uri'],
                              path['target-world-wide-port-name'],
                              path['logical-unit-number']))
        self.assertEqual(devices, {p['device-number'] for p in boot['paths']})
        self.assertEqual('pending', self.group_state())
        self.sim.set_fulfillment_delay(0)
        self.data.indicate_fulfillment_fcp(TARGET_WWPN, '2', self.fcp_port())
        self.assertEqual('complete', self.group_state())
        self.assertEqual(0, self.sim.stats()['rule_violations'])

    def test_paths_follow_attachments(self):
        self.sim.set_fulfillment_delay(0)
        self.boot.indicate_fulfillment_fcp(TARGET_WWPN, LUN, self.fcp_port())
        self.assertEqual([], self.props(self.boot)['paths'])
        self.partition.attach_storage_group(self.group_obj)
        self.assertEqual(2, len(self.props(self.boot)['paths']))
        self.partition.detach_storage_group(self.group_obj)
        self.assertEqual([], self.props(self.boot)['paths'])

    def test_discovery_completes_pending_fulfilments(self):
        self.sim.set_fulfillment_delay(60)
        self.boot.indicate_fulfillment_fcp(TARGET_WWPN, LUN, self.fcp_port())
        job = self.group_obj.discover_fcp(wait_for_completion=False)
        self.wait_for_job(self.client.session, job.uri)
        self.assertEqual('complete',
                         self.props(self.boot)['fulfillment-state'])

    def test_attached_partitions_and_leak_counts(self):
        self.assertEqual([], self.group_obj.list_attached_partitions())
        self.partition.attach_storage_group(self.group_obj)
        self.assertEqual(
            ['part-1'], [p.name for p in
                         self.group_obj.list_attached_partitions()])
        self.assertEqual([], self.group_obj.list_attached_partitions(
            status='active'))
        self.assertEqual(2, self.sim.resources()['storage_volumes'])

    def test_volumes_are_deleted_through_modify(self):
        self.sim.set_fulfillment_delay(0)
        self.boot.indicate_fulfillment_fcp(TARGET_WWPN, LUN, self.fcp_port())
        self.data.delete()
        self.assertEqual([self.boot.uri], self.props(self.group_obj)
                         ['storage-volume-uris'])
        self.assertEqual('complete', self.group_state())
        self.boot.update_properties({'description': 'root disk'})
        self.assertEqual('root disk', self.props(self.boot)['description'])
        self.boot.delete()
        self.group_obj.delete()
        self.assertEqual([], self.sim.resources()['storage_groups'])


class ControlTest(test_rules.RuleTestCase):

    control_port = 0

    def _post(self, path, body):
        request = urllib.request.Request(
            self.sim.control_url + path, data=json.dumps(body).encode(),
            method='POST')
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def test_fulfilment_delay_and_violations_over_http(self):
        self.assertEqual(200, self._post('/storage/fulfillment-delay',
                                         {'seconds': 0}))
        self.assertEqual(400, self._post('/storage/fulfillment-delay',
                                         {'seconds': -1}))
        self.assertRaises(zhmcclient.HTTPError,
                          self.partition.update_properties,
                          {'status': 'active'})
        with urllib.request.urlopen(self.sim.control_url + '/stats',
                                    timeout=5) as response:
            stats = json.load(response)
        self.assertEqual(1, stats['rule_violations'])
        self.assertEqual({'partition-update-field': 1},
                         stats['rule_violations_by_rule'])


class InventoryTest(testtools.TestCase):

    def test_each_built_in_inventory_has_its_fixed_cpc(self):
        for name in inventory.INVENTORIES:
            with HMCSimulator(inventory=name) as sim:
                self.assertEqual(inventory.MACHINES[name].cpc_oid,
                                 sim.cpc_object_id)
                self.assertEqual(name, sim.info()['inventory'])
        self.assertEqual('z16', inventory.DEFAULT_INVENTORY)
        self.assertEqual(inventory.DEFAULT_CPC_OID,
                         inventory.MACHINES['z16'].cpc_oid)

    def test_command_line_selects_an_inventory_by_name(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        env = dict(os.environ, PYTHONPATH=os.getcwd())
        cli = [sys.executable, '-m', 'nova_dpm.simulator.cli']
        result = subprocess.run(cli + ['--inventory', 'z99'],
                                capture_output=True, text=True, timeout=30,
                                env=env)
        self.assertEqual(1, result.returncode)
        self.assertIn('z16, z17, z13', result.stderr.strip())
        process = subprocess.Popen(
            cli + ['--port', '0', '--inventory', 'z17', '--state-dir',
                   os.path.join(tmp, 'state'), '--fulfillment-delay', '0'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)
        self.addCleanup(process.communicate, timeout=10)
        self.addCleanup(process.terminate)
        output = base.read_banner(process)
        self.assertIn('Inventory: z17', output)
        self.assertIn(inventory.MACHINES['z17'].cpc_oid, output)
