"""One instance's partition: its name, its power, its power state.

Naming
------
A partition is called ``OpenStack-<host tag>-<instance uuid>`` (55
characters, within the HMC's 64), where the host tag is the first 8 hex
digits of the SHA-256 of ``CONF.host``.  The uuid makes the name unique
across every nova-compute sharing the CPC; the tag lets one ``List
Partitions`` request with a plain ``^OpenStack-<tag>-`` filter find exactly
this host's partitions, whatever characters the host name contains (it never
appears in a regular expression).  The readable host and instance name are
kept in the partition description, which also settles the (1 in 4 billion)
case of two hosts sharing a tag.

Power states
------------
=========================  ==============  ==================================
DPM status                 Nova state      Why
=========================  ==============  ==================================
active, degraded           RUNNING         the OS runs (degraded: with fewer
                                           resources than defined)
stopped                    SHUTDOWN        not running
reservation-error          SHUTDOWN        not running; it cannot be started
                                           until its reserved resources are
                                           available again
starting                   NOSTATE         transitional: not running yet, and
                                           reporting SHUTDOWN would make
                                           Nova's power sync stop an
                                           instance that is being started;
                                           NOSTATE makes the sync wait
stopping                   SHUTDOWN        a stop cannot be undone: the
                                           partition is going down (as
                                           libvirt reports "shutting down")
paused                     PAUSED          defined and loaded, processors
                                           stopped
terminated                 CRASHED         the OS ended abnormally (e.g. a
                                           disabled wait); Nova stops it
status-check,              NOSTATE         the Support Element lost contact:
communications-not-active                  the real state is unknown, and
                                           Nova must not act on a guess
anything else              NOSTATE         (logged)
=========================  ==============  ==================================

Graceful shutdown and reboot
----------------------------
DPM offers no operation that asks a Linux guest to shut down: "Stop
Partition" is the only way, and it is immediate.  ``power_off`` therefore
ignores its timeout, and a soft reboot is the same stop + start as a hard
one.
"""

import hashlib

from nova.compute import power_state
from nova import exception
from oslo_log import log as logging

from nova_dpm.hmc import statuses

LOG = logging.getLogger(__name__)

NAME_PREFIX = 'OpenStack'

POWER_STATES = {
    statuses.ACTIVE: power_state.RUNNING,
    statuses.DEGRADED: power_state.RUNNING,
    statuses.STOPPED: power_state.SHUTDOWN,
    statuses.RESERVATION_ERROR: power_state.SHUTDOWN,
    statuses.STARTING: power_state.NOSTATE,
    statuses.STOPPING: power_state.SHUTDOWN,
    statuses.PAUSED: power_state.PAUSED,
    statuses.TERMINATED: power_state.CRASHED,
    statuses.STATUS_CHECK: power_state.NOSTATE,
    statuses.COMMUNICATIONS_NOT_ACTIVE: power_state.NOSTATE,
}

_DESCRIPTION_HEADER = 'Managed by OpenStack Nova (nova-dpm). Do not change.'
_INSTANCE_NAME_KEY = 'instance-name'
_HOST_KEY = 'nova-compute-host'


def power_state_for(status):
    """The Nova power state of a partition in DPM status ``status``."""
    try:
        return POWER_STATES[status]
    except KeyError:
        LOG.warning('Partition status %r is unknown to nova-dpm; reporting '
                    'power state NOSTATE', status)
        return power_state.NOSTATE


def host_tag(host):
    """8 hex digits standing for ``host`` in partition names."""
    return hashlib.sha256(host.encode('utf-8')).hexdigest()[:8]


def name_prefix(host):
    return '%s-%s-' % (NAME_PREFIX, host_tag(host))


def name_regex(host):
    """Regular expression matching the partition names of ``host``."""
    return '^%s.*$' % name_prefix(host)


def partition_name(host, instance_uuid):
    return name_prefix(host) + instance_uuid


def description(host, instance):
    """Partition description: who owns it, in words an operator reads."""
    return '\n'.join([
        _DESCRIPTION_HEADER,
        '%s: %s' % (_INSTANCE_NAME_KEY, instance.name),
        'instance-uuid: %s' % instance.uuid,
        '%s: %s' % (_HOST_KEY, host),
    ])


