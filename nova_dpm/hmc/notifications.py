"""The HMC's notifications for one HMC connection, in one native thread.

Waiting for a job by asking the HMC costs requests for nothing; the HMC
pushes job completions (to the job topic of the session that started the
job) and status changes (to every session's object topic) over JMS/STOMP
over TLS.  One :class:`NotificationChannel` per :class:`HMCLink` holds one
``zhmcclient.NotificationReceiver`` subscribed to the job topic of every
pooled session and to the object topic of one of them; the link adds a
session right after its logon, before the session is lent, and again
after zhmcclient logged it on anew (an expired session gets a new job
topic), so a job it starts is announced on a subscribed topic.  Each
notification goes to the :class:`~nova_dpm.hmc.waiters.WaitRegistry`.

The receiver does not reconnect by itself (zhmcclient raises
``NotificationConnectionError`` some seconds after the connection is
lost): the thread connects again with a growing pause (up to
``max_retry_interval``), and every loss starts a new generation in the
registry, so waits that began before it poll (see :mod:`.polling`).

Three zhmcclient internals are used, each with a fallback: the module
that makes the STOMP connection (``_stomp``: :mod:`.stomp_tls`, whose TLS
socket one thread at a time uses); the STOMP connection (``_conn``), to
hear of a loss at once rather than after the receiver's 5 s check; and
the hand-over queue (``_handover_queue``), to end the receiver's wait at
once on close.  Without them (another zhmcclient) stomp.py's own
connection is used, a loss is seen by the receiver's own check and close
waits for its 5 s queue timeout.
"""

import collections
import socket
import threading
import time

from oslo_log import log as logging
import zhmcclient

from nova_dpm.hmc import errors
from nova_dpm.hmc import stomp_tls
from nova_dpm.hmc import waiters
from nova_dpm import stomp_passcodes

LOG = logging.getLogger(__name__)

#: First pause before connecting again; it doubles up to
#: ``max_retry_interval``.
FIRST_PAUSE = 0.5
#: Connect timeout of the STOMP connection (seconds).  stomp.py keeps it
#: as the socket's read timeout, so it must exceed the interval of the
#: broker's heart-beats (zhmcclient asks for 5 s): a shorter one drops a
#: quiet channel between two heart-beats.
CONNECT_TIMEOUT = 10.0
#: How long close() waits for the thread (the receiver's own queue wait
#: is 5 s when the wake-up cannot be used, and a connect attempt
#: CONNECT_TIMEOUT).
JOIN_TIMEOUT = CONNECT_TIMEOUT + 2.0

_Wake = collections.namedtuple('_Wake', 'msgtype headers message')


class _LossListener(object):
    """A stomp.py listener that reports the connection's loss at once."""

    def __init__(self, on_lost):
        self._on_lost = on_lost

    def on_disconnected(self):
        self._on_lost()

    def on_heartbeat_timeout(self):
        self._on_lost()


