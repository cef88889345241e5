"""Free loopback ports, so a run never collides with a leftover one."""

import socket


def free_ports(count):
    """Return ``count`` distinct TCP ports that are free on 127.0.0.1.

    All sockets stay open until every port is chosen, so the ports differ;
    the small window before the service binds is accepted.
    """
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(('127.0.0.1', 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def is_listening(port, host='127.0.0.1', timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
