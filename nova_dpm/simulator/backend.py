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

"""The faked HMC behind one lock: sessions, jobs and request dispatch.

zhmcclient.mock is not thread-safe, so every request runs its HMC work
under ``Backend.lock``; the HTTP server never holds the lock while it
sleeps for injected latency, reads a request body or writes a response.
"""

import hmac
import itertools
import logging
import threading
import uuid

from zhmcclient import mock
# FakedHTTPError is what zhmcclient.mock's handlers raise for HMC errors;
# it is not exported by zhmcclient.mock itself.
from zhmcclient.mock._urihandler import FakedHTTPError

from nova_dpm.simulator.errors import HMCError
from nova_dpm.simulator.errors import RuleViolation
from nova_dpm.simulator import handlers
from nova_dpm.simulator import jobs as jobs_mod
from nova_dpm.simulator import notifications
from nova_dpm.simulator import rules
from nova_dpm.simulator import storage_groups
from nova_dpm.simulator import storage_volumes

LOG = logging.getLogger(__name__)

Reply = handlers.Reply

_PUBLIC = (('GET', '/api/version'), ('POST', '/api/sessions'))
# Not allowed inside Submit Requests: session changes and nesting.
_NOT_NESTABLE = ('/api/sessions', '/api/sessions/this-session',
                 '/api/services/aggregation/submit')


def error_reply(method, path, status, reason, message, headers=None):
    """An HMC error response body (as zhmcclient parses it)."""
    body = {'http-status': status, 'reason': reason, 'message': message,
            'request-method': method, 'request-uri': path}
    return Reply(status, body, dict(headers or {}))


