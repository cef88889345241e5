# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""HMC operations that zhmcclient.mock lacks or runs differently.

Everything else goes to zhmcclient.mock's URI handlers unchanged. Each
function here runs under the backend lock and gets the backend as ``hmc``
context: ``ctx.hmc`` (the FakedHmc), ``ctx.mock`` (UriHandler),
``ctx.jobs``, ``ctx.fulfilments``, ``ctx.faults``, ``ctx.iso_mounts``,
``ctx.job_duration()``. What a real HMC refuses is decided in rules.py;
the handlers call its checks before they change anything.
"""

import collections
import hashlib
import re
import urllib.parse

from nova_dpm.simulator.errors import HMCError
from nova_dpm.simulator import faults
from nova_dpm.simulator import rules
from nova_dpm.simulator import storage_groups
from nova_dpm.simulator import storage_volumes

Reply = collections.namedtuple('Reply', ['status', 'body', 'headers'])

# Partition operations a real HMC runs as jobs, and the status shown while
# they run (None: the status does not change).
ASYNC_PARTITION_OPERATIONS = {
    'start': 'starting',
    'stop': 'stopping',
    'psw-restart': None,
    'scsi-dump': None,
    'start-dump-program': None,
}

# The rule whose answer each asynchronous operation gives for a partition
# status the operation does not accept (zhmcclient.mock checks them).
_STATUS_RULES = {
    'start': 'partition-start-status',
    'stop': 'partition-stop-status',
}


class IsoUpload(object):
    """What the server kept of a streamed ISO body: its size only."""

    def __init__(self, size):
        self.size = size


def no_content():
    return Reply(204, None, {})


def _partition(ctx, oid):
    try:
        return ctx.hmc.lookup_by_uri('/api/partitions/' + oid)
    except KeyError:
        raise HMCError(404, 1, 'No partition with object-id %s' % oid)


def _path_only(path):
    return path.split('?', 1)[0]


def _cpc(ctx, oid):
    try:
        return ctx.hmc.cpcs.lookup_by_oid(oid)
    except KeyError:
        raise HMCError(404, 1, 'No CPC with object-id %s' % oid)


def _check_unique_name(partitions, name, cpc):
    if name is not None and any(p.name == name for p in partitions):
        rules.refuse('partition-name-unique',
                     "The name '%s' is not unique: a partition with that "
                     "name already exists on CPC %s" % (name, cpc.name))


def _body(body):
    if not isinstance(body, dict):
        rules.refuse('request-required-field', 'Missing request body (a '
                     'JSON object is required)')
    return body


def create_partition(ctx, method, path, match, body):
    """Create Partition: the HMC's field and boot rules, a unique name."""
    cpc = _cpc(ctx, match.group(1))
    body = _body(body)
    _check_unique_name(cpc.partitions.list(), body.get('name'), cpc)
    rules.check_create_partition(cpc, body)
    result = ctx.mock.post(ctx.hmc, path, body, True, True)
    return Reply(201, result, {'Location': result['object-uri']})


def update_partition(ctx, method, path, match, body):
    """Update Partition Properties: writable fields, valid boot settings."""
    partition = _partition(ctx, match.group(1))
    body = _body(body)
    name = body.get('name')
    if name != partition.name:
        _check_unique_name(partition.manager.list(), name,
                           partition.manager.parent)
    rules.check_update_partition(ctx.hmc, partition, body)
    ctx.mock.post(ctx.hmc, path, body, True, True)
    return no_content()


def delete_partition(ctx, method, path, match, body):
    """Delete Partition (409.1 unless stopped), forgetting its ISO."""
    partition = _partition(ctx, match.group(1))
    with rules.enforced_by_mock('partition-delete-status'):
        ctx.mock.delete(ctx.hmc, path, True)
    ctx.iso_mounts.pop(partition.uri, None)
    # The HMC detaches the partition's storage groups with it.
    for sg_uri in partition.properties.get('storage-group-uris') or []:
        group = ctx.hmc.all_resources.get(sg_uri)
        if group is not None:
            storage_groups.remove_virtual_storage_resources(group,
                                                            partition.uri)
            ctx.fulfilments.refresh_paths(group)
    for child in partition.nics.list() + partition.hbas.list():
        ctx.hmc.all_resources.pop(child.uri, None)
    return no_content()


