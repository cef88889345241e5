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
