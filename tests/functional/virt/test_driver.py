"""Every DPMDriver verb against the HTTPS HMC simulator."""

from nova.compute import power_state
from nova.compute import provider_tree
from nova import exception
import os_resource_classes as orc
import os_traits

from tests.functional.virt import driver_base


class TestDriverLifeCycle(driver_base.DriverTestCase):

    def test_constructing_the_driver_sends_no_request(self):
        self.sim.reset_stats()
        driver_base.driver_mod.DPMDriver(virtapi=None)
        self.assertEqual(0, self.sim.stats()['total'])

    def test_cleanup_host_logs_off(self):
        self.assertGreater(self.sim.resources()['sessions_active'], 0)
        self.driver.cleanup_host(self.host)
        self.assertEqual(0, self.sim.resources()['sessions_active'])

    def test_cleanup_host_without_init_host(self):
        driver = self.make_driver(init=False)
        driver.cleanup_host(self.host)

    def test_verbs_before_init_host_say_not_ready(self):
        driver = self.make_driver(init=False)
        self.assertRaises(exception.VirtDriverNotReady,
                          driver.list_instance_uuids)

    def test_init_host_with_wrong_password_fails_in_one_line(self):
        self.conf.config(group='dpm', hmc_password='wrong-secret')
        driver = self.make_driver(init=False)
        exc = self.assertRaises(exception.NovaException, driver.init_host,
                                self.host)
        self.assertNotIn('wrong-secret', str(exc))
        self.assertNotIn('\n', str(exc))


class TestHostResources(driver_base.DriverTestCase):

    def test_available_resource(self):
        self.spawn(self.instance(vcpus=2, memory_mb=2048))
        resources = self.driver.get_available_resource(self.host)
        self.assertEqual(8, resources['vcpus'])
        self.assertEqual(65536, resources['memory_mb'])
        self.assertEqual(2, resources['vcpus_used'])
        self.assertEqual(2048, resources['memory_mb_used'])
        self.assertEqual(2016000, resources['hypervisor_version'])
        self.assertEqual('prsm', resources['hypervisor_type'])
        self.assertEqual(self.host, resources['hypervisor_hostname'])
        self.assertEqual([self.host], self.driver.get_available_nodes())

    def test_provider_tree_honours_ratio_and_reserved_options(self):
        self.flags_cpu = self.conf.config(cpu_allocation_ratio=2.0,
                                          reserved_host_cpus=1,
                                          reserved_host_memory_mb=1024)
        tree = provider_tree.ProviderTree()
        tree.new_root(self.host, 'rp')
        self.driver.update_provider_tree(tree, self.host)
        inventory = tree.data(self.host).inventory
        self.assertEqual({orc.VCPU, orc.MEMORY_MB}, set(inventory))
        self.assertEqual(2.0, inventory[orc.VCPU]['allocation_ratio'])
        self.assertEqual(1, inventory[orc.VCPU]['reserved'])
        self.assertEqual(1024, inventory[orc.MEMORY_MB]['reserved'])
        self.assertIn(os_traits.HW_ARCH_S390X, tree.data(self.host).traits)
        self.assertIn(os_traits.COMPUTE_VOLUME_ATTACH,
                      tree.data(self.host).traits)