def async_partition_operation(ctx, method, path, match, body):
    """Start/Stop & co.: validate and apply now, show it as a job."""
    partition = _partition(ctx, match.group(1))
    operation = match.group(2)
    before = partition.properties.get('status')
    with rules.enforced_by_mock(_STATUS_RULES.get(
            operation, 'partition-operation-status')):
        ctx.mock.post(ctx.hmc, path, body, True, True)
    after = partition.properties.get('status')
    transitional = ASYNC_PARTITION_OPERATIONS[operation]
    if transitional:
        partition.properties['status'] = transitional

    def finish():
        partition.properties['status'] = after

    def undo():
        partition.properties['status'] = before

    failure = ctx.faults.take(faults.FAIL_JOB, operation=operation)
    job = ctx.jobs.submit(operation, ctx.job_duration(operation), finish,
                          undo, failure)
    return _job_started(job)


def _job_started(job):
    # No Location header: a real HMC sends none for these operations, and
    # zhmcclient's synchronous start()/stop() would then try to add it to
    # the job results (None for them) and fail with a TypeError.
    return Reply(202, {'job-uri': job.uri}, {})


def _job(ctx, job_id):
    job = ctx.jobs.get(job_id)
    if job is None:
        raise HMCError(404, 1, 'No job with id %s' % job_id)
    return job


def query_job(ctx, method, path, match, body):
    return Reply(200, _job(ctx, match.group(1)).body(), {})


def delete_job(ctx, method, path, match, body):
    job = _job(ctx, match.group(1))
    if job.status == 'running':
        rules.refuse('job-not-ended', 'Job %s has not ended yet'
                     % job.job_id)
    ctx.jobs.remove(job.job_id)
    return no_content()


def cancel_job(ctx, method, path, match, body):
    job = _job(ctx, match.group(1))
    if job.status != 'running':
        rules.refuse('job-not-ended', 'Job %s has already ended'
                     % job.job_id)
    job.cancel()
    return Reply(202, None, {})


# --- NICs, HBAs and virtual functions ---

def create_nic(ctx, method, path, match, body):
    """Create NIC: by port on network-express CPCs, by vswitch for OSA."""
    partition = _partition(ctx, match.group(1))
    rules.check_create_nic(ctx.hmc, partition, _body(body))
    reply = _create_child(ctx, path, body)
    nic = ctx.hmc.lookup_by_uri(reply.body['element-uri'])
    if not nic.properties.get('mac-address'):
        nic.properties['mac-address'] = assigned_mac(nic.uri)
    return reply


def assigned_mac(nic_uri):
    """The locally administered MAC the HMC gives a NIC created without one.

    A real HMC picks one (``02:...``, the MAC of zhmc-ansible-modules'
    sample NIC); the simulator derives it from the NIC's URI.
    """
    digits = hashlib.sha256(nic_uri.encode()).hexdigest()[:10]
    return ':'.join(['02'] + [digits[i:i + 2] for i in range(0, 10, 2)])


def create_hba(ctx, method, path, match, body):
    """Create HBA: only on CPCs without dpm-storage-management."""
    rules.check_create_hba(_partition(ctx, match.group(1)))
    return _create_child(ctx, path, body)


def create_virtual_function(ctx, method, path, match, body):
    _partition(ctx, match.group(1))
    return _create_child(ctx, path, body)


def _create_child(ctx, path, body):
    with rules.enforced_by_mock('partition-child-transitional'):
        result = ctx.mock.post(ctx.hmc, path, body, True, True)
    return Reply(201, result, {'Location': result['element-uri']})


def delete_child(ctx, method, path, match, body):
    """Delete NIC/HBA/VF: not while the partition starts or stops."""
    with rules.enforced_by_mock('partition-child-transitional'):
        ctx.mock.delete(ctx.hmc, path, True)
    return no_content()


# --- storage groups and volumes ---

