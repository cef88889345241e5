"""Managed HMC connections: ids, reference counts and persistence.

Several consumers in one process (the compute driver for its CPC subset,
``nova-compute:<host>``; a storage-server integration; ...) may need the
same HMC.  Each registers its own *id* with :meth:`ConnectionManager.manage`
and gets the shared :class:`HMCLink` for ``(hosts, port, userid)``; the
link logs off only when the last id referring to it is released.

``manage`` returns at once: the link connects in the background and keeps
retrying until it succeeds.  Managed ids are kept in a JSON file under
``state_path`` (written atomically: temp file, fsync, ``os.replace``)
until unmanaged, together with each connection's state and last error,
which ``nova-dpm-status`` reads.  The file never holds the password.
"""

import datetime
import json
import os
import tempfile
import threading

from nova import exception
from oslo_log import log as logging

from nova_dpm.hmc import link as link_mod

LOG = logging.getLogger(__name__)

STATE_FILE = 'nova-dpm-hmc-connections.json'

NOT_RESUMED = ('managed before the last restart; not connected until its '
               'owner manages it again')


class ConnectionIdInvalid(exception.Invalid):
    msg_fmt = ('HMC connection id %(connection_id)r is invalid: it must be '
               'a non-empty string without "/"')


class ConnectionNotManaged(exception.NotFound):
    msg_fmt = 'HMC connection id %(connection_id)r is not managed'


def state_file(state_dir):
    return os.path.join(state_dir, STATE_FILE)


def read_state(state_dir):
    """The persisted connections ``{id: {...}}`` ({} when none)."""
    try:
        with open(state_file(state_dir)) as f:
            return json.load(f).get('connections', {})
    except FileNotFoundError:
        return {}


def write_json_atomically(path, data):
    """Write JSON so readers see the old or the new file, never half."""
    directory = os.path.dirname(path) or '.'
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-',
                               suffix='.json')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _check_id(connection_id):
    if (not isinstance(connection_id, str) or not connection_id or
            '/' in connection_id):
        raise ConnectionIdInvalid(connection_id=connection_id)


class ConnectionManager:
    """Managed connection ids sharing reference-counted HMC links.

    :param state_dir: where the state file lives (Nova's state_path);
        None keeps nothing on disk
    :param session_factory: passed to new links (tests use a fake HMC)
    :param probe_interval: passed to new links
    """

    def __init__(self, state_dir=None, session_factory=None,
                 probe_interval=1.0):
        self.state_dir = state_dir
        self._factory = session_factory
        self._probe_interval = probe_interval
        self._lock = threading.RLock()
        self._ids = {}      # id -> {'key': ..., 'info': ...}
        self._links = {}    # key -> [link, references]
        self._resumable = read_state(state_dir) if state_dir else {}

    def manage(self, connection_id, settings, session_factory=None,
               logged_on=None):
        """Register ``connection_id`` for ``settings``; returns at once.

        :param logged_on: optional ``(client, host_index)`` already logged
            on (by a start-up check) for the link to use first

        :returns: the shared :class:`HMCLink`
        :raises ConnectionIdInvalid: empty id or one containing "/"
        """
        _check_id(connection_id)
        key = settings.connection_key()
        with self._lock:
            known = self._ids.get(connection_id)
            if known is not None and known['key'] == key:
                return self._links[key][0]
            retired = None
            if known is not None:
                retired = self._release(connection_id)
            entry = self._links.get(key)
            if entry is None:
                link = link_mod.HMCLink(
                    settings, session_factory or self._factory,
                    probe_interval=self._probe_interval,
                    on_change=lambda _link: self.save())
                entry = self._links[key] = [link, 0]
            entry[1] += 1
            self._ids[connection_id] = {'key': key,
                                        'info': settings.connection_info()}
            self._resumable.pop(connection_id, None)
        if retired is not None:
            retired.close()
        if logged_on is not None:
            entry[0].adopt(*logged_on)
        LOG.info('Managing HMC connection %r (%s as %r)', connection_id,
                 settings.addresses, settings.userid)
        self.save()
        entry[0].start_background()
        return entry[0]

    def link(self, connection_id):
        """The link of a managed id."""
        with self._lock:
            known = self._ids.get(connection_id)
            if known is None:
                raise ConnectionNotManaged(connection_id=connection_id)
            return self._links[known['key']][0]

    def unmanage(self, connection_id):
        """Release an id for good; the last one out logs the HMC off.

        :raises ConnectionNotManaged: unknown id
        """
        retired = None
        with self._lock:
            if connection_id in self._resumable:
                del self._resumable[connection_id]
            elif connection_id not in self._ids:
                raise ConnectionNotManaged(connection_id=connection_id)
            else:
                retired = self._release(connection_id)
        if retired is not None:
            retired.close()
        LOG.info('Unmanaged HMC connection %r', connection_id)
        self.save()

    def detach(self, connection_id):
        """Release an id in this process but keep it managed on disk.

        What a stopping service does: its sessions are logged off, and the
        id is resumed when it starts again.
        """
        with self._lock:
            known = self._ids.get(connection_id)
            if known is None:
                return
            self._resumable[connection_id] = {
                'connection_info': known['info']}
            retired = self._release(connection_id)
        if retired is not None:
            retired.close()
        self.save()

    def _release(self, connection_id):
        """Drop a reference; return the link to close when it was last."""
        known = self._ids.pop(connection_id)
        entry = self._links[known['key']]
        entry[1] -= 1
        if entry[1] == 0:
            del self._links[known['key']]
            return entry[0]
        return None

    def close(self):
        """Detach every id (service stop)."""
        with self._lock:
            ids = list(self._ids)
        for connection_id in ids:
            self.detach(connection_id)

    def connections(self):
        """``{id: {connected, managed, state, last_error, connection_info}}``.

        Never contains the password.
        """
        with self._lock:
            result = {}
            for connection_id, old in self._resumable.items():
                result[connection_id] = {
                    'managed': True, 'connected': False, 'state': 'idle',
                    'last_error': NOT_RESUMED,
                    'connection_info': old.get('connection_info', {})}
            for connection_id, known in self._ids.items():
                link = self._links[known['key']][0]
                status = link.status()
                result[connection_id] = {
                    'managed': True,
                    'connected': status['connected'],
                    'state': status['state'],
                    'last_error': status['last_error'],
                    'current_hmc': status['current_hmc'],
                    'sessions': status['sessions'],
                    'connection_info': dict(known['info'])}
            return result

    def save(self):
        """Write the state file (no-op without a state_dir)."""
        if not self.state_dir:
            return
        with self._lock:
            data = {'version': 1,
                    'updated_at': datetime.datetime.now(
                        datetime.timezone.utc).isoformat(),
                    'pid': os.getpid(),
                    'connections': self.connections()}
            try:
                write_json_atomically(state_file(self.state_dir), data)
            except OSError as exc:
                LOG.warning('Could not write HMC connection state to %s: '
                            '%s', state_file(self.state_dir), exc)
