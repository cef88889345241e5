"""One connection to one HMC: a session pool, reconnection and failover.

States::

    CONNECTING ──ok──> CONNECTED ──report_unreachable──> RECONNECTING
         │              ^    │                                │
         │              │    │ read timeout, or a request     │
         │              │    v unanswered and a probe too     │
         │              │  UNRESPONSIVE (calls still go out)  │
         │              └─any answer─┘                        │
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

Calls wait for the link at most until their deadline (``call_deadline``);
the background thread goes on reconnecting for the whole budget.  While
CONNECTED the thread also watches the calls in flight: when a request has
waited ``UNRESPONSIVE_PROBES`` probe intervals and no answer at all came
from the HMC meanwhile, a quick version query decides between "slow" and
UNRESPONSIVE (the HMC accepts requests but answers none), and while calls
wait long it refreshes the status file so ``nova-dpm-status`` shows them.
No lock is held across an HMC request: the thread and the callers take
the link's condition only to read or change its state.
"""

import threading
import time

from oslo_log import log as logging
import zhmcclient

from nova_dpm.hmc import errors
from nova_dpm.hmc import inflight
from nova_dpm.hmc import notifications
from nova_dpm.hmc import policy
from nova_dpm.hmc import pool as pool_mod
from nova_dpm.hmc import session as session_mod
from nova_dpm.hmc import waiters

LOG = logging.getLogger(__name__)

CONNECTING = 'connecting'
CONNECTED = 'connected'
UNRESPONSIVE = 'unresponsive'
RECONNECTING = 'reconnecting'
DOWN = 'down'
CLOSED = 'closed'

#: Connect and read timeout of the quick probe (seconds).
PROBE_TIMEOUT = 2.0

#: Longest connect and read timeout of the version queries of reconnect
#: attempts (seconds), so close() can wait for the thread.
QUERY_TIMEOUT = session_mod.VERSION_QUERY_TIMEOUT

#: A request unanswered for this many probe intervals, with no answer
#: from the HMC at all meanwhile, makes the link probe the HMC.
UNRESPONSIVE_PROBES = 10

#: While calls wait longer than this many probe intervals the status file
#: is rewritten that often.
REFRESH_PROBES = 5