def _storage_group(ctx, oid):
    try:
        return ctx.hmc.lookup_by_uri('/api/storage-groups/' + oid)
    except KeyError:
        raise HMCError(404, 1, 'No storage group with object-id %s' % oid)


def _storage_group_uri(body):
    if not isinstance(body, dict) or 'storage-group-uri' not in body:
        rules.refuse('request-required-field', 'Missing required field in '
                     'request body: storage-group-uri')
    return body['storage-group-uri']


def create_storage_group(ctx, method, path, match, body):
    """Create Storage Group (storage-management CPCs), with its volumes."""
    body = _body(body)
    rules.check_create_storage_group(ctx.hmc, body)
    requests = body.get('storage-volumes') or []
    for request in requests:
        rules.check_volume_request(request, creating=True)
    plain = {k: v for k, v in body.items() if k != 'storage-volumes'}
    result = ctx.mock.post(ctx.hmc, path, plain, True, True)
    group = ctx.hmc.lookup_by_uri(result['object-uri'])
    created = [ctx.fulfilments.create(group, request).uri
               for request in requests]
    storage_volumes.update_group_state(group)
    return Reply(201, {'object-uri': group.uri, 'element-uris': created},
                 {'Location': group.uri})


def delete_storage_group(ctx, method, path, match, body):
    """Delete Storage Group: refused while attached to a partition."""
    group = _storage_group(ctx, match.group(1))
    rules.check_delete_storage_group(ctx.hmc, group)
    ctx.fulfilments.forget_group(group)
    group.manager.remove(group.oid)
    return no_content()


def modify_storage_group(ctx, method, path, match, body):
    """Modify Storage Group Properties: volume create/modify/delete."""
    group = _storage_group(ctx, match.group(1))
    body = _body(body)
    requests = body.get('storage-volumes') or []
    volumes = []
    for request in requests:
        if not isinstance(request, dict) or 'operation' not in request:
            rules.refuse('request-required-field', 'Missing required field '
                         'in storage-volumes request: operation')
        operation = request['operation']
        if operation not in ('create', 'modify', 'delete'):
            rules.refuse('storage-volume-value', "Invalid storage-volumes "
                         "operation %r" % (operation,))
        rules.check_volume_request(request, operation == 'create')
        volumes.append(None if operation == 'create'
                       else _volume_of(ctx, group, request))
    group.update({k: v for k, v in body.items()
                  if k not in ('storage-volumes', 'email-to-addresses',
                               'email-cc-addresses', 'email-insert')})
    created = []
    for request, volume in zip(requests, volumes):
        if request['operation'] == 'create':
            created.append(ctx.fulfilments.create(group, request).uri)
        elif request['operation'] == 'modify':
            ctx.fulfilments.modify(group, volume, request)
        else:
            ctx.fulfilments.delete(group, volume)
    return Reply(200, {'element-uris': created}, {})


def _volume_of(ctx, group, request):
    uri = request.get('element-uri')
    if uri is None:
        rules.refuse('request-required-field', 'Missing required field in '
                     'storage-volumes request: element-uri')
    volume = ctx.hmc.all_resources.get(uri)
    if volume is None or not uri.startswith(group.uri + '/'):
        raise HMCError(404, 2, 'No storage volume %s in storage group %s'
                       % (uri, group.name))
    return volume


def fulfill_fcp_storage_volume(ctx, method, path, match, body):
    """Fulfill FCP Storage Volume: the LUN behind it; complete later."""
    group = _storage_group(ctx, match.group(1))
    volume = _volume_of(ctx, group, {
        'element-uri': '%s/storage-volumes/%s' % (group.uri, match.group(2))})
    body = _body(body)
    rules.check_fulfil(ctx.hmc, group, body)
    ctx.fulfilments.fulfil(group, volume, storage_volumes.FcpTarget(
        str(body['world-wide-port-name']).lower(),
        str(body['logical-unit-number']).lower(), body['adapter-port-uri']))
    return no_content()


