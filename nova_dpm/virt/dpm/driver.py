"""Nova compute driver for IBM Z / LinuxONE CPCs in DPM mode.

This module is a table of Nova verbs: each method hands the work to one
domain object (``host.CpcSubset`` for the CPC subset, ``partition.
InstancePartition`` for one instance, ``spawn.Spawner`` for building one,
``storage.Storage`` for volumes).  All HMC traffic goes through one
``nova_dpm.hmc.HMCSupervisor``, which also turns every HMC failure into a
Nova exception.

Constructing the driver reads nothing and connects to nothing (Nova reports
an ImportError or ValueError from here as "Unable to load the
virtualization driver"); ``init_host`` reads ``[dpm]``, validates it and
logs on to the HMC.

VIFs: the NICs of a partition are created by ``spawn`` and disappear with
the partition, so ``plug_vifs``/``unplug_vifs`` have nothing to do;
``attach_interface``/``detach_interface`` add and remove one NIC of an
existing partition, running or stopped.

Rebuild: Nova's default (``rebuild`` is not implemented): detach the
volumes, ``destroy``, ask ``get_volume_connector`` for each volume,
``spawn``. A DPM partition keeps nothing a rebuild could reuse (the image
is mounted again, the WWPNs belong to the partition), so destroy + spawn is
all it takes; the connector and spawn make the volumes follow.
"""

import dataclasses
import threading

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception
from nova.virt import driver
from nova.virt import hardware
import os_traits
from oslo_log import log as logging
from oslo_utils import excutils

import nova_dpm.conf
from nova_dpm.hmc import cpc as cpc_mod
from nova_dpm.hmc import HMCSettings
from nova_dpm.hmc import HMCSupervisor
from nova_dpm.virt.dpm import host as host_mod
from nova_dpm.virt.dpm import image as image_mod
from nova_dpm.virt.dpm import network as network_mod
from nova_dpm.virt.dpm import partition as partition_mod
from nova_dpm.virt.dpm import spawn as spawn_mod
from nova_dpm.virt.dpm import storage as storage_mod

LOG = logging.getLogger(__name__)
CONF = nova_dpm.conf.CONF


@dataclasses.dataclass(frozen=True)
class _Parts(object):
    """What ``init_host`` builds: everything that talks to the HMC."""

    supervisor: object
    subset: host_mod.CpcSubset
    spawner: spawn_mod.Spawner
    storage: storage_mod.Storage
    networking: network_mod.Networking


