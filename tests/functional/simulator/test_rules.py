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

"""Every HMC rule of the simulator, broken on purpose over HTTPS.

One test per rule id (``test_<rule id with underscores>``): the request
breaks the rule through a real zhmcclient, gets the status and reason that
RULES.rst lists, and is counted once in ``rule_violations``.
"""

import os
import re
import time

import testtools
import zhmcclient

from nova_dpm.simulator import inventory
from nova_dpm.simulator import rules
from tests.functional.simulator import base

VOLUME_URI = '/api/storage-groups/%s/storage-volumes/%s'
TARGET_WWPN = '500507680b21ac00'
LUN = '0001000000000000'


def partition_body(**extra):
    """A Create Partition body for 'p2', plus ``extra`` fields."""
    body = {'name': 'p2', 'initial-memory': 1024, 'maximum-memory': 1024,
            'ifl-processors': 1}
    body.update(extra)
    return body


class RuleTestCase(base.SimulatorTestCase):
    """A simulator of one inventory, a client and a stopped partition."""

    inventory = 'z16'

    def setUp(self):
        super(RuleTestCase, self).setUp()
        self.client = zhmcclient.Client(self.session())
        self.cpc_obj = self.cpc(self.client.session)
        self.partition = self.create_partition(self.cpc_obj)
        self.machine = inventory.MACHINES[self.inventory]

    def assertRefused(self, rule_id, call, *args, **kwargs):
        """``call`` raises the rule's HTTPError and is counted once."""
        before = self.violations(rule_id)
        total = self.sim.stats()['rule_violations']
        exc = self.assertRaises(zhmcclient.HTTPError, call, *args, **kwargs)
        rule = rules.RULES[rule_id]
        self.assertEqual(rule.status, exc.http_status, exc.message)
        if rule.reason is not None:
            self.assertEqual(rule.reason, exc.reason, exc.message)
        self.assertEqual(before + 1, self.violations(rule_id))
        self.assertEqual(total + 1, self.sim.stats()['rule_violations'])
        return exc

    def violations(self, rule_id):
        return self.sim.stats()['rule_violations_by_rule'].get(rule_id, 0)

    def start(self, partition=None, wait=True):
        job = (partition or self.partition).start(wait_for_completion=False)
        if wait:
            self.wait_for_job(self.client.session, job.uri)
        return job

    def starting(self):
        """The partition, kept in 'starting' by a long start job."""
        self.sim.set_job_duration(30, operation='start')
        self.start(wait=False)
        self.assertEqual('starting', self.status(self.partition))

    def group(self, name='sg-1', shared=False, volumes=()):
        return self.client.consoles.console.storage_groups.create({
            'name': name, 'cpc-uri': self.cpc_obj.uri, 'type': 'fcp',
            'shared': shared, 'connectivity': 2,
            'storage-volumes': [dict(v, operation='create')
                                for v in volumes]})

    def fcp_port(self):
        adapter = self.cpc_obj.adapters.resource_object(
            '/api/adapters/' + self.machine.fcp_adapter_oids[0])
        return adapter.ports.list()[0]

    def network_port(self, adapter_oid):
        adapter = self.cpc_obj.adapters.resource_object(
            '/api/adapters/' + adapter_oid)
        return adapter.ports.list()[0]


class TableTest(testtools.TestCase):
    """RULES.rst and rules.RULES agree; every rule has a test here."""

    def rows(self):
        path = os.path.join(os.path.dirname(rules.__file__), 'RULES.rst')
        with open(path) as f:
            text = f.read()
        rows = {}
        for row in re.split(r'\n   \* - ', text)[1:]:
            cells = [c.strip() for c in re.split(r'\n     - ', row)]
            match = re.match(r'^``([a-z0-9-]+)``$', cells[0])
            if match:
                rows[match.group(1)] = cells
        return rows

    def test_table_lists_every_rule_with_its_answer(self):
        rows = self.rows()
        self.assertEqual(list(rules.RULES), list(rows))
        for rule_id, rule in rules.RULES.items():
            answer, source = rows[rule_id][1], rows[rule_id][3]
            expected = ('%d,%d' % (rule.status, rule.reason)
                        if rule.reason is not None else '%d/' % rule.status)
            self.assertTrue(answer.startswith(expected), rule_id)
            self.assertEqual(rule.assumed, 'assumed' in source, rule_id)

    def test_every_rule_has_a_test_that_breaks_it(self):
        names = set()
        for case in (GeneralRulesTest, PartitionRulesTest,
                     StatusRulesTest, NetworkRulesTest,
                     StorageManagementRulesTest, HbaCpcRulesTest,
                     NetworkExpressRulesTest):
            names.update(n for n in dir(case) if n.startswith('test_'))
        for rule_id in rules.RULES:
            self.assertIn('test_' + rule_id.replace('-', '_'), names)


