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

"""The FCP storage array behind the simulated HMC (``san=True``)."""

import json
import os
import subprocess
import urllib.request

import fixtures
import testtools

from nova_dpm.simulator import san
from tests.functional.simulator import base
from tests.functional.simulator import test_control_cli
from tests.functional.simulator import test_rules

FOREIGN_WWPN = 'c05076ffffffff00'


class SanTestCase(test_rules.RuleTestCase):
    """A partition with an attached group (a 20 GiB boot volume)."""

    san = True
    control_port = 0

    def setUp(self):
        super(SanTestCase, self).setUp()
        self.array = self.sim.array
        self.target = self.array.target_ports()[0]
        self.sim.set_fulfillment_delay(0)
        self.group_obj = self.group(volumes=[
            {'name': 'boot', 'size': 20, 'usage': 'boot'}])
        self.boot = self.group_obj.storage_volumes.list()[0]
        self.partition.attach_storage_group(self.group_obj)

    def vsrs(self):
        found = []
        for vsr in self.group_obj.virtual_storage_resources.list():
            vsr.pull_full_properties()
            found.append(dict(vsr.properties))
        return found

    def initiator_on(self, port):
        return [v['world-wide-port-name'] for v in self.vsrs()
                if v['adapter-port-uri'] == port.uri][0]

    def fulfil(self, lun, target=None, port=None):
        self.boot.indicate_fulfillment_fcp(
            target or self.target, '%016x' % lun, port or self.fcp_port())

    def boot_volume(self):
        self.boot.pull_full_properties()
        return dict(self.boot.properties)

    def other_fcp_port(self):
        adapter = self.cpc_obj.adapters.resource_object(
            '/api/adapters/' + self.machine.fcp_adapter_oids[1])
        return adapter.ports.list()[0]


class FulfilmentTest(SanTestCase):

    def test_a_mapped_lun_completes_with_the_paths_that_see_it(self):
        lun = self.array.create_lun(30)
        initiator = self.initiator_on(self.fcp_port())
        self.array.map_lun(lun['lun'], initiator, self.target)

        self.fulfil(lun['lun'])

        boot = self.boot_volume()
        self.assertEqual(('complete', lun['uuid'], 30.0, 20.0),
                         (boot['fulfillment-state'], boot['uuid'],
                          boot['active-size'], boot['size']))
        seeing = [v for v in self.vsrs()
                  if v['world-wide-port-name'] == initiator][0]
        self.assertEqual([{'partition-uri': self.partition.uri,
                           'device-number': seeing['device-number'],
                           'target-world-wide-port-name': self.target,
                           'logical-unit-number': '%016x' % lun['lun']}],
                         boot['paths'])
        self.group_obj.pull_full_properties()
        self.assertEqual('complete',
                         self.group_obj.get_property('fulfillment-state'))
        self.partition.update_properties({
            'boot-device': 'storage-volume',
            'boot-storage-volume': self.boot.uri})
        self.assertEqual(0, self.sim.stats()['rule_violations'])

    def test_a_lun_mapped_to_another_initiator_stays_pending(self):
        lun = self.array.create_lun(20)
        self.array.map_lun(lun['lun'], FOREIGN_WWPN, self.target)

        self.fulfil(lun['lun'])

        boot = self.boot_volume()
        self.assertEqual(('pending', None, []), (
            boot['fulfillment-state'], boot['uuid'], boot['paths']))
        self.assertRefused('boot-storage-volume-fulfilled',
                           self.partition.update_properties,
                           {'boot-device': 'storage-volume',
                            'boot-storage-volume': self.boot.uri})

    def test_discovery_finds_the_lun_once_it_is_mapped(self):
        lun = self.array.create_lun(20)
        self.fulfil(lun['lun'])
        self.assertEqual('pending', self.boot_volume()['fulfillment-state'])
        self.array.map_lun(lun['lun'], self.initiator_on(self.fcp_port()),
                           self.target)

        job = self.group_obj.discover_fcp(wait_for_completion=False)
        self.wait_for_job(self.client.session, job.uri)

        self.assertEqual('complete', self.boot_volume()['fulfillment-state'])

    def test_a_target_port_the_array_does_not_have_stays_pending(self):
        lun = self.array.create_lun(20)
        initiator = self.initiator_on(self.fcp_port())
        self.array.map_lun(lun['lun'], initiator, self.target)

        self.fulfil(lun['lun'], target=test_rules.TARGET_WWPN)

        self.assertEqual('pending', self.boot_volume()['fulfillment-state'])
        exc = self.assertRaises(san.ArrayError, self.array.map_lun,
                                lun['lun'], initiator,
                                test_rules.TARGET_WWPN)
        self.assertEqual(404, exc.status)

    def test_the_named_host_port_must_be_the_mapped_initiator_s(self):
        lun = self.array.create_lun(20)
        self.array.map_lun(lun['lun'], self.initiator_on(self.fcp_port()),
                           self.target)

        self.fulfil(lun['lun'], port=self.other_fcp_port())

        self.assertEqual('pending', self.boot_volume()['fulfillment-state'])

    def test_a_missing_or_smaller_lun_stays_pending(self):
        small = self.array.create_lun(10)
        self.array.map_lun(small['lun'], self.initiator_on(self.fcp_port()),
                           self.target)
        self.fulfil(small['lun'])
        self.assertEqual('pending', self.boot_volume()['fulfillment-state'])
        self.fulfil(small['lun'] + 1)
        self.assertEqual('pending', self.boot_volume()['fulfillment-state'])

    def test_paths_follow_the_mapping_after_a_reattach(self):
        lun = self.array.create_lun(20)
        for vsr in self.vsrs():
            self.array.map_lun(lun['lun'], vsr['world-wide-port-name'],
                               self.target)
        self.fulfil(lun['lun'])
        self.assertEqual(2, len(self.boot_volume()['paths']))
        self.array.unmap_lun(lun['lun'], self.initiator_on(
            self.other_fcp_port()))
        self.partition.detach_storage_group(self.group_obj)
        self.partition.attach_storage_group(self.group_obj)
        self.assertEqual(1, len(self.boot_volume()['paths']))