class Backend(object):
    """A faked HMC with the session, job and error rules of a real one."""

    def __init__(self, faked_session, userid, password, fault_board,
                 job_duration, stats=None):
        self.lock = threading.Lock()
        self.hmc = faked_session.hmc
        self.mock = mock.UriHandler(mock.URIS)
        self.jobs = jobs_mod.JobTable()
        self.fulfilments = storage_volumes.Fulfilments(self.hmc)
        self._stats = stats
        self.faults = fault_board
        self.iso_mounts = {}
        self._userid = userid
        self._password = password
        self._sessions = set()
        self._default_job_duration = float(job_duration)
        self._job_durations = {}
        self._announcer = None

    # --- settings (called with or without the lock held by the caller) ---

    def job_duration(self, operation):
        """Seconds the next job of ``operation`` takes (under the lock)."""
        durations = self._job_durations.get(operation)
        if durations is None:
            return self._default_job_duration
        return next(durations)

    def set_job_duration(self, seconds, operation=None):
        """Job length: a number, or for ``operation`` a list of numbers.

        A list gives successive jobs of the operation its durations in
        turn, from the first again after a call (a fleet's realistic
        spread of start times, the same in every run).
        """
        spread = isinstance(seconds, list) and operation is not None
        durations = seconds if spread else [seconds]
        if not durations or not all(
                isinstance(s, (int, float)) and not isinstance(s, bool) and
                s >= 0 for s in durations):
            raise ValueError('job duration must be a non-negative number of '
                             'seconds%s, got %r' % (
                                 ' or, for one operation, a non-empty list '
                                 'of them' if operation else '', seconds))
        with self.lock:
            if operation is None:
                self._default_job_duration = float(seconds)
            else:
                self._job_durations[operation] = itertools.cycle(
                    [float(s) for s in durations])

    def set_fulfillment_delay(self, seconds):
        """Seconds a fulfilled FCP volume stays pending before complete."""
        with self.lock:
            self.fulfilments.set_delay(seconds)

    def expire_sessions(self):
        with self.lock:
            for session_id in self._sessions:
                self.hmc.remove_session_id(session_id)
            self._sessions = set()

    def sessions_active(self):
        with self.lock:
            return len(self._sessions)

    def update_cpc(self, cpc_oid, properties):
        with self.lock:
            try:
                cpc = self.hmc.cpcs.lookup_by_oid(cpc_oid)
            except KeyError:
                raise ValueError('no CPC with object-id %s' % cpc_oid)
            cpc.update(dict(properties))

    def resources(self):
        """A snapshot of what clients created, for leak checks."""
        with self.lock:
            self._advance()
            partitions = []
            for cpc in self.hmc.cpcs.list():
                partitions.extend(cpc.partitions.list())
            return {
                'partitions': sorted(p.name for p in partitions),
                'partition_status': {p.name: p.properties.get('status')
                                     for p in partitions},
                'nics': sum(len(p.nics.list()) for p in partitions),
                'nic_list': [_nic_summary(p, nic) for p in partitions
                             for nic in p.nics.list()],
                'hbas': sum(len(p.hbas.list()) for p in partitions),
                'storage_group_attachments': sum(
                    len(p.properties.get('storage-group-uris') or [])
                    for p in partitions),
                'storage_groups': storage_groups.storage_group_names(
                    self.hmc),
                'storage_volumes': storage_groups.count_storage_volumes(
                    self.hmc),
                'virtual_storage_resources':
                    storage_groups.count_virtual_storage_resources(self.hmc),
                'iso_mounts': len(self.iso_mounts),
                'iso_mount_bytes': sorted(
                    mount['size'] for mount in self.iso_mounts.values()),
                'sessions_active': len(self._sessions),
                'jobs_running': len(self.jobs.running()),
            }

    # --- request handling ---

    def announce_changes(self, announcer):
        """Publish job ends and partition changes (a ChangeAnnouncer)."""
        with self.lock:
            self._announcer = announcer
            self._advance()

    def tick(self):
        """Complete due jobs now, as a real HMC does without being asked."""
        with self.lock:
            self._advance()

    def handle(self, method, path, session_id, body, on_logon=None):
        """Serve one request; return a Reply. Never raises."""
        with self.lock:
            self._advance()
            self.jobs.owner = session_id
            try:
                return self._replied(method, path, session_id, body,
                                     on_logon, check_session=True)
            finally:
                self.jobs.owner = None
                self._announce([])

    def _advance(self):
        ended = self.jobs.advance()
        self.fulfilments.advance()
        self._announce(ended)

    def _announce(self, ended_jobs):
        if self._announcer is not None:
            partitions = []
            for cpc in self.hmc.cpcs.list():
                partitions.extend(cpc.partitions.list())
            self._announcer.announce(ended_jobs, partitions,
                                     sorted(self._sessions))

    def serve_nested(self, method, path, body):
        """One request of a Submit Requests body (the lock is held)."""
        if path.split('?', 1)[0] in _NOT_NESTABLE:
            return self._refused(method, path, rules.violation(
                'submit-requests-nested',
                '%s cannot be used in Submit Requests' % path))
        return self._replied(method, path, None, body, None,
                             check_session=False)

    def _refused(self, method, path, violation):
        """The answer to a request a rule refuses, counted in the stats."""
        if self._stats is not None:
            self._stats.count_violation(violation.rule_id)
        LOG.debug('Refused %s %s by rule %s: %s', method, path,
                  violation.rule_id, violation.message)
        return error_reply(method, path, violation.status, violation.reason,
                           violation.message)

    def _replied(self, method, path, session_id, body, on_logon,
                 check_session):
        try:
            if check_session and \
                    (method, path.split('?', 1)[0]) not in _PUBLIC:
                self._check_session(session_id)
            return self._dispatch(method, path, session_id, body, on_logon)
        except RuleViolation as exc:
            return self._refused(method, path, exc)
        except HMCError as exc:
            return error_reply(method, path, exc.status, exc.reason,
                               exc.message)
        except FakedHTTPError as exc:
            violation = rules.from_mock_error(exc)
            if violation is not None:
                return self._refused(method, path, violation)
            return error_reply(method, path, exc.http_status, exc.reason,
                               exc.message)
        except Exception as exc:
            LOG.exception('Simulator failed on %s %s', method, path)
            return error_reply(method, path, 500, 0,
                               'Internal simulator error: %s: %s' %
                               (type(exc).__name__, exc))

    def _check_session(self, session_id):
        if not session_id:
            raise HMCError(403, 4, 'No session ID was provided in the '
                           'X-API-Session header')
        if session_id not in self._sessions:
            raise HMCError(403, 5, 'The session ID is not valid or has '
                           'expired')

    def _logon(self, body, on_logon):
        if not isinstance(body, dict) or 'userid' not in body or \
                'password' not in body:
            rules.refuse('request-required-field', 'Missing required field '
                         'in request body: userid and password are required')
        userid_ok = hmac.compare_digest(str(body['userid']).encode(),
                                        self._userid.encode())
        password_ok = hmac.compare_digest(str(body['password']).encode(),
                                          self._password.encode())
        if not (userid_ok and password_ok):
            raise HMCError(403, 0, 'Logon failed: the userid or password '
                           'is not valid')
        session_id = uuid.uuid4().hex
        self._sessions.add(session_id)
        self.hmc.add_session_id(session_id)
        if on_logon is not None:
            on_logon()
        major, minor = self.hmc.api_version.split('.')[0:2]
        return Reply(200, {
            'api-session': session_id,
            'notification-topic': notifications.object_topic(session_id),
            'job-notification-topic': notifications.job_topic(session_id),
            'api-major-version': int(major),
            'api-minor-version': int(minor),
            'password-expires': -1,
            'session-credential': uuid.uuid4().hex,
        }, {})

    def _logoff(self, session_id):
        self._sessions.discard(session_id)
        try:
            self.hmc.remove_session_id(session_id)
        except ValueError:
            pass
        return handlers.no_content()

    def _dispatch(self, method, path, session_id, body, on_logon):
        bare = path.split('?', 1)[0]
        if method == 'POST' and bare == '/api/sessions':
            return self._logon(body, on_logon)
        if method == 'DELETE' and bare == '/api/sessions/this-session':
            return self._logoff(session_id)
        routed = handlers.route(method, path)
        if routed is not None:
            handler, match = routed
            return handler(self, method, path, match, body)
        if isinstance(body, handlers.IsoUpload):
            body = None
        if method == 'GET':
            return Reply(200, self.mock.get(self.hmc, path, True), {})
        if method == 'DELETE':
            self.mock.delete(self.hmc, path, True)
            return handlers.no_content()
        if method == 'POST':
            result = self.mock.post(self.hmc, path, body, True, True)
            if not result:
                return handlers.no_content()
            if not isinstance(result, dict):
                return Reply(200, result, {})
            created = result.get('object-uri') or result.get('element-uri')
            if created:
                return Reply(201, result, {'Location': created})
            return Reply(200, result, {})
        raise HMCError(405, 0, 'HTTP method %s is not supported' % method)


def _nic_summary(partition, nic):
    """What a leak check compares with a network port (control API)."""
    return {'partition': partition.name, 'name': nic.name,
            'mac_address': nic.properties.get('mac-address'),
            'device_number': nic.properties.get('device-number'),
            'boot_parameters': partition.properties.get(
                'boot-os-specific-parameters') or ''}