@driver_base.on_every_kind
class TestInstanceVerbs(driver_base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.inst = self.instance(vcpus=2, memory_mb=4096)
        self.spawn(self.inst, network_info=self.vifs(2))

    def state(self, use_cache=False):
        return self.driver.get_info(self.inst, use_cache=use_cache).state

    def test_spawn_builds_a_running_partition_with_nics_and_storage(self):
        resources = self.sim.resources()
        self.assertEqual(1, len(resources['partitions']))
        self.assertIn(self.inst.uuid, resources['partitions'][0])
        self.assertEqual(['active'],
                         list(resources['partition_status'].values()))
        self.assertEqual(2, resources['nics'])
        if self.storage_management:
            self.assertEqual(1, resources['storage_group_attachments'])
            self.assertEqual(2, resources['virtual_storage_resources'])
            self.assertEqual(0, resources['hbas'])
        else:
            self.assertEqual(0, resources['storage_group_attachments'])
            self.assertEqual(2, resources['hbas'])
        self.assertEqual(power_state.RUNNING, self.state())

    def test_partition_boots_as_the_hmc_requires(self):
        boot = self.boot_settings(self.inst)
        if self.storage_management:
            self.assertEqual('storage-volume', boot['boot-device'])
            volume = boot['volume']
            self.assertEqual(('boot', 'complete', 'OpenStack-vol-1'), (
                volume['usage'], volume['fulfillment-state'],
                volume['name']))
            self.assertEqual(
                {(driver_base.TARGET, '0000000000000001')},
                {(p['target-world-wide-port-name'],
                  p['logical-unit-number']) for p in volume['paths']})
        else:
            self.assertEqual('storage-adapter', boot['boot-device'])
            self.assertEqual(driver_base.TARGET,
                             boot['boot-world-wide-port-name'])

    def test_listing(self):
        self.assertEqual([self.inst.name], self.driver.list_instances())
        self.assertEqual([self.inst.uuid],
                         self.driver.list_instance_uuids())
        self.assertTrue(self.driver.instance_exists(self.inst))
        self.assertFalse(self.driver.instance_exists(self.instance()))
        self.assertEqual(1, self.driver.get_num_instances())

    def test_power_off_on_and_reboots(self):
        self.driver.power_off(self.inst, timeout=30)
        self.assertEqual(power_state.SHUTDOWN, self.state())
        self.driver.power_off(self.inst)
        self.driver.power_on(None, self.inst, None)
        self.assertEqual(power_state.RUNNING, self.state())
        for reboot_type in ('SOFT', 'HARD'):
            self.driver.reboot(None, self.inst, None, reboot_type)
            self.assertEqual(power_state.RUNNING, self.state())
        self.assertEqual(power_state.RUNNING, self.state(use_cache=True))

    def test_resume_state_on_host_boot_starts_a_stopped_partition(self):
        self.driver.power_off(self.inst)
        self.driver.resume_state_on_host_boot(None, self.inst, None, None)
        self.assertEqual(power_state.RUNNING, self.state())

    def test_console_output(self):
        output = self.driver.get_console_output(None, self.inst)
        self.assertIsInstance(output, bytes)
        self.assertIn(b'Linux version', output)

    def test_destroy_is_idempotent_and_leaves_nothing(self):
        self.driver.destroy(None, self.inst, None)
        self.assertNothingLeft()
        self.driver.destroy(None, self.inst, None)
        self.driver.cleanup(None, self.inst, None)
        self.assertRaises(exception.InstanceNotFound, self.driver.get_info,
                          self.inst, use_cache=False)
        self.assertRaises(exception.InstanceNotFound, self.driver.get_info,
                          self.inst)
        self.assertEqual([], self.driver.list_instance_uuids())

    def test_verbs_on_a_missing_partition(self):
        other = self.instance()
        self.assertRaises(exception.InstanceNotFound, self.driver.power_on,
                          None, other, None)
        self.driver.destroy(None, other, None)

    def test_volume_connector_comes_from_storage(self):
        connector = self.driver.get_volume_connector(self.inst)
        self.assertEqual(2, len(connector['wwpns']))
        self.assertTrue(connector['multipath'])

    def data_volumes(self):
        """Names of the group's data volumes, fulfilled or being so."""
        def read(client):
            found = []
            for group in client.consoles.console.storage_groups.list():
                for volume in group.storage_volumes.list():
                    volume.pull_full_properties()
                    props = volume.properties
                    if props['usage'] == 'data' and props[
                            'fulfillment-state'] in ('pending', 'complete'):
                        found.append(props['name'])
            return sorted(found)
        return self.hmc(read) if self.storage_management else []

    def test_volumes_attach_and_detach_running_and_stopped(self):
        first = driver_base.boot_bdi('data-1')['block_device_mapping'][0][
            'connection_info']
        second = driver_base.boot_bdi('data-2')['block_device_mapping'][0][
            'connection_info']
        first['data']['target_lun'] = 2
        second['data']['target_lun'] = 3
        self.driver.attach_volume(None, first, self.inst, '/dev/sdb')
        self.driver.power_off(self.inst)
        self.driver.attach_volume(None, second, self.inst, '/dev/sdc')
        if self.storage_management:
            self.assertEqual(['OpenStack-data-1', 'OpenStack-data-2'],
                             self.data_volumes())
        self.driver.detach_volume(None, second, self.inst, '/dev/sdc')
        self.driver.power_on(None, self.inst, None)
        self.driver.detach_volume(None, first, self.inst, '/dev/sdb')
        self.assertEqual([], self.data_volumes())
        self.assertEqual(power_state.RUNNING, self.state())

    def test_hmc_errors_reach_nova_as_nova_exceptions(self):
        self.sim.fail_next(10, 400, 8, method='POST',
                           uri=r'/operations/stop$')
        exc = self.assertRaises(exception.InstancePowerOffFailure,
                                self.driver.power_off, self.inst)
        self.assertIn('400', str(exc))


@driver_base.on_every_kind
class TestTwoHostsOnOneCpc(driver_base.DriverTestCase):

    host = 'cmp-1.example.org'

    def test_each_host_sees_only_its_partitions(self):
        mine = self.instance()
        self.spawn(mine)
        self.configure('other-host')
        other_driver = self.make_driver()
        theirs = self.instance()
        other_driver.spawn(None, theirs, None, [], None, {},
                           block_device_info=driver_base.boot_bdi('v2'))
        self.assertEqual([theirs.uuid], other_driver.list_instance_uuids())
        self.configure(self.host)
        self.assertEqual([mine.uuid], self.driver.list_instance_uuids())
        self.assertEqual(2, len(self.sim.resources()['partitions']))
