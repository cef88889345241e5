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

"""Reading the HTTP headers that decide how a download continues.

Pure functions over header strings, so the rules (RFC 9110 sections 14.4
Content-Range and 10.2.3 Retry-After) are tested without a server.
"""

import re

# Statuses worth retrying: the request may succeed later unchanged.
RETRYABLE_STATUSES = frozenset([408, 429, 500, 502, 503, 504])

_CONTENT_RANGE = re.compile(
    r'^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$', re.IGNORECASE)


class ContentRange:
    """A parsed ``Content-Range: bytes first-last/total`` header."""

    def __init__(self, first, last, total):
        self.first = first
        self.last = last
        self.total = total   # None for "*"

    def __repr__(self):
        return 'bytes %d-%d/%s' % (self.first, self.last,
                                   '*' if self.total is None else self.total)


def parse_content_range(value):
    """Parse a Content-Range header; None if missing or malformed."""
    match = _CONTENT_RANGE.match(value or '')
    if not match:
        return None
    first, last = int(match.group(1)), int(match.group(2))
    total = None if match.group(3) == '*' else int(match.group(3))
    if last < first or (total is not None and last >= total):
        return None
    return ContentRange(first, last, total)


def is_retryable(status):
    """Whether *status* is transient (408, 429 and 5xx)."""
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


def parse_content_length(value):
    """Content-Length as int, or None if missing or malformed."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value)
