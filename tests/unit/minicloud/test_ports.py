"""Free loopback ports and the listening probe."""

import socket

import testtools

from minicloud import ports


class FreePortsTest(testtools.TestCase):

    def test_returns_distinct_bindable_ports(self):
        found = ports.free_ports(5)

        self.assertEqual(5, len(found))
        self.assertEqual(5, len(set(found)))
        for port in found:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(('127.0.0.1', port))

    def test_zero_ports(self):
        self.assertEqual([], ports.free_ports(0))


class IsListeningTest(testtools.TestCase):

    def test_closed_port_is_not_listening(self):
        port = ports.free_ports(1)[0]

        self.assertFalse(ports.is_listening(port))

    def test_listening_socket_is_listening(self):
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(server.close)
        server.bind(('127.0.0.1', 0))
        server.listen(1)

        self.assertTrue(ports.is_listening(server.getsockname()[1]))
