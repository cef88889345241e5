"""stomp.py connections whose TLS socket one thread at a time uses.

stomp.py reads its socket in a receiver thread while other threads write
frames on it (SUBSCRIBE, heart-beats, DISCONNECT).  One OpenSSL
connection must not be used by two threads at once: with both at work a
read now and then returned nothing although the HMC had sent nothing and
closed nothing (stomp.py then ends the connection: 7 of 300 connects
lost right after subscribing, against the simulator), and a TLS shutdown
during a read aborted the process.  Here every TLS operation holds one
lock, and a read holds it only once data is there: it waits for the
socket to become readable without the lock and reads without blocking.

zhmcclient's ``NotificationReceiver`` makes its connection with
``self._stomp.Connection``; a receiver that sets ``_stomp`` to this
module gets the connection below.
"""

import select
import socket
import ssl
import threading
import time

from stomp import connect as stomp_connect
from stomp import protocol as stomp_protocol
from stomp import transport as stomp_transport


class SerializedTLSSocket(object):
    """An ``ssl.SSLSocket`` that only one thread at a time reads or writes.

    :param tls: the connected ``ssl.SSLSocket`` (with its timeout set)
    """

    def __init__(self, tls):
        self._tls = tls
        self._timeout = tls.gettimeout()
        self._lock = threading.Lock()

    def recv(self, size):
        """Data, b'' at the end; ``socket.timeout`` after the timeout."""
        deadline = (None if self._timeout is None
                    else time.monotonic() + self._timeout)
        while True:
            with self._lock:
                self._tls.settimeout(0.0)
                try:
                    return self._tls.recv(size)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass    # a partial record, or a non-data record
                finally:
                    self._tls.settimeout(self._timeout)
            wait = (None if deadline is None
                    else deadline - time.monotonic())
            if wait is not None and wait <= 0:
                raise socket.timeout('timed out')
            select.select([self._tls], [], [], wait)

    def sendall(self, data):
        with self._lock:
            self._tls.sendall(data)

    def settimeout(self, timeout):
        with self._lock:
            self._timeout = timeout
            self._tls.settimeout(timeout)

    def unwrap(self):
        """The TLS shutdown stomp.py makes on disconnecting."""
        with self._lock:
            return self._tls.unwrap()

    def close(self):
        with self._lock:
            self._tls.close()

    def shutdown(self, how):
        """End the TCP connection under TLS, touching no TLS state.

        A reader waiting for data sees the end at once; the TLS object is
        left to the thread that reads (``ssl.SSLSocket.shutdown`` would
        drop it under that thread).
        """
        socket.socket.shutdown(self._tls, how)

    def __getattr__(self, name):
        return getattr(self._tls, name)


class _Transport(stomp_transport.Transport):
    """stomp.py's transport, its TLS socket serialized once connected."""

    def attempt_connection(self):
        super().attempt_connection()
        if isinstance(self.socket, ssl.SSLSocket):
            self.socket = SerializedTLSSocket(self.socket)


class Connection(stomp_connect.StompConnection11):
    """stomp.py's STOMP 1.1 connection on :class:`_Transport`.

    It takes the keyword arguments of ``stomp.Connection`` (zhmcclient's).
    """

    def __init__(self, host_and_ports=None, heartbeats=(0, 0),
                 auto_content_length=True, heart_beat_receive_scale=1.5,
                 **transport_kwargs):
        transport = _Transport(host_and_ports, **transport_kwargs)
        stomp_connect.BaseConnection.__init__(self, transport)
        stomp_protocol.Protocol11.__init__(
            self, transport, heartbeats, auto_content_length,
            heart_beat_receive_scale=heart_beat_receive_scale)
