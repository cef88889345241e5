"""Ports bound by Neutron's dpm mechanism driver, against the simulator.

A port bound with vif type ``dpm`` names only its physical network;
``[dpm] physical_network_adapter_mappings`` places it
(specs/dpm-port-binding.rst). On z16 and z13 the NIC of an OSA port goes
through its virtual switch, on z17 (network-express-support) to the
adapter port; a RoCE/Network Express port is used by port everywhere.
Every test runs on every CPC kind over HTTPS and ends with no rule of the
simulated HMC broken.
"""

import uuid

from nova import exception
from nova.network import model as network_model

from nova_dpm.hmc import errors
from tests.functional.virt import driver_base

VLAN = 1042


def dpm_vif(index, physnet, vlan=None):
    details = {'physical_network': physnet, 'port_filter': False}
    if vlan is not None:
        details['vlan'] = vlan
    return network_model.VIF(
        id=str(uuid.UUID(int=index)), type='dpm',
        address='fa:16:3e:00:10:%02x' % index, details=details,
        network=network_model.Network(id='net-%s' % physnet))


def mac(index):
    return 'fa163e0010%02x' % index


class PortBindingCase(driver_base.DriverTestCase):
    """flat on the NIC adapter's port 0, vlan on the RoCE port 1."""

    def configure(self, host):
        super().configure(host)
        self.conf.config(group='dpm', physical_network_adapter_mappings=[
            'flat-net:%s' % self.machine.nic_adapter_oid,
            'vlan-net:%s:1' % self.machine.roce_adapter_oid])

    # -- what the HMC has ---------------------------------------------------

    def nics(self, instance):
        """{NIC name: properties} of the instance's partition."""
        uri = self.driver._partition(instance).require().uri

        def read(client):
            cpc = client.cpcs.resource_object(
                '/api/cpcs/' + self.sim.cpc_object_id)
            partition = cpc.partitions.resource_object(uri)
            return {nic.get_property('name'): dict(nic.properties)
                    for nic in partition.nics.list(full_properties=True)}
        return self.hmc(read)

    def macs(self, instance):
        """{MAC: device number} from boot-os-specific-parameters."""
        params = self.boot_settings(instance).get(
            'boot-os-specific-parameters') or ''
        entries = [e.split(',') for e in params.split(';') if e]
        return {entry[2]: entry[0] for entry in entries}

    def expected_backing(self, adapter_oid, port, by_vswitch):
        if by_vswitch and self.machine.vswitch_oid:
            return ('virtual-switch-uri',
                    '/api/virtual-switches/' + self.machine.vswitch_oid)
        return ('network-adapter-port-uri',
                '/api/adapters/%s/network-ports/%d' % (adapter_oid, port))

    def assertNic(self, nic, backing, vlan, devno_by_mac, index):
        self.assertEqual(backing[1], nic.get(backing[0]))
        other = ({'virtual-switch-uri', 'network-adapter-port-uri'} -
                 {backing[0]}).pop()
        self.assertIsNone(nic.get(other))
        self.assertEqual(vlan, nic.get('vlan-id'))
        self.assertEqual('enforced' if vlan else None, nic.get('vlan-type'))
        self.assertIn(mac(index), nic['description'])
        # The port's MAC where Create NIC takes one (SE 2.14.0 on, z16 and
        # z17); z13's HMC assigns its own and the guest reads the port's
        # from the boot parameters.
        if self.machine.se_version >= '2.14':
            self.assertEqual('fa:16:3e:00:10:%02x' % index,
                             nic['mac-address'])
        else:
            self.assertTrue(nic['mac-address'].startswith('02:'),
                            nic['mac-address'])
        self.assertEqual(nic['device-number'].lower(),
                         devno_by_mac[mac(index)])

    def nic_name(self, index):
        return 'OpenStack_Port_' + str(uuid.UUID(int=index))


