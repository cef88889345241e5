"""DPM operations on the managed CPC, each one a supervised HMC call.

This facade is where the driver's needs meet zhmcclient: everything under
``nova_dpm/virt/`` asks this class, gets plain data back (dicts of HMC
property names, URIs, strings) and never sees a zhmcclient object or
exception.  Every method runs through ``HMCSupervisor.call`` so retries,
failover and the translation of errors into Nova exceptions happen in one
place.

Partitions are addressed by their ``object-uri``; lookups go by name with
an anchored regular expression so that zhmcclient never answers from its
name-URI cache (which can be stale after a delete) and every lookup is ONE
``List Partitions of a CPC`` request.

Power operations bring a partition to a goal status (active or stopped)
from wherever it is, waiting through the transitional statuses
(``starting``, ``stopping``) and re-reading the status when the HMC says
the partition is in the wrong state for the operation (HTTP 409.1), which
happens when someone else changes it at the same moment.

Errors: every method runs supervised calls, which turn zhmcclient errors
into Nova exceptions by the table in ``errors.py``:
``HypervisorUnavailable`` when the HMC cannot be reached or refuses the
logon; ``InstanceNotFound`` when the partition is gone and the call names
an instance (``instance_uuid``); ``WrongState`` on HTTP 409.1 (power
operations handle it themselves); the caller's ``failure`` class
(``failure(reason=...)``, default ``HMCOperationFailed``) for any other
refusal, a failed job or a timeout.
"""

import zhmcclient

from nova_dpm.hmc import gone
from nova_dpm.hmc import polling
from nova_dpm.hmc import statuses
from nova_dpm.hmc import WrongState

# Returned by list_partitions() in addition to object-uri, name and status.
PARTITION_SUMMARY_PROPERTIES = (
    'description', 'ifl-processors', 'cp-processors', 'initial-memory',
    'maximum-memory')

# How often a power operation re-reads the status after the HMC refused it
# because the partition changed state under us.
_MAX_POWER_STEPS = 4


def _anchored(name):
    """Regular expression matching exactly ``name`` (letters, digits, -)."""
    return '^%s$' % name


