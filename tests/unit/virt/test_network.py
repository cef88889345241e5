"""Networking: NIC plans from network_info and NIC creation on the HMC."""

from unittest import mock
import uuid

import fixtures
from nova import exception
from nova.network import model as network_model
import testtools
import zhmcclient

from nova_dpm.hmc.errors import HMCOperationFailed
from nova_dpm.hmc import supervisor as hmc_supervisor
from nova_dpm.virt.dpm import network
from tests.unit.virt import network_storage_fakes as fakes

NICS_POST = r'/api/partitions/[^/]+/nics$'


def vif(vif_type='dpm_vswitch', adapter=fakes.OSA_OID, port=0, index=1,
        **details):
    details.update(object_id=adapter, port=port)
    return network_model.VIF(
        id=str(uuid.UUID(int=index)), type=vif_type,
        address='fa:16:3e:00:00:%02x' % index, details=details,
        network=network_model.Network(id='net1'))


class NetworkingTestCase(testtools.TestCase):

    storage_management = True

    def setUp(self):
        super().setUp()
        self.fake = fakes.FakeHMC(self.storage_management)
        self.settings = fakes.settings()
        state_dir = self.useFixture(fixtures.TempDir()).path
        self.sup = hmc_supervisor.HMCSupervisor(
            self.settings, connection_id='nova-compute:test',
            state_dir=state_dir, session_factory=self.fake.session_factory)
        self.sup.start()
        self.addCleanup(self.sup.stop)
        self.networking = network.Networking(self.sup, self.settings)
        self.partition_uri = self.fake.partition_uri()

    def requests_during(self, func, *args):
        before = len(self.fake.handler.requests)
        try:
            return func(*args)
        finally:
            self.made = self.fake.handler.requests[before:]


class TestPlan(NetworkingTestCase):

    def test_plans_one_nic_per_vif_with_normalized_mac(self):
        plans = self.networking.plan([vif(index=1), vif(
            'dpm_adapter', fakes.ROCE_OID, port=1, index=2)])
        self.assertEqual(['fa163e000001', 'fa163e000002'],
                         [p.mac for p in plans])
        self.assertEqual([('dpm_vswitch', 0), ('dpm_adapter', 1)],
                         [(p.vif_type, p.port) for p in plans])
        self.assertEqual('OpenStack_Port_' + str(uuid.UUID(int=1)),
                         plans[0].nic_name)

    def test_vlan_comes_from_details_or_network(self):
        from_details = vif(index=1, vlan='100')
        from_network = vif(index=2)
        from_network['network'] = network_model.Network(id='n', vlan=200)
        plans = self.networking.plan([from_details, from_network])
        self.assertEqual([100, 200], [p.vlan for p in plans])

    def test_thirteen_nics_are_refused_before_any_hmc_request(self):
        vifs = [vif(index=i) for i in range(1, 14)]
        exc = self.assertRaises(exception.InvalidInput,
                                self.requests_during,
                                self.networking.plan, vifs)
        self.assertIn('13 network ports', str(exc))
        self.assertIn('at most 12', str(exc))
        self.assertEqual([], self.made)

    def test_twelve_nics_fit_into_the_boot_parameters(self):
        self.assertEqual(12, len(self.networking.plan(
            [vif(index=i) for i in range(1, 13)])))

    def test_unknown_vif_type_names_the_port_and_the_supported_types(self):
        bad = vif('ovs', index=7)
        exc = self.assertRaises(exception.InvalidInput,
                                self.requests_during,
                                self.networking.plan, [vif(index=1), bad])
        self.assertIn(bad['id'], str(exc))
        self.assertIn("'ovs'", str(exc))
        self.assertIn('dpm_vswitch, dpm_adapter', str(exc))
        self.assertEqual([], self.made)

    def test_boot_parameters_too_long_are_refused(self):
        with mock.patch.object(network, 'MAX_BOOT_PARAMETERS', 100):
            exc = self.assertRaises(
                exception.InvalidInput, self.networking.plan,
                [vif(index=i) for i in range(1, 7)])
        self.assertIn('need 120 characters', str(exc))

    def test_bad_details_are_named(self):
        cases = [
            (vif(adapter=None), 'object_id'),
            (vif(adapter='not-an-oid'), 'object_id'),
            (vif(port='x'), '"port"'),
            (vif(port=12), '"port"'),
            (vif(vlan=5000), 'VLAN 5000'),
        ]
        for bad, expected in cases:
            exc = self.assertRaises(exception.InvalidInput,
                                    self.networking.plan, [bad])
            self.assertIn(expected, str(exc))
            self.assertIn(bad['id'], str(exc))

    def test_bad_and_duplicate_macs_are_refused(self):
        bad = vif(index=1)
        bad['address'] = 'fa:16:3e'
        self.assertIn('MAC address', str(self.assertRaises(
            exception.InvalidInput, self.networking.plan, [bad])))
        twin = vif(index=2)
        twin['address'] = vif(index=1)['address']
        self.assertIn('used by another port', str(self.assertRaises(
            exception.InvalidInput, self.networking.plan,
            [vif(index=1), twin])))


