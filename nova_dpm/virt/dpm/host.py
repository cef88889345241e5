"""The CPC subset this nova-compute manages: resources, inventory, snapshot.

Nova's periodic tasks ask about every instance one by one
(``_sync_power_states`` calls ``get_info`` per instance).  To keep the HMC
load independent of the number of instances, the partition snapshot
holds the result of ONE ``List Partitions`` request for a few seconds and
answers those questions from it.  CPC properties (SE version, machine type)
change only with firmware upgrades and are kept longer.

Reads never wait behind the HMC: while one thread refreshes a value, the
others answer cached reads from what is known, and fresh reads share the
request already under way (see :class:`TimedValue`).
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


class _Fetch(object):
    """One request under way; the threads sharing it wait for ``done``."""

    def __init__(self, generation, started):
        self.generation = generation
        self.started = started
        self.done = threading.Event()
        self.value = None
        self.error = None


class _Known(object):
    """A loaded value, the generation it belongs to and when it was asked."""

    def __init__(self, value, generation, asked_at):
        self.value = value
        self.generation = generation
        self.asked_at = asked_at


class TimedValue(object):
    """A value loaded on demand and kept for ``ttl`` seconds; thread-safe.

    Single flight: at most one request per generation is under way; the
    thread that starts it makes it, other threads either share its result
    (:meth:`fresh`, or :meth:`get` when nothing is known yet) or answer
    from the last known value (:meth:`get`).  The lock guards only this
    bookkeeping and is never held while the loader runs, so a stuck HMC
    request stalls only the callers that must wait for its answer; their
    wait ends when the loader's own call deadline ends it.

    :meth:`invalidate` starts a new generation (this host changed what the
    value describes): a request started before it no longer counts as
    fresh, and the next read makes a new one.
    """

    def __init__(self, loader, ttl, clock=time.monotonic):
        self._loader = loader
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._generation = 0
        self._known = None    # _Known or None
        self._fetch = None    # _Fetch of the current generation or None

    def get(self):
        """A cached read; never waits behind another thread's request.

        The value if fresh, else the last known one while another thread
        refreshes it, else a refresh of our own.
        """
        with self._lock:
            known = self._known
            if known is not None and self._is_fresh(known):
                return known.value
            fetch = self._fetch
            if fetch is not None and known is not None:
                return known.value
            mine = fetch is None
            if mine:
                fetch = self._start()
        return self._load(fetch) if mine else self._await(fetch)

    def get_current(self):
        """Like :meth:`get`, but not with a value from before invalidate.

        A value from before :meth:`invalidate` is not good enough: this
        waits for (or makes) a newer request.
        """
        with self._lock:
            known = self._known
            if known is not None and known.generation == self._generation:
                if self._is_fresh(known) or self._fetch is not None:
                    return known.value
        return self.fresh()

    def fresh(self):
        """A read from an HMC request: the one under way, or a new one."""
        with self._lock:
            fetch = self._fetch
            mine = fetch is None
            if mine:
                fetch = self._start()
        return self._load(fetch) if mine else self._await(fetch)

    def invalidate(self):
        with self._lock:
            self._generation += 1
            self._fetch = None

    def _is_fresh(self, known):
        return (known.generation == self._generation and
                self._clock() - known.asked_at < self._ttl)

    def _start(self):
        self._fetch = _Fetch(self._generation, self._clock())
        return self._fetch

    def _load(self, fetch):
        try:
            fetch.value = self._loader()
        except BaseException as exc:
            fetch.error = exc
            raise
        finally:
            with self._lock:
                if self._fetch is fetch:
                    self._fetch = None
                known = self._known
                if fetch.error is None and (
                        known is None or
                        fetch.generation >= known.generation):
                    self._known = _Known(fetch.value, fetch.generation,
                                         fetch.started)
            fetch.done.set()
        return fetch.value

    @staticmethod
    def _await(fetch):
        fetch.done.wait()
        if fetch.error is not None:
            raise fetch.error
        return fetch.value


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
        """This host's partitions.

        ``use_cache`` allows the snapshot, also an expired one while
        another thread refreshes it; without it the answer comes from a
        List Partitions request, shared with the threads asking at the
        same time.
        """
        if use_cache:
            return self._snapshot.get()
        return self._snapshot.fresh()

    def partition_of(self, instance_uuid, use_cache=True):
        """Summary of the instance's partition, or None.

        From the snapshot with ``use_cache``; a partition missing from a
        snapshot taken before this host last changed its partitions (it
        may just have been created) is looked up in a current one.
        """
        found = _find(self.partitions(use_cache), instance_uuid)
        if found is None and use_cache:
            found = _find(self._snapshot.get_current(), instance_uuid)
        return found

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


def _find(summaries, instance_uuid):
    for summary in summaries:
        if summary.instance_uuid == instance_uuid:
            return summary
    return None