class GeneralRulesTest(RuleTestCase):

    def test_request_required_field(self):
        self.assertRefused(
            'request-required-field', self.client.session.post,
            self.partition.uri + '/operations/attach-storage-group', body={})

    def test_mock_refusal(self):
        self.assertRefused('mock-refusal', self.client.session.get,
                           self.partition.uri + '?no-such-parameter=1')

    def test_submit_requests_nested(self):
        before = self.violations('submit-requests-nested')
        answer = self.client.session.post(
            '/api/services/aggregation/submit', body={'requests': [
                {'id': 1, 'method': 'DELETE',
                 'uri': '/api/sessions/this-session'}]})
        self.assertEqual(400, answer[0]['status'])
        self.assertEqual(before + 1, self.violations('submit-requests-nested'))

    def test_job_not_ended(self):
        self.sim.set_job_duration(30, operation='start')
        job = self.start(wait=False)
        self.assertRefused('job-not-ended', self.client.session.delete,
                           job.uri)

    def test_a_green_run_counts_nothing(self):
        self.start()
        self.partition.stop(wait_for_completion=False)
        stats = self.sim.stats()
        self.assertEqual(0, stats['rule_violations'])
        self.assertEqual({}, stats['rule_violations_by_rule'])
        self.sim.reset_stats()
        self.assertEqual(0, self.sim.stats()['rule_violations'])


class PartitionRulesTest(RuleTestCase):

    def test_partition_create_field(self):
        self.assertRefused('partition-create-field',
                           self.cpc_obj.partitions.create,
                           partition_body(**{
                               'boot-os-specific-parameters': 'x'}))

    def test_partition_create_boot_storage_volume(self):
        self.assertRefused('partition-create-boot-storage-volume',
                           self.cpc_obj.partitions.create,
                           partition_body(**{
                               'boot-storage-volume': VOLUME_URI % ('a',
                                                                    'b')}))

    def test_partition_update_field(self):
        self.assertRefused('partition-update-field',
                           self.partition.update_properties,
                           {'hba-uris': []})

    def test_partition_update_while_active(self):
        self.partition.update_properties({'maximum-memory': 8192})
        self.start()
        self.assertRefused('partition-update-while-active',
                           self.partition.update_properties,
                           {'maximum-memory': 16384})
        self.partition.update_properties({'initial-memory': 2048,
                                          'description': 'running'})

    def test_partition_name_unique(self):
        self.assertRefused('partition-name-unique', self.create_partition,
                           self.cpc_obj, 'part-1')

    def test_boot_os_specific_parameters_length(self):
        self.partition.update_properties(
            {'boot-os-specific-parameters': 'x' * 256})
        self.assertRefused('boot-os-specific-parameters-length',
                           self.partition.update_properties,
                           {'boot-os-specific-parameters': 'x' * 257})


class StatusRulesTest(RuleTestCase):

    def test_partition_start_status(self):
        self.start()
        self.assertRefused('partition-start-status', self.start)

    def test_partition_stop_status(self):
        self.assertRefused('partition-stop-status', self.partition.stop,
                           wait_for_completion=False)

    def test_partition_operation_status(self):
        self.assertRefused('partition-operation-status',
                           self.partition.psw_restart,
                           wait_for_completion=False)

    def test_partition_delete_status(self):
        self.start()
        self.assertRefused('partition-delete-status', self.partition.delete)

    def test_partition_iso_status(self):
        self.starting()
        self.assertRefused('partition-iso-status',
                           self.partition.mount_iso_image, b'iso', 'a.iso',
                           'a.ins')

    def test_partition_child_transitional(self):
        self.starting()
        self.assertRefused('partition-child-transitional',
                           self.partition.nics.create, {
                               'name': 'nic-1',
                               'virtual-switch-uri': '/api/virtual-switches/'
                                                     + inventory.VSWITCH_OID})

    def test_nics_can_be_created_on_an_active_partition(self):
        self.start()
        self.partition.nics.create({
            'name': 'nic-1',
            'virtual-switch-uri': '/api/virtual-switches/' +
                                  inventory.VSWITCH_OID})
        self.assertEqual(0, self.sim.stats()['rule_violations'])