class TestCreateNics(NetworkingTestCase):

    def create(self, vifs):
        plans = self.networking.plan(vifs)
        return self.networking.create_nics(self.partition_uri, plans)

    def test_no_nics_give_empty_boot_parameters(self):
        self.assertEqual('', self.create([]))
        self.assertEqual([], self.fake.nics())

    def test_nics_are_backed_by_vswitch_or_adapter_port(self):
        params = self.create([
            vif(index=1, vlan=7),
            vif('dpm_adapter', fakes.ROCE_OID, port=1, index=2)])
        nics = self.fake.nics()
        self.assertEqual(2, len(nics))
        by_name = {n['name']: n for n in nics}
        first = by_name['OpenStack_Port_' + str(uuid.UUID(int=1))]
        second = by_name['OpenStack_Port_' + str(uuid.UUID(int=2))]
        self.assertEqual('/api/virtual-switches/' + fakes.VSWITCH_OID,
                         first['virtual-switch-uri'])
        self.assertEqual((7, 'enforced'),
                         (first['vlan-id'], first['vlan-type']))
        self.assertEqual(
            '/api/adapters/%s/network-ports/1' % fakes.ROCE_OID,
            second['network-adapter-port-uri'])
        self.assertEqual(
            '%s,0,fa163e000001;%s,1,fa163e000002;' % (
                first['device-number'].lower(),
                second['device-number'].lower()), params)

    def test_without_virtual_switches_every_nic_names_its_port(self):
        # z17: network-express-support, no virtual switches.
        self.fake.hmc.cpcs.lookup_by_oid(fakes.CPC_OID).api_features = [
            'network-express-support']
        self.create([vif(index=1)])
        nic = self.fake.nics()[0]
        self.assertNotIn('virtual-switch-uri', nic)
        self.assertEqual('/api/adapters/%s/network-ports/0' % fakes.OSA_OID,
                         nic['network-adapter-port-uri'])

    def test_networking_dpm_style_vswitch_object_id_is_accepted(self):
        self.create([vif(adapter=fakes.VSWITCH_OID)])
        self.assertEqual('/api/virtual-switches/' + fakes.VSWITCH_OID,
                         self.fake.nics()[0]['virtual-switch-uri'])

    def test_adapter_without_virtual_switch_fails_the_deploy(self):
        exc = self.assertRaises(exception.InstanceDeployFailure, self.create,
                                [vif(adapter=fakes.ROCE_OID)])
        self.assertIn('dpm_adapter', str(exc))
        self.assertEqual([], self.fake.nics())

    def test_missing_adapter_port_fails_the_deploy(self):
        exc = self.assertRaises(
            exception.InstanceDeployFailure, self.create,
            [vif('dpm_adapter', fakes.ROCE_OID, port=5)])
        self.assertIn('no network port with index 5', str(exc))

    def test_each_fault_kind_yields_exactly_one_nic(self):
        for kind in ('http500', 'drop', 'lost'):
            for nic in self.fake.partition().nics.list():
                self.fake.partition().nics.remove(nic.oid)
            self.fake.handler.fail_next('POST', NICS_POST, kind)
            params = self.create([vif(index=1)])
            nics = self.fake.nics()
            self.assertEqual(1, len(nics), kind)
            self.assertEqual('%s,0,fa163e000001;'
                             % nics[0]['device-number'].lower(), params)
            self.assertEqual([], self.fake.handler.faults, kind)

    def test_persistent_http_errors_fail_the_deploy_with_the_hmc_message(
            self):
        for _ in range(5):
            self.fake.handler.fail_next('POST', NICS_POST, 'http500')
        exc = self.assertRaises(exception.InstanceDeployFailure, self.create,
                                [vif(index=1)])
        self.assertIn('create NIC OpenStack_Port_', str(exc))
        self.assertIn('injected fault', str(exc))
        self.assertLessEqual(len(self.fake.nics()), 1)


