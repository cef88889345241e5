"""get_volume_connector before spawn, as Nova calls it for boot volumes.

Nova asks for the initiator WWPNs before ``spawn`` (Cinder maps the boot
volume to them first), so the driver creates the partition early, stopped;
spawn reuses it and every failure path removes it.
"""

import os
import re

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception

from nova_dpm.virt.dpm import wwpn_store
from tests.functional.virt import driver_base

PARTITIONS = r'^/api/cpcs/[^/]+/partitions$'
ATTACH = r'/operations/attach-storage-group$'
HBAS = r'^/api/partitions/[^/]+/hbas$'
SIMULATED_WWPN = re.compile(r'^c05076[0-9a-f]{10}$')


@driver_base.on_every_kind
class TestConnectorBeforeSpawn(driver_base.DriverTestCase):
    """Nova's order of calls, on every CPC kind."""

    def connector(self, instance):
        return self.driver.get_volume_connector(instance)

    def statuses(self):
        return self.sim.resources()['partition_status']

    def test_connector_creates_a_stopped_partition_that_spawn_reuses(self):
        instance = self.instance(vcpus=2, memory_mb=2048)
        wwpns = self.connector(instance)['wwpns']
        self.assertEqual(2, len(wwpns))
        self.assertEqual(2, len(set(wwpns)))
        if self.storage_management:
            for wwpn in wwpns:
                self.assertRegex(wwpn, SIMULATED_WWPN)
            self.assertEqual(2,
                             self.sim.resources()['virtual_storage_resources'])
        self.assertEqual(['stopped'], list(self.statuses().values()))
        name = list(self.statuses())[0]
        self.assertIn(instance.uuid, name)

        self.spawn(instance, network_info=self.vifs(1))
        self.assertEqual({name: 'active'}, self.statuses())
        self.assertEqual(wwpns, self.connector(instance)['wwpns'])
        resources = self.driver.get_available_resource(self.host)
        self.assertEqual(2, resources['vcpus_used'])
        self.assertEqual(2048, resources['memory_mb_used'])

        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()
        # Nova unmaps the volumes after destroy: the WWPNs are still known.
        self.assertEqual(wwpns, self.connector(instance)['wwpns'])
        self.assertNothingLeft()

    def test_build_failing_before_spawn_is_cleaned_up_by_destroy(self):
        instance = self.instance()
        self.connector(instance)
        self.assertEqual(1, len(self.statuses()))
        # What Nova's build clean-up calls when the build fails before
        # spawn (e.g. Cinder could not map the volume).
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()

    def test_spawn_failure_after_the_connector_rolls_everything_back(self):
        instance = self.instance()
        self.connector(instance)
        self.sim.fail_job_next(1, operation='start')
        exc = self.assertRaises(exception.InstanceDeployFailure, self.spawn,
                                instance)
        self.assertIn('start the partition', str(exc))
        self.assertNothingLeft()

    def test_bad_request_after_the_connector_removes_the_partition(self):
        instance = self.instance()
        self.connector(instance)
        bad = driver_base.boot_bdi()
        bad['block_device_mapping'][0]['connection_info'][
            'driver_volume_type'] = 'iscsi'
        self.assertRaises(exception.InvalidInput, self.spawn, instance,
                          bdi=bad)
        self.assertNothingLeft()

    def test_spawn_refuses_a_running_partition_of_the_same_name(self):
        instance = self.instance()
        self.connector(instance)
        self.driver.power_on(None, instance, None)
        exc = self.assertRaises(exception.InstanceDeployFailure, self.spawn,
                                instance)
        self.assertIn('not stopped', str(exc))
        self.assertNothingLeft()

    def test_lost_create_response_still_makes_one_partition(self):
        instance = self.instance()
        self.sim.lose_response_next(1, method='POST', uri=PARTITIONS)
        self.assertEqual(2, len(self.connector(instance)['wwpns']))
        self.assertEqual(1, len(self.statuses()))
        self.spawn(instance)
        self.assertEqual(['active'], list(self.statuses().values()))

    def test_hmc_failure_leaves_what_destroy_removes(self):
        instance = self.instance()
        uri = ATTACH if self.storage_management else HBAS
        self.sim.fail_next(3, 500, 0, method='POST', uri=uri)
        exc = self.assertRaises(exception.NovaException, self.connector,
                                instance)
        self.assertNotIn(self.sim.password, str(exc))
        self.sim.clear_faults()
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()

    def test_no_partition_is_created_for_a_server_not_being_built(self):
        for vm_state, task_state in ((vm_states.ACTIVE, None),
                                     (vm_states.BUILDING,
                                      task_states.DELETING),
                                     (vm_states.DELETED, None)):
            instance = self.instance()
            instance.vm_state = vm_state
            instance.task_state = task_state
            self.assertEqual([], self.connector(instance)['wwpns'])
        self.assertNothingLeft()

    def test_destroy_without_the_state_file_leaves_nothing(self):
        # The HMC is the source of truth (issue 17 item 7).
        instance = self.instance()
        wwpns = self.connector(instance)['wwpns']
        self.spawn(instance)
        os.unlink(os.path.join(self.state_path, wwpn_store.FILE_NAME))
        if self.storage_management:
            # Read back from the storage group named after the instance.
            self.assertEqual(wwpns, self.connector(instance)['wwpns'])
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()

    def test_destroy_with_a_damaged_state_file_leaves_nothing(self):
        instance = self.instance()
        self.spawn(instance)
        with open(os.path.join(self.state_path, wwpn_store.FILE_NAME),
                  'w') as stream:
            stream.write('{"version": 1, "instances": ')
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()

    def test_existing_partition_without_storage_gets_it(self):
        instance = self.instance()
        self.driver._ready.spawner.ensure_partition(instance)
        instance.vm_state = vm_states.ACTIVE
        self.assertEqual(2, len(self.connector(instance)['wwpns']))
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()
