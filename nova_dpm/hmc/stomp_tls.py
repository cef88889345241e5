"""stomp.py connections whose TLS socket one thread at a time uses.

stomp.py reads its socket in a receiver thread while other threads write
frames on it (SUBSCRIBE, heart-beats, DISCONNECT).  One OpenSSL
connection must not be used by two threads at once: a TLS shutdown during
a read aborted the process, and against an earlier simulator a read now
and then returned nothing although nothing had been closed (stomp.py then
ends the connection: 7 of 300 connects lost right after subscribing; 0 of
300 serialized).  The transport here wraps its TLS
socket in :class:`nova_dpm.tls_socket.SerializedTLSSocket`.

zhmcclient's ``NotificationReceiver`` makes its connection with
``self._stomp.Connection``; a receiver that sets ``_stomp`` to this
module gets the connection below.
"""

import ssl

from stomp import connect as stomp_connect
from stomp import protocol as stomp_protocol
from stomp import transport as stomp_transport

from nova_dpm import tls_socket


class _Transport(stomp_transport.Transport):
    """stomp.py's transport, its TLS socket serialized once connected."""

    def attempt_connection(self):
        super().attempt_connection()
        if isinstance(self.socket, ssl.SSLSocket):
            self.socket = tls_socket.SerializedTLSSocket(self.socket)


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