class _Receiver(zhmcclient.NotificationReceiver):
    """zhmcclient's receiver that says when it is subscribed and lost."""

    def __init__(self, topics, host, settings, on_ready, on_lost):
        super().__init__(
            list(topics), host, settings.userid, settings.password,
            port=settings.notification_port,
            stomp_rt_config=zhmcclient.StompRetryTimeoutConfig(
                connect_timeout=CONNECT_TIMEOUT,
                connect_retries=1),  # stomp.py: attempts, not retries
            verify_cert=settings.verify_cert)
        # stomp.py's connection with its TLS socket serialized
        self._stomp = stomp_tls
        self.stop_event = threading.Event()
        self.ready = False
        self.was_lost = False
        self._on_ready = on_ready
        self._on_lost = on_lost

    def connect(self):
        """Connect and subscribe (the receiver calls it), then report."""
        super().connect()
        conn = getattr(self, '_conn', None)
        if conn is not None:
            conn.set_listener('nova-dpm-loss', _LossListener(self.lost))
            if not conn.is_connected():
                self.lost()
                return
        if self.stop_event.is_set():
            return
        self.ready = True
        self._on_ready()

    def lost(self):
        """The connection is gone: waits poll, the thread connects again.

        Not when we closed it ourselves (the thread then goes on).
        """
        if self.stop_event.is_set():
            return
        self.ready = False
        self.was_lost = True
        self._on_lost()
        self.stop()

    def stop(self):
        """Disconnect and end ``notifications()`` now; never raises."""
        self.stop_event.set()
        was_ready, self.ready = self.ready, False
        try:
            self.close()
        except Exception as exc:  # noqa: B902 - already gone, best effort
            LOG.debug('Closing the HMC notification receiver: %s', exc)
        # A connect still waiting for the broker's answer ends only when
        # its socket does (a connected one closes on the DISCONNECT's
        # receipt): end the TCP connection under TLS, and the reader
        # closes the socket in its own thread (stomp_tls).
        sock = getattr(getattr(getattr(self, '_conn', None), 'transport',
                               None), 'socket', None)
        if sock is not None and not was_ready:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError as exc:  # gone already
                LOG.debug('Closing the HMC notification socket: %s', exc)
        handover = getattr(self, '_handover_queue', None)
        if handover is not None:
            try:
                handover.put_nowait(_Wake('message', {}, None))
            except Exception:  # noqa: B902 - full: it wakes anyway
                pass