PHYSNET_MAPPINGS = (('physnet1', fakes.OSA_OID, 0),
                    ('physnet2', fakes.ROCE_OID, 1))


def dpm_vif(physnet='physnet1', index=1, vlan=None):
    details = {'physical_network': physnet, 'port_filter': False}
    if vlan is not None:
        details['vlan'] = vlan
    return network_model.VIF(
        id=str(uuid.UUID(int=index)), type='dpm',
        address='fa:16:3e:00:00:%02x' % index, details=details,
        network=network_model.Network(id='net1'))


class DpmBindingTestCase(NetworkingTestCase):
    """Ports bound by Neutron's dpm mechanism driver (vif type dpm)."""

    def setUp(self):
        super().setUp()
        self.settings = fakes.settings(
            network_adapter_mappings=PHYSNET_MAPPINGS)
        self.networking = network.Networking(self.sup, self.settings)


class TestDpmPlan(DpmBindingTestCase):

    def test_physical_network_is_mapped_to_its_adapter_port(self):
        plans = self.networking.plan([dpm_vif('physnet1', 1, vlan=1042),
                                      dpm_vif('physnet2', 2)])
        self.assertEqual(
            [('dpm', fakes.OSA_OID, 0, 1042, 'physnet1'),
             ('dpm', fakes.ROCE_OID, 1, None, 'physnet2')],
            [(p.vif_type, p.adapter_oid, p.port, p.vlan, p.physical_network)
             for p in plans])

    def test_unplaceable_ports_are_refused_before_any_hmc_request(self):
        cases = [
            (dpm_vif('physnet9'), "physical network 'physnet9' is not "
                                  'mapped'),
            (dpm_vif(None), '"physical_network" is None'),
            (dpm_vif(vlan=0), 'VLAN 0'),
            (dpm_vif(vlan=4095), 'VLAN 4095'),
        ]
        for bad, expected in cases:
            exc = self.assertRaises(exception.InvalidInput,
                                    self.requests_during,
                                    self.networking.plan, [bad])
            self.assertIn(expected, str(exc))
            self.assertIn(bad['id'], str(exc))
            self.assertEqual([], self.made)
        exc = self.assertRaises(exception.InvalidInput, self.networking.plan,
                                [dpm_vif('physnet9')])
        self.assertIn('[dpm] physical_network_adapter_mappings', str(exc))
        self.assertIn('physnet1, physnet2', str(exc))