class NetworkRulesTest(RuleTestCase):

    def test_nic_osa_needs_virtual_switch(self):
        port = self.network_port(self.machine.nic_adapter_oid)
        self.assertRefused('nic-osa-needs-virtual-switch',
                           self.partition.nics.create, {
                               'name': 'nic-1',
                               'network-adapter-port-uri': port.uri})

    def test_roce_nics_are_created_by_port(self):
        port = self.network_port(self.machine.roce_adapter_oid)
        self.partition.nics.create({'name': 'nic-1',
                                    'network-adapter-port-uri': port.uri})
        self.assertEqual(1, self.sim.resources()['nics'])

    def test_nics_take_the_mac_address_given_on_create(self):
        nic = self.partition.nics.create({
            'name': 'nic-1', 'mac-address': 'fa:16:3e:01:02:03',
            'virtual-switch-uri': '/api/virtual-switches/' +
                                  self.machine.vswitch_oid})
        nic.pull_full_properties()
        self.assertEqual('fa:16:3e:01:02:03', nic.get_property('mac-address'))
        self.assertEqual(0, self.sim.stats()['rule_violations'])
        listed, = self.sim.resources()['nic_list']
        self.assertEqual(('nic-1', 'fa:16:3e:01:02:03'),
                         (listed['name'], listed['mac_address']))


class NetworkExpressRulesTest(RuleTestCase):

    inventory = 'z17'

    def test_nic_network_express(self):
        self.assertRefused('nic-network-express',
                           self.partition.nics.create, {
                               'name': 'nic-1',
                               'virtual-switch-uri': '/api/virtual-switches/'
                                                     'any'})

    def test_cpc_says_network_express_and_has_no_virtual_switches(self):
        self.assertTrue(self.cpc_obj.api_feature_enabled(
            'network-express-support'))
        self.assertEqual([], self.cpc_obj.virtual_switches.list())
        self.assertEqual(self.machine.cpc_oid, self.sim.cpc_object_id)

    def test_nics_are_created_by_network_express_port(self):
        port = self.network_port(self.machine.nic_adapter_oid)
        nic = self.partition.nics.create(
            {'name': 'nic-1', 'network-adapter-port-uri': port.uri})
        nic.pull_full_properties()
        self.assertEqual(port.uri,
                         nic.get_property('network-adapter-port-uri'))
        adapter = self.cpc_obj.adapters.resource_object(
            '/api/adapters/' + self.machine.nic_adapter_oid)
        self.assertEqual('network-express',
                         adapter.get_property('adapter-family'))


class HbaCpcRulesTest(RuleTestCase):
    """A z13-like CPC: HBAs, no storage management."""

    inventory = 'z13'

    def hba(self):
        return self.partition.hbas.create(
            {'name': 'hba-1', 'adapter-port-uri': self.fcp_port().uri})

    def test_storage_group_storage_management(self):
        self.assertRefused('storage-group-storage-management', self.group)

    def test_boot_storage_adapter_hba(self):
        self.assertRefused('boot-storage-adapter-hba',
                           self.partition.update_properties, {
                               'boot-device': 'storage-adapter',
                               'boot-storage-device': '/api/partitions/x/'
                                                      'hbas/y'})

    def test_nic_mac_address_se_version(self):
        vswitch_uri = '/api/virtual-switches/' + self.machine.vswitch_oid
        self.assertRefused('nic-mac-address-se-version',
                           self.partition.nics.create, {
                               'name': 'nic-1',
                               'mac-address': 'fa:16:3e:01:02:03',
                               'virtual-switch-uri': vswitch_uri})
        self.assertEqual(0, self.sim.resources()['nics'])

    def test_the_hmc_assigns_a_mac_address_when_none_is_given(self):
        nic = self.partition.nics.create({
            'name': 'nic-1', 'virtual-switch-uri': '/api/virtual-switches/' +
                                                   self.machine.vswitch_oid})
        nic.pull_full_properties()
        self.assertRegex(nic.get_property('mac-address'),
                         r'^02(:[0-9a-f]{2}){5}$')

    def test_boot_from_an_hba_of_the_partition_is_accepted(self):
        hba = self.hba()
        self.partition.update_properties({
            'boot-device': 'storage-adapter', 'boot-storage-device': hba.uri,
            'boot-world-wide-port-name': TARGET_WWPN,
            'boot-logical-unit-number': LUN})
        self.assertEqual(0, self.sim.stats()['rule_violations'])
        self.assertFalse(self.cpc_obj.firmware_feature_enabled(
            'dpm-storage-management'))