def start_fcp_storage_discovery(ctx, method, path, match, body):
    """Start FCP Storage Discovery: a job that completes fulfilments."""
    group = _storage_group(ctx, match.group(1))
    job = ctx.jobs.submit(
        'start-fcp-storage-discovery',
        ctx.job_duration('start-fcp-storage-discovery'),
        lambda: ctx.fulfilments.discover(group), lambda: None)
    return _job_started(job)


def storage_group_partitions(ctx, method, path, match, body):
    """Get Partitions for a Storage Group (``?name=``/``?status=``)."""
    group = _storage_group(ctx, match.group(1))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    partitions = []
    for partition in storage_groups.attached_partitions(ctx.hmc, group):
        props = partition.properties
        if any(not re.match('^%s$' % query[key][0], props.get(key) or '')
               for key in ('name', 'status') if key in query):
            continue
        partitions.append({key: props.get(key) for key in
                           ('object-uri', 'name', 'status')})
    return Reply(200, {'partitions': partitions}, {})


def attach_storage_group(ctx, method, path, match, body):
    """Attach Storage Group to Partition (also while it is active)."""
    partition = _partition(ctx, match.group(1))
    sg_uri = _storage_group_uri(body)
    group = ctx.hmc.all_resources.get(sg_uri)
    if group is None:
        raise HMCError(404, 2, 'No storage group with URI %s' % sg_uri)
    rules.check_attach(ctx.hmc, partition, group)
    partition.properties.setdefault('storage-group-uris', []).append(sg_uri)
    storage_groups.create_virtual_storage_resources(ctx.hmc, group,
                                                    partition)
    ctx.fulfilments.refresh_paths(group)
    return no_content()


def detach_storage_group(ctx, method, path, match, body):
    """Detach Storage Group from Partition (also while it is active)."""
    partition = _partition(ctx, match.group(1))
    sg_uri = _storage_group_uri(body)
    rules.check_detach(partition, sg_uri)
    partition.properties['storage-group-uris'].remove(sg_uri)
    group = ctx.hmc.all_resources.get(sg_uri)
    if group is not None:
        storage_groups.remove_virtual_storage_resources(group, partition.uri)
        ctx.fulfilments.refresh_paths(group)
    return no_content()


def _boot_lines(partition):
    props = partition.properties
    image = props.get('boot-iso-image-name')
    device = props.get('boot-device', 'none')
    lines = [
        'HMC simulator: partition %s started (boot device %s)' % (
            partition.name, device),
        'zIPL: loading %s' % (image or 'kernel from boot volume'),
        'Linux version 6.8.0-s390x (simulated)',
        'Kernel command line: %s' % (
            props.get('boot-os-specific-parameters') or ''),
        'systemd[1]: Reached target Multi-User System.',
        '%s login:' % partition.name.lower(),
    ]
    return lines


def list_os_messages(ctx, method, path, match, body):
    """List OS Messages: boot lines for an active partition."""
    partition = _partition(ctx, match.group(1))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    begin = int(query.get('begin-sequence-number', ['0'])[0])
    end = int(query.get('end-sequence-number', ['-1'])[0])
    messages = []
    if partition.properties.get('status') in ('active', 'degraded'):
        for number, text in enumerate(_boot_lines(partition)):
            if number < begin or (end >= 0 and number > end):
                continue
            messages.append({
                'sequence-number': number, 'message-id': number,
                'message-text': text, 'is-priority': False,
                'is-held': False, 'prompt-text': None,
                'sent-time': 0})
    return Reply(200, {'os-messages': messages}, {})


def mount_iso_image(ctx, method, path, match, body):
    """Mount ISO Image: the image was streamed; keep its size and name."""
    partition = _partition(ctx, match.group(1))
    size = body.size if isinstance(body, IsoUpload) else 0
    with rules.enforced_by_mock('partition-iso-status'):
        ctx.mock.post(ctx.hmc, path, None, True, True)
    ctx.iso_mounts[partition.uri] = {
        'image-name': partition.properties.get('boot-iso-image-name'),
        'size': size}
    return no_content()


def unmount_iso_image(ctx, method, path, match, body):
    partition = _partition(ctx, match.group(1))
    with rules.enforced_by_mock('partition-iso-status'):
        ctx.mock.post(ctx.hmc, path, body, True, True)
    ctx.iso_mounts.pop(partition.uri, None)
    return no_content()


