"""HMC notifications: JMS over STOMP over TLS, as zhmcclient receives them.

A real HMC publishes job completions on the job-notification topic of the
session that started the job (``job-uri`` in the headers) and status and
property changes of its objects on each session's notification topic
(``zhmcclient.NotificationReceiver``, port 61612).  The broker is coilmq
(a maintained STOMP 1.0-1.2 broker), embedded: its socket server with a
TLS handshake per connection and an authenticator that accepts the
simulated HMC's userid and password.  Delivery goes through one dispatcher
thread so that the faults a test injects apply in order: the next
notifications lost, every notification late, and all notification
connections dropped.
"""

import collections
import datetime
import heapq
import hmac
import itertools
import json
import logging
import socket
import threading
import time
import uuid

from coilmq import auth as coilmq_auth
from coilmq import queue as coilmq_queue
from coilmq.server import socket_server
from coilmq.store import memory as coilmq_memory
from coilmq import topic as coilmq_topic
from coilmq.util import frames

from nova_dpm import stomp_passcodes
from nova_dpm import tls_socket

LOG = logging.getLogger(__name__)

#: The HMC's STOMP port (zhmcclient's DEFAULT_STOMP_PORT).
HMC_STOMP_PORT = 61612


class _HMCUserAuthenticator(coilmq_auth.Authenticator):
    """Accepts exactly the simulated HMC's userid and password."""

    def __init__(self, userid, password):
        self._userid = userid.encode()
        self._password = password.encode()

    def authenticate(self, login, passcode):
        return (hmac.compare_digest(str(login or '').encode(), self._userid)
                and hmac.compare_digest(str(passcode or '').encode(),
                                        self._password))


class _HeartbeatSkippingBuffer(frames.FrameBuffer):
    """coilmq's frame buffer, passing over heart-beats between frames.

    A STOMP 1.1 heart-beat is an EOL where a frame could start; zhmcclient's
    receiver sends one every 5 s.  coilmq 1.1.0's parser reads such an EOL
    as an empty frame and stops there for good, so every later frame of the
    connection (a SUBSCRIBE to the job topic of a session that logged on
    later, a DISCONNECT) was ignored (STOMP 1.2 "Heart-beating"; coilmq issue
    26 reports messages that stop with heart-beats on).
    """

    def extract_frame(self):
        self._buffer.seek(self._pointer)
        while self._buffer.read(1) in (b'\n', b'\r'):
            self._pointer += 1
        return super().extract_frame()


class _TLSStompHandler(socket_server.StompRequestHandler):
    """coilmq's connection handler after a TLS handshake; tracked.

    coilmq reads in the connection's thread while the dispatcher writes
    MESSAGE frames from its own; one TLS connection must not be read and
    written at the same time (the client then sees a broken record and
    drops the connection), so the socket is a
    :class:`~nova_dpm.tls_socket.SerializedTLSSocket`.
    """

    def setup(self):
        self.request.settimeout(5.0)
        self.request.do_handshake()
        self.request = tls_socket.SerializedTLSSocket(self.request)
        super().setup()
        self.request.settimeout(5.0)    # coilmq's setup() set the server's
        self.buffer = _HeartbeatSkippingBuffer()
        self._destinations = {}     # subscription id -> destination
        self.server.connections.add(self.request)

    def iter_frames(self):
        """coilmq's frame reader on the serialized socket."""
        while not self.server.shutdown_requested.is_set():
            try:
                data = self.request.recv(4096)
            except socket.timeout:
                continue
            except (OSError, ValueError):
                break   # closed under us (dropped)
            if not data:
                break
            self.last_data = datetime.datetime.now()
            self.log.debug('RECV: %r', data)
            self.buffer.append(data)
            for frame in self.buffer:
                yield self._with_destination(frame)
                # the engine asks for the next frame once it has acted on
                # this one: a SUBSCRIBE counted here is in effect
                self.server.frames_taken.add(frame.cmd)

    def _with_destination(self, frame):
        """An UNSUBSCRIBE by id gets its subscription's destination.

        STOMP 1.1 and 1.2 name only the subscription's ``id`` in UNSUBSCRIBE
        (zhmcclient's ``NotificationReceiver.unsubscribe`` does); coilmq
        1.1.0 refuses one without ``destination``, which a real HMC's broker
        does not.
        """
        headers = frame.headers
        if frame.cmd == 'SUBSCRIBE' and 'id' in headers:
            self._destinations[headers['id']] = headers.get('destination')
        elif frame.cmd == 'UNSUBSCRIBE' and 'destination' not in headers:
            destination = self._destinations.pop(headers.get('id'), None)
            if destination:
                headers['destination'] = destination
        return frame

    def finish(self):
        self.server.connections.discard(self.request)
        super().finish()