class TestDpmNics(DpmBindingTestCase):

    def test_vswitch_port_and_adapter_port_backings_with_vlan(self):
        params = self.networking.create_nics(
            self.partition_uri, self.networking.plan(
                [dpm_vif('physnet1', 1, vlan=1042), dpm_vif('physnet2', 2)]))
        by_name = {n['name']: n for n in self.fake.nics()}
        first = by_name['OpenStack_Port_' + str(uuid.UUID(int=1))]
        second = by_name['OpenStack_Port_' + str(uuid.UUID(int=2))]
        self.assertEqual('/api/virtual-switches/' + fakes.VSWITCH_OID,
                         first['virtual-switch-uri'])
        self.assertEqual((1042, 'enforced'),
                         (first['vlan-id'], first['vlan-type']))
        self.assertEqual(
            '/api/adapters/%s/network-ports/1' % fakes.ROCE_OID,
            second['network-adapter-port-uri'])
        self.assertNotIn('vlan-id', second)
        self.assertIn(',0,fa163e000001;', params)
        self.assertIn(',1,fa163e000002;', params)

    def test_backing_is_read_once_per_adapter_port(self):
        plans = self.networking.plan([dpm_vif('physnet1', 1)])
        self.networking.create_nics(self.partition_uri, plans)
        second = self.networking.plan([dpm_vif('physnet1', 2)])
        self.requests_during(self.networking.create_nics,
                             self.partition_uri, second)
        self.assertEqual([], [r for r in self.made
                              if 'virtual-switches' in r[1]])


