"""Building an instance's partition, with ONE place that handles failure.

``Spawner.spawn`` runs the steps in order (check the request, create the
partition, create NICs, prepare the boot device, attach the data volumes,
start).  Whatever step
fails, the failure arrives at a single ``except`` in :meth:`Spawner.spawn`,
which decides:

* the instance was deleted meanwhile (Nova says so on ``refresh``): remove
  what is left on the HMC and return quietly, so Nova's own "deleted during
  build" handling takes over;
* otherwise: roll back everything this spawn created on the HMC (stop the
  partition, detach and delete its storage group, unmount ISO images,
  delete the partition, which removes its NICs and HBAs) and raise
  ``InstanceDeployFailure`` naming the step and the cause, so Nova
  reschedules.  Bad requests found before any HMC change
  (``InvalidInput``, ``ImageUnacceptable``, ...) are raised unchanged:
  Nova aborts those builds instead of rescheduling them.

Cinder volumes are never deleted: deleting the storage group removes the
HMC's storage volume objects, not the LUNs behind them.

Boot from volume: Nova asks ``get_volume_connector`` for the initiator
WWPNs *before* ``spawn`` (Cinder must map the volume first), so the driver
then creates the partition early, stopped, through
:meth:`Spawner.ensure_partition`. ``spawn`` reuses that stopped partition
instead of creating a second one, and the rollback removes it like one it
created itself.

Rebuild is Nova's default, destroy + spawn: Nova detaches the volumes,
destroys the partition, asks ``get_volume_connector`` again (the driver
then creates the new partition early, as for a build) and spawns with every
volume in ``block_device_info``; ``spawn`` attaches the data volumes as well
as the boot volume, before the start.
"""

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception
from oslo_log import log as logging

from nova_dpm.hmc import statuses
from nova_dpm.virt.dpm import partition as partition_mod

LOG = logging.getLogger(__name__)


class _Progress(object):
    """Which step runs, and what this spawn created so far."""

    def __init__(self):
        self.step = 'check the request'
        self.partition_uri = None


