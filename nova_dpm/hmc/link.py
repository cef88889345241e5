"""One connection to one HMC: a session pool, reconnection and failover.

States::

    CONNECTING ──ok──> CONNECTED ──report_unreachable──> RECONNECTING
         │                 ^                                  │
         │                 └──────────ok──────────────────────┤
         └──budget spent / logon rejected──> DOWN <──budget───┘
                                              │ probe ok (~every second)
                                              └──────────> CONNECTED

A background thread owns every connection attempt, so an outage costs one
budget (``connect_retries``) however many threads hit it: calls made while
(re)connecting wait for the outcome, calls made while DOWN fail at once
with HypervisorUnavailable.  While DOWN the thread probes each address
with a quick version query (short connect timeout) about once a second,
so the first call after the HMC returns succeeds, typically within a
second and with no request from callers.  A probe is used rather than
"one caller probes per second" because it also keeps status output
current when no calls are made, and no caller ever pays a connect
timeout.  Between reconnect attempts the backoff is cut short by the
same quick probe, so a returning HMC is used within about a second even
late in a long budget.  Failover: each attempt tries the current
address, then the others in order; a different address retires the
pooled sessions (logged off, through the new address when the old one
is gone) and new ones log on where the HMC answered.
A rejected logon is never repeated automatically (it can lock the user).
"""

import threading
import time

from oslo_log import log as logging
import zhmcclient

from nova_dpm.hmc import errors
from nova_dpm.hmc import policy
from nova_dpm.hmc import pool as pool_mod
from nova_dpm.hmc import session as session_mod

LOG = logging.getLogger(__name__)

CONNECTING = 'connecting'
CONNECTED = 'connected'
RECONNECTING = 'reconnecting'
DOWN = 'down'
CLOSED = 'closed'

#: Connect timeout of the quick probe while DOWN (seconds).
PROBE_CONNECT_TIMEOUT = 2.0


