"""Managed HMC connections: ids, reference counts and the status file.

Several consumers in one process (the compute driver for its CPC subset,
``nova-compute:<host>``; a storage-server integration; ...) may need the
same HMC.  Each registers its own *id* with :meth:`ConnectionManager.manage`
and gets the shared :class:`HMCLink` for ``(hosts, port, userid)``; the
link logs off only when the last id referring to it is released.

``manage`` returns at once: the link connects in the background and keeps
retrying until it succeeds.  Each id's state, last error and the calls
waiting on its HMC are kept in a JSON status file under ``state_path``,
which ``nova-dpm-status`` reads, until the id is unmanaged.  Several
services may share one ``state_path``: each merges its own entries into
the file under a file lock and leaves the others' alone.  The file only
informs: one that cannot be read is set aside and rebuilt
(:mod:`nova_dpm.state_file`).  It never holds the password.
"""

import datetime
import os
import threading

from nova import exception
from oslo_log import log as logging

from nova_dpm.hmc import link as link_mod
from nova_dpm import state_file as files

LOG = logging.getLogger(__name__)

STATE_FILE = 'nova-dpm-hmc-connections.json'
VERSION = 1
WHAT = 'HMC connection status file'

DETACHED = ('released when its service stopped; connected again when the '
            'service manages it again')


class ConnectionIdInvalid(exception.Invalid):
    msg_fmt = ('HMC connection id %(connection_id)r is invalid: it must be '
               'a non-empty string without "/"')


class ConnectionNotManaged(exception.NotFound):
    msg_fmt = 'HMC connection id %(connection_id)r is not managed'


def state_file(state_dir):
    return os.path.join(state_dir, STATE_FILE)


def _is_list_of_dicts(value):
    return isinstance(value, list) and all(isinstance(v, dict)
                                           for v in value)


def valid_state(data):
    """Whether ``data`` has the layout :meth:`ConnectionManager.save` writes.

    Checked down to the fields status output renders, so no content of
    the file can break a reader.
    """
    if not isinstance(data, dict):
        return False
    entries = data.get('connections', {})
    if not isinstance(entries, dict):
        return False
    for entry in entries.values():
        if not (isinstance(entry, dict) and
                isinstance(entry.get('connection_info', {}), dict) and
                isinstance(entry.get('connection_info', {}).get('hmc', []),
                           list) and
                _is_list_of_dicts(entry.get('waiting_calls', []))):
            return False
    return True


def load_state(state_dir):
    """The status file's content, or None when there is none.

    :raises nova_dpm.state_file.Damaged: it cannot be used (the reason)
    :raises OSError: it cannot be read
    """
    return files.load_json(state_file(state_dir), valid_state)


def _check_id(connection_id):
    if (not isinstance(connection_id, str) or not connection_id or
            '/' in connection_id):
        raise ConnectionIdInvalid(connection_id=connection_id)


class ConnectionManager:
    """Managed connection ids sharing reference-counted HMC links.

    :param state_dir: where the status file lives (Nova's state_path);
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
        self._ids = {}       # id -> {'key': ..., 'info': ...}
        self._links = {}     # key -> [link, references]
        self._detached = {}  # id -> connection info; managed, released here

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
            self._detached.pop(connection_id, None)
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

        Also for an id managed by an earlier run (found in the status
        file only).

        :raises ConnectionNotManaged: unknown id
        """
        retired = None
        with self._lock:
            known_here = (connection_id in self._ids or
                          connection_id in self._detached)
            if connection_id in self._ids:
                retired = self._release(connection_id)
            self._detached.pop(connection_id, None)
        if retired is not None:
            retired.close()
        on_disk = self._merge_into_file(forget=connection_id)
        if not (known_here or on_disk):
            raise ConnectionNotManaged(connection_id=connection_id)
        LOG.info('Unmanaged HMC connection %r', connection_id)

    def detach(self, connection_id):
        """Release an id in this process but keep it managed on disk.

        What a stopping service does: its sessions are logged off, and the
        id is resumed when it starts again.
        """
        with self._lock:
            known = self._ids.get(connection_id)
            if known is None:
                return
            self._detached[connection_id] = known['info']
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
        """This manager's ids with their state, for status output.

        ``{id: {connected, managed, state, last_error, waiting_calls,
        connection_info, ...}}``; never contains the password.
        """
        with self._lock:
            result = {}
            for connection_id, info in self._detached.items():
                result[connection_id] = {
                    'managed': True, 'connected': False, 'state': 'idle',
                    'last_error': DETACHED, 'waiting_calls': [],
                    'connection_info': dict(info)}
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
                    'notifications': status.get('notifications', 'off'),
                    'notification_error': status.get('notification_error'),
                    'waiting_calls': list(status.get('waiting_calls', [])),
                    'connection_info': dict(known['info'])}
            return result

    def save(self):
        """Merge this manager's ids into the status file; never raises.

        No-op without a state_dir.
        """
        self._merge_into_file()

    def _merge_into_file(self, forget=None):
        """Write this manager's entries, leaving other services' alone.

        :param forget: an id to remove from the file
        :returns: whether the file had ``forget``
        """
        if not self.state_dir:
            return False
        path = state_file(self.state_dir)
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        # The manager lock keeps this process's writes in order; the file
        # lock keeps other processes' merges out.  Neither is held across
        # an HMC request.
        with self._lock:
            mine = self.connections()
            for entry in mine.values():
                entry.update(updated_at=now, pid=os.getpid())
            try:
                with files.locked(path):
                    old = files.load_or_set_aside(path, valid_state, WHAT)
                    entries = (old or {}).get('connections', {})
                    had = entries.pop(forget, None) is not None
                    entries.update(mine)
                    files.write_json(path, {
                        'version': VERSION, 'updated_at': now,
                        'pid': os.getpid(), 'connections': entries})
            except OSError as exc:
                LOG.warning('Could not write the %s %s: %s', WHAT, path,
                            exc)
                return False
        return had