#: States in which calls go out.
USABLE = (CONNECTED, UNRESPONSIVE)


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
        self._unresponsive_since = None
        self._refreshed_at = None
        self._saved_since_idle = False
        self.calls = inflight.InFlight(on_idle=self._calls_ended)
        self.pool = pool_mod.SessionPool(settings.pool_size,
                                         self._new_client,
                                         self._dispose_client)
        #: Waits for HMC notifications (never covered without a channel).
        self.waits = waiters.WaitRegistry()
        self.notifications = None
        if settings.notifications:
            self.notifications = notifications.NotificationChannel(
                settings, self.waits, lambda: self.host,
                usable=lambda: self._state in USABLE,
                on_change=self._changed)

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
        info['waiting_calls'] = self.calls.snapshot()
        if self.notifications is not None:
            info.update(self.notifications.status())
        else:
            info['notifications'] = 'off'
        return info

    def wait_usable(self, deadline=None, what='HMC operation'):
        """Return when calls may go out; raise when they cannot.

        Waits while (re)connecting, at most until ``deadline``
        (``time.monotonic()`` value; None: as long as the reconnect
        budget lasts).

        :raises HypervisorUnavailable: DOWN, closed, or still reconnecting
            at the deadline (the reconnection goes on in the background)
        """
        with self._cond:
            while True:
                if self._state in USABLE:
                    return self._epoch
                if self._state == CLOSED:
                    raise errors.unavailable(
                        'HMC %s: connection closed (nova-compute is '
                        'stopping)' % self.settings.addresses)
                if self._state == DOWN:
                    raise errors.unavailable(self._down_message)
                if deadline is None:
                    self._cond.wait()
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    raise errors.unavailable(
                        '%s: HMC %s not reachable within the call deadline '
                        '(call_deadline = %s s; %s); reconnecting in the '
                        'background' % (what, self.settings.addresses,
                                        self.settings.call_deadline,
                                        self._last_error or 'connecting'))
                self._cond.wait(left)

    # -- what callers report -------------------------------------------
    def adopt(self, client, host_index=0):
        """Use a client start() logged on and validated; now CONNECTED."""
        with self._cond:
            self._host_index = host_index
        self._subscribe(client.session)
        self.pool.adopt(client)
        self._set_state(CONNECTED, error=None)

    def report_unreachable(self, exc, epoch):
        """A call could not reach the HMC: start reconnecting (once)."""
        with self._cond:
            if self._state not in USABLE or epoch != self._epoch:
                return
            self._state = RECONNECTING
            self._last_error = 'HMC %s unreachable (%s)' % (
                self.where, errors.short_cause(exc))
        LOG.warning('%s; reconnecting (up to %d attempts, failover to '
                    'other addresses in [dpm] hmc)', self._last_error,
                    self.settings.connect_retries)
        self._changed()
        self._wakeup.set()

    def report_no_answer(self, exc, epoch):
        """A request got no answer in time: the HMC is UNRESPONSIVE."""
        with self._cond:
            if self._state != CONNECTED or epoch != self._epoch:
                return
        self._mark_unresponsive('HMC %s accepted a request but did not '
                                'answer it (%s)' % (
                                    self.where, errors.short_cause(exc)))

    def _mark_unresponsive(self, message):
        if self._transition(CONNECTED, UNRESPONSIVE, message):
            LOG.warning('%s; calls wait at most call_deadline = %s s',
                        message, self.settings.call_deadline)

    def _transition(self, expected, state, error):
        """Change state only from ``expected`` (atomically); True if so."""
        with self._cond:
            if self._state != expected:
                return False
            if state == UNRESPONSIVE:
                self._unresponsive_since = self.calls.last_answer
            self._state = state
            self._last_error = error
            self._cond.notify_all()
        self._changed()
        return True

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
        if self.notifications is not None:
            self.notifications.start()
        self._wakeup.set()

    def close(self):
        """Log off every session and stop the thread; idempotent.

        Bounded: the idle sessions are logged off in parallel, within
        ``session.LOGOFF_TIMEOUT``; the background thread's requests
        have at most QUERY_TIMEOUT.  Sessions lent to calls are logged
        off when those calls end (by their deadline at the latest).
        """
        with self._cond:
            if self._state == CLOSED:
                return
            self._state = CLOSED
            self._cond.notify_all()
            thread = self._thread
        self._wakeup.set()
        if self.notifications is not None:
            self.notifications.close()
        workers = self._log_off_in_parallel(self.pool.close())
        if thread is not None and thread is not threading.current_thread():
            workers.append(thread)
        # Each thread's requests end by their socket timeouts; the margin
        # covers TLS teardown.
        until = time.monotonic() + QUERY_TIMEOUT + 1
        for worker in workers:
            worker.join(max(0.0, until - time.monotonic()))
        stuck = [worker.name for worker in workers if worker.is_alive()]
        if stuck:
            LOG.warning('HMC %s: threads %s still running after close',
                        self.where, ', '.join(stuck))
        self._changed()

    # -- internals -----------------------------------------------------
    def _log_off_in_parallel(self, clients, other_host=None):
        """Log ``clients`` off, one thread each, within LOGOFF_TIMEOUT.

        :returns: the started threads (they end by their socket timeouts)
        """
        bound = time.monotonic() + session_mod.LOGOFF_TIMEOUT
        workers = [threading.Thread(target=self._dispose_client,
                                    args=(client, other_host, bound),
                                    name='hmc-logoff', daemon=True)
                   for client in clients]
        for worker in workers:
            worker.start()
        return workers

    def _calls_ended(self):
        """No call waits any more: rewrite a status that may list some."""
        if self._saved_since_idle:
            self._changed(idle=True)

    def _changed(self, idle=False):
        # A status saved while calls wait lists them; the next time no call
        # waits, it is saved once more without them.
        self._saved_since_idle = not idle
        if self._on_change is not None:
            try:
                self._on_change(self)
            except Exception:  # noqa: B902 - status must not break calls
                LOG.exception('Could not record HMC connection status')

    def _set_state(self, state, error, down_message=None):
        with self._cond:
            if self._state == CLOSED:
                return
            if state == CONNECTED and self._state not in USABLE:
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

    def _new_client(self, deadline=None):
        """Log a new session on at the current address (pool callback)."""
        if self._auth_failed:
            raise errors.unavailable(self._down_message)
        session = session_mod.make_session(
            self._factory, [self.host], self.settings)
        with session_mod.bounded(session, deadline, self.calls.answered):
            session.logon()
        self._subscribe(session)
        return zhmcclient.Client(session)

    def _subscribe(self, session):
        """Its job completions are announced: subscribe before lending it.

        And again whenever zhmcclient logs it on anew (new topics).
        """
        session.on_relogon = self._subscribe
        if self.notifications is not None:
            self.notifications.add_session(session)

    def _dispose_client(self, client, other_host=None, deadline=None):
        if self.notifications is not None:
            self.notifications.remove_session(client.session)
        session_mod.logoff_quietly(client.session, other_host, deadline)

    def _version_query(self, host_index, timeout=None):
        session_mod.version_query(
            self._factory, self.settings.hosts[host_index], self.settings,
            timeout or min(self.settings.connect_timeout, QUERY_TIMEOUT))
        self.calls.answered()

    def _switch_to(self, host_index):
        old_host = self.host
        with self._cond:
            changed = host_index != self._host_index
            self._host_index = host_index
        if changed:
            LOG.warning('Failing over from HMC %s to %s', old_host,
                        self.host)
            workers = self._log_off_in_parallel(self.pool.retire_all(),
                                                other_host=self.host)
            for worker in workers:
                worker.join(session_mod.LOGOFF_TIMEOUT + 1)

    def _run(self):
        while not self._closed():
            state = self._state
            if state in (CONNECTING, RECONNECTING):
                self._reconnect()
            elif state == DOWN and not self._auth_failed:
                self._probe()
                self._sleep(self.probe_interval)
            elif state in USABLE:
                self._watch()
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

    def _watch(self):
        """While usable: tell slow from mute, keep the status current."""
        now = time.monotonic()
        quiet = self.probe_interval * UNRESPONSIVE_PROBES
        if self._state == UNRESPONSIVE:
            if self.calls.last_answer > self._unresponsive_since or (
                    self._quick_probe()):
                if self._transition(UNRESPONSIVE, CONNECTED, None):
                    LOG.info('HMC %s answers again', self.where)
            else:
                self._fail_over_from_mute()
        else:
            oldest = self.calls.oldest_request()
            if (oldest is not None and now - oldest >= quiet and
                    now - self.calls.last_answer >= quiet and
                    not self._quick_probe()):
                self._mark_unresponsive(
                    'HMC %s accepts requests but answered none for %.0f s'
                    % (self.where, now - self.calls.last_answer))
        self._refresh_status(now)

    def _fail_over_from_mute(self):
        """Use another address of ``[dpm] hmc`` that answers, if any.

        Calls waiting on the mute address end by their deadline; their
        sessions are retired when they come back (new epoch).
        """
        count = len(self.settings.hosts)
        for step in range(1, count):
            index = (self._host_index + step) % count
            try:
                self._version_query(index, PROBE_TIMEOUT)
            except zhmcclient.Error:
                continue
            with self._cond:
                if self._state != UNRESPONSIVE:
                    return
                self._epoch += 1
            mute = self.where
            self._switch_to(index)
            if self._transition(UNRESPONSIVE, CONNECTED, None):
                LOG.warning('HMC %s answers no request; calls go to %s now',
                            mute, self.where)
            return

    def _quick_probe(self):
        """Whether the current address answers a version query quickly."""
        if self._closed():
            return False
        try:
            self._version_query(self._host_index, PROBE_TIMEOUT)
            return True
        except zhmcclient.Error:
            return False

    def _refresh_status(self, now):
        """Rewrite the status while calls wait long (waiting_s current)."""
        every = self.probe_interval * REFRESH_PROBES
        oldest = self.calls.oldest()
        if (oldest is not None and now - oldest >= every and
                (self._refreshed_at is None or
                 now - self._refreshed_at >= every)):
            self._refreshed_at = now
            self._changed()

    def _first_answering(self, timeout):
        """Index of the first address answering a version query.

        Starts with the current address, then the others in order.
        """
        count = len(self.settings.hosts)
        last = None
        for step in range(count):
            if self._closed():
                break
            index = (self._host_index + step) % count
            try:
                self._version_query(index, timeout)
                return index
            except zhmcclient.Error as exc:
                # A 503 (say) means busy, not reachable: try the next
                # address, and the reconnect budget decides when to stop.
                if not policy.not_yet(exc, self.settings):
                    raise
                last = exc
        raise last or zhmcclient.ConnectionError('connection closed', None)

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
                self._first_answering(PROBE_TIMEOUT)
                return
            except zhmcclient.Error:
                continue

    def _probe(self):
        if self._closed():
            return
        try:
            index = self._first_answering(PROBE_TIMEOUT)
        except zhmcclient.Error:
            return
        self._switch_to(index)
        LOG.info('HMC %s answers again; calls resume', self.where)
        self._set_state(CONNECTED, error=None)