class ManagedCpc(object):
    """The CPC (in DPM mode) this nova-compute manages a subset of.

    :param supervisor: a ``nova_dpm.hmc.HMCSupervisor``
    :param cpc_object_id: object-id of the CPC
    :param status_timeout: seconds a partition may take to reach a status
        after its job ended (and to leave a transitional status it was in
        before we asked)
    :param operation_timeout: seconds a start/stop job may take
    """

    def __init__(self, supervisor, cpc_object_id, status_timeout=60,
                 operation_timeout=3600):
        self._sup = supervisor
        self._oid = cpc_object_id
        self._status_timeout = status_timeout
        self._operation_timeout = operation_timeout

    # -- zhmcclient resource objects (built locally, no I/O) ---------------

    def _cpc(self, client):
        return client.cpcs.resource_object(self._oid)

    def _partition(self, client, uri):
        return self._cpc(client).partitions.resource_object(uri)

    # -- CPC ----------------------------------------------------------------

    def properties(self):
        """All properties of the CPC.

        HMC: Get CPC Properties.
        """
        def action(client):
            cpc = self._cpc(client)
            cpc.pull_full_properties()
            return dict(cpc.properties)
        return self._sup.call(action, what='get properties of CPC %s'
                              % self._oid)

    # -- partition lookup ---------------------------------------------------

    def _list(self, client, name_regex):
        partitions = self._cpc(client).partitions.list(
            filter_args={'name': name_regex},
            additional_properties=list(PARTITION_SUMMARY_PROPERTIES))
        return [dict(p.properties) for p in partitions]

    def list_partitions(self, name_regex):
        """Partitions whose name matches ``name_regex`` (one request).

        HMC: List Partitions of a CPC (name filter, additional properties).

        :returns: list of dicts with ``object-uri``, ``name``, ``status`` and
            :data:`PARTITION_SUMMARY_PROPERTIES`.
        """
        return self._sup.call(
            lambda client: self._list(client, name_regex),
            what='list partitions matching %s' % name_regex)

    def find_partition(self, name):
        """The partition called ``name`` as a dict, or None.

        HMC: List Partitions of a CPC (anchored name filter).
        """
        found = self._sup.call(
            lambda client: self._list(client, _anchored(name)),
            what='look up partition %s' % name)
        return found[0] if found else None

    def partition_status(self, uri, instance_uuid=None, failure=None):
        """Current status of one partition.

        HMC: Get Partition Properties (``status`` only).

        :raises InstanceNotFound: the partition is gone (with instance_uuid)
        """
        def action(client):
            partition = self._partition(client, uri)
            partition.pull_properties(['status'])
            return partition.properties['status']
        return self._sup.call(action, what='get status of partition %s' % uri,
                              failure=failure, instance_uuid=instance_uuid)

    # -- create / update / delete ------------------------------------------

    def create_partition(self, properties, failure, instance_uuid=None):
        """Create a partition; returns its ``object-uri``.

        HMC: Create Partition (input fields only: ``boot-storage-volume``
        is set later, by Update Partition Properties). A lost response is
        resolved by looking the partition up by name, so exactly one
        partition exists afterwards.
        """
        name = properties['name']

        def action(client):
            return self._cpc(client).partitions.create(properties).uri

        def already_done(client):
            found = self._list(client, _anchored(name))
            if found:
                return True, found[0]['object-uri']
            return False, None

        return self._sup.call(action, what='create partition %s' % name,
                              failure=failure, instance_uuid=instance_uuid,
                              mutating=True, already_done=already_done)

    def update_partition(self, uri, properties, failure, instance_uuid=None):
        """Set partition properties.

        HMC: Update Partition Properties. Setting the same values twice
        has the same effect as once, so the request is retried like a read
        (``mutating=False``).
        """
        return self._sup.call(
            lambda client: self._partition(client, uri).update_properties(
                properties),
            what='update partition %s (%s)' % (uri, ', '.join(
                sorted(properties))),
            failure=failure, instance_uuid=instance_uuid)

    def delete_partition(self, uri, failure, instance_uuid=None):
        """Delete a stopped partition; a missing partition is success.

        HMC: Get Partition Properties (gone?), then Delete Partition. The
        HMC removes the partition's NICs and HBAs with it.
        """
        def deleted(client):
            try:
                client.session.get(uri)
            except zhmcclient.Error as exc:
                if gone.is_gone(exc):
                    return True, None
                raise
            return False, None

        def action(client):
            done, _ = deleted(client)
            if not done:
                self._partition(client, uri).delete()

        self._sup.call(action, what='delete partition %s' % uri,
                       failure=failure, instance_uuid=instance_uuid,
                       mutating=True, already_done=deleted)

    # -- power --------------------------------------------------------------

    def start_partition(self, uri, failure, instance_uuid=None,
                        known_status=None):
        """Bring the partition to active (or degraded), from any status.

        HMC: Get Partition Properties, Start Partition (and Stop Partition
        from a status that cannot be started), Query Job Status.
        ``known_status``: the caller just saw the status (a partition it
        created is stopped), which saves one HMC round trip.
        """
        self._drive(uri, statuses.RUNNING, failure, instance_uuid,
                    known_status)

    def stop_partition(self, uri, failure, instance_uuid=None):
        """Bring the partition to stopped, from any status.

        HMC: Get Partition Properties, Stop Partition, Query Job Status.
        """
        self._drive(uri, statuses.STOPPED_LIKE, failure, instance_uuid)

    def _drive(self, uri, goal, failure, instance_uuid, known_status=None):
        status = None
        for step in range(_MAX_POWER_STEPS):
            if step == 0 and known_status:
                status = known_status
            else:
                status = self.partition_status(uri, instance_uuid, failure)
            if status in goal:
                return
            if status in statuses.TRANSITIONAL:
                status = self._wait_for(
                    uri, lambda s: s not in statuses.TRANSITIONAL,
                    self._operation_timeout, instance_uuid, failure)
                if status in goal:
                    return
            operation = ('start' if goal is statuses.RUNNING
                         and status in statuses.STOPPED_LIKE else 'stop')
            try:
                self._run_job(uri, operation, failure, instance_uuid)
            except WrongState:
                continue  # changed under us: re-read and decide again
            target = (statuses.RUNNING if operation == 'start'
                      else statuses.STOPPED_LIKE)
            # The status follows the job with a delay ("deferred status").
            status = self._wait_for(uri, lambda s: s in target,
                                    self._status_timeout, instance_uuid,
                                    failure)
            if status in goal:
                return
        raise failure(reason='partition %s did not reach status %s (it is '
                             '%s)' % (uri, '/'.join(sorted(goal)), status))

    def _wait_for(self, uri, done, timeout, instance_uuid, failure):
        # Registered before the first look, so no status change is missed.
        with self._sup.watch_status(uri, done) as waiter:
            return polling.poll_until(
                lambda: self.partition_status(uri, instance_uuid, failure),
                done, timeout, waiter=waiter)

    def _run_job(self, uri, operation, failure, instance_uuid):
        """POST start/stop without waiting, then wait for the job quickly."""
        what = '%s partition %s' % (operation, uri)
        effect = (frozenset([statuses.STARTING]) | statuses.RUNNING
                  if operation == 'start'
                  else frozenset([statuses.STOPPING]) | statuses.STOPPED_LIKE)

        def action(client):
            method = getattr(self._partition(client, uri), operation)
            return method(wait_for_completion=False).uri

        def already_done(client):
            partition = self._partition(client, uri)
            partition.pull_properties(['status'])
            return partition.properties['status'] in effect, None

        since = self._sup.notification_mark()
        job_uri = self._sup.call(action, what=what, failure=failure,
                                 instance_uuid=instance_uuid, mutating=True,
                                 already_done=already_done)
        if job_uri:
            self._sup.await_job(job_uri, what=what, failure=failure,
                                timeout=self._operation_timeout,
                                instance_uuid=instance_uuid, since=since)

    # -- operating system ---------------------------------------------------

    def os_messages(self, uri, instance_uuid=None, failure=None):
        """The OS messages the HMC keeps for the partition (list of dicts).

        HMC: List OS Messages of a Partition.
        """
        def action(client):
            result = self._partition(client, uri).list_os_messages()
            return list(result.get('os-messages', []))
        return self._sup.call(action, what='list OS messages of partition %s'
                              % uri, failure=failure,
                              instance_uuid=instance_uuid)

    def mount_iso(self, uri, fileobj, image_name, ins_file, failure,
                  instance_uuid=None):
        """Upload an ISO image (streamed from ``fileobj``) to the partition.

        HMC: Mount ISO Image. A mount replaces whatever image the partition
        has (zhmcclient's ``Partition.mount_iso_image``), so sending it
        again is harmless: every attempt rewinds ``fileobj`` (a seekable
        file) and uploads it whole, and a dropped or lost request is
        retried like a read instead of failing the build.
        """
        def mount(client):
            fileobj.seek(0)
            self._partition(client, uri).mount_iso_image(
                fileobj, image_name, ins_file)
        self._sup.call(
            mount,
            what='mount ISO image %s on partition %s' % (image_name, uri),
            failure=failure, instance_uuid=instance_uuid)

    def unmount_iso(self, uri, failure, instance_uuid=None):
        """Remove the partition's ISO image; nothing mounted is fine.

        HMC: Get Partition Properties, then Unmount ISO Image.
        """
        def action(client):
            partition = self._partition(client, uri)
            partition.pull_properties(['boot-iso-image-name'])
            if partition.properties.get('boot-iso-image-name'):
                partition.unmount_iso_image()
        self._sup.call(action, what='unmount ISO image of partition %s' % uri,
                       failure=failure, instance_uuid=instance_uuid)