class TestAttachDetach(DpmBindingTestCase):

    def boot_parameters(self):
        return self.fake.partition().properties.get(
            'boot-os-specific-parameters', '')

    def test_attach_adds_nic_and_mac_entry_detach_removes_both(self):
        self.networking.attach(self.partition_uri, dpm_vif('physnet1', 1))
        self.networking.attach(self.partition_uri, dpm_vif('physnet2', 2))
        nics = {n['name']: n for n in self.fake.nics()}
        self.assertEqual(2, len(nics))
        entries = network.boot_entries(self.boot_parameters())
        self.assertEqual(['fa163e000001;', 'fa163e000002;'],
                         [e.split(',')[-1] for e in entries])
        self.networking.detach(self.partition_uri, dpm_vif('physnet1', 1))
        self.assertEqual(['OpenStack_Port_' + str(uuid.UUID(int=2))],
                         [n['name'] for n in self.fake.nics()])
        self.assertNotIn('fa163e000001', self.boot_parameters())
        self.assertIn('fa163e000002', self.boot_parameters())

    def test_attach_and_detach_are_idempotent(self):
        for _ in range(2):
            self.networking.attach(self.partition_uri, dpm_vif(index=1))
        self.assertEqual(1, len(self.fake.nics()))
        self.assertEqual(1, len(network.boot_entries(
            self.boot_parameters())))
        for _ in range(2):
            self.networking.detach(self.partition_uri, dpm_vif(index=1))
        self.assertEqual([], self.fake.nics())
        self.assertEqual('', self.boot_parameters())

    def test_unmapped_physnet_is_refused_without_hmc_change(self):
        self.assertRaises(exception.InvalidInput, self.requests_during,
                          self.networking.attach, self.partition_uri,
                          dpm_vif('physnet9'))
        self.assertEqual([], self.made)

    def test_failed_mac_list_update_deletes_the_new_nic(self):
        # Update Partition Properties fails on every try (1 + 2 retries).
        for _ in range(3):
            self.fake.handler.fail_next(
                'POST', r'/api/partitions/[^/]+$', 'http500')
        exc = self.assertRaises(HMCOperationFailed, self.networking.attach,
                                self.partition_uri, dpm_vif(index=1))
        self.assertIn('write the NIC MAC list', str(exc))
        self.assertEqual([], self.fake.handler.faults)
        self.assertEqual([], self.fake.nics())
        self.assertEqual('', self.boot_parameters())

    def test_a_thirteenth_nic_is_refused_before_creation(self):
        for index in range(1, 13):
            self.networking.attach(self.partition_uri, dpm_vif(index=index))
        exc = self.assertRaises(exception.InvalidInput,
                                self.networking.attach, self.partition_uri,
                                dpm_vif(index=13))
        self.assertIn('12 network ports', str(exc))
        self.assertEqual(12, len(self.fake.nics()))

    def test_mac_list_is_rebuilt_from_the_nics_not_patched(self):
        # A stale entry (its NIC is gone) and a missing one (a concurrent
        # writer overwrote it): the next attach lists exactly the NICs.
        self.networking.attach(self.partition_uri, dpm_vif('physnet2', 1))
        self.fake.partition().properties[
            'boot-os-specific-parameters'] = '0999,0,fa163e0000ff;'
        self.networking.attach(self.partition_uri, dpm_vif('physnet1', 2))
        devno = {n['name'][-1]: n['device-number'].lower()
                 for n in self.fake.nics()}
        self.assertEqual('%s,1,fa163e000001;%s,0,fa163e000002;'
                         % (devno['1'], devno['2']), self.boot_parameters())

    def test_a_nic_described_without_its_port_keeps_its_entrys_port(self):
        self.networking.attach(self.partition_uri, dpm_vif('physnet2', 1))
        nic = self.fake.partition().nics.list()[0]
        nic.properties['description'] = 'OpenStack port %s, MAC %s' % (
            dpm_vif('physnet2', 1)['id'], 'fa163e000001')
        self.networking.attach(self.partition_uri, dpm_vif('physnet1', 2))
        self.assertIn(',1,fa163e000001;', self.boot_parameters())
        self.assertIn(',0,fa163e000002;', self.boot_parameters())

    def test_a_mac_list_that_keeps_changing_fails_the_attach_cleanly(self):
        facade = self.networking._nics
        real_write = facade.set_boot_parameters

        def overwritten(partition_uri, parameters, failure):
            # Another attach of this server writes its older list after
            # each of ours.
            real_write(partition_uri, parameters, failure)
            real_write(partition_uri, '', failure)

        with mock.patch.object(facade, 'set_boot_parameters',
                               side_effect=overwritten) as write:
            exc = self.assertRaises(HMCOperationFailed,
                                    self.networking.attach,
                                    self.partition_uri, dpm_vif(index=1))
        self.assertIn('kept changing', str(exc))
        self.assertIn('attach or detach the port again', str(exc))
        self.assertEqual(network.MAC_LIST_ROUNDS, write.call_count)
        self.assertEqual([], self.fake.nics())
        self.assertEqual('', self.boot_parameters())

    def test_unchanged_mac_list_is_not_written_again(self):
        self.networking.attach(self.partition_uri, dpm_vif(index=1))
        self.requests_during(self.networking.attach, self.partition_uri,
                             dpm_vif(index=1))
        self.assertEqual([], [r for r in self.made if r[0] == 'POST'])

    def test_a_nic_deleted_while_the_nics_are_listed_is_left_out(self):
        self.networking.attach(self.partition_uri, dpm_vif(index=1))
        self.networking.attach(self.partition_uri, dpm_vif(index=2))
        real_pull = zhmcclient.Nic.pull_full_properties
        deleted = []

        def pull(nic, *args, **kwargs):
            if not deleted:
                # a concurrent detach deletes it between List NICs and
                # Get NIC Properties: the HMC answers 404
                zhmcclient.Nic.delete(nic)
                deleted.append(nic.uri)
            return real_pull(nic, *args, **kwargs)

        with mock.patch.object(zhmcclient.Nic, 'pull_full_properties',
                               pull):
            self.networking.attach(self.partition_uri, dpm_vif(index=3))
        self.assertEqual(1, len(deleted))
        self.assertEqual(2, len(self.fake.nics()))
        # the list names exactly the NICs that are left
        self.assertEqual(2, self.boot_parameters().count(';'))
        self.assertIn('fa163e000003', self.boot_parameters())

    def test_other_listing_failures_are_not_hidden(self):
        refused = zhmcclient.HTTPError({
            'http-status': 404, 'reason': 2, 'message': 'not that one',
            'request-method': 'GET', 'request-uri': self.partition_uri})
        self.networking.attach(self.partition_uri, dpm_vif(index=1))
        with mock.patch.object(zhmcclient.Nic, 'pull_full_properties',
                               side_effect=refused):
            self.assertRaises(HMCOperationFailed, self.networking.attach,
                              self.partition_uri, dpm_vif(index=2))
        self.assertEqual(1, len(self.fake.nics()))
