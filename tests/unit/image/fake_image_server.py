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

"""A real HTTP image server on 127.0.0.1 that misbehaves on request.

Tests queue one fault per request (:meth:`ImageServer.inject`); the
benchmark instead asks for connections to drop at absolute offsets
(:meth:`ImageServer.drop_at`).  The server counts the body bytes it sends,
so tests can bound how much was transferred twice.  Image content comes
from a *source* with ``size`` and ``read(offset, length)``, so the
benchmark can serve a gigabyte it never holds in memory.
"""

import collections
import http.server
import re
import socket
import struct
import sys
import threading

import fixtures

_RANGE = re.compile(r'^bytes=(\d+)-$')
_WRITE_SIZE = 256 * 1024


class BytesSource:
    """Image content held in memory."""

    def __init__(self, data):
        self._data = data
        self.size = len(data)

    def read(self, offset, length):
        return self._data[offset:offset + length]


# -- faults: each applies to one request ------------------------------------

class Drop:
    """Send *after* body bytes, then reset the connection (RST)."""

    def __init__(self, after, reset=True):
        self.after = after
        self.reset = reset


class CloseEarly(Drop):
    """Send *after* body bytes, then close cleanly (FIN) before the end."""

    def __init__(self, after):
        super().__init__(after, reset=False)


class Stall:
    """Send *after* body bytes, then go silent for *seconds* and close."""

    def __init__(self, after, seconds):
        self.after = after
        self.seconds = seconds


class Status:
    """Answer with *code* and no body (e.g. 503 with Retry-After)."""

    def __init__(self, code, retry_after=None):
        self.code = code
        self.retry_after = retry_after


class IgnoreRange:
    """Answer 200 with the whole image even if Range was asked for."""


Request = collections.namedtuple('Request', 'path headers status start')


class ImageServer(fixtures.Fixture):
    """Serves *source* at any path; see the module docstring."""

    def __init__(self, source):
        super().__init__()
        self.source = source
        self._lock = threading.Lock()
        self._faults = collections.deque()
        self._drop_offsets = []
        self._stop = threading.Event()
        self.requests = []
        self.body_bytes_sent = 0

    def _setUp(self):
        handler = type('Handler', (_Handler,), {'image_server': self})
        self._httpd = _QuietServer(('127.0.0.1', 0), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        thread = threading.Thread(target=self._httpd.serve_forever,
                                  kwargs={'poll_interval': 0.05},
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(self._httpd.server_close)
        self.addCleanup(self._httpd.shutdown)
        self.addCleanup(self._stop.set)

    def url(self, path='/v2/images/img/file'):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def inject(self, *faults):
        """Apply *faults* to the next requests, one each (None: none)."""
        with self._lock:
            self._faults.extend(faults)

    def drop_at(self, offsets):
        """Reset the connection when the body reaches each offset once."""
        with self._lock:
            self._drop_offsets = sorted(offsets)

    def reset_counters(self):
        with self._lock:
            self.requests = []
            self.body_bytes_sent = 0

    # -- used by the handler ---------------------------------------------

    def _next_fault(self):
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _take_drop(self, start, end):
        with self._lock:
            for offset in self._drop_offsets:
                if start < offset < end:
                    self._drop_offsets.remove(offset)
                    return offset
        return None

    def _record(self, request):
        with self._lock:
            self.requests.append(request)

    def _count(self, sent):
        with self._lock:
            self.body_bytes_sent += sent


class _QuietServer(http.server.ThreadingHTTPServer):
    """Clients hanging up mid-request is expected here, not an error."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    image_server = None

    def log_message(self, *args):
        pass   # keep test output clean

    def do_GET(self):
        server = self.image_server
        fault = server._next_fault()
        size = server.source.size
        match = _RANGE.match(self.headers.get('Range', ''))
        start = int(match.group(1)) if match else 0
        if isinstance(fault, Status):
            return self._status_only(fault, start)
        if isinstance(fault, IgnoreRange) or not match:
            status, start = 200, 0
        elif start >= size:
            return self._status_only(Status(416), start)
        else:
            status = 206
        server._record(Request(self.path, dict(self.headers), status, start))
        self.send_response(status)
        self.send_header('Content-Length', str(size - start))
        self.send_header('Content-Type', 'application/octet-stream')
        if status == 206:
            self.send_header('Content-Range',
                             'bytes %d-%d/%d' % (start, size - 1, size))
        self.end_headers()
        self._send_body(fault, start, size)

    def _status_only(self, fault, start):
        self.image_server._record(
            Request(self.path, dict(self.headers), fault.code, start))
        self.send_response(fault.code)
        if fault.retry_after is not None:
            self.send_header('Retry-After', str(fault.retry_after))
        if fault.code == 416:
            self.send_header('Content-Range',
                             'bytes */%d' % self.image_server.source.size)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def _send_body(self, fault, start, size):
        server = self.image_server
        end = size
        cut = None
        if isinstance(fault, (Drop, Stall)):
            cut = min(size, start + fault.after)
        else:
            cut = server._take_drop(start, size)
        if cut is not None:
            end = cut
        offset = start
        try:
            while offset < end:
                block = server.source.read(offset,
                                           min(_WRITE_SIZE, end - offset))
                self.wfile.write(block)
                server._count(len(block))
                offset += len(block)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return
        if cut is None:
            return
        self.close_connection = True
        if isinstance(fault, Stall):
            server._stop.wait(fault.seconds)
        elif fault is None or fault.reset:
            # Linger 0 makes close() send RST; the reader (rfile) holds a
            # reference that would defer the close, so close it first.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack('ii', 1, 0))
            self.rfile.close()
            self.connection.close()
        else:
            self.connection.shutdown(socket.SHUT_WR)