def _description_fields(text):
    fields = {}
    for line in (text or '').splitlines():
        key, sep, value = line.partition(': ')
        if sep:
            fields[key] = value
    return fields


class PartitionSummary(object):
    """What one ``List Partitions`` entry says about an instance."""

    def __init__(self, properties, processor_type='ifl'):
        self.properties = properties
        self.uri = properties['object-uri']
        self.name = properties['name']
        self.status = properties.get('status')
        self._fields = _description_fields(properties.get('description'))
        self._processor_type = processor_type

    @property
    def instance_uuid(self):
        return self.name.split('-', 2)[2]

    @property
    def instance_name(self):
        return self._fields.get(_INSTANCE_NAME_KEY, self.name)

    @property
    def host(self):
        return self._fields.get(_HOST_KEY)

    @property
    def power_state(self):
        return power_state_for(self.status)

    @property
    def processors(self):
        return self.properties.get('%s-processors' % self._processor_type) or 0

    @property
    def memory_mb(self):
        return self.properties.get('maximum-memory') or 0

    def belongs_to(self, host):
        """True unless the description names another host."""
        return self.host is None or self.host == host


class InstancePartition(object):
    """The partition of one Nova instance on the managed CPC.

    :param cpc: ``nova_dpm.hmc.cpc.ManagedCpc``
    :param host: ``CONF.host`` of this nova-compute
    :param instance: ``nova.objects.Instance``
    """

    def __init__(self, cpc, host, instance):
        self._cpc = cpc
        self._host = host
        self.instance = instance
        self.name = partition_name(host, instance.uuid)

    def find(self):
        """PartitionSummary, or None without a partition (one request)."""
        found = self._cpc.find_partition(self.name)
        return PartitionSummary(found) if found else None

    def require(self):
        """The partition's summary; InstanceNotFound when there is none."""
        found = self.find()
        if found is None:
            raise exception.InstanceNotFound(instance_id=self.instance.uuid)
        return found

    def power_on(self):
        uri = self.require().uri
        self._cpc.start_partition(uri, exception.InstancePowerOnFailure,
                                  self.instance.uuid)

    def power_off(self):
        uri = self.require().uri
        self._cpc.stop_partition(uri, exception.InstancePowerOffFailure,
                                 self.instance.uuid)

    def reboot(self):
        """Stop + start: DPM's only reboot (see module docstring)."""
        uri = self.require().uri
        self._cpc.stop_partition(uri, exception.InstanceRebootFailure,
                                 self.instance.uuid)
        self._cpc.start_partition(uri, exception.InstanceRebootFailure,
                                  self.instance.uuid)

    def console_output(self):
        """The OS messages the HMC kept, as bytes (what Nova expects)."""
        uri = self.require().uri
        messages = self._cpc.os_messages(uri, self.instance.uuid,
                                         exception.ConsoleNotAvailable)
        lines = [m.get('message-text', '').rstrip('\n') for m in messages]
        text = '\n'.join(lines)
        return (text + '\n' if text else '').encode('utf-8')

    def destroy(self, release_steps=(), failure=None):
        """Stop and delete the partition; a missing partition is success.

        :param release_steps: callables ``step(partition_uri)`` that detach
            what deleting the partition would not remove (storage-group
            attachments, ISO images); run after the stop, before the delete.
        :returns: True when a partition was found (and deleted)
        """
        failure = failure or exception.InstanceTerminationFailure
        found = self.find()
        if found is None:
            LOG.info('Partition %s does not exist: nothing to destroy',
                     self.name, instance=self.instance)
            return False
        try:
            self._cpc.stop_partition(found.uri, failure, self.instance.uuid)
            for step in release_steps:
                step(found.uri)
            self._cpc.delete_partition(found.uri, failure, self.instance.uuid)
        except exception.InstanceNotFound:
            LOG.info('Partition %s disappeared while being destroyed',
                     self.name, instance=self.instance)
            return False
        LOG.info('Deleted partition %s', self.name, instance=self.instance)
        return True