class HMCLink:
    """A shared, self-healing connection to one HMC (hosts, port, userid).

    :param settings: :class:`HMCSettings`
    :param session_factory: ``factory(hosts, settings) -> Session``
    :param probe_interval: seconds between probes while DOWN
    :param on_change: ``on_change(link)`` after every state change
    """

    def __init__(self, settings, session_factory=None, probe_interval=1.0,
                 on_change=None):
        self.settings = settings
        self._factory = session_factory or session_mod.default_session_factory
        self.probe_interval = probe_interval
        self._on_change = on_change
        self._cond = threading.Condition()
        self._state = CONNECTING
        self._host_index = 0
        self._epoch = 0
        self._last_error = None
        self._down_message = None
        self._auth_failed = False
        self._thread = None
        self._wakeup = threading.Event()
        self.pool = pool_mod.SessionPool(settings.pool_size,
                                         self._new_client,
                                         self._dispose_client)

    # -- what callers see ---------------------------------------------
    @property
    def host(self):
        return self.settings.hosts[self._host_index]

    @property
    def where(self):
        return '%s:%s' % (self.host, self.settings.port)

    @property
    def state(self):
        return self._state

    @property
    def epoch(self):
        """Changes whenever the link reconnects; stale reports are ignored."""
        return self._epoch

    @property
    def last_error(self):
        return self._last_error

    def status(self):
        """State for status output (no password)."""
        with self._cond:
            info = {'state': self._state,
                    'connected': self._state == CONNECTED,
                    'current_hmc': self.where,
                    'last_error': self._last_error}
        info['sessions'] = self.pool.stats()
        return info

    def wait_usable(self):
        """Return when calls may go out; raise when they cannot.

        Waits while (re)connecting, which the reconnect budget bounds.

        :raises HypervisorUnavailable: DOWN or closed
        """
        with self._cond:
            while True:
                if self._state == CONNECTED:
                    return self._epoch
                if self._state == CLOSED:
                    raise errors.unavailable(
                        'HMC %s: connection closed (nova-compute is '
                        'stopping)' % self.settings.addresses)
                if self._state == DOWN:
                    raise errors.unavailable(self._down_message)
                self._cond.wait()

    # -- what callers report -------------------------------------------
    def adopt(self, client, host_index=0):
        """Use a client start() logged on and validated; now CONNECTED."""
        with self._cond:
            self._host_index = host_index
        self.pool.adopt(client)
        self._set_state(CONNECTED, error=None)

    def report_unreachable(self, exc, epoch):
        """A call could not reach the HMC: start reconnecting (once)."""
        with self._cond:
            if self._state != CONNECTED or epoch != self._epoch:
                return
            self._state = RECONNECTING
            self._last_error = 'HMC %s unreachable (%s)' % (
                self.where, errors.short_cause(exc))
        LOG.warning('%s; reconnecting (up to %d attempts, failover to '
                    'other addresses in [dpm] hmc)', self._last_error,
                    self.settings.connect_retries)
        self._changed()
        self._wakeup.set()

    def report_auth_failure(self, exc):
        """The HMC rejected our credentials: stop using it, never loop."""
        message = ('logon as %r rejected by HMC %s (check hmc_username/'
                   'hmc_password; restart nova-compute after fixing them)'
                   % (self.settings.userid, self.where))
        LOG.error('%s: %s', message,
                  errors.describe(exc, self.settings.password))
        with self._cond:
            self._auth_failed = True
        self._set_state(DOWN, error=message, down_message=message)

    # -- lifecycle -----------------------------------------------------
    def start_background(self):
        """Start the thread that (re)connects; idempotent."""
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name='hmc-link-%s' % self.host,
                daemon=True)
            self._thread.start()
        self._wakeup.set()

    def close(self):
        """Log off every session and stop the thread; idempotent."""
        with self._cond:
            if self._state == CLOSED:
                return
            self._state = CLOSED
            self._cond.notify_all()
            thread = self._thread
        self._wakeup.set()
        self.pool.close()
        if thread is not None and thread is not threading.current_thread():
            # Daemon thread; do not hold a stopping service for a probe
            # stuck in a connect timeout.
            thread.join(timeout=5)
        self._changed()

    # -- internals -----------------------------------------------------
    def _changed(self):
        if self._on_change is not None:
            try:
                self._on_change(self)
            except Exception:  # noqa: B902 - status must not break calls
                LOG.exception('Could not record HMC connection status')

    def _set_state(self, state, error, down_message=None):
        with self._cond:
            if self._state == CLOSED:
                return
            if state == CONNECTED and self._state != CONNECTED:
                self._epoch += 1
            self._state = state
            self._last_error = error
            if down_message is not None:
                self._down_message = down_message
            self._cond.notify_all()
        self._changed()

    def _closed(self):
        return self._state == CLOSED

    def _sleep(self, seconds):
        # Interruptible by close().
        self._wakeup.clear()
        if not self._closed():
            self._wakeup.wait(seconds)

    def _new_client(self):
        """Log a new session on at the current address (pool callback)."""
        if self._auth_failed:
            raise errors.unavailable(self._down_message)
        session = session_mod.make_session(
            self._factory, [self.host], self.settings)
        session.logon()
        return zhmcclient.Client(session)

    def _dispose_client(self, client, other_host=None):
        session_mod.logoff_quietly(client.session, other_host)

    def _version_query(self, host_index, connect_timeout=None):
        host = self.settings.hosts[host_index]
        session = session_mod.make_session(
            self._factory, [host], self.settings, connect_timeout)
        zhmcclient.Client(session).query_api_version()

    def _switch_to(self, host_index):
        old_host = self.host
        with self._cond:
            changed = host_index != self._host_index
            self._host_index = host_index
        if changed:
            LOG.warning('Failing over from HMC %s to %s', old_host,
                        self.host)
            for client in self.pool.retire_all():
                self._dispose_client(client, other_host=self.host)

    def _run(self):
        while not self._closed():
            state = self._state
            if state in (CONNECTING, RECONNECTING):
                self._reconnect()
            elif state == DOWN and not self._auth_failed:
                self._probe()
                self._sleep(self.probe_interval)
            else:
                self._wakeup.wait()
                self._wakeup.clear()

    def _reconnect(self):
        started = time.monotonic()
        attempts = [0]

        def try_every_address():
            attempts[0] += 1
            return self._first_answering(None)

        retrying = policy.reconnect_retrying(
            self.settings, 'Reconnecting to HMC %s' % self.settings.addresses,
            self._sleep_probing, self._closed)
        try:
            index = retrying(try_every_address)
        except zhmcclient.Error as exc:
            if self._closed():
                return
            message = ('HMC %s unreachable after %d attempts in %.0f s (%s);'
                       ' calls fail fast until it answers again' % (
                           self.settings.addresses, attempts[0],
                           time.monotonic() - started,
                           errors.short_cause(exc)))
            LOG.error(message)
            self._set_state(DOWN, error=message, down_message=message)
            return
        if self._closed():
            return
        self._switch_to(index)
        LOG.info('HMC %s reachable again after %.1f s', self.where,
                 time.monotonic() - started)
        self._set_state(CONNECTED, error=None)

    def _first_answering(self, connect_timeout):
        """Index of the first address answering a version query.

        Starts with the current address, then the others in order.
        """
        count = len(self.settings.hosts)
        last = None
        for step in range(count):
            index = (self._host_index + step) % count
            try:
                self._version_query(index, connect_timeout)
                return index
            except zhmcclient.Error as exc:
                # A 503 (say) means busy, not reachable: try the next
                # address, and the reconnect budget decides when to stop.
                if not policy.not_yet(exc, self.settings):
                    raise
                last = exc
        raise last

    def _sleep_probing(self, seconds):
        """Back off, but end early when a quick probe gets an answer.

        The backoff protects the HMC from a reconnect storm; a version
        query every probe_interval is cheap and means a returning HMC is
        used within about a second instead of after a long backoff.
        """
        deadline = time.monotonic() + seconds
        while not self._closed():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._sleep(min(self.probe_interval, remaining))
            if time.monotonic() >= deadline or self._closed():
                return
            try:
                self._first_answering(PROBE_CONNECT_TIMEOUT)
                return
            except zhmcclient.Error:
                continue

    def _probe(self):
        if self._closed():
            return
        try:
            index = self._first_answering(PROBE_CONNECT_TIMEOUT)
        except zhmcclient.Error:
            return
        self._switch_to(index)
        LOG.info('HMC %s answers again; calls resume', self.where)
        self._set_state(CONNECTED, error=None)
