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

"""Storage-group WWPNs, bulk requests and synchronous jobs over HTTPS."""

import re

import zhmcclient

from nova_dpm.simulator import inventory
from tests.functional.simulator import base

WWPN = re.compile(r'^c05076[0-9a-f]{10}$')


class StorageGroupWWPNTest(base.SimulatorTestCase):

    def setUp(self):
        super().setUp()
        self.client = zhmcclient.Client(self.session())
        self.cpc_obj = self.cpc(self.client.session)
        self.partition = self.create_partition(self.cpc_obj)

    def group(self, name='sg-1', connectivity=2, shared=False):
        return self.client.consoles.console.storage_groups.create({
            'name': name, 'cpc-uri': self.cpc_obj.uri, 'type': 'fcp',
            'shared': shared, 'connectivity': connectivity})

    def resources_of(self, group, partition):
        found = []
        for vsr in group.virtual_storage_resources.list():
            vsr.pull_full_properties()
            if vsr.get_property('partition-uri') == partition.uri:
                found.append(dict(vsr.properties))
        return found

    def fcp_port_uris(self):
        uris = set()
        for oid in inventory.FCP_ADAPTER_OIDS:
            adapter = self.cpc_obj.adapters.resource_object(
                '/api/adapters/' + oid)
            uris.update(p.uri for p in adapter.ports.list())
        return uris

    def test_attach_gives_one_wwpn_per_adapter_port(self):
        group = self.group(connectivity=2)
        self.partition.attach_storage_group(group)
        vsrs = self.resources_of(group, self.partition)
        self.assertEqual(2, len(vsrs))
        wwpns = [v['world-wide-port-name'] for v in vsrs]
        for wwpn in wwpns:
            self.assertRegex(wwpn, WWPN)
        self.assertEqual(2, len(set(wwpns)))
        self.assertEqual(self.fcp_port_uris(),
                         {v['adapter-port-uri'] for v in vsrs})
        self.assertEqual(2, len({v['device-number'] for v in vsrs}))
        self.assertEqual(2, self.sim.resources()['virtual_storage_resources'])

    def test_connectivity_limits_the_ports(self):
        group = self.group(connectivity=1)
        self.partition.attach_storage_group(group)
        self.assertEqual(1, len(self.resources_of(group, self.partition)))

    def test_detach_removes_them_and_reattach_gives_the_same_wwpns(self):
        group = self.group()
        self.partition.attach_storage_group(group)
        first = sorted(v['world-wide-port-name']
                       for v in self.resources_of(group, self.partition))
        self.partition.detach_storage_group(group)
        self.assertEqual([], self.resources_of(group, self.partition))
        group.pull_full_properties()
        self.assertEqual([], group.get_property(
            'virtual-storage-resource-uris'))
        self.assertEqual(0, self.sim.resources()['virtual_storage_resources'])
        self.partition.attach_storage_group(group)
        again = sorted(v['world-wide-port-name']
                       for v in self.resources_of(group, self.partition))
        self.assertEqual(first, again)

    def test_partitions_sharing_a_group_get_different_wwpns(self):
        group = self.group(shared=True)
        other = self.create_partition(self.cpc_obj, name='part-2')
        self.partition.attach_storage_group(group)
        other.attach_storage_group(group)
        mine = {v['world-wide-port-name']
                for v in self.resources_of(group, self.partition)}
        theirs = {v['world-wide-port-name']
                  for v in self.resources_of(group, other)}
        self.assertEqual(2, len(mine))
        self.assertEqual(2, len(theirs))
        self.assertEqual(set(), mine & theirs)

    def test_deleting_the_partition_removes_its_resources(self):
        group = self.group()
        self.partition.attach_storage_group(group)
        self.partition.delete()
        self.assertEqual([], group.virtual_storage_resources.list())
        self.assertEqual(0, self.sim.resources()['virtual_storage_resources'])
        self.assertEqual(['sg-1'], self.sim.resources()['storage_groups'])


class BulkRequestTest(base.SimulatorTestCase):

    def test_full_property_listing_uses_submit_requests(self):
        session = self.session()
        cpc = self.cpc(session)
        partition = self.create_partition(cpc)
        group = zhmcclient.Client(session).consoles.console.storage_groups \
            .create({'name': 'sg-1', 'cpc-uri': cpc.uri, 'type': 'fcp',
                     'connectivity': 2})
        partition.attach_storage_group(group)
        self.sim.reset_stats()
        vsrs = group.virtual_storage_resources.list(full_properties=True)
        self.assertEqual(2, len(vsrs))
        for vsr in vsrs:
            self.assertRegex(vsr.get_property('world-wide-port-name'), WWPN)
        self.assertIn('POST /api/services/aggregation/submit',
                      self.sim.stats()['by_call'])

    def test_each_request_has_its_own_status(self):
        session = self.session()
        cpc = self.cpc(session)
        partition = self.create_partition(cpc)
        result = session.post('/api/services/aggregation/submit', body={
            'requests': [
                {'id': 'a', 'method': 'GET', 'uri': partition.uri},
                {'id': 'b', 'method': 'GET',
                 'uri': '/api/partitions/no-such-partition'},
                {'id': 'c', 'method': 'POST', 'uri': partition.uri,
                 'body': {'description': 'changed in bulk'}},
            ], 'threads': 2})
        by_id = {r['id']: r for r in result}
        self.assertEqual(200, by_id['a']['status'])
        self.assertEqual('part-1', by_id['a']['body']['name'])
        self.assertEqual(404, by_id['b']['status'])
        self.assertEqual(404, by_id['b']['body']['http-status'])
        self.assertEqual(204, by_id['c']['status'])
        partition.pull_full_properties()
        self.assertEqual('changed in bulk',
                         partition.get_property('description'))

    def test_malformed_or_nested_requests_are_refused(self):
        session = self.session()
        exc = self.assertRaises(
            zhmcclient.HTTPError, session.post,
            '/api/services/aggregation/submit', body={'threads': 1})
        self.assertEqual((400, 5), (exc.http_status, exc.reason))
        result = session.post('/api/services/aggregation/submit', body={
            'requests': [{'id': 'x', 'method': 'POST',
                          'uri': '/api/sessions',
                          'body': {'userid': 'a', 'password': 'b'}}]})
        self.assertEqual(400, result[0]['status'])


class SynchronousJobTest(base.SimulatorTestCase):

    def test_start_and_stop_waiting_for_completion(self):
        session = self.session(status_timeout=10)
        partition = self.create_partition(self.cpc(session))
        partition.start(wait_for_completion=True)
        self.assertEqual('active', self.status(partition))
        self.assertEqual({'part-1': 'active'},
                         self.sim.resources()['partition_status'])
        partition.stop(wait_for_completion=True)
        self.assertEqual('stopped', self.status(partition))
        self.assertEqual({'part-1': 'stopped'},
                         self.sim.resources()['partition_status'])
