"""HMC requests per Nova call: constant, whatever the number of instances."""

from nova.compute import power_state

from nova_dpm.virt.dpm import partition
from tests.functional.virt import driver_base

INSTANCES = 50


class TestRequestCounts(driver_base.DriverTestCase):

    def setUp(self):
        super().setUp()
        cpc = self.driver._ready.subset.cpc
        self.instances = []
        for _ in range(INSTANCES):
            instance = self.instance()
            cpc.create_partition({
                'name': partition.partition_name(self.host, instance.uuid),
                'description': partition.description(self.host, instance),
                'ifl-processors': 1, 'initial-memory': 1024,
                'maximum-memory': 1024}, None)
            self.instances.append(instance)
        self.sim.reset_stats()

    def requests(self):
        total = self.sim.stats()['total']
        self.sim.reset_stats()
        return total

    def test_list_instance_uuids_is_one_request(self):
        self.assertEqual(INSTANCES, len(self.driver.list_instance_uuids()))
        self.assertEqual(1, self.requests())

    def test_get_info_without_cache_is_one_request(self):
        info = self.driver.get_info(self.instances[0], use_cache=False)
        self.assertEqual(power_state.SHUTDOWN, info.state)
        self.assertEqual(1, self.requests())

    def test_periodic_cycle_does_not_grow_with_instances(self):
        self.driver.get_available_resource(self.host)   # warms CPC cache
        self.requests()
        self.driver.get_available_resource(self.host)
        self.driver.get_num_instances()
        for instance in self.instances:
            self.driver.get_info(instance, use_cache=True)
        self.assertLessEqual(self.requests(), 3)
