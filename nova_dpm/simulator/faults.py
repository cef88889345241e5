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

"""Fault rules: what the simulated HMC does wrong, and for how long.

A rule is an immutable value (kind, how it matches, what it does) plus a
remaining count kept by the thread-safe ``FaultBoard``. The server asks the
board once per request; a matching rule is consumed, so "the next N
matching requests" is exact even with concurrent clients.
"""

import collections
import re
import threading

FAIL = 'fail'
DROP = 'drop'
LOSE_RESPONSE = 'lose-response'
FAIL_JOB = 'fail-job'

# Mute shapes: an HMC that stops answering, the way networks and hung
# servers do it (until unmuted):
#: TCP connections are accepted, the TLS handshake never happens
MUTE_NO_TLS = 'no-tls'
#: TLS completes, requests are read and never answered
MUTE_AFTER_TLS = 'after-tls'
#: the status line, headers and half of the body go out, then nothing
MUTE_MID_RESPONSE = 'mid-response'
#: packets dropped: open connections get no answer, new ones no TLS
MUTE_DROPPED = 'dropped'
MUTE_SHAPES = (MUTE_NO_TLS, MUTE_AFTER_TLS, MUTE_MID_RESPONSE, MUTE_DROPPED)

# Lost responses model "the HMC did it but the client never heard": only
# requests that change something qualify unless a method is given.
_MUTATING_METHODS = ('POST', 'DELETE')

FaultRule = collections.namedtuple('FaultRule', [
    'kind', 'method', 'uri', 'status', 'reason', 'retry_after', 'message',
    'operation'])


def make_rule(kind, method=None, uri=None, status=None, reason=None,
              retry_after=None, message=None, operation=None):
    """Build a FaultRule, validating what a caller can get wrong.

    ``uri`` is a regular expression searched in the request path (without
    the query string). Raises ValueError with a clear message.
    """
    if uri is not None:
        try:
            re.compile(uri)
        except re.error as exc:
            raise ValueError('invalid uri pattern %r: %s' % (uri, exc))
    if method is not None:
        method = str(method).upper()
    if kind in (FAIL, FAIL_JOB):
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError('status must be an HTTP status code (100-599), '
                             'got %r' % (status,))
        if not isinstance(reason, int) or reason < 0:
            raise ValueError('reason must be a non-negative integer, '
                             'got %r' % (reason,))
    if retry_after is not None and (
            not isinstance(retry_after, (int, float)) or retry_after < 0):
        raise ValueError('retry_after must be a non-negative number of '
                         'seconds, got %r' % (retry_after,))
    return FaultRule(kind, method, uri, status, reason, retry_after, message,
                     operation)


def _matches(rule, method, path, operation):
    if rule.kind == FAIL_JOB:
        return rule.operation is None or rule.operation == operation
    if rule.method is not None:
        if rule.method != method:
            return False
    elif rule.kind == LOSE_RESPONSE and method not in _MUTATING_METHODS:
        return False
    return rule.uri is None or re.search(rule.uri, path) is not None


class FaultBoard(object):
    """The switchable faults of one simulator (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._unmuted = threading.Condition(self._lock)
        self._rules = []    # [rule, remaining count] in insertion order
        self._latency = 0.0
        self._mute = {}     # listen address (None: all) -> shape

    def add(self, count, rule):
        if not isinstance(count, int) or count < 1:
            raise ValueError('count must be a positive integer, got %r' %
                             (count,))
        with self._lock:
            self._rules.append([rule, count])

    def take(self, kind, method=None, path='', operation=None):
        """Consume and return the first matching rule of ``kind``, or None."""
        with self._lock:
            for entry in self._rules:
                rule = entry[0]
                if rule.kind == kind and _matches(rule, method, path,
                                                  operation):
                    entry[1] -= 1
                    if entry[1] == 0:
                        self._rules.remove(entry)
                    return rule
        return None

    @property
    def latency(self):
        with self._lock:
            return self._latency

    def set_latency(self, seconds):
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError('latency must be a non-negative number of '
                             'seconds, got %r' % (seconds,))
        with self._lock:
            self._latency = float(seconds)

    def mute_for(self, host):
        """The mute shape in force at listen address ``host``, or None."""
        with self._lock:
            return self._shape_for(host)

    def _shape_for(self, host):
        return self._mute.get(host) or self._mute.get(None)

    def set_mute(self, shape, host=None):
        """Go mute in ``shape`` (one of MUTE_SHAPES); None answers again.

        :param host: one listen address; None: every address (and unmute
            clears the mutes of single addresses too)
        """
        if shape is not None and shape not in MUTE_SHAPES:
            raise ValueError('mute shape must be one of %s, got %r' % (
                ', '.join(MUTE_SHAPES), shape))
        with self._lock:
            if shape is None and host is None:
                self._mute = {}
            elif shape is None:
                self._mute.pop(host, None)
            else:
                self._mute[host] = shape
            self._unmuted.notify_all()

    def hold_while_muted(self, shapes, host, stopped, poll=0.1):
        """Block the calling connection thread while a shape is in force.

        :param shapes: the mute shapes that hold this connection

        :param stopped: callable; True ends the wait (listener closing)
        :returns: True when it held (the caller then drops the request)
        """
        held = False
        with self._lock:
            while self._shape_for(host) in shapes and not stopped():
                held = True
                self._unmuted.wait(poll)
        return held

    def clear(self):
        with self._lock:
            self._rules = []
            self._latency = 0.0
            self._mute = {}
            self._unmuted.notify_all()

    def pending(self):
        """Describe the active rules (for the control API)."""
        with self._lock:
            rules = [dict(rule._asdict(), remaining=count)
                     for rule, count in self._rules]
            return {'latency': self._latency,
                    'mute': self._mute.get(None),
                    'mute_by_address': {host: shape for host, shape
                                        in self._mute.items() if host},
                    'rules': rules}
