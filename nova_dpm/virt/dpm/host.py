"""The CPC subset this nova-compute manages: resources, inventory, snapshot.

Nova's periodic tasks ask about every instance one by one
(``_sync_power_states`` calls ``get_info`` per instance).  To keep the HMC
load independent of the number of instances, :class:`PartitionSnapshot`
holds the result of ONE ``List Partitions`` request for a few seconds and
answers those questions from it.  CPC properties (SE version, machine type)
change only with firmware upgrades and are kept longer.
"""

import threading
import time

import os_resource_classes as orc
import os_traits
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import versionutils

from nova.objects import fields as obj_fields
from nova_dpm.virt.dpm import partition

LOG = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 5
CPC_PROPERTIES_SECONDS = 600


class TimedValue(object):
    """A value loaded on demand and kept for ``ttl`` seconds; thread-safe.

    Only one thread loads at a time; the others wait for its result instead
    of sending the same request to the HMC.
    """

    def __init__(self, loader, ttl, clock=time.monotonic):
        self._loader = loader
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._value = None
        self._loaded_at = None

    def get(self):
        with self._lock:
            now = self._clock()
            if self._loaded_at is None or now - self._loaded_at >= self._ttl:
                self._value = self._loader()
                self._loaded_at = self._clock()
            return self._value

    def invalidate(self):
        with self._lock:
            self._loaded_at = None


class CpcSubset(object):
    """The processors and memory of one CPC given to this nova-compute.

    :param cpc: ``nova_dpm.hmc.cpc.ManagedCpc``
    :param host: ``CONF.host``; also the node name
    :param max_processors, max_memory, processor_type: the ``[dpm]``
        options sizing the subset
    """

    def __init__(self, cpc, host, max_processors, max_memory,
                 processor_type='ifl', clock=time.monotonic):
        self.cpc = cpc
        self.host = host
        self.max_processors = max_processors
        self.max_memory = max_memory
        self.processor_type = processor_type
        self._snapshot = TimedValue(self._load_partitions, SNAPSHOT_SECONDS,
                                    clock)
        self._cpc_properties = TimedValue(cpc.properties,
                                          CPC_PROPERTIES_SECONDS, clock)

    # -- partitions ---------------------------------------------------------

    def _load_partitions(self):
        found = self.cpc.list_partitions(partition.name_regex(self.host))
        summaries = [partition.PartitionSummary(p, self.processor_type)
                     for p in found]
        return tuple(s for s in summaries if s.belongs_to(self.host))

    def partitions(self, use_cache=False):
        """This host's partitions; ``use_cache`` allows a snapshot."""
        if not use_cache:
            self._snapshot.invalidate()
        return self._snapshot.get()

    def partition_of(self, instance_uuid, use_cache=True):
        """Summary of the instance's partition from the snapshot, or None."""
        for summary in self.partitions(use_cache):
            if summary.instance_uuid == instance_uuid:
                return summary
        return None

    def forget_snapshot(self):
        """Drop the snapshot (after this host created/deleted partitions)."""
        self._snapshot.invalidate()

    # -- resources ----------------------------------------------------------

    def available_resource(self):
        """The dict ``get_available_resource`` returns (two requests)."""
        props = self._cpc_properties.get()
        used = self.partitions(use_cache=False)
        se_version = props.get('se-version') or '0.0.0'
        return {
            'vcpus': self.max_processors,
            'memory_mb': self.max_memory,
            'local_gb': 0,
            'vcpus_used': sum(p.processors for p in used),
            'memory_mb_used': sum(p.memory_mb for p in used),
            'local_gb_used': 0,
            'hypervisor_type': obj_fields.HVType.PRSM,
            'hypervisor_version': versionutils.convert_version_to_int(
                se_version),
            'hypervisor_hostname': self.host,
            'cpu_info': jsonutils.dumps(self.cpu_info(props)),
            'disk_available_least': 0,
            'supported_instances': [(obj_fields.Architecture.S390X,
                                     obj_fields.HVType.PRSM,
                                     obj_fields.VMMode.HVM)],
            'numa_topology': None,
        }

    def cpu_info(self, props):
        return {
            'arch': obj_fields.Architecture.S390X,
            'vendor': 'IBM',
            'model': props.get('machine-type'),
            'cpc': props.get('name'),
            'processor_type': self.processor_type,
            'topology': {'sockets': 1, 'cores': self.max_processors,
                         'threads': 1},
            'features': [],
        }

    def update_provider_tree(self, provider_tree, nodename, ratios,
                             reserved_cpus, reserved_memory_mb):
        """Report VCPU and MEMORY_MB inventory and the s390x trait.

        There is no DISK_GB: partitions boot from volumes or ISO images.
        ``ratios`` comes from ``ComputeDriver._get_allocation_ratios``.
        """
        inventory = {
            orc.VCPU: {
                'total': self.max_processors,
                'min_unit': 1,
                'max_unit': self.max_processors,
                'step_size': 1,
                'allocation_ratio': ratios[orc.VCPU],
                'reserved': reserved_cpus,
            },
            orc.MEMORY_MB: {
                'total': self.max_memory,
                'min_unit': 1,
                'max_unit': self.max_memory,
                'step_size': 1,
                'allocation_ratio': ratios[orc.MEMORY_MB],
                'reserved': reserved_memory_mb,
            },
        }
        provider_tree.update_inventory(nodename, inventory)
        provider_tree.add_traits(nodename, os_traits.HW_ARCH_S390X)