def submit_requests(ctx, method, path, match, body):
    """Submit Requests (aggregation service): run each, answer a list.

    Every request is served like a request of its own, by this simulator's
    handlers; the answer (200) lists ``id``, ``status``, ``headers`` and
    ``body`` per request, as zhmcclient's bulk listing expects.
    """
    requests = body.get('requests') if isinstance(body, dict) else None
    if not isinstance(requests, list):
        rules.refuse('request-required-field', 'Missing required field in '
                     'request body: requests (an array of request objects)')
    responses = []
    for request in requests:
        if not isinstance(request, dict) or not request.get('uri') or \
                request.get('method') not in ('GET', 'POST', 'DELETE'):
            rules.refuse('request-required-field', 'Each request needs a '
                         'method (GET, POST or DELETE) and a uri')
        reply = ctx.serve_nested(request['method'], request['uri'],
                                 request.get('body'))
        response = {'status': reply.status, 'headers': [],
                    'body': reply.body}
        if 'id' in request:
            response['id'] = request['id']
        responses.append(response)
    return Reply(200, responses, {})


_ID = r'([^/?]+)'
_ROUTES = [
    ('POST', r'/api/cpcs/%s/partitions' % _ID, create_partition),
    ('POST', r'/api/partitions/%s' % _ID, update_partition),
    ('DELETE', r'/api/partitions/%s' % _ID, delete_partition),
    ('POST', r'/api/partitions/%s/operations/(%s)' % (
        _ID, '|'.join(ASYNC_PARTITION_OPERATIONS)),
     async_partition_operation),
    ('GET', r'/api/jobs/%s' % _ID, query_job),
    ('DELETE', r'/api/jobs/%s' % _ID, delete_job),
    ('POST', r'/api/jobs/%s/operations/cancel' % _ID, cancel_job),
    ('POST', r'/api/partitions/%s/operations/attach-storage-group' % _ID,
     attach_storage_group),
    ('POST', r'/api/partitions/%s/operations/detach-storage-group' % _ID,
     detach_storage_group),
    ('GET', r'/api/partitions/%s/operations/list-os-messages' % _ID,
     list_os_messages),
    ('POST', r'/api/partitions/%s/operations/mount-iso-image' % _ID,
     mount_iso_image),
    ('POST', r'/api/partitions/%s/operations/unmount-iso-image' % _ID,
     unmount_iso_image),
    ('POST', r'/api/services/aggregation/submit', submit_requests),
    ('POST', r'/api/partitions/%s/nics' % _ID, create_nic),
    ('POST', r'/api/partitions/%s/hbas' % _ID, create_hba),
    ('POST', r'/api/partitions/%s/virtual-functions' % _ID,
     create_virtual_function),
    ('DELETE', r'/api/partitions/%s/(?:nics|hbas|virtual-functions)/%s'
     % (_ID, _ID), delete_child),
    ('POST', r'/api/storage-groups', create_storage_group),
    ('POST', r'/api/storage-groups/%s/operations/delete' % _ID,
     delete_storage_group),
    ('POST', r'/api/storage-groups/%s/operations/modify' % _ID,
     modify_storage_group),
    ('GET', r'/api/storage-groups/%s/operations/get-partitions' % _ID,
     storage_group_partitions),
    ('POST', r'/api/storage-groups/%s/operations/start-fcp-storage-discovery'
     % _ID, start_fcp_storage_discovery),
    ('POST', r'/api/storage-groups/%s/storage-volumes/%s/operations/'
     r'fulfill-fcp-storage-volume' % (_ID, _ID), fulfill_fcp_storage_volume),
]
_COMPILED = [(m, re.compile('^' + p + '$'), f) for m, p, f in _ROUTES]


def route(method, path):
    """Return (handler, match) for an operation handled here, else None."""
    bare = _path_only(path)
    for route_method, pattern, handler in _COMPILED:
        if route_method == method:
            match = pattern.match(bare)
            if match:
                return handler, match
    return None
