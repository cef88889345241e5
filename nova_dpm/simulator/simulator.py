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

"""HMCSimulator: a faked HMC served over real HTTPS, with fault switches."""

import json
import os
import secrets
import shutil
import ssl
import tempfile

from nova_dpm.simulator import backend as backend_mod
from nova_dpm.simulator import control
from nova_dpm.simulator import faults
from nova_dpm.simulator import inventory as inventory_mod
from nova_dpm.simulator import notifications
from nova_dpm.simulator import san as san_mod
from nova_dpm.simulator import server
from nova_dpm.simulator import stats as stats_mod
from nova_dpm.simulator import tls
from nova_dpm import state_file

STATE_FILE = 'simulator.json'
PASSWORD_FILE = 'password'


class SimulatorError(Exception):
    """The simulator cannot start (message is one line)."""


class HMCSimulator(object):
    """A simulated HMC on one port of one or more loopback addresses.

    Use as a context manager or call start()/stop(). All listen addresses
    serve the same faked HMC (a primary and an alternate HMC). The control
    HTTP API is served only when ``control_port`` is not None (0: any port).
    """

    def __init__(self, hosts=('127.0.0.1',), port=0, state_dir=None,
                 inventory=None, userid='nova', password=None,
                 job_duration=2.0, control_port=None, san=False,
                 notification_port=0):
        if isinstance(hosts, str):
            hosts = (hosts,)
        # Keep the order (the first address is "the" host), drop repeats.
        self.hosts = tuple(dict.fromkeys(hosts))
        if not self.hosts:
            raise SimulatorError('at least one listen address is required')
        self.port = port
        self.userid = userid
        # A kept state directory keeps its password, so a nova.conf made
        # for this simulator still logs on after a restart.
        self.password = (password or saved_password(state_dir) or
                         secrets.token_urlsafe(18))
        self._own_state_dir = state_dir is None
        self.state_dir = state_dir
        self._inventory = inventory
        self._job_duration = job_duration
        self._control_port = control_port
        # The FCP storage array behind the HMC (None: every LUN exists).
        self.array = (san if isinstance(san, san_mod.StorageArray) else
                      san_mod.StorageArray() if san else None)
        # STOMP over TLS on the first address (0: any free port; None: off)
        self.notification_port = notification_port
        self._notifications = None
        self.ca_file = None
        self.cpc_object_id = None
        self.control_url = None
        self._faults = faults.FaultBoard()
        self._stats = stats_mod.RequestStats()
        self._backend = None
        self._listeners = None
        self._control = None

    @property
    def host(self):
        return self.hosts[0]

    @property
    def state_is_temporary(self):
        """True when stop() deletes the CA, password and simulator.json."""
        return self._own_state_dir

    # --- life cycle ---

    def start(self):
        """Load the inventory, make certificates, open the ports.

        Raises SimulatorError with a one-line message on bad input; a
        failed start leaves nothing behind (ports, temporary directory).
        """
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        if self.state_dir is None:
            self.state_dir = tempfile.mkdtemp(prefix='hmc-simulator-')
        try:
            session, self.cpc_object_id = inventory_mod.load_faked_session(
                self._inventory, self.userid, self.password)
        except inventory_mod.InventoryError as exc:
            raise SimulatorError(str(exc))
        try:
            certs = tls.ensure_certificates(self.state_dir, self.hosts)
        except OSError as exc:
            raise SimulatorError('cannot write certificates to %s: %s' %
                                 (self.state_dir, exc.strerror or exc))
        self.ca_file = certs.ca_cert
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs.server_cert, certs.server_key)
        # No TLS 1.3 session tickets (resumption is not used): a client
        # reads them after the handshake, and stomp.py's receiver thread
        # reading them while its caller writes CONNECT on the same SSL
        # socket lost the CONNECT now and then (1 STOMP connect in about
        # 150 timed out; none in 1200 without tickets).  nova-dpm's channel
        # connects again after such a timeout; tests need not wait for it.
        context.num_tickets = 0
        try:
            self._backend = backend_mod.Backend(
                session, self.userid, self.password, self._faults,
                self._job_duration, stats=self._stats)
        except ValueError as exc:
            raise SimulatorError(str(exc))
        if self.array is not None:
            with self._backend.lock:
                self._backend.fulfilments.use_array(self.array)
        front = server.FrontEnd(self._backend, self._faults, self._stats,
                                context)
        self._listeners = server.ListenerSet(self.hosts, self.port, front)
        try:
            self._listeners.start()
        except OSError as exc:
            raise SimulatorError('cannot listen on %s port %s: %s' % (
                ', '.join(self.hosts), self.port, exc.strerror or exc))
        self.port = self._listeners.port
        if self.notification_port is not None:
            self._start_notifications(context)
        if self._control_port is not None:
            try:
                self._control = control.ControlServer(self,
                                                      self._control_port)
            except OSError as exc:
                raise SimulatorError(
                    'cannot listen on 127.0.0.1 control port %s: %s' %
                    (self._control_port, exc.strerror or exc))
            self._control.start()
            self.control_url = self._control.url
        self._write_state_files()
        return self

    def _start_notifications(self, context):
        try:
            self._notifications = notifications.NotificationBroker(
                self.host, self.notification_port, context, self.userid,
                self.password, tick=self._backend.tick)
        except OSError as exc:
            raise SimulatorError('cannot listen on %s notification port %s: '
                                 '%s' % (self.host, self.notification_port,
                                         exc.strerror or exc))
        self._notifications.start()
        self.notification_port = self._notifications.port
        self._backend.announce_changes(
            notifications.ChangeAnnouncer(self._notifications))

    def stop(self):
        if self._notifications is not None:
            self._notifications.stop()
            self._notifications = None
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._listeners is not None:
            self._listeners.stop()
            self._listeners = None
        if self._own_state_dir and self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def info(self):
        """Where to reach the simulator (never the password)."""
        return {'host': self.host, 'hosts': list(self.hosts),
                'port': self.port, 'ca_file': self.ca_file,
                'cpc_object_id': self.cpc_object_id,
                'control_url': self.control_url, 'userid': self.userid,
                'san': self.array is not None,
                'notification_port': self.notification_port,
                'inventory': self._inventory or
                inventory_mod.DEFAULT_INVENTORY,
                'password_file': os.path.join(self.state_dir,
                                              PASSWORD_FILE)}

    def _write_state_files(self):
        state_file.write_text(os.path.join(self.state_dir, PASSWORD_FILE),
                              self.password + '\n')
        state_file.write_text(os.path.join(self.state_dir, STATE_FILE),
                              json.dumps(self.info(), indent=2) + '\n')

    # --- faults ---

    def down(self, host=None):
        """Close the listener(s) and cut open connections (refused)."""
        self._listeners.down(host)

    def up(self, host=None):
        """Listen again on the same port."""
        self._listeners.up(host)

    def set_latency(self, seconds):
        self._faults.set_latency(seconds)

    def mute(self, shape=faults.MUTE_AFTER_TLS, host=None):
        """Stop answering in ``shape`` (``faults.MUTE_SHAPES``).

        At one listen address ``host`` or all; until :meth:`unmute` or
        :meth:`clear_faults`.
        """
        if host is not None and host not in self.hosts:
            raise ValueError('%s is not a listen address of this simulator '
                             '(addresses: %s)' % (host, ', '.join(self.hosts)))
        self._faults.set_mute(shape, host)

    def unmute(self, host=None):
        self._faults.set_mute(None, host)

    def fail_next(self, n, status, reason, retry_after=None, method=None,
                  uri=None, message=None):
        self._faults.add(n, faults.make_rule(
            faults.FAIL, method, uri, status, reason, retry_after, message))

    def drop_next(self, n, method=None, uri=None):
        self._faults.add(n, faults.make_rule(faults.DROP, method, uri))

    def lose_response_next(self, n, method=None, uri=None):
        self._faults.add(n, faults.make_rule(faults.LOSE_RESPONSE, method,
                                             uri))

    def fail_job_next(self, n, status=500, reason=263, message=None,
                      operation=None):
        self._faults.add(n, faults.make_rule(
            faults.FAIL_JOB, status=status, reason=reason, message=message,
            operation=operation))

    def expire_sessions(self):
        self._backend.expire_sessions()

    def lose_notifications(self, n, kind=None):
        """The next ``n`` notifications of type ``kind`` are never sent.

        ``kind``: a ``notification-type`` (``job-completion``, ...) or None
        for any.
        """
        self._notifications.lose_next(n, kind)

    def delay_notifications(self, seconds):
        """Send every notification ``seconds`` late (0: on time)."""
        self._notifications.delay(seconds)

    def drop_notification_connections(self):
        """Close every STOMP connection (receivers must reconnect)."""
        return self._notifications.drop_connections()

    def set_job_duration(self, seconds, operation=None):
        self._backend.set_job_duration(seconds, operation)

    def set_fulfillment_delay(self, seconds):
        """Seconds a fulfilled FCP storage volume stays pending."""
        self._backend.set_fulfillment_delay(seconds)

    def clear_faults(self):
        """Remove every fault rule, latency and mute; bring addresses up."""
        self._faults.clear()
        self._listeners.up()
        if self._notifications is not None:
            self._notifications.lose_next(0)
            self._notifications.delay(0)

    def faults(self):
        return self._faults.pending()

    # --- inventory and accounting ---

    def update_cpc(self, properties, cpc_object_id=None):
        self._backend.update_cpc(cpc_object_id or self.cpc_object_id,
                                 properties)

    def stats(self):
        result = self._stats.snapshot()
        result['sessions_active'] = self._backend.sessions_active()
        if self._notifications is not None:
            result['notifications_sent'] = self._notifications.published
            result['notifications_lost'] = self._notifications.lost
            result['notification_connections'] = (
                self._notifications.connections())
            result['notification_subscribes'] = (
                self._notifications.frames_taken('SUBSCRIBE'))
            result['notification_unsubscribes'] = (
                self._notifications.frames_taken('UNSUBSCRIBE'))
        return result

    def reset_stats(self):
        self._stats.reset()

    def resources(self):
        return self._backend.resources()

    # --- the storage array (with ``san``) ---

    def san(self):
        """The array behind the HMC: ArrayError(409) when there is none."""
        if self.array is None:
            raise san_mod.ArrayError(409, 'this simulator has no storage '
                                     'array: start it with san=True '
                                     '(--san)')
        return self.array


def read_password(path):
    """The first line of ``path`` without blanks ('' if empty); OSError."""
    with open(path) as f:
        return f.readline().strip()


def saved_password(state_dir):
    """The password an earlier run kept in ``state_dir``, else None."""
    if state_dir is None:
        return None
    try:
        return read_password(os.path.join(state_dir, PASSWORD_FILE)) or None
    except OSError:
        return None