class _TLSStompServer(socket_server.ThreadedStompServer):
    daemon_threads = True

    def __init__(self, address, context, authenticator):
        self.context = context
        self.connections = _SocketSet()
        self.frames_taken = _FrameCounter()
        super().__init__(
            address, _TLSStompHandler, timeout=0.2,
            authenticator=authenticator,
            queue_manager=coilmq_queue.QueueManager(
                store=coilmq_memory.MemoryQueue()),
            topic_manager=coilmq_topic.TopicManager())

    def get_request(self):
        sock, address = self.socket.accept()
        return self.context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        LOG.debug('STOMP connection from %s ended with an error',
                  client_address, exc_info=True)


class _SocketSet(object):
    """The open client sockets (the handler threads add and remove)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sockets = set()

    def add(self, sock):
        with self._lock:
            self._sockets.add(sock)

    def discard(self, sock):
        with self._lock:
            self._sockets.discard(sock)

    def drop_all(self):
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return len(sockets)

    def __len__(self):
        with self._lock:
            return len(self._sockets)


class _FrameCounter(object):
    """Client frames the broker has acted on, by command."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = collections.Counter()

    def add(self, command):
        with self._lock:
            self._counts[command] += 1

    def __getitem__(self, command):
        with self._lock:
            return self._counts[command]


class NotificationBroker(object):
    """The simulated HMC's STOMP endpoint and its delivery faults.

    :param host: listen address
    :param port: TCP port (0: any free one; the HMC's is 61612)
    :param context: server ``ssl.SSLContext`` (the HTTPS one)
    :param userid, password: the HMC user a receiver must log on with
    :param tick: called every TICK seconds from the dispatcher thread
        (the backend completes due jobs, which a real HMC does by itself)
    """

    #: Seconds between ticks.
    TICK = 0.05

    def __init__(self, host, port, context, userid, password,
                 tick=lambda: None):
        # coilmq logs every frame it reads at DEBUG, CONNECT too.
        stomp_passcodes.hide_passcodes(
            '%s.%s' % (_TLSStompHandler.__module__,
                       _TLSStompHandler.__name__),
            'coilmq.engine.StompEngine')
        self._tick = tick
        self._server = _TLSStompServer(
            (host, port), context, _HMCUserAuthenticator(userid, password))
        self.port = self._server.server_address[1]
        self._cond = threading.Condition()
        self._pending = []          # heap of (due, seq, topic, headers, body)
        self._seq = itertools.count()
        self._sequence_nr = itertools.count()
        self._lose = 0
        self._lose_kind = None
        self._delay = 0.0
        self._stopped = False
        self.published = 0
        self.lost = 0
        self._threads = [
            threading.Thread(target=self._server.serve_forever,
                             kwargs={'poll_interval': 0.1},
                             name='hmc-simulator-stomp', daemon=True),
            threading.Thread(target=self._dispatch,
                             name='hmc-simulator-stomp-dispatch', daemon=True)]

    def start(self):
        for thread in self._threads:
            thread.start()

    def stop(self):
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._server.connections.drop_all()
        if self._threads[0].is_alive():
            self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(5)

    # --- faults ---

    def lose_next(self, n, kind=None):
        """The next ``n`` notifications are never delivered (0: none).

        ``kind``: only those of this ``notification-type``
        (``job-completion``, ``status-change``, ``property-change``).
        """
        with self._cond:
            self._lose = n
            self._lose_kind = kind

    def delay(self, seconds):
        """Deliver every notification ``seconds`` late (0: on time)."""
        with self._cond:
            self._delay = float(seconds)

    def drop_connections(self):
        """Close every notification connection; returns how many."""
        return self._server.connections.drop_all()

    def connections(self):
        return len(self._server.connections)

    def frames_taken(self, command):
        """How many ``command`` frames (``SUBSCRIBE``, ...) took effect."""
        return self._server.frames_taken[command]

    # --- publishing ---

    def publish(self, topic, headers, body=None):
        """Queue one notification for ``/topic/<topic>``."""
        with self._cond:
            if self._lose and self._lose_kind in (
                    None, headers.get('notification-type')):
                self._lose -= 1
                self.lost += 1
                return
            headers = dict(headers, destination='/topic/' + topic)
            headers['session-sequence-nr'] = str(next(self._sequence_nr))
            headers.setdefault('message-id', uuid.uuid4().hex)
            heapq.heappush(self._pending, (
                time.monotonic() + self._delay, next(self._seq), headers,
                '' if body is None else json.dumps(body)))
            self._cond.notify_all()

    def _dispatch(self):
        next_tick = time.monotonic()
        while True:
            due = []
            with self._cond:
                if self._stopped:
                    return
                now = time.monotonic()
                while self._pending and self._pending[0][0] <= now:
                    due.append(heapq.heappop(self._pending)[2:])
                self.published += len(due)
                if not due and now < next_tick:
                    wake = min([next_tick] + [
                        p[0] for p in self._pending[:1]])
                    self._cond.wait(wake - now)
                    continue
            for headers, body in due:
                self._server.topic_manager.send(
                    frames.Frame(frames.MESSAGE, headers=headers, body=body))
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + self.TICK
                try:
                    self._tick()
                except Exception:  # noqa: B902 - keep delivering
                    LOG.exception('Simulated HMC: completing due jobs '
                                  'failed')


