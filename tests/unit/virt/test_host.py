"""The CPC subset: resources, inventory and the partition snapshot."""

import threading
import time

from nova.compute import provider_tree
from nova.objects import fields as obj_fields
from nova.tests.unit import fake_instance
import os_resource_classes as orc
import os_traits
from oslo_serialization import jsonutils
import testtools

from nova_dpm.virt.dpm import host
from nova_dpm.virt.dpm import partition
from tests.unit.virt import fakes

REQUIRED_KEYS = ('vcpus', 'memory_mb', 'local_gb', 'cpu_info', 'vcpus_used',
                 'memory_mb_used', 'local_gb_used', 'numa_topology')


class Clock(object):
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def add_partition(cpc, host_name, uuid, status='active', cpus=2, mem=4096,
                  description=None, processor_type='ifl'):
    instance = fake_instance.fake_instance_obj(None, uuid=uuid)
    uri = cpc.create_partition({
        'name': partition.partition_name(host_name, uuid),
        'description': description or partition.description(host_name,
                                                            instance),
        '%s-processors' % processor_type: cpus,
        'initial-memory': mem, 'maximum-memory': mem}, None)
    cpc.partitions[uri]['status'] = status
    return uri


class TimedValueTest(testtools.TestCase):

    def test_loads_once_within_ttl_and_again_after(self):
        clock = Clock()
        loads = []
        value = host.TimedValue(lambda: loads.append(1) or len(loads), 5,
                                clock)
        self.assertEqual(1, value.get())
        clock.now += 4.9
        self.assertEqual(1, value.get())
        clock.now += 0.2
        self.assertEqual(2, value.get())
        value.invalidate()
        self.assertEqual(3, value.get())

    def test_concurrent_readers_share_one_load(self):
        loads = []
        gate = threading.Event()

        def slow_load():
            loads.append(1)
            gate.wait(5)
            return 'partitions'

        value = host.TimedValue(slow_load, 5)
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            value.get())) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.05)
        gate.set()
        for thread in threads:
            thread.join(5)
        self.assertEqual(['partitions'] * 8, results)
        self.assertEqual(1, len(loads))


class StuckLoader(object):
    """A loader whose next call blocks until released (a mute HMC)."""

    def __init__(self):
        self.calls = 0
        self.stuck = threading.Event()
        self.release = threading.Event()
        self.fail_with = None

    def __call__(self):
        self.calls += 1
        if self.calls > 1:
            self.stuck.set()
            self.release.wait(5)
            if self.fail_with is not None:
                raise self.fail_with
        return 'load %d' % self.calls


class SingleFlightTest(testtools.TestCase):
    """No reader waits behind another thread's request."""

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.loader = StuckLoader()
        self.value = host.TimedValue(self.loader, 5, self.clock)
        self.assertEqual('load 1', self.value.get())

    def in_thread(self, read):
        results = []
        thread = threading.Thread(target=lambda: results.append(
            self._result_of(read)))
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(self.loader.release.set)   # runs before the join
        return thread, results

    @staticmethod
    def _result_of(read):
        try:
            return read()
        except Exception as exc:
            return exc

    def start_stuck_refresh(self, read):
        thread, results = self.in_thread(read)
        self.assertTrue(self.loader.stuck.wait(5))
        return thread, results

    def test_cached_read_answers_at_once_while_a_refresh_is_stuck(self):
        self.clock.now += 6     # expired: the next reader refreshes
        self.start_stuck_refresh(self.value.get)
        started = time.monotonic()
        self.assertEqual('load 1', self.value.get())
        self.assertLess(time.monotonic() - started, 0.1)
        self.assertEqual(2, self.loader.calls)

    def test_cached_read_after_invalidate_answers_while_stuck(self):
        self.value.invalidate()
        self.start_stuck_refresh(self.value.fresh)
        self.assertEqual('load 1', self.value.get())
        self.assertEqual(2, self.loader.calls)

    def test_fresh_reads_share_the_request_under_way(self):
        thread, first = self.start_stuck_refresh(self.value.fresh)
        _other, second = self.in_thread(self.value.fresh)
        time.sleep(0.05)
        self.assertEqual([], second)
        self.loader.release.set()
        thread.join(5)
        _other.join(5)
        self.assertEqual((['load 2'], ['load 2']), (first, second))
        self.assertEqual(2, self.loader.calls)

    def test_a_failed_request_fails_its_sharers_and_keeps_the_value(self):
        self.loader.fail_with = ValueError('HMC unavailable')
        thread, first = self.start_stuck_refresh(self.value.fresh)
        other, second = self.in_thread(self.value.fresh)
        time.sleep(0.05)
        self.loader.release.set()
        thread.join(5)
        other.join(5)
        self.assertIsInstance(first[0], ValueError)
        self.assertIs(first[0], second[0])
        self.assertEqual('load 1', self.value.get())

    def test_request_started_before_invalidate_is_not_fresh_after(self):
        thread, first = self.start_stuck_refresh(self.value.fresh)
        self.value.invalidate()
        self.loader.release.set()
        thread.join(5)
        self.assertEqual(['load 2'], first)
        # What this host changed may be missing from 'load 2': ask again.
        self.assertEqual('load 3', self.value.get_current())

    def test_get_current_uses_the_current_generation(self):
        self.assertEqual('load 1', self.value.get_current())
        self.assertEqual(1, self.loader.calls)


class CpcSubsetTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cpc = fakes.FakeCpc(se_version='2.16.0')
        self.clock = Clock()
        self.subset = host.CpcSubset(self.cpc, 'host-a', 10, 32768, 'ifl',
                                     clock=self.clock)

    def test_available_resource_has_every_key_nova_needs(self):
        resources = self.subset.available_resource()
        for key in REQUIRED_KEYS:
            self.assertIn(key, resources)
        self.assertEqual(10, resources['vcpus'])
        self.assertEqual(32768, resources['memory_mb'])
        self.assertEqual(0, resources['local_gb'])
        self.assertEqual('prsm', resources['hypervisor_type'])
        self.assertEqual(2016000, resources['hypervisor_version'])
        self.assertEqual('host-a', resources['hypervisor_hostname'])
        self.assertIsNone(resources['numa_topology'])
        self.assertEqual([('s390x', 'prsm', 'hvm')],
                         resources['supported_instances'])
        info = jsonutils.loads(resources['cpu_info'])
        self.assertEqual('s390x', info['arch'])

    def test_supported_instances_are_valid_nova_enums(self):
        arch, hv_type, mode = (
            self.subset.available_resource()['supported_instances'][0])
        self.assertEqual(arch, obj_fields.Architecture.canonicalize(arch))
        self.assertIn(hv_type, obj_fields.HVType.ALL)
        self.assertIn(mode, obj_fields.VMMode.ALL)

    def test_used_counts_only_this_hosts_partitions(self):
        add_partition(self.cpc, 'host-a', 'a' * 8 + '-0000-0000-0000-' +
                      '0' * 12, cpus=2, mem=2048)
        add_partition(self.cpc, 'host-a', 'b' * 8 + '-0000-0000-0000-' +
                      '0' * 12, cpus=3, mem=1024, status='stopped')
        add_partition(self.cpc, 'host-b', 'c' * 8 + '-0000-0000-0000-' +
                      '0' * 12, cpus=7, mem=8192)
        resources = self.subset.available_resource()
        self.assertEqual(5, resources['vcpus_used'])
        self.assertEqual(3072, resources['memory_mb_used'])

    def test_cp_subset_counts_cp_processors(self):
        subset = host.CpcSubset(self.cpc, 'host-c', 4, 4096, 'cp')
        add_partition(self.cpc, 'host-c', 'd' * 8 + '-0000-0000-0000-' +
                      '0' * 12, cpus=2, processor_type='cp')
        self.assertEqual(2, subset.available_resource()['vcpus_used'])

    def test_cpc_properties_are_cached(self):
        self.subset.available_resource()
        self.subset.available_resource()
        self.assertEqual(1, self.cpc.count('properties'))
        self.assertEqual(2, self.cpc.count('list_partitions'))

    def test_snapshot_serves_lookups_until_it_expires(self):
        uuid = 'e' * 8 + '-0000-0000-0000-' + '0' * 12
        add_partition(self.cpc, 'host-a', uuid)
        for _ in range(20):
            self.assertIsNotNone(self.subset.partition_of(uuid))
        self.assertEqual(1, self.cpc.count('list_partitions'))
        self.clock.now += host.SNAPSHOT_SECONDS
        self.subset.partition_of(uuid)
        self.assertEqual(2, self.cpc.count('list_partitions'))

    def test_partition_created_after_the_snapshot_is_found(self):
        self.assertEqual((), self.subset.partitions(use_cache=True))
        uuid = 'a' * 8 + '-0000-0000-0000-' + '1' * 12
        add_partition(self.cpc, 'host-a', uuid)
        self.subset.forget_snapshot()
        self.assertIsNotNone(self.subset.partition_of(uuid))
        self.assertEqual(2, self.cpc.count('list_partitions'))

    def test_missing_partition_costs_no_extra_request(self):
        uuid = 'a' * 8 + '-0000-0000-0000-' + '2' * 12
        self.assertIsNone(self.subset.partition_of(uuid))
        self.assertIsNone(self.subset.partition_of(uuid))
        self.assertEqual(1, self.cpc.count('list_partitions'))

    def test_description_naming_another_host_is_not_ours(self):
        # Same tag (simulated collision) but another host in the text.
        uuid = 'f' * 8 + '-0000-0000-0000-' + '0' * 12
        other = fake_instance.fake_instance_obj(None, uuid=uuid)
        add_partition(self.cpc, 'host-a', uuid,
                      description=partition.description('host-z', other))
        self.assertEqual((), self.subset.partitions())

    def _tree(self):
        tree = provider_tree.ProviderTree()
        tree.new_root('host-a', 'rp-uuid')
        return tree

    def test_inventory_has_vcpu_and_memory_only_and_s390x_trait(self):
        tree = self._tree()
        ratios = {orc.VCPU: 4.0, orc.MEMORY_MB: 1.5, orc.DISK_GB: 1.0}
        self.subset.update_provider_tree(tree, 'host-a', ratios, 1, 512)
        data = tree.data('host-a')
        self.assertEqual({orc.VCPU, orc.MEMORY_MB}, set(data.inventory))
        self.assertEqual(10, data.inventory[orc.VCPU]['total'])
        self.assertEqual(4.0, data.inventory[orc.VCPU]['allocation_ratio'])
        self.assertEqual(1, data.inventory[orc.VCPU]['reserved'])
        self.assertEqual(32768, data.inventory[orc.MEMORY_MB]['total'])
        self.assertEqual(1.5,
                         data.inventory[orc.MEMORY_MB]['allocation_ratio'])
        self.assertEqual(512, data.inventory[orc.MEMORY_MB]['reserved'])
        self.assertIn(os_traits.HW_ARCH_S390X, data.traits)
