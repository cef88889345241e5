"""One TLS socket that one thread at a time reads or writes.

STOMP puts a reader thread and writer threads on one connection (stomp.py
in nova-compute, coilmq's handler and the dispatcher in the simulator);
one OpenSSL connection must not be used by two threads at once.  Every
TLS operation here holds one lock.  A read takes it only to read without
blocking (whatever OpenSSL already holds, decrypted or not, comes first)
and waits for the socket without it, so a waiting read never holds back
a write, and data that arrived together with the handshake is not left
waiting for the next packet (a select() before reading misses it: the
simulator then saw a CONNECT only when the client gave up, 10 s later).
"""

import select
import socket
import ssl
import threading
import time


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
            # poll, not select: a process with many files has descriptors
            # above select()'s 1024
            poller = select.poll()
            poller.register(self._tls, select.POLLIN)
            poller.poll(None if wait is None else wait * 1000)

    def sendall(self, data):
        with self._lock:
            self._tls.sendall(data)

    def settimeout(self, timeout):
        with self._lock:
            self._timeout = timeout
            self._tls.settimeout(timeout)

    def unwrap(self):
        """The TLS shutdown stomp.py makes on disconnecting.

        A peer that has closed already (a STOMP broker does after
        DISCONNECT) leaves nothing to shut down: this socket is returned
        for closing instead of an error stomp.py logs as a warning.
        """
        with self._lock:
            try:
                return self._tls.unwrap()
            except (ssl.SSLError, OSError):
                return self

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