class NotificationChannel(object):
    """One receiver for one HMC connection, reconnecting by itself.

    :param settings: :class:`~nova_dpm.hmc.settings.HMCSettings`
    :param registry: the :class:`~nova_dpm.hmc.waiters.WaitRegistry`
    :param host: ``host()`` -> the HMC address in use now
    :param on_change: called (from the channel's thread) when it comes
        up or goes down, for the status file
    :param usable: ``usable() -> bool``: the HMC takes calls now (the
        channel does not log on where the link could not, so a rejected
        password is not tried again and again)
    """

    def __init__(self, settings, registry, host, usable=lambda: True,
                 on_change=lambda: None):
        stomp_passcodes.hide_passcodes('stomp.py')
        self.settings = settings
        self._on_change = on_change
        self.registry = registry
        registry.on_missing = self.resubscribe
        self._host = host
        self._usable = usable
        self._cond = threading.Condition()
        # Pooled sessions; the first one's object topic is subscribed.
        self._sessions = []
        self._subscribed = set()
        self._receiver = None
        self._closed = False
        self._thread = None
        self._last_error = None
        self._connects = 0
        self._warned = False

    # -- topics (the link, around logon and logoff) ------------------------
    def add_session(self, session):
        """Subscribe a pooled session's current topics before it is lent.

        Also after zhmcclient logged it on again: it renews an expired
        session in place, with a new session id and new topics, before it
        repeats the request (a job started then is announced on the new
        job topic).  Topics are read from the session each time, never
        kept, so a reconnect subscribes the live ones.
        """
        if not getattr(session, 'job_topic', None):
            return
        with self._cond:
            if not any(s is session for s in self._sessions):
                self._sessions.append(session)
            self._cond.notify_all()
        self._sync()

    def remove_session(self, session):
        """A pooled session logs off: its topics end with it."""
        with self._cond:
            self._sessions = [s for s in self._sessions if s is not session]
        self._sync()

    def resubscribe(self):
        """Waits keep ending without their notifications: connect again.

        The connection looks up, yet a topic does not deliver (the
        registry counted the misses): a pooled session may have expired
        on the HMC unnoticed (zhmcclient renews it only when it is next
        used).  A new connection subscribes every topic afresh, and the
        object topic of the next session.
        """
        with self._cond:
            receiver = self._receiver
            if self._sessions:
                self._sessions.append(self._sessions.pop(0))
        if receiver is not None and receiver.ready:
            LOG.warning('HMC notifications from %s:%s: %d waits ended '
                        'without their notification; connecting '
                        'again', self._host(),
                        self.settings.notification_port,
                        waiters.MISSES_BEFORE_RESUBSCRIBE)
            receiver.stop()

    def _wanted_topics(self):
        """Every session's job topic and the first session's object topic."""
        topics = [s.job_topic for s in self._sessions
                  if getattr(s, 'job_topic', None)]
        object_topic = getattr(next(iter(self._sessions), None),
                               'object_topic', None)
        if object_topic:
            topics.append(object_topic)
        return topics

    def _sync(self):
        """Make the receiver's subscriptions the wanted topics.

        On the connected receiver at once (frames to the broker, not HMC
        requests); a receiver still connecting, or one that fails a frame,
        is replaced, so no topic is left out.
        """
        with self._cond:
            receiver = self._receiver
            if receiver is None:
                return
            wanted = self._wanted_topics()
            missing = [t for t in wanted if t not in self._subscribed]
            ended = [t for t in self._subscribed if t not in wanted]
            if not missing and not (ended and receiver.ready):
                return
            if receiver.ready:
                try:
                    for topic in missing:
                        receiver.subscribe(topic)
                        self._subscribed.add(topic)
                    for topic in ended:
                        receiver.unsubscribe(topic)
                        self._subscribed.discard(topic)
                    return
                except Exception as exc:  # noqa: B902 - connect again
                    LOG.debug('Subscribing to an HMC topic failed: %s', exc)
        receiver.stop()

    # -- lifecycle ---------------------------------------------------------
    def start(self):
        with self._cond:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(
                target=self._run, name='hmc-notifications', daemon=True)
            self._thread.start()

    def close(self):
        """Disconnect and stop the thread (bounded by JOIN_TIMEOUT)."""
        with self._cond:
            self._closed = True
            receiver, thread = self._receiver, self._thread
            self._cond.notify_all()
        if receiver is not None:
            receiver.stop()
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT)
            if thread.is_alive():
                LOG.warning('HMC notification thread still running after '
                            'close')
        self.registry.channel_lost()

    def status(self):
        """For status output: is the channel up, and why not."""
        with self._cond:
            return {'notifications': 'up' if self.registry.up else 'down',
                    'notification_error': self._last_error,
                    'notification_connects': self._connects}

    # -- the thread ----------------------------------------------------------
    def _run(self):
        pause = FIRST_PAUSE
        while True:
            with self._cond:
                while not self._closed and not (
                        self._sessions and self._usable()):
                    # The link does not tell: look again every second.
                    self._cond.wait(1.0 if self._sessions else None)
                if self._closed:
                    return
                topics = self._wanted_topics()
                self._subscribed = set(topics)
                host = self._host()
                receiver = self._receiver = _Receiver(
                    topics, host, self.settings, self._ready, self._lost)
            began = time.monotonic()
            try:
                for headers, message in receiver.notifications(
                        stop_event=receiver.stop_event):
                    self.registry.deliver(headers, message)
                error = ('connection lost' if receiver.was_lost else
                         'subscribing again')
            except Exception as exc:  # noqa: B902 - any failure: reconnect
                error = errors.describe(exc, self.settings.password)
            resubscribing = error == 'subscribing again'
            receiver.stop()
            with self._cond:
                self._receiver = None
                self._subscribed = set()
                closed = self._closed
                if error:
                    self._last_error = error
            was_up = self.registry.channel_lost()
            if not closed:
                # Once per outage: a firewalled STOMP port must not fill
                # the log.
                log = (LOG.info if resubscribing else
                       LOG.warning if was_up or receiver.was_lost or
                       not self._warned else LOG.debug)
                self._warned = True
                log('HMC notifications from %s:%s: %s; waits poll until '
                    'they are back', host, self.settings.notification_port,
                    error)
                if was_up or receiver.was_lost:
                    self._on_change()
            if closed:
                return
            if time.monotonic() - began > 10 * pause:
                pause = FIRST_PAUSE
            self._pause(pause)
            pause = min(pause * 2, self.settings.max_retry_interval)

    def _pause(self, seconds):
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    def _ready(self):
        with self._cond:
            self._connects += 1
            self._last_error = None
            self._warned = False
        LOG.info('HMC notifications from %s:%s: subscribed', self._host(),
                 self.settings.notification_port)
        self.registry.channel_up()
        self._on_change()

    def _lost(self):
        self.registry.channel_lost()
        with self._cond:
            self._cond.notify_all()
