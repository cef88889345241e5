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

"""Header rules that decide whether and how a download continues."""

import testtools

from nova_dpm import http_headers
from nova_dpm.image import errors
from nova_dpm.image import response


class TestContentRange(testtools.TestCase):

    def test_parses_range_with_total(self):
        found = response.parse_content_range('bytes 100-199/200')
        self.assertEqual((100, 199, 200),
                         (found.first, found.last, found.total))

    def test_unknown_total_is_none(self):
        self.assertIsNone(
            response.parse_content_range('bytes 0-9/*').total)

    def test_rejects_malformed_or_inconsistent_ranges(self):
        for value in (None, '', 'bytes */200', 'items 0-1/2',
                      'bytes 10-5/20', 'bytes 0-200/200'):
            self.assertIsNone(response.parse_content_range(value), value)


class TestRetryAfter(testtools.TestCase):

    def test_delta_seconds(self):
        self.assertEqual(120.0, http_headers.parse_retry_after('120'))

    def test_http_date_relative_to_now(self):
        now = 784111777.0   # Sun, 06 Nov 1994 08:49:37 GMT
        self.assertEqual(60.0, http_headers.parse_retry_after(
            'Sun, 06 Nov 1994 08:50:37 GMT', now=now))
        self.assertEqual(0.0, http_headers.parse_retry_after(
            'Sun, 06 Nov 1994 08:00:00 GMT', now=now))

    def test_garbage_is_ignored(self):
        for value in (None, '', 'soon', '-5'):
            self.assertIsNone(http_headers.parse_retry_after(value), value)


class TestStatusClasses(testtools.TestCase):

    def test_transient_statuses(self):
        for status in (408, 429, 500, 502, 503, 504, 599):
            self.assertTrue(response.is_retryable(status), status)

    def test_permanent_statuses(self):
        for status in (400, 401, 403, 404, 410, 416):
            self.assertFalse(response.is_retryable(status), status)


class TestRedactUrl(testtools.TestCase):

    def test_removes_credentials_and_query(self):
        self.assertEqual(
            'https://glance:9292/v2/images/x/file?...',
            errors.redact_url(
                'https://u:pw@glance:9292/v2/images/x/file?sig=abc#f'))

    def test_keeps_ipv6_host(self):
        self.assertEqual('http://[::1]:80/a',
                         errors.redact_url('http://[::1]:80/a'))