class Spawner(object):
    """Spawns instances as partitions of the CPC subset.

    :param subset: ``host.CpcSubset``
    :param networking: ``network.Networking`` or None (no NIC support)
    :param storage: ``storage.Storage`` or None (no FCP volume support)
    :param iso_boot: ``image.IsoBoot`` or None (no ISO image boot)
    """

    def __init__(self, subset, networking=None, storage=None, iso_boot=None):
        self._subset = subset
        self._cpc = subset.cpc
        self._networking = networking
        self._storage = storage
        self._iso_boot = iso_boot

    def spawn(self, context, instance, image_meta, network_info=None,
              block_device_info=None, power_on=True):
        progress = _Progress()
        try:
            self._build(context, instance, image_meta, network_info,
                        block_device_info, power_on, progress)
        except Exception as exc:
            self._handle_failure(instance, progress, exc)
        finally:
            self._subset.forget_snapshot()

    # -- the steps ----------------------------------------------------------

    def _build(self, context, instance, image_meta, network_info,
               block_device_info, power_on, progress):
        nic_plans, boot_volume, data_volumes = self._check(
            image_meta, network_info, block_device_info)
        uuid = instance.uuid
        failure = exception.InstanceDeployFailure

        progress.step = 'create the partition'
        progress.partition_uri = self.ensure_partition(instance, failure)
        uri = progress.partition_uri

        boot_parameters = ''
        if nic_plans:
            progress.step = 'create the NICs'
            boot_parameters = self._networking.create_nics(uri, nic_plans)

        if boot_volume is not None:
            progress.step = 'prepare booting from the volume'
            self._storage.prepare_boot(instance, uri, boot_volume)
        else:
            progress.step = 'prepare booting from the ISO image'
            self._iso_boot.prepare_boot(context, instance, image_meta, uri)

        if data_volumes:
            progress.step = 'attach the data volumes'
            self._storage.attach_data_volumes(instance, uri, data_volumes)

        if boot_parameters:
            progress.step = 'pass the NIC MAC addresses to the guest'
            self._cpc.update_partition(
                uri, {'boot-os-specific-parameters': boot_parameters},
                failure, uuid)

        if power_on:
            progress.step = 'start the partition'
            # ensure_partition hands over a stopped partition.
            self._cpc.start_partition(uri, failure, uuid,
                                      known_status='stopped')
        LOG.info('Spawned partition %s', partition_mod.partition_name(
            self._subset.host, uuid), instance=instance)

    def ensure_partition(self, instance,
                         failure=exception.InstanceDeployFailure):
        """URI of the instance's partition: the stopped one or a new one.

        A stopped partition of the instance's name was made by
        ``get_volume_connector`` (see module docstring) or left by an
        interrupted attempt, and is reused. A partition in any other status
        is not ours to take over: ``failure`` is raised (the spawn rollback
        then removes it). Creating is a mutating call with an already-done
        check, so a lost response never makes two partitions.
        """
        name = partition_mod.partition_name(self._subset.host, instance.uuid)
        found = self._cpc.find_partition(name)
        if found is None:
            return self.create_partition(instance, failure)
        if found.get('status') not in statuses.STOPPED_LIKE:
            raise failure(reason='partition %s already exists and is %s, '
                          'not stopped' % (name, found.get('status')))
        LOG.info('Reusing stopped partition %s', name, instance=instance)
        return found['object-uri']

    def create_partition(self, instance,
                         failure=exception.InstanceDeployFailure):
        """URI of a new partition for the instance (none exists: looked up).

        A mutating call with an already-done check, so a lost response
        never makes two partitions.
        """
        return self._cpc.create_partition(
            self._partition_properties(instance), failure, instance.uuid)

    def _check(self, image_meta, network_info, block_device_info):
        """Validate everything before the HMC is changed."""
        nic_plans = []
        if network_info:
            nic_plans = self._networking.plan(network_info)
        boot_volume = self._storage.boot_volume(block_device_info)
        data_volumes = self._storage.data_volumes(block_device_info)
        if boot_volume is None:
            self._iso_boot.check(image_meta)
        return nic_plans, boot_volume, data_volumes

    def _partition_properties(self, instance):
        flavor = instance.flavor
        return {
            'name': partition_mod.partition_name(self._subset.host,
                                                 instance.uuid),
            'description': partition_mod.description(self._subset.host,
                                                     instance),
            '%s-processors' % self._subset.processor_type: flavor.vcpus,
            'initial-memory': flavor.memory_mb,
            'maximum-memory': flavor.memory_mb,
        }

    # -- the single failure point ------------------------------------------

    def _handle_failure(self, instance, progress, exc):
        if progress.partition_uri is None and isinstance(
                exc, exception.Invalid) and not isinstance(
                exc, exception.InstanceDeployFailure):
            # A bad request: Nova aborts it. This spawn created nothing, but
            # get_volume_connector may have prepared a partition before.
            if self._storage.has_prepared_storage(instance):
                self.remove_partition(instance)
            raise exc

        deleted = self._instance_deleted(instance)
        if deleted:
            LOG.info('Instance deleted while its partition was being built '
                     '(during: %s); removing what is left', progress.step,
                     instance=instance)
        else:
            LOG.error('Building the partition failed while trying to '
                      '%(step)s: %(cause)s; rolling back',
                      {'step': progress.step, 'cause': exc},
                      instance=instance)
        cleaned = self.remove_partition(instance, progress)
        if deleted:
            return
        reason = 'could not %s: %s' % (progress.step, _describe(exc))
        if not cleaned:
            reason += ('; the rollback failed too, see the nova-compute log '
                       'for what is left on the HMC')
        raise exception.InstanceDeployFailure(reason=reason) from exc

    def remove_partition(self, instance, progress=None):
        """Stop, release and delete the instance's partition, if any.

        :returns: True when nothing is left (errors are logged, not raised)
        """
        target = partition_mod.InstancePartition(
            self._cpc, self._subset.host, instance)
        try:
            self.destroy(instance)
        except Exception as exc:
            LOG.error('Could not remove partition %(name)s: %(cause)s; '
                      'delete it on the HMC (nova-dpm retries when the '
                      'instance is deleted)',
                      {'name': target.name, 'cause': exc}, instance=instance)
            return False
        return True

    def destroy(self, instance):
        """Stop, release and delete the instance's partition, if any.

        Without a partition, FCP storage it may have left on the HMC (a
        storage group of an earlier, interrupted destroy) is removed too.
        Raises what the HMC failure maps to.
        """
        target = partition_mod.InstancePartition(
            self._cpc, self._subset.host, instance)
        if not target.destroy(self.release_steps(instance)) and \
                self._storage is not None:
            self._storage.release(instance, None)

    def release_steps(self, instance):
        """What must be detached before the partition is deleted."""
        return [lambda uri: self._storage.release(instance, uri),
                self._iso_boot.release]

    @staticmethod
    def _instance_deleted(instance):
        """Does Nova say the instance is being (or has been) deleted?"""
        try:
            instance.refresh()
        except exception.InstanceNotFound:
            return True
        except Exception as exc:
            LOG.warning('Could not refresh the instance to see whether it '
                        'was deleted: %s', exc, instance=instance)
            return False
        return (instance.task_state == task_states.DELETING or
                instance.vm_state in (vm_states.DELETED,
                                      vm_states.SOFT_DELETED))


def _describe(exc):
    if isinstance(exc, exception.NovaException):
        return exc.format_message()
    return '%s: %s' % (type(exc).__name__, exc)