class ArrayTest(test_rules.RuleTestCase):
    """The array's own rules (Python API)."""

    san = True

    def setUp(self):
        super(ArrayTest, self).setUp()
        self.array = self.sim.array
        self.target = self.array.target_ports()[0]

    def test_luns_have_sizes_uuids_and_numbers_never_reused(self):
        first = self.array.create_lun(5, 'a')
        second = self.array.create_lun(7)
        self.assertRegex(first['uuid'], r'^[0-9A-F]{32}$')
        self.assertNotEqual(first['uuid'], second['uuid'])
        self.array.delete_lun(second['lun'])
        third = self.array.create_lun(1)
        self.assertEqual([first['lun'], third['lun']],
                         [lun['lun'] for lun in self.array.luns()])
        self.assertGreater(third['lun'], second['lun'])
        self.assertEqual(10240 - 6, self.array.capacity()['free_gib'])

    def test_extend_grows_and_never_shrinks(self):
        lun = self.array.create_lun(5)['lun']
        self.assertEqual(8.0, self.array.extend_lun(lun, 8)['size'])
        exc = self.assertRaises(san.ArrayError, self.array.extend_lun, lun, 4)
        self.assertEqual(409, exc.status)
        exc = self.assertRaises(san.ArrayError, self.array.create_lun, 99999)
        self.assertEqual(409, exc.status)

    def test_a_mapped_lun_cannot_be_deleted(self):
        lun = self.array.create_lun(5)['lun']
        self.array.map_lun(lun, FOREIGN_WWPN.upper(), self.target)
        self.array.map_lun(lun, FOREIGN_WWPN, self.target)
        self.assertEqual([{'lun': lun, 'initiator': FOREIGN_WWPN,
                           'target_port': self.target}],
                         self.array.mappings())
        exc = self.assertRaises(san.ArrayError, self.array.delete_lun, lun)
        self.assertEqual(409, exc.status)
        self.assertIn(FOREIGN_WWPN, str(exc))
        self.assertEqual(1, self.array.unmap_lun(lun, FOREIGN_WWPN))
        self.assertEqual(0, self.array.unmap_lun(lun, FOREIGN_WWPN))
        self.array.delete_lun(lun)
        self.assertEqual([], self.array.luns())

    def test_bad_input_is_named(self):
        exc = self.assertRaises(san.ArrayError, self.array.map_lun, 1,
                                FOREIGN_WWPN, self.target)
        self.assertEqual((404, 'the array has no LUN 1'),
                         (exc.status, str(exc)))
        lun = self.array.create_lun(1)['lun']
        exc = self.assertRaises(san.ArrayError, self.array.map_lun, lun,
                                'c0:50', self.target)
        self.assertIn('initiator WWPN must be 16 hexadecimal digits',
                      str(exc))
        for size in (0, -1, True, '5'):
            self.assertEqual(400, self.assertRaises(
                san.ArrayError, self.array.create_lun, size).status)


