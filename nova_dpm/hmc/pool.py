"""A bounded pool of logged-on HMC clients.

A zhmcclient Session may be used by one thread at a time, while
nova-compute builds, powers and polls concurrently.  One session behind a
lock would queue everything; one session per call would exhaust the HMC's
session limit.  So: at most ``size`` sessions, created lazily (the first
one at start), each lent to one thread at a time.  Only ``threading``
primitives are used, which eventlet monkey-patches when it is in charge.
"""

import collections
import contextlib
import threading
import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class PoolClosed(Exception):
    """The pool was closed (service stopping)."""


class PoolTimeout(Exception):
    """Every client stayed lent until the caller's deadline."""


class SessionPool:
    """Lend logged-on clients to one thread at a time.

    :param size: most clients alive at once
    :param create: ``create(deadline) -> client``, logs a new session on
        with requests bounded by ``deadline`` (``time.monotonic()`` value
        or None); may raise
    :param dispose: ``dispose(client)``, logs a client off (best effort)
    """

    def __init__(self, size, create, dispose):
        self.size = size
        self._create = create
        self._dispose = dispose
        self._cond = threading.Condition()
        self._idle = collections.deque()
        self._alive = 0
        self._lent = 0
        self._closed = False
        self._generation = 0
        self._client_generation = {}

    @contextlib.contextmanager
    def borrow(self, deadline=None):
        """Lend a client for a ``with`` block; returns it afterwards.

        :param deadline: ``time.monotonic()`` value after which waiting
            for a client ends with :class:`PoolTimeout`
        """
        client = self._take(deadline)
        keep = [True]
        try:
            yield client, lambda: keep.__setitem__(0, False)
        finally:
            self._give_back(client, keep[0])

    def _take(self, deadline):
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosed()
                if self._idle:
                    self._lent += 1
                    return self._idle.pop()
                if self._alive < self.size:
                    self._alive += 1
                    generation = self._generation
                    break
                if deadline is None:
                    self._cond.wait()
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PoolTimeout()
                self._cond.wait(left)
        try:
            client = self._create(deadline)
        except BaseException:
            with self._cond:
                self._alive -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._lent += 1
            self._client_generation[id(client)] = generation
        return client

    def _give_back(self, client, keep):
        with self._cond:
            self._lent -= 1
            current = (self._client_generation.get(id(client)) ==
                       self._generation)
            if keep and current and not self._closed:
                self._idle.append(client)
                self._cond.notify()
                return
            self._alive -= 1
            self._client_generation.pop(id(client), None)
            self._cond.notify()
        self._dispose(client)

    def adopt(self, client):
        """Add a client logged on elsewhere (the one start() validated)."""
        with self._cond:
            if self._closed or self._alive >= self.size:
                extra = True
            else:
                extra = False
                self._alive += 1
                self._client_generation[id(client)] = self._generation
                self._idle.append(client)
                self._cond.notify()
        if extra:
            self._dispose(client)

    def retire_all(self):
        """Drop every client (failover): idle ones now, lent ones on return.

        :returns: the idle clients removed, for the caller to log off
        """
        with self._cond:
            self._generation += 1
            retired = list(self._idle)
            self._idle.clear()
            self._alive -= len(retired)
            for client in retired:
                self._client_generation.pop(id(client), None)
            self._cond.notify_all()
        return retired

    def close(self):
        """Refuse new loans; lent clients are disposed of on return.

        :returns: the idle clients, for the caller to log off (in
            parallel, within its own bound)
        """
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        return self.retire_all()

    def stats(self):
        """Counts for status output."""
        with self._cond:
            return {'size': self.size, 'alive': self._alive,
                    'idle': len(self._idle), 'lent': self._lent}
