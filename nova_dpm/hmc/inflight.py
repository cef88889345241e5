"""Calls waiting on one HMC connection: what, since when, last answer.

Status output lists them (``waiting_calls``), so an operator sees a call
that waits instead of a green "connected".  The link also uses them to
tell a slow HMC (it answers other requests) from one that accepts
requests but answers none: a request outstanding for long while no
answer arrived at all is the sign worth a probe.
"""

import contextlib
import itertools
import threading
import time


class InFlight:
    """Thread-safe registry of the supervised calls of one link.

    :param on_idle: ``on_idle()`` whenever the last registered call ends
        (called outside the lock), so a status listing calls can be
        rewritten without them
    :param clock: ``time.monotonic`` (tests pass their own)
    """

    def __init__(self, on_idle=None, clock=time.monotonic):
        self._on_idle = on_idle
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = itertools.count()
        self._calls = {}    # token -> [what, since, on_hmc_since or None]
        self._last_answer = clock()

    @contextlib.contextmanager
    def waiting(self, what):
        """Register a call for a ``with`` block; yields its token."""
        with self._lock:
            token = next(self._tokens)
            self._calls[token] = [what, self._clock(), None]
        try:
            yield token
        finally:
            with self._lock:
                del self._calls[token]
                idle = not self._calls
            if idle and self._on_idle is not None:
                self._on_idle()

    @contextlib.contextmanager
    def on_hmc(self, token):
        """Mark the call as sending requests for a ``with`` block.

        Before and after it, the call waits for the link or the pool.
        """
        with self._lock:
            self._calls[token][2] = self._clock()
        try:
            yield
        finally:
            with self._lock:
                self._calls[token][2] = None

    def answered(self):
        """The HMC answered a request (any status): it is alive."""
        now = self._clock()
        with self._lock:
            self._last_answer = now

    @property
    def last_answer(self):
        with self._lock:
            return self._last_answer

    def oldest_request(self):
        """Since when the oldest outstanding request waits, or None."""
        with self._lock:
            starts = [call[2] for call in self._calls.values()
                      if call[2] is not None]
        return min(starts) if starts else None

    def oldest(self):
        """Since when the oldest registered call waits, or None."""
        with self._lock:
            starts = [call[1] for call in self._calls.values()]
        return min(starts) if starts else None

    def snapshot(self):
        """``[{'what', 'waiting_s'}, ...]``, the longest waiting first."""
        now = self._clock()
        with self._lock:
            calls = sorted(self._calls.values(), key=lambda call: call[1])
            return [{'what': what, 'waiting_s': round(now - since, 1)}
                    for what, since, _request in calls]