class DPMDriver(driver.ComputeDriver):
    """Partitions of one CPC subset as Nova instances."""

    capabilities = {
        'has_imagecache': False,
        'supports_evacuate': False,
        'supports_migrate_to_same_host': False,
        'supports_attach_interface': True,
        'supports_device_tagging': False,
        'supports_tagged_attach_interface': False,
        'supports_tagged_attach_volume': False,
        'supports_extend_volume': False,
        'supports_multiattach': False,
        'supports_trusted_certs': False,
        'supports_pcpus': False,
        'supports_accelerators': False,
        'supports_bfv_rescue': False,
        'supports_vtpm': False,
        'supports_secure_boot': False,
        'supports_stateless_firmware': False,
        'supports_socket_pci_numa_affinity': False,
        'supports_remote_managed_ports': False,
        'supports_address_space_passthrough': False,
        'supports_address_space_emulated': False,
        'supports_virtio_fs': False,
        'supports_mem_backing_file': False,
        'supports_ephemeral_encryption': False,
        'supports_ephemeral_encryption_luks': False,
        'supports_ephemeral_encryption_plain': False,
        'supports_image_type_aki': False,
        'supports_image_type_ami': False,
        'supports_image_type_ari': False,
        'supports_image_type_iso': True,
        'supports_image_type_qcow2': False,
        'supports_image_type_raw': False,
        'supports_image_type_vdi': False,
        'supports_image_type_vhd': False,
        'supports_image_type_vhdx': False,
        'supports_image_type_vmdk': False,
        'supports_image_type_ploop': False,
    }

    def __init__(self, virtapi, supervisor=None):
        """No I/O and no configuration parsing here (see module docstring).

        :param supervisor: an ``HMCSupervisor`` to use instead of building
            one from ``[dpm]`` (tests)
        """
        super().__init__(virtapi)
        self._given_supervisor = supervisor
        self._parts = None
        self._parts_lock = threading.Lock()

    # -- service life cycle -------------------------------------------------

    def init_host(self, host):
        """Read ``[dpm]``, validate it and log on to the HMC (fatal)."""
        with self._parts_lock:
            if self._parts is None:
                self._parts = self._build_parts()
        self._parts.supervisor.start()
        LOG.info('nova-dpm manages CPC %(cpc)s subset %(host)s: '
                 '%(cpus)s %(type)s processors, %(mem)s MiB memory',
                 {'cpc': CONF.dpm.cpc_object_id, 'host': CONF.host,
                  'cpus': CONF.dpm.max_processors,
                  'type': CONF.dpm.processor_type,
                  'mem': CONF.dpm.max_memory})

    def _build_parts(self):
        # HMCConfigError (a required option is unset) is not caught: it is
        # already a NovaException whose one-line message names the option
        # and the fix, which nova-compute logs as its CRITICAL start error.
        # A ValueError (an unusable value) is turned into the same kind of
        # message (InvalidConfiguration alone would only say "Configuration
        # is Invalid.").
        try:
            settings = HMCSettings.from_conf(CONF.dpm)
        except ValueError as exc:
            raise exception.InvalidConfiguration(
                message='[dpm] %s' % exc) from exc
        supervisor = self._given_supervisor or HMCSupervisor(
            settings, connection_id='nova-compute:%s' % CONF.host,
            state_dir=CONF.state_path)
        cpc = cpc_mod.ManagedCpc(supervisor, settings.cpc_object_id,
                                 status_timeout=settings.status_timeout,
                                 operation_timeout=settings.operation_timeout)
        subset = host_mod.CpcSubset(cpc, CONF.host, settings.max_processors,
                                    settings.max_memory,
                                    settings.processor_type)
        networking = network_mod.Networking(supervisor, settings)
        volumes = storage_mod.Storage(supervisor, settings, CONF.state_path)
        iso_boot = image_mod.IsoBoot(supervisor, settings)
        spawner = spawn_mod.Spawner(subset, networking, volumes, iso_boot)
        return _Parts(supervisor, subset, spawner, volumes, networking)

    def cleanup_host(self, host):
        """Log off; copes with an ``init_host`` that never completed."""
        parts = self._parts
        if parts is not None:
            parts.supervisor.stop()

    @property
    def _ready(self):
        parts = self._parts
        if parts is None:
            raise exception.VirtDriverNotReady()
        return parts

    def _partition(self, instance):
        return partition_mod.InstancePartition(
            self._ready.subset.cpc, CONF.host, instance)

    # -- host ---------------------------------------------------------------

    def get_available_nodes(self, refresh=False):
        return [CONF.host]

    def get_available_resource(self, nodename):
        return self._ready.subset.available_resource()

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        parts = self._ready
        inventory = provider_tree.data(nodename).inventory
        parts.subset.update_provider_tree(
            provider_tree, nodename, self._get_allocation_ratios(inventory),
            CONF.reserved_host_cpus, CONF.reserved_host_memory_mb)
        # No capability maps to this trait: drivers that attach volumes
        # report it themselves.
        provider_tree.add_traits(nodename, os_traits.COMPUTE_VOLUME_ATTACH)

    def get_host_ip_addr(self):
        return CONF.my_ip

    # -- instances ----------------------------------------------------------

    def list_instances(self):
        """Instance names (one HMC request)."""
        return [p.instance_name for p in self._ready.subset.partitions()]

    def list_instance_uuids(self):
        """Instance uuids (one HMC request)."""
        return [p.instance_uuid for p in self._ready.subset.partitions()]

    def get_num_instances(self):
        return len(self._ready.subset.partitions())

    def instance_exists(self, instance):
        return self._partition(instance).find() is not None

    def get_info(self, instance, use_cache=True):
        """Power state from the partition status (see partition.py).

        ``use_cache``: answer from the host's partition snapshot (no request
        while it is fresh); otherwise one request.
        """
        if use_cache:
            found = self._ready.subset.partition_of(instance.uuid)
        else:
            found = self._partition(instance).find()
        if found is None:
            raise exception.InstanceNotFound(instance_id=instance.uuid)
        return hardware.InstanceInfo(state=found.power_state,
                                     internal_id=found.uri)

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        self._ready.spawner.spawn(context, instance, image_meta,
                                  network_info, block_device_info, power_on)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        """Stop the partition, remove its FCP storage, delete it.

        Already gone is success. What is removed is found on the HMC (the
        storage group is named after the instance), whatever the local
        state file says; the Cinder volumes are never deleted.
        """
        parts = self._ready
        try:
            parts.spawner.destroy(instance)
        finally:
            parts.subset.forget_snapshot()

    def cleanup(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, migrate_data=None, destroy_vifs=True,
                destroy_secrets=True):
        """Nothing outlives ``destroy``; repeat it in case it did not run."""
        self.destroy(context, instance, network_info, block_device_info)

    def power_off(self, instance, timeout=0, retry_interval=0):
        """Stop the partition; DPM cannot ask the OS, so no graceful wait."""
        self._partition(instance).power_off()
        self._ready.subset.forget_snapshot()

    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None, share_info=None):
        self._partition(instance).power_on()
        self._ready.subset.forget_snapshot()

    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None, share_info=None):
        """Soft and hard alike: stop + start (DPM has no OS-level reboot)."""
        self._partition(instance).reboot()
        self._ready.subset.forget_snapshot()

    def resume_state_on_host_boot(self, context, instance, network_info,
                                  share_info, block_device_info=None):
        """Nova expects the instance running: start it if it is not."""
        self.power_on(context, instance, network_info, block_device_info)

    def get_console_output(self, context, instance):
        return self._partition(instance).console_output()

    def plug_vifs(self, instance, network_info):
        """NICs are created by spawn (see module docstring)."""

    def unplug_vifs(self, instance, network_info):
        """NICs are deleted with the partition (see module docstring)."""

    def attach_interface(self, context, instance, image_meta, vif):
        """A NIC for ``vif`` in the instance's partition, running or not.

        Refused before any HMC change when the port cannot be placed
        (InvalidInput); the partition's MAC list is kept right.
        """
        found = self._partition(instance).require()
        self._ready.networking.attach(found.uri, vif)

    def detach_interface(self, context, instance, vif):
        """Remove the NIC of ``vif``; a NIC already gone is success."""
        found = self._partition(instance).require()
        self._ready.networking.detach(found.uri, vif)

    # -- volumes ------------------------------------------------------------

    def _storage(self):
        return self._ready.storage

    def get_volume_connector(self, instance):
        """Initiator WWPNs Cinder maps the instance's volumes to.

        Nova asks before ``spawn`` (to map the boot volume), when no
        partition exists yet: then the partition is created now, stopped,
        and given its FCP storage, so the WWPNs are real. ``spawn`` reuses
        it; its rollback, and ``destroy`` (which Nova calls when a build
        fails before ``spawn``), remove it. A rebuild asks the same between
        its ``destroy`` and its ``spawn``, for every volume of the server:
        the WWPNs recorded for the destroyed partition are then not asked
        for, they are not the new partition's.
        """
        storage = self._storage()
        wwpns = [] if self._rebuilding(instance) else \
            storage.known_wwpns(instance)
        if not wwpns and self._may_prepare_storage(instance):
            wwpns = self._prepare_partition_storage(instance)
        return storage.get_volume_connector(instance, wwpns)

    @staticmethod
    def _may_prepare_storage(instance):
        """Not for an instance being deleted: nothing may be created."""
        return (instance.task_state != task_states.DELETING and
                instance.vm_state not in (vm_states.DELETED,
                                          vm_states.SOFT_DELETED))

    @staticmethod
    def _rebuilding(instance):
        """Is Nova between the destroy and the spawn of a rebuild?"""
        return (instance.task_state ==
                task_states.REBUILD_BLOCK_DEVICE_MAPPING)

    def _prepare_partition_storage(self, instance):
        """The WWPNs of the partition's FCP storage, prepared now ([]).

        An existing partition (a server booted from an ISO image getting its
        first volume) is used as it is; one is created only for a server
        being built or rebuilt, and removed again when its storage cannot
        be prepared.
        """
        parts = self._ready
        found = self._partition(instance).find()
        if found is not None:
            uri = found.uri
        elif (instance.vm_state == vm_states.BUILDING or
                self._rebuilding(instance)):
            uri = parts.spawner.create_partition(instance)
        else:
            return []
        try:
            return parts.storage.prepare_storage(instance, uri)
        except Exception:
            with excutils.save_and_reraise_exception():
                if found is None:
                    parts.spawner.remove_partition(instance)
        finally:
            parts.subset.forget_snapshot()

    def attach_volume(self, context, connection_info, instance, mountpoint,
                      disk_bus=None, device_type=None, encryption=None):
        return self._storage().attach_volume(context, connection_info,
                                             instance, mountpoint)

    def detach_volume(self, context, connection_info, instance, mountpoint,
                      encryption=None):
        return self._storage().detach_volume(context, connection_info,
                                             instance, mountpoint)
