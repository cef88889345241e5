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

"""Download statistics and the periodic progress log line.

An operator watching a multi-gigabyte image spawn wants to know that it
moves, how fast, and whether the network is flaky (reconnects); one line
every ``interval`` seconds says that without flooding the log.
"""

import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)
_MB = 1000.0 * 1000.0


class FetchStats:
    """What one fetch cost; immutable once the fetch returns.

    :ivar image_id: the image fetched
    :ivar cache_hit: True if the verified file was already cached (then
        no HTTP request was made)
    :ivar size: size of the image file in bytes
    :ivar bytes_received: body bytes received over the network, including
        bytes received twice because of restarts from byte 0
    :ivar requests: HTTP requests made
    :ivar reconnects: requests after the first one
    :ivar restarts: times the download restarted from byte 0
    :ivar resumed_from: bytes already in a partial file at the start
    :ivar seconds: wall time of the fetch, including waits
    """

    def __init__(self, image_id, cache_hit=False, size=0, bytes_received=0,
                 requests=0, restarts=0, resumed_from=0, seconds=0.0):
        self.image_id = image_id
        self.cache_hit = cache_hit
        self.size = size
        self.bytes_received = bytes_received
        self.requests = requests
        self.reconnects = max(0, requests - 1)
        self.restarts = restarts
        self.resumed_from = resumed_from
        self.seconds = seconds

    def __repr__(self):
        return ('FetchStats(image_id=%r, cache_hit=%r, size=%d, '
                'bytes_received=%d, requests=%d, restarts=%d, '
                'resumed_from=%d, seconds=%.3f)' % (
                    self.image_id, self.cache_hit, self.size,
                    self.bytes_received, self.requests, self.restarts,
                    self.resumed_from, self.seconds))


class ProgressLog:
    """Logs progress at most every *interval* seconds.

    :param image_id: named in each line
    :param interval: seconds between lines; 0 or None disables them
    :param clock: monotonic clock (tests pass a fake)
    """

    def __init__(self, image_id, interval, clock=time.monotonic):
        self._image_id = image_id
        self._interval = interval
        self._clock = clock
        self.started = clock()
        self._next = self.started + (interval or 0)

    def elapsed(self):
        return self._clock() - self.started

    def update(self, offset, size, received, reconnects):
        """Log a line if the interval has passed.

        :param offset: bytes of the image on disk
        :param size: expected size, or None if unknown
        :param received: bytes received since the fetch started
        :param reconnects: reconnects so far
        """
        if not self._interval:
            return
        now = self._clock()
        if now < self._next:
            return
        self._next = now + self._interval
        LOG.info('Image %(id)s: %(done)s, %(rate).1f MB/s, %(rc)d '
                 'reconnects', {'id': self._image_id,
                                'done': _done(offset, size),
                                'rate': _rate(received, now - self.started),
                                'rc': reconnects})

    def finished(self, stats):
        LOG.info('Image %(id)s downloaded: %(size).1f MB in %(s).1f s '
                 '(%(rate).1f MB/s), %(rc)d reconnects, %(rs)d restarts '
                 'from byte 0', {'id': self._image_id,
                                 'size': stats.size / _MB,
                                 's': stats.seconds,
                                 'rate': _rate(stats.bytes_received,
                                               stats.seconds),
                                 'rc': stats.reconnects,
                                 'rs': stats.restarts})


def _done(offset, size):
    if size:
        return '%.0f%% (%.1f of %.1f MB)' % (
            100.0 * offset / size, offset / _MB, size / _MB)
    return '%.1f MB' % (offset / _MB)


def _rate(received, seconds):
    return received / _MB / seconds if seconds > 0 else 0.0