def job_completion(job_uri):
    """Headers of a job-completion notification."""
    return {'notification-type': 'job-completion', 'job-uri': job_uri}


def status_change(uri, class_name, old, new):
    """Headers and body of a status-change notification."""
    return ({'notification-type': 'status-change', 'object-uri': uri,
             'object-id': uri.rsplit('/', 1)[-1], 'class': class_name},
            {'change-reports': [{'old-status': old, 'new-status': new}]})


def property_change(uri, class_name, changes):
    """Headers and body of a property-change notification.

    ``changes``: {property name: (old value, new value)}.
    """
    return ({'notification-type': 'property-change', 'object-uri': uri,
             'object-id': uri.rsplit('/', 1)[-1], 'class': class_name,
             'property-names': ','.join(sorted(changes))},
            {'change-reports': [
                {'property-name': name, 'old-value': old, 'new-value': new}
                for name, (old, new) in sorted(changes.items())]})


def object_topic(session_id):
    """The session's object notification topic (in its logon reply)."""
    return 'simulator-topic-' + session_id[:8]


def job_topic(session_id):
    """The session's job notification topic (in its logon reply)."""
    return 'simulator-job-topic-' + session_id[:8]


class ChangeAnnouncer(object):
    """Turns what changed in the faked HMC into notifications.

    Called with the backend's lock held, after every request and on the
    broker's tick: ended jobs go to the job topic of the session that
    started them, partition status and property changes (found by
    comparing with the last look) to every session's object topic.
    """

    def __init__(self, broker):
        self._broker = broker
        self._seen = {}

    def announce(self, ended_jobs, partitions, sessions):
        for job in ended_jobs:
            if job.owner:
                self._broker.publish(job_topic(job.owner),
                                     job_completion(job.uri))
        topics = [object_topic(s) for s in sessions]
        seen = {}
        for partition in partitions:
            now = dict(partition.properties)
            seen[partition.uri] = now
            before = self._seen.get(partition.uri)
            if before is not None:
                self._publish_changes(partition.uri, before, now, topics)
        self._seen = seen

    def _publish_changes(self, uri, before, now, topics):
        if before.get('status') != now.get('status'):
            headers, body = status_change(uri, 'partition',
                                          before.get('status'),
                                          now.get('status'))
            for topic in topics:
                self._broker.publish(topic, headers, body)
        changes = {name: (before.get(name), value)
                   for name, value in now.items()
                   if name != 'status' and before.get(name) != value}
        if changes:
            headers, body = property_change(uri, 'partition', changes)
            for topic in topics:
                self._broker.publish(topic, headers, body)