class ControlCase(test_rules.RuleTestCase):

    control_port = 0

    # The control API's JSON call (status, answer), as its own tests make.
    call = test_control_cli.ControlAPITest._call


class ControlTest(ControlCase):
    """The array over the control API, as Cinder's driver uses it."""

    san = True

    def test_luns_and_mappings_over_http(self):
        status, lun = self.call('POST', '/san/luns', {'size': 3})
        self.assertEqual(200, status)
        target = self.sim.array.target_ports()[1]
        self.assertEqual((200, dict(lun, size=4.0)), self.call(
            'POST', '/san/luns/extend', {'lun': lun['lun'], 'size': 4}))
        self.assertEqual(200, self.call('POST', '/san/map', {
            'lun': lun['lun'], 'initiator': FOREIGN_WWPN,
            'target_port': target})[0])
        status, state = self.call('GET', '/san')
        self.assertEqual(
            (self.sim.array.target_ports(), [dict(lun, size=4.0)],
             [{'lun': lun['lun'], 'initiator': FOREIGN_WWPN,
               'target_port': target}]),
            (state['target_ports'], state['luns'], state['mappings']))
        status, answer = self.call('POST', '/san/luns/delete',
                                   {'lun': lun['lun']})
        self.assertEqual(409, status)
        self.assertIn('still mapped', answer['error'])
        self.assertEqual((200, {'unmapped': 1}), self.call(
            'POST', '/san/unmap', {'lun': lun['lun']}))
        self.assertEqual((200, {'ok': True}), self.call(
            'POST', '/san/luns/delete', {'lun': lun['lun']}))
        self.assertEqual(400, self.call('POST', '/san/luns', {})[0])
        self.assertEqual(404, self.call('POST', '/san/luns/delete',
                                        {'lun': lun['lun']})[0])


class NoArrayTest(ControlCase):

    def test_without_an_array_the_san_routes_say_so(self):
        status, answer = self.call('GET', '/san')
        self.assertEqual(409, status)
        self.assertIn('--san', answer['error'])


class CommandLineTest(testtools.TestCase):

    def test_san_flag_puts_an_array_behind_the_hmc(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        process = subprocess.Popen(
            test_control_cli.CLI + ['--port', '0', '--san', '--state-dir',
                                    os.path.join(tmp, 'state')],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONPATH=os.getcwd()))
        self.addCleanup(process.communicate, timeout=10)
        self.addCleanup(process.terminate)
        output = base.read_banner(process)
        ports = ', '.join(san.DEFAULT_TARGET_PORTS)
        self.assertIn('Storage array: target ports %s' % ports, output)
        with open(os.path.join(tmp, 'state', 'simulator.json')) as f:
            info = json.load(f)
        self.assertTrue(info['san'])
        with urllib.request.urlopen(info['control_url'] + '/san',
                                    timeout=5) as response:
            self.assertEqual(list(san.DEFAULT_TARGET_PORTS),
                             json.load(response)['target_ports'])
