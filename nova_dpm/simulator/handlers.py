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
``ctx.jobs``, ``ctx.faults``, ``ctx.iso_mounts``, ``ctx.job_duration()``.
"""

import collections
import re
import urllib.parse

from nova_dpm.simulator import faults
from nova_dpm.simulator import storage_groups

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

# Reason code of a real HMC for "a property value must be unique".
DUPLICATE_NAME_REASON = 8


class HMCError(Exception):
    """An HMC error response (HTTP status, reason code, message)."""

    def __init__(self, status, reason, message):
        super(HMCError, self).__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


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


def create_partition(ctx, method, path, match, body):
    """Create Partition, refusing a name already used on the CPC."""
    name = body.get('name') if isinstance(body, dict) else None
    try:
        cpc = ctx.hmc.cpcs.lookup_by_oid(match.group(1))
    except KeyError:
        raise HMCError(404, 1, 'No CPC with object-id %s' % match.group(1))
    if name is not None and any(p.name == name
                                for p in cpc.partitions.list()):
        raise HMCError(400, DUPLICATE_NAME_REASON,
                       "The name '%s' is not unique: a partition with that "
                       "name already exists on CPC %s" % (name, cpc.name))
    result = ctx.mock.post(ctx.hmc, path, body, True, True)
    return Reply(201, result, {'Location': result['object-uri']})


def update_partition(ctx, method, path, match, body):
    """Update Partition Properties, refusing a duplicate new name."""
    partition = _partition(ctx, match.group(1))
    name = body.get('name') if isinstance(body, dict) else None
    if name is not None and name != partition.name:
        siblings = partition.manager.list()
        if any(p.name == name for p in siblings):
            raise HMCError(400, DUPLICATE_NAME_REASON,
                           "The name '%s' is not unique on the CPC" % name)
    ctx.mock.post(ctx.hmc, path, body, True, True)
    return no_content()


def delete_partition(ctx, method, path, match, body):
    """Delete Partition (409.1 unless stopped), forgetting its ISO."""
    partition = _partition(ctx, match.group(1))
    ctx.mock.delete(ctx.hmc, path, True)
    ctx.iso_mounts.pop(partition.uri, None)
    # The HMC detaches the partition's storage groups with it.
    for sg_uri in partition.properties.get('storage-group-uris') or []:
        group = ctx.hmc.all_resources.get(sg_uri)
        if group is not None:
            storage_groups.remove_virtual_storage_resources(group,
                                                            partition.uri)
    for child in partition.nics.list() + partition.hbas.list():
        ctx.hmc.all_resources.pop(child.uri, None)
    return no_content()


def async_partition_operation(ctx, method, path, match, body):
    """Start/Stop & co.: validate and apply now, show it as a job."""
    partition = _partition(ctx, match.group(1))
    operation = match.group(2)
    before = partition.properties.get('status')
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
        raise HMCError(409, 40, 'Job %s has not ended yet' % job.job_id)
    ctx.jobs.remove(job.job_id)
    return no_content()


def cancel_job(ctx, method, path, match, body):
    job = _job(ctx, match.group(1))
    if job.status != 'running':
        raise HMCError(409, 40, 'Job %s has already ended' % job.job_id)
    job.cancel()
    return Reply(202, None, {})


def _storage_group_uri(body):
    if not isinstance(body, dict) or 'storage-group-uri' not in body:
        raise HMCError(400, 5, 'Missing required field in request body: '
                       'storage-group-uri')
    return body['storage-group-uri']


def attach_storage_group(ctx, method, path, match, body):
    partition = _partition(ctx, match.group(1))
    sg_uri = _storage_group_uri(body)
    if sg_uri not in ctx.hmc.all_resources:
        raise HMCError(404, 2, 'No storage group with URI %s' % sg_uri)
    attached = partition.properties.setdefault('storage-group-uris', [])
    if sg_uri in attached:
        raise HMCError(409, 1, 'Storage group %s is already attached to '
                       'partition %s' % (sg_uri, partition.name))
    attached.append(sg_uri)
    storage_groups.create_virtual_storage_resources(
        ctx.hmc, ctx.hmc.lookup_by_uri(sg_uri), partition)
    return no_content()


def detach_storage_group(ctx, method, path, match, body):
    partition = _partition(ctx, match.group(1))
    sg_uri = _storage_group_uri(body)
    attached = partition.properties.get('storage-group-uris') or []
    if sg_uri not in attached:
        raise HMCError(409, 1, 'Storage group %s is not attached to '
                       'partition %s' % (sg_uri, partition.name))
    attached.remove(sg_uri)
    group = ctx.hmc.all_resources.get(sg_uri)
    if group is not None:
        storage_groups.remove_virtual_storage_resources(group, partition.uri)
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
    ctx.mock.post(ctx.hmc, path, None, True, True)
    ctx.iso_mounts[partition.uri] = {
        'image-name': partition.properties.get('boot-iso-image-name'),
        'size': size}
    return no_content()


def unmount_iso_image(ctx, method, path, match, body):
    partition = _partition(ctx, match.group(1))
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
        raise HMCError(400, 5, 'Missing required field in request body: '
                       'requests (an array of request objects)')
    responses = []
    for request in requests:
        if not isinstance(request, dict) or not request.get('uri') or \
                request.get('method') not in ('GET', 'POST', 'DELETE'):
            raise HMCError(400, 5, 'Each request needs a method (GET, POST '
                           'or DELETE) and a uri')
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