class StorageManagementRulesTest(RuleTestCase):
    """The default z16-like CPC: storage groups and volumes, no HBAs."""

    def setUp(self):
        super(StorageManagementRulesTest, self).setUp()
        self.sim.set_fulfillment_delay(0)

    def boot_volume(self, group):
        return group.storage_volumes.list(
            filter_args={'usage': 'boot'})[0]

    def test_hba_storage_management(self):
        self.assertRefused('hba-storage-management',
                           self.partition.hbas.create, {
                               'name': 'hba-1',
                               'adapter-port-uri': self.fcp_port().uri})

    def test_boot_storage_adapter_storage_management(self):
        self.assertRefused('boot-storage-adapter-storage-management',
                           self.partition.update_properties, {
                               'boot-device': 'storage-adapter',
                               'boot-world-wide-port-name': TARGET_WWPN,
                               'boot-logical-unit-number': LUN})

    def test_boot_storage_volume_attached(self):
        group = self.group(volumes=[{'size': 10, 'usage': 'boot'}])
        volume = self.boot_volume(group)
        volume.indicate_fulfillment_fcp(TARGET_WWPN, LUN, self.fcp_port())
        self.assertRefused('boot-storage-volume-attached',
                           self.partition.update_properties, {
                               'boot-device': 'storage-volume',
                               'boot-storage-volume': volume.uri})
        self.assertRefused('boot-storage-volume-attached',
                           self.partition.update_properties,
                           {'boot-device': 'storage-volume'})

    def test_boot_storage_volume_fulfilled(self):
        self.sim.set_fulfillment_delay(0.3)
        group = self.group(volumes=[{'size': 10, 'usage': 'boot'}])
        self.partition.attach_storage_group(group)
        volume = self.boot_volume(group)
        boot = {'boot-device': 'storage-volume',
                'boot-storage-volume': volume.uri}
        exc = self.assertRefused('boot-storage-volume-fulfilled',
                                 self.partition.update_properties, boot)
        self.assertIn('Storage volume is not fulfilled', exc.message)
        volume.indicate_fulfillment_fcp(TARGET_WWPN, LUN, self.fcp_port())
        self.assertRefused('boot-storage-volume-fulfilled',
                           self.partition.update_properties, boot)
        time.sleep(0.35)
        self.partition.update_properties(boot)
        self.start()
        self.assertEqual('active', self.status(self.partition))

    def test_partition_create_field_also_refuses_storage_volume_boot(self):
        self.assertRefused('boot-storage-volume-attached',
                           self.cpc_obj.partitions.create,
                           partition_body(**{'boot-device': 'storage-volume'}))

    def test_storage_group_delete_attached(self):
        group = self.group()
        self.partition.attach_storage_group(group)
        self.assertRefused('storage-group-delete-attached', group.delete)
        self.partition.detach_storage_group(group)
        group.delete()
        self.assertEqual([], self.sim.resources()['storage_groups'])

    def test_storage_group_attach_twice(self):
        group = self.group()
        self.partition.attach_storage_group(group)
        self.assertRefused('storage-group-attach-twice',
                           self.partition.attach_storage_group, group)

    def test_storage_group_not_attached(self):
        self.assertRefused('storage-group-not-attached',
                           self.partition.detach_storage_group, self.group())

    def test_storage_group_unshared(self):
        group = self.group(shared=False)
        self.partition.attach_storage_group(group)
        other = self.create_partition(self.cpc_obj, 'part-2')
        self.assertRefused('storage-group-unshared',
                           other.attach_storage_group, group)
        self.create_partition(self.cpc_obj, 'part-3').attach_storage_group(
            self.group('sg-shared', shared=True))

    def test_storage_group_attach_transitional(self):
        group = self.group()
        self.starting()
        self.assertRefused('storage-group-attach-transitional',
                           self.partition.attach_storage_group, group)

    def test_groups_attach_and_detach_on_an_active_partition(self):
        group = self.group()
        self.start()
        self.partition.attach_storage_group(group)
        self.partition.detach_storage_group(group)
        self.assertEqual(0, self.sim.stats()['rule_violations'])

    def test_storage_volume_field(self):
        group = self.group()
        self.assertRefused('storage-volume-field',
                           group.storage_volumes.create,
                           {'size': 10, 'uuid': '6005'})

    def test_storage_volume_value(self):
        group = self.group()
        self.assertRefused('storage-volume-value',
                           group.storage_volumes.create,
                           {'size': 10, 'usage': 'swap'})
        self.assertRefused('storage-volume-value',
                           group.storage_volumes.create, {'size': 0})

    def test_storage_volume_fulfill_value(self):
        group = self.group(volumes=[{'size': 10, 'usage': 'boot'}])
        volume = self.boot_volume(group)
        osa_port = self.network_port(self.machine.nic_adapter_oid)
        self.assertRefused('storage-volume-fulfill-value',
                           volume.indicate_fulfillment_fcp, TARGET_WWPN,
                           LUN, osa_port)
        self.assertRefused('storage-volume-fulfill-value',
                           self.client.session.post,
                           volume.uri + '/operations/fulfill-fcp-storage-'
                           'volume', body={
                               'world-wide-port-name': 'c0ffee',
                               'logical-unit-number': LUN,
                               'adapter-port-uri': self.fcp_port().uri})