@driver_base.on_every_kind
class TestPortBinding(PortBindingCase):
    """Spawn, attach and detach with ports of both physical networks."""

    # -- spawn ----------------------------------------------------------------

    def test_flat_and_vlan_ports_become_nics_with_backing_and_mac(self):
        instance = self.instance()
        self.spawn(instance, network_info=network_model.NetworkInfo([
            dpm_vif(1, 'flat-net'), dpm_vif(2, 'vlan-net', VLAN)]))
        nics = self.nics(instance)
        macs = self.macs(instance)
        self.assertEqual({mac(1), mac(2)}, set(macs))
        self.assertNic(nics[self.nic_name(1)], self.expected_backing(
            self.machine.nic_adapter_oid, 0, True), None, macs, 1)
        self.assertNic(nics[self.nic_name(2)], self.expected_backing(
            self.machine.roce_adapter_oid, 1, False), VLAN, macs, 2)
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()

    def test_unmapped_physnet_is_refused_with_nothing_created(self):
        instance = self.instance()
        self.sim.reset_stats()
        exc = self.assertRaises(
            exception.InvalidInput, self.spawn, instance,
            network_model.NetworkInfo([dpm_vif(1, 'flat-net'),
                                       dpm_vif(2, 'elsewhere')]))
        self.assertIn("physical network 'elsewhere' is not mapped",
                      str(exc))
        self.assertIn('[dpm] physical_network_adapter_mappings', str(exc))
        self.assertNothingLeft()
        by_method = self.sim.stats()['by_method']
        self.assertEqual((0, 0), (by_method.get('POST', 0),
                                  by_method.get('DELETE', 0)))

    # -- attach and detach ----------------------------------------------------

    def test_attach_and_detach_on_running_and_stopped_partitions(self):
        instance = self.instance()
        self.spawn(instance)
        # Running.
        self.driver.attach_interface(None, instance, None,
                                     dpm_vif(1, 'flat-net'))
        self.assertEqual({mac(1)}, set(self.macs(instance)))
        self.assertNic(self.nics(instance)[self.nic_name(1)],
                       self.expected_backing(self.machine.nic_adapter_oid,
                                             0, True),
                       None, self.macs(instance), 1)
        # Stopped.
        self.driver.power_off(instance)
        self.driver.attach_interface(None, instance, None,
                                     dpm_vif(2, 'vlan-net', VLAN))
        self.driver.detach_interface(None, instance, dpm_vif(1, 'flat-net'))
        self.assertEqual([self.nic_name(2)], list(self.nics(instance)))
        self.assertEqual({mac(2)}, set(self.macs(instance)))
        self.assertNic(self.nics(instance)[self.nic_name(2)],
                       self.expected_backing(self.machine.roce_adapter_oid,
                                             1, False),
                       VLAN, self.macs(instance), 2)
        # Running again; a repeated detach is harmless.
        self.driver.power_on(None, instance, None)
        for _ in range(2):
            self.driver.detach_interface(None, instance,
                                         dpm_vif(2, 'vlan-net', VLAN))
        self.assertEqual({}, self.nics(instance))
        self.assertEqual({}, self.macs(instance))
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()

    def test_attach_twice_gives_one_nic_and_one_mac(self):
        instance = self.instance()
        self.spawn(instance, network_info=network_model.NetworkInfo(
            [dpm_vif(1, 'flat-net')]))
        for _ in range(2):
            self.driver.attach_interface(None, instance, None,
                                         dpm_vif(2, 'vlan-net', VLAN))
        self.assertEqual({self.nic_name(1), self.nic_name(2)},
                         set(self.nics(instance)))
        self.assertEqual({mac(1), mac(2)}, set(self.macs(instance)))

    def test_attach_of_unmapped_physnet_changes_nothing(self):
        instance = self.instance()
        self.spawn(instance)
        before = self.sim.resources()
        self.assertRaises(exception.InvalidInput,
                          self.driver.attach_interface, None, instance, None,
                          dpm_vif(1, 'elsewhere'))
        self.assertEqual(before, self.sim.resources())
        self.assertEqual({}, self.macs(instance))

    def test_attach_to_a_missing_partition_is_instance_not_found(self):
        self.assertRaises(exception.InstanceNotFound,
                          self.driver.attach_interface, None,
                          self.instance(), None, dpm_vif(1, 'flat-net'))
        self.assertNothingLeft()


