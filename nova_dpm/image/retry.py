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

"""When to reconnect during an image download, and how long to wait first.

This is tenacity, with the budget counted differently from a plain
``stop_after_attempt``: what is bounded is the number of *consecutive
failures without progress*.  A failure after which more bytes were on disk
than before it (a dropped connection mid-stream) resets the count and is
retried at once, because the server was healthy a moment ago and a resumed
request costs nothing; backing off there would turn 20 dropped
connections into minutes of idle time.  Failures that moved nothing (a
refused connection, a 503) back off exponentially with jitter up to
``max_backoff``, and honour ``Retry-After`` up to ``max_retry_after``.
``max_reconnects`` caps the total, so a server that drops every connection
after a few bytes cannot keep a fetch going for ever.

The resume state itself (offset, open file, running hash) is not
tenacity's business: it lives in the transfer object that each attempt
updates, so a plain ``for attempt in Retrying(...)`` loop fits.
"""

import random
import time

from oslo_log import log as logging
import tenacity

LOG = logging.getLogger(__name__)


class TransientFailure(Exception):
    """An attempt failed in a way another request may fix.

    :ivar reason: short text for logs and the final error
    :ivar progressed: whether the attempt stored any new bytes
    :ivar retry_after: seconds the server asked us to wait, or None
    """

    def __init__(self, reason, progressed=False, retry_after=None):
        super().__init__(reason)
        self.reason = reason
        self.progressed = progressed
        self.retry_after = retry_after


class ReconnectPolicy:
    """Immutable retry settings; :meth:`start` makes one fetch's loop.

    :param retries: consecutive failures without progress tolerated
    :param initial_backoff: first wait after a failure without progress
    :param max_backoff: cap of the exponential wait
    :param max_retry_after: cap of a server's Retry-After
    :param max_reconnects: cap of all reconnects of one fetch
    :param sleep: the sleep function (tests pass a recorder)
    :param rng: returns a float in [0, 1) for jitter
    """

    def __init__(self, retries=10, initial_backoff=0.5, max_backoff=30.0,
                 max_retry_after=60.0, max_reconnects=1000, sleep=None,
                 rng=None):
        if retries < 0 or max_reconnects < 0:
            raise ValueError('retries and max_reconnects must be >= 0')
        self.retries = retries
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.max_reconnects = max_reconnects
        self.sleep = sleep or time.sleep
        self.rng = rng or random.random

    def backoff(self, failures_without_progress):
        """Seconds to wait after that many consecutive idle failures.

        Zero after a failure that made progress; otherwise "equal jitter":
        uniformly between half and all of the capped exponential delay, so
        many compute hosts do not hammer a recovering server in step.
        """
        if failures_without_progress <= 0:
            return 0.0
        ceiling = min(self.max_backoff, self.initial_backoff *
                      2 ** (failures_without_progress - 1))
        return ceiling / 2 + self.rng() * ceiling / 2

    def start(self, describe):
        """A tenacity loop for one fetch.

        :param describe: callable returning a short "where we are" text
            for log lines (image id, offset); it must not contain secrets
        :returns: ``(tenacity.Retrying, ReconnectState)``
        """
        state = ReconnectState(self, describe)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(TransientFailure),
            after=state.after,
            wait=state.wait,
            stop=state.stop,
            before_sleep=state.log_reconnect,
            sleep=self.sleep,
            reraise=False)
        return retrying, state


class ReconnectState:
    """Counters of one fetch; tenacity calls after, wait, stop in order."""

    def __init__(self, policy, describe):
        self._policy = policy
        self._describe = describe
        self.failures_without_progress = 0
        self.reconnects = 0
        self.last_failure = None

    def after(self, retry_state):
        failure = retry_state.outcome.exception()
        self.last_failure = failure
        if failure.progressed:
            self.failures_without_progress = 0
        else:
            self.failures_without_progress += 1

    def wait(self, retry_state):
        delay = self._policy.backoff(self.failures_without_progress)
        asked = self.last_failure.retry_after
        if asked is not None:
            delay = max(delay, min(asked, self._policy.max_retry_after))
        return delay

    def stop(self, retry_state):
        return (self.failures_without_progress > self._policy.retries or
                self.reconnects >= self._policy.max_reconnects)

    def log_reconnect(self, retry_state):
        self.reconnects += 1
        LOG.warning('%(where)s: %(reason)s; reconnect %(n)d '
                    '(%(idle)d/%(budget)d without progress) in %(delay).1f '
                    's', {'where': self._describe(),
                          'reason': self.last_failure.reason,
                          'n': self.reconnects,
                          'idle': self.failures_without_progress,
                          'budget': self._policy.retries,
                          'delay': retry_state.upcoming_sleep})
