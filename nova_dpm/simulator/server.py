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

"""HTTPS listeners of the simulated HMC, with connection tracking.

One ``Listener`` per address, all on the same port and in front of the same
``Backend`` (a primary and an alternate HMC that share state). Each
connection gets its own thread and HTTP/1.1 keep-alive. Connections are
tracked so that "HMC down" can cut them: closing a listening socket alone
leaves keep-alive connections working, which is not what an outage does.
"""

import http.server
import json
import logging
import math
import socket
import socketserver
import ssl
import threading
import time

from nova_dpm.simulator import backend as backend_mod
from nova_dpm.simulator import faults
from nova_dpm.simulator import handlers

LOG = logging.getLogger(__name__)

_MAX_JSON_BODY = 16 * 1024 * 1024
_CHUNK = 1024 * 1024
_HANDSHAKE_TIMEOUT = 10


class _DropConnection(Exception):
    """Close the connection without answering."""


class _BadRequestBody(Exception):
    pass


class FrontEnd(object):
    """What every listener shares: backend, fault board, statistics."""

    def __init__(self, backend, fault_board, stats, ssl_context):
        self.backend = backend
        self.faults = fault_board
        self.stats = stats
        self.ssl_context = ssl_context


class HMCRequestHandler(http.server.BaseHTTPRequestHandler):
    """One HTTPS connection: count, apply faults, dispatch, answer."""

    protocol_version = 'HTTP/1.1'
    server_version = 'nova-dpm-hmc-simulator'
    sys_version = ''
    # Headers and body leave in one write: separate small writes meet the
    # client's delayed ACK and cost ~40 ms per request.
    wbufsize = 64 * 1024

    def do_GET(self):
        self._serve('GET')

    def do_POST(self):
        self._serve('POST')

    def do_DELETE(self):
        self._serve('DELETE')

    def do_PUT(self):
        self._serve('PUT')

    def log_message(self, fmt, *args):
        # Request lines carry no secrets; bodies (logon!) are never logged.
        LOG.debug('%s %s', self.client_address[0], fmt % args)

    def _serve(self, method):
        front = self.server.front
        path = self.path
        bare = path.split('?', 1)[0]
        front.stats.count(method, path)
        if front.faults.hold_while_muted(
                (faults.MUTE_AFTER_TLS, faults.MUTE_DROPPED),
                self.server.host, self.server.closing):
            raise _DropConnection()
        latency = front.faults.latency
        if latency:
            time.sleep(latency)
        if front.faults.take(faults.DROP, method, bare):
            raise _DropConnection()
        failure = front.faults.take(faults.FAIL, method, bare)
        try:
            body = self._read_body()
        except _BadRequestBody as exc:
            self.close_connection = True
            self._send(backend_mod.error_reply(method, path, 400, 0,
                                               str(exc)))
            return
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                headers['Retry-After'] = str(math.ceil(failure.retry_after))
            self._send(backend_mod.error_reply(
                method, path, failure.status, failure.reason,
                failure.message or 'Simulated HMC error', headers))
            return
        lose = front.faults.take(faults.LOSE_RESPONSE, method, bare)
        reply = front.backend.handle(
            method, path, self.headers.get('X-API-Session'), body,
            on_logon=front.stats.count_logon)
        if lose is not None:
            raise _DropConnection()
        self._send(reply)

    def _body_chunks(self):
        """Yield the request body in pieces (Content-Length or chunked)."""
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b';', 1)[0].strip(), 16)
                except ValueError:
                    raise _BadRequestBody('invalid chunked request body')
                if size == 0:
                    while self.rfile.readline(1024) not in (b'\r\n', b'\n',
                                                            b''):
                        pass
                    return
                while size > 0:
                    piece = self.rfile.read(min(size, _CHUNK))
                    if not piece:
                        raise _DropConnection()
                    size -= len(piece)
                    yield piece
                self.rfile.readline(1024)
            return
        try:
            remaining = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            raise _BadRequestBody('invalid Content-Length header')
        while remaining > 0:
            piece = self.rfile.read(min(remaining, _CHUNK))
            if not piece:
                raise _DropConnection()
            remaining -= len(piece)
            yield piece

    def _read_body(self):
        """Return None, a parsed JSON body or an IsoUpload (size only).

        Octet streams (ISO images, possibly gigabytes) are counted and
        discarded chunk by chunk; they are never held in memory.
        """
        content_type = self.headers.get('Content-Type', '')
        if content_type.startswith('application/octet-stream'):
            size = 0
            for piece in self._body_chunks():
                size += len(piece)
            return handlers.IsoUpload(size)
        data = bytearray()
        for piece in self._body_chunks():
            data += piece
            if len(data) > _MAX_JSON_BODY:
                raise _BadRequestBody('request body too large')
        if not data:
            return None
        try:
            return json.loads(data.decode('utf-8'))
        except ValueError as exc:
            raise _BadRequestBody('request body is not valid JSON: %s' % exc)

    def _send(self, reply):
        payload = b''
        if reply.body is not None:
            payload = json.dumps(reply.body).encode('utf-8')
        self.send_response(reply.status)
        if reply.body is not None:
            self.send_header('Content-Type', 'application/json;charset=UTF-8')
        for name, value in reply.headers.items():
            self.send_header(name, value)
        front = self.server.front
        stall = (front.faults.mute_for(self.server.host) ==
                 faults.MUTE_MID_RESPONSE)
        # A stalled answer promises at least one byte it never sends.
        self.send_header('Content-Length',
                         str(max(len(payload), 1) if stall else len(payload)))
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        if stall:
            self.wfile.write(payload[:len(payload) // 2])
            self.wfile.flush()
            front.faults.hold_while_muted((faults.MUTE_MID_RESPONSE,),
                                          self.server.host,
                                          self.server.closing)
            raise _DropConnection()
        if payload:
            self.wfile.write(payload)
        self.wfile.flush()


class Listener(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """An HTTPS listener on one address that can cut its connections."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, host, port, front):
        self.front = front
        self.host = host
        self._connections = set()
        self._connections_lock = threading.Lock()
        self._thread = None
        self._closing = threading.Event()
        super(Listener, self).__init__((host, port), HMCRequestHandler)

    def closing(self):
        """Whether close() has begun (ends held connections)."""
        return self._closing.is_set()

    def server_bind(self):
        # HTTPServer.server_bind resolves the FQDN, which can be slow.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        try:
            if self.front.faults.hold_while_muted(
                    (faults.MUTE_NO_TLS, faults.MUTE_DROPPED), self.host,
                    self.closing):
                return
        finally:
            with self._connections_lock:
                self._connections.discard(request)
        request.settimeout(_HANDSHAKE_TIMEOUT)
        try:
            conn = self.front.ssl_context.wrap_socket(request,
                                                      server_side=True)
        except (ssl.SSLError, OSError) as exc:
            LOG.debug('TLS handshake with %s failed: %s', client_address,
                      exc)
            request.close()
            return
        conn.settimeout(None)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_lock:
            self._connections.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except _DropConnection:
            pass
        except (OSError, ssl.SSLError) as exc:
            LOG.debug('Connection from %s ended: %s', client_address, exc)
        finally:
            with self._connections_lock:
                self._connections.discard(conn)
            _hard_close(conn)

    def handle_error(self, request, client_address):
        LOG.debug('Error on connection from %s', client_address,
                  exc_info=True)

    def start(self):
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={'poll_interval': 0.05},
            name='hmc-simulator-%s' % self.server_address[0], daemon=True)
        self._thread.start()

    def close(self):
        """Stop accepting, close the port and cut open connections."""
        self._closing.set()
        self.shutdown()
        self.server_close()
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            _hard_close(conn)
        if self._thread is not None:
            self._thread.join(5)


def _hard_close(conn):
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        conn.close()
    except OSError:
        pass


class ListenerSet(object):
    """The listeners of all addresses, sharing one port."""

    def __init__(self, hosts, port, front):
        if not hosts:
            raise ValueError('at least one listen address is required')
        self.hosts = tuple(hosts)
        self.port = port
        self._front = front
        self._listeners = {}
        self._lock = threading.Lock()

    def start(self):
        try:
            for host in self.hosts:
                self._bind(host)
        except Exception:
            self.stop()
            raise

    def _bind(self, host):
        listener = Listener(host, self.port, self._front)
        self.port = listener.server_address[1]
        listener.start()
        self._listeners[host] = listener

    def _selected(self, host):
        if host is None:
            return self.hosts
        if host not in self.hosts:
            raise ValueError('%s is not a listen address of this simulator '
                             '(addresses: %s)' % (host, ', '.join(self.hosts)))
        return (host,)

    def down(self, host=None):
        with self._lock:
            for name in self._selected(host):
                listener = self._listeners.pop(name, None)
                if listener is not None:
                    listener.close()

    def up(self, host=None):
        with self._lock:
            for name in self._selected(host):
                if name not in self._listeners:
                    self._bind(name)

    def is_up(self, host):
        with self._lock:
            return host in self._listeners

    def stop(self):
        with self._lock:
            for name in list(self._listeners):
                self._listeners.pop(name).close()
