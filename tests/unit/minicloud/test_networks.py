"""The mini-cloud's networks: Neutron binds with dpm, nova places NICs."""

import os

import fixtures
import testtools

from minicloud import configs
from minicloud import networks
from nova_dpm.simulator import inventory


def _endpoints():
    return configs.Endpoints(keystone=5000, placement=8778, glance=9292,
                             neutron=9696, nova=8774)


class Recorder(object):
    """Records create_* calls as openstacksdk's network proxy takes them."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append((name, kwargs))
            return type('Created', (), {'id': '%s-id' % name})()
        return call


class FakeConn(object):

    def __init__(self):
        self.network = Recorder()


class NetworksTest(testtools.TestCase):

    def test_each_kind_maps_the_physnet_to_its_nic_adapter_port_0(self):
        for kind, machine in inventory.MACHINES.items():
            self.assertEqual(
                'dpm-physnet:%s:0' % machine.nic_adapter_oid,
                networks.adapter_mapping(kind), kind)

    def test_neutron_binds_flat_and_vlan_of_the_compute_host_with_dpm(self):
        ml2 = configs.ml2()

        self.assertEqual('dpm', ml2['ml2']['mechanism_drivers'])
        self.assertEqual('vlan', ml2['ml2']['tenant_network_types'])
        self.assertEqual('dpm-physnet',
                         ml2['ml2_type_flat']['flat_networks'])
        self.assertEqual('dpm-physnet:1000:1999',
                         ml2['ml2_type_vlan']['network_vlan_ranges'])
        self.assertEqual({'hosts': 'dpm-minicloud',
                          'physical_networks': 'dpm-physnet'},
                         ml2['ml2_dpm'])

    def test_nova_compute_runs_as_the_host_neutron_binds(self):
        conf = configs.nova('db1', 'db2', _endpoints(), 'pw', 'mq', '/s',
                            '/p', '/policy', {})

        self.assertEqual(configs.ml2()['ml2_dpm']['hosts'],
                         conf['DEFAULT']['host'])

    def test_neutron_tells_nova_about_ports(self):
        conf = configs.neutron('db', _endpoints(), 'pw', 'mq', '/s', '/p',
                               '/l')

        self.assertTrue(conf['DEFAULT']['notify_nova_on_port_status_changes'])
        self.assertTrue(conf['DEFAULT']['notify_nova_on_port_data_changes'])
        self.assertEqual(('nova', 'pw', 'http://127.0.0.1:5000'), (
            conf['nova']['username'], conf['nova']['password'],
            conf['nova']['auth_url']))

    def test_tempest_boots_servers_on_the_shared_network(self):
        features = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'features.conf')
        with open(features, 'w') as f:
            f.write('[compute-feature-enabled]\ninterface_attach = True\n')
        conf = configs.tempest(_endpoints(), 'pw', ['i1', 'i2'], ['42', '84'],
                               features, '/locks')

        self.assertEqual('dpm-shared', conf['compute']['fixed_network_name'])
        self.assertFalse(conf['auth']['create_isolated_networks'])

    def test_shared_network_is_flat_on_the_physnet_without_dhcp(self):
        conn = FakeConn()

        self.assertEqual('create_network-id',
                         networks.create_shared_network(conn))
        (net_call, net), (subnet_call, subnet) = conn.network.calls
        self.assertEqual(('create_network', 'create_subnet'),
                         (net_call, subnet_call))
        self.assertEqual({'name': 'dpm-shared', 'shared': True,
                          'provider_network_type': 'flat',
                          'provider_physical_network': 'dpm-physnet'}, net)
        self.assertEqual('create_network-id', subnet['network_id'])
        self.assertFalse(subnet['enable_dhcp'])