@driver_base.on_every_kind
class TestInterfaceFaults(PortBindingCase):
    """attach/detach with the HMC failing for real: nothing left over."""

    NICS = r'^/api/partitions/[^/]+/nics$'
    NIC = r'^/api/partitions/[^/]+/nics/[^/]+$'
    PARTITION = r'^/api/partitions/[^/]+$'

    def running(self):
        instance = self.instance()
        self.spawn(instance)
        return instance

    def test_failed_mac_list_update_removes_the_new_nic(self):
        instance = self.running()
        # Update Partition Properties fails on every try (1 + 2 retries).
        self.sim.fail_next(3, 500, 1, method='POST', uri=self.PARTITION)
        exc = self.assertRaises(
            errors.HMCOperationFailed, self.driver.attach_interface, None,
            instance, None, dpm_vif(1, 'flat-net'))
        self.assertIn('write the NIC MAC list', str(exc))
        self.assertEqual([], self.sim.faults()['rules'])
        self.assertEqual({}, self.nics(instance))
        self.assertEqual({}, self.macs(instance))

    def test_lost_create_and_delete_responses_are_resolved(self):
        instance = self.running()
        self.sim.lose_response_next(1, method='POST', uri=self.NICS)
        self.driver.attach_interface(None, instance, None,
                                     dpm_vif(1, 'flat-net'))
        self.assertEqual([self.nic_name(1)], list(self.nics(instance)))
        self.assertEqual({mac(1)}, set(self.macs(instance)))
        self.sim.lose_response_next(1, method='DELETE', uri=self.NIC)
        self.driver.detach_interface(None, instance, dpm_vif(1, 'flat-net'))
        self.assertEqual([], self.sim.faults()['rules'])
        self.assertEqual({}, self.nics(instance))
        self.assertEqual({}, self.macs(instance))

    def test_attach_while_starting_is_wrong_state_and_creates_nothing(self):
        instance = self.instance()
        self.spawn(instance, power_on=False)
        uri = self.driver._partition(instance).require().uri
        self.sim.set_job_duration(2, operation='start')

        def start(client):
            cpc = client.cpcs.resource_object(
                '/api/cpcs/' + self.sim.cpc_object_id)
            cpc.partitions.resource_object(uri).start(
                wait_for_completion=False)
        self.hmc(start, what='start the partition, not waiting')
        # The HMC refuses NIC changes while the partition is starting
        # (rule partition-child-transitional, broken here on purpose).
        self.expected_rule_violations = 1
        self.assertRaises(errors.WrongState, self.driver.attach_interface,
                          None, instance, None, dpm_vif(1, 'flat-net'))
        self.assertEqual({}, self.nics(instance))
        self.assertEqual({}, self.macs(instance))


class TestMappingChecks(driver_base.DriverTestCase):
    """``init_host`` refuses a mapping it cannot use, in one line."""

    def init_fails(self, *entries):
        self.conf.config(group='dpm',
                         physical_network_adapter_mappings=list(entries))
        driver = self.make_driver(init=False)
        exc = self.assertRaises(exception.NovaException, driver.init_host,
                                self.host)
        self.assertNotIn('\n', str(exc))
        self.assertNotIn(self.sim.password, str(exc))
        return str(exc)

    def test_an_fcp_adapter_cannot_carry_nics(self):
        fcp = self.machine.fcp_adapter_oids[0]
        message = self.init_fails('physnet1:%s' % fcp)
        self.assertIn('physical_network_adapter_mappings entry '
                      'physnet1:%s:0' % fcp, message)
        self.assertIn('cannot carry NICs', message)

    def test_a_missing_port_is_named(self):
        message = self.init_fails(
            'physnet1:%s:5' % self.machine.nic_adapter_oid)
        self.assertIn('has no port 5 (it has 2)', message)

    def test_a_missing_adapter_is_named(self):
        missing = '00000000-0000-0000-0000-000000000000'
        message = self.init_fails('physnet1:%s' % missing)
        self.assertIn('no such adapter on the HMC', message)

    def test_a_physnet_mapped_twice_is_named(self):
        oid = self.machine.nic_adapter_oid
        message = self.init_fails('physnet1:%s' % oid,
                                  'physnet1:%s:1' % oid)
        self.assertIn("maps physical network 'physnet1' twice", message)
