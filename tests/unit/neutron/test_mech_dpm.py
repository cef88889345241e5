"""bind_port of the ``dpm`` mechanism driver against neutron-lib's API."""

from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api

from nova_dpm.neutron import mech_dpm
from nova_dpm import port_binding
from tests.unit.neutron import base
from tests.unit.neutron import fakes

HOSTS = 'hosts = dpm-cpc1, dpm-lab-*'


class TestBindsDpmHosts(base.DriverTestCase):

    def _bind(self, host, segments, **kwargs):
        context = fakes.FakePortContext(host, segments, **kwargs)
        self.driver(HOSTS).bind_port(context)
        return context

    def test_binds_a_flat_segment_and_sets_the_port_active(self):
        flat = fakes.segment('flat', 'physnet1')
        context = self._bind('dpm-cpc1', [flat])
        self.assertEqual(
            [(flat[api.ID], 'dpm',
              {'port_filter': False, 'physical_network': 'physnet1'},
              constants.PORT_STATUS_ACTIVE)],
            context.bindings)
        self.assertEqual(constants.PORT_STATUS_ACTIVE, context.status)

    def test_binds_a_vlan_segment_with_its_segmentation_id(self):
        vlan = fakes.segment('vlan', 'physnet2', 1042)
        context = self._bind('dpm-lab-7', [vlan])
        (segment_id, vif_type, details, status), = context.bindings
        self.assertEqual((vlan[api.ID], port_binding.VIF_TYPE_DPM,
                          constants.PORT_STATUS_ACTIVE),
                         (segment_id, vif_type, status))
        self.assertEqual({'port_filter': False,
                          'physical_network': 'physnet2', 'vlan': 1042},
                         details)
        self.assertIsInstance(details['vlan'], int)

    def test_binds_the_first_bindable_of_several_segments(self):
        segments = [fakes.segment('vxlan', None, 7),
                    fakes.segment('vlan', 'physnet1', 100, 'first'),
                    fakes.segment('flat', 'physnet1', None, 'second')]
        context = self._bind('dpm-cpc1', segments)
        self.assertEqual(['first'], [b[0] for b in context.bindings])

    def test_details_name_no_hmc_object(self):
        context = self._bind('dpm-cpc1', [fakes.segment('vlan', 'p', 5)])
        details = context.bindings[0][2]
        self.assertNotIn(port_binding.LEGACY_DETAIL_OBJECT_ID, details)
        self.assertEqual({'port_filter', 'physical_network', 'vlan'},
                         set(details))

    def test_contract_keys_are_neutron_libs_own(self):
        self.assertEqual(portbindings.VIF_DETAILS_VLAN,
                         port_binding.DETAIL_VLAN)
        self.assertEqual(portbindings.CAP_PORT_FILTER,
                         port_binding.DETAIL_PORT_FILTER)
        self.assertEqual(api.PHYSICAL_NETWORK,
                         port_binding.DETAIL_PHYSICAL_NETWORK)

    def test_declares_itself_a_binder_with_l2_connectivity(self):
        driver = self.driver(HOSTS)
        self.assertTrue(driver._supports_port_binding)
        self.assertEqual(portbindings.CONNECTIVITY_L2, driver.connectivity)


class TestLeavesOtherPortsAlone(base.DriverTestCase):
    """What the driver does not bind stays unbound for the other drivers."""

    def _assert_unbound(self, context, ml2_dpm=HOSTS):
        self.driver(ml2_dpm).bind_port(context)
        self.assertEqual([], context.bindings)
        self.assertEqual(portbindings.VIF_TYPE_UNBOUND, context.vif_type)
        self.assertEqual('DOWN', context.status)

    def test_other_hosts(self):
        for host in ('compute-1', 'dpm-cpc10', 'DPM-CPC1', 'dpm-lab', ''):
            self._assert_unbound(fakes.FakePortContext(
                host, [fakes.segment('flat', 'physnet1')]))

    def test_other_vnic_types(self):
        for vnic_type in (portbindings.VNIC_DIRECT,
                          portbindings.VNIC_MACVTAP,
                          portbindings.VNIC_BAREMETAL,
                          portbindings.VNIC_DIRECT_PHYSICAL,
                          portbindings.VNIC_VIRTIO_FORWARDER,
                          portbindings.VNIC_SMARTNIC):
            self._assert_unbound(fakes.FakePortContext(
                'dpm-cpc1', [fakes.segment('flat', 'physnet1')],
                vnic_type=vnic_type))

    def test_other_network_types(self):
        for network_type, physnet, segmentation_id in (
                (constants.TYPE_VXLAN, None, 1001),
                (constants.TYPE_GENEVE, None, 1002),
                (constants.TYPE_GRE, None, 1003),
                (constants.TYPE_LOCAL, None, None)):
            context = fakes.FakePortContext('dpm-cpc1', [fakes.segment(
                network_type, physnet, segmentation_id)])
            with self.assertLogs(mech_dpm.LOG.logger, 'WARNING') as logs:
                self._assert_unbound(context)
            self.assertIn('%s/None/%s' % (network_type, segmentation_id),
                          logs.output[0])

    def test_physical_networks_not_served(self):
        context = fakes.FakePortContext('dpm-cpc1', [
            fakes.segment('flat', 'datacenter'),
            fakes.segment('vlan', 'physnet9', 300)])
        with self.assertLogs(mech_dpm.LOG.logger, 'WARNING') as logs:
            self._assert_unbound(
                context, HOSTS + '\nphysical_networks = physnet1, osa-*')
        self.assertIn('flat/datacenter/None, vlan/physnet9/300',
                      logs.output[0])
        self.assertIn('physnet1, osa-*', logs.output[0])

    def test_served_physical_network_patterns_bind(self):
        context = fakes.FakePortContext(
            'dpm-cpc1', [fakes.segment('vlan', 'osa-east', 12)])
        self.driver(HOSTS + '\nphysical_networks = physnet1, osa-*'
                    ).bind_port(context)
        self.assertEqual('osa-east',
                         context.bindings[0][2]['physical_network'])


class TestSegmentAccess(base.DriverTestCase):

    def test_dpm_hosts_reach_bindable_segments_only(self):
        driver = self.driver(HOSTS + '\nphysical_networks = physnet1')
        candidates = {'dpm-cpc1', 'dpm-lab-2', 'compute-1'}
        self.assertEqual(
            {'dpm-cpc1', 'dpm-lab-2'},
            driver.filter_hosts_with_segment_access(
                None, [fakes.segment('vlan', 'physnet1', 3)], candidates,
                None))
        self.assertEqual(set(), driver.filter_hosts_with_segment_access(
            None, [fakes.segment('vlan', 'physnet2', 3),
                   fakes.segment('vxlan', None, 9)], candidates, None))
        self.assertTrue(driver.is_host_filtering_supported())
