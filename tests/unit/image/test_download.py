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

"""ImageDownloader against a real, misbehaving HTTP server on loopback."""

import hashlib
import logging
import os
import random
import socket
import threading
import time

import fixtures
import testtools

from nova_dpm.image import download
from tests.unit.image import fake_image_server as fake

MiB = 1024 * 1024
SIZE = 3 * MiB + 12345
IMAGE_ID = '6b1f3c2e-0d4a-4c1e-9a51-3f7c2b9d8e10'
TOKEN = 'gAAAAAB-secret-token-value'


def _content(seed=42, size=SIZE):
    return random.Random(seed).randbytes(size)


class _Sleeps:
    """Records the waits between attempts instead of sleeping."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


class DownloaderTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.data = _content()
        self.sha512 = hashlib.sha512(self.data).hexdigest()
        self.server = self.useFixture(
            fake.ImageServer(fake.BytesSource(self.data)))
        self.cache_dir = self.useFixture(fixtures.TempDir()).path
        self.sleeps = _Sleeps()
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))

    def _downloader(self, **kwargs):
        options = dict(stall_timeout=0.3, connect_timeout=1, retries=3,
                       chunk_size=64 * 1024, initial_backoff=0.1,
                       max_backoff=0.4, progress_interval=0.001,
                       sleep=self.sleeps)
        options.update(kwargs)
        return download.ImageDownloader(self.cache_dir, **options)

    def _fetch(self, downloader=None, url=None, **kwargs):
        downloader = downloader or self._downloader()
        options = dict(headers={'X-Auth-Token': TOKEN}, size=SIZE,
                       hash_algo='sha512', hash_value=self.sha512)
        options.update(kwargs)
        return downloader.fetch(IMAGE_ID, url or self.server.url(),
                                **options)

    def _read(self, path):
        with open(path, 'rb') as f:
            return f.read()

    def assertCompleteImage(self, path):
        self.assertEqual(self.data, self._read(path))
        self.assertEqual([os.path.basename(path),
                          os.path.basename(path) + '.lock'],
                         sorted(os.listdir(self.cache_dir)))

    def assertNoImageFile(self):
        leftovers = [name for name in os.listdir(self.cache_dir)
                     if not name.endswith('.lock')]
        self.assertEqual([], leftovers)


class TestHappyPath(DownloaderTestCase):

    def test_downloads_and_verifies_sha512_in_one_request(self):
        downloader = self._downloader()
        path = self._fetch(downloader)
        self.assertCompleteImage(path)
        self.assertEqual(1, len(self.server.requests))
        self.assertEqual(TOKEN,
                         self.server.requests[0].headers['X-Auth-Token'])
        stats = downloader.last_stats
        self.assertEqual((SIZE, 0, 0, False), (stats.bytes_received,
                                               stats.reconnects,
                                               stats.restarts,
                                               stats.cache_hit))
        self.assertIn('downloaded', self.log.output)

    def test_falls_back_to_md5_checksum(self):
        path = self._fetch(hash_algo=None, hash_value=None,
                           md5=hashlib.md5(self.data).hexdigest())
        self.assertCompleteImage(path)
        self.assertIn('.md5-', os.path.basename(path))

    def test_learns_size_from_server_when_not_given(self):
        path = self._fetch(size=None)
        self.assertCompleteImage(path)

    def test_second_fetch_is_a_cache_hit_without_any_request(self):
        downloader = self._downloader()
        first = self._fetch(downloader)
        second = self._fetch(downloader)
        self.assertEqual(first, second)
        self.assertEqual(1, len(self.server.requests))
        self.assertTrue(downloader.last_stats.cache_hit)
        self.assertEqual(0, downloader.last_stats.bytes_received)

    def test_new_downloader_on_same_cache_dir_hits_the_cache(self):
        self._fetch()
        self._fetch(self._downloader())
        self.assertEqual(1, len(self.server.requests))

    def test_concurrent_fetches_of_one_image_share_one_download(self):
        downloader = self._downloader()
        barrier = threading.Barrier(4)
        paths, failures = [], []

        def fetch():
            barrier.wait()
            try:
                paths.append(self._fetch(downloader))
            except Exception as exc:
                failures.append(exc)

        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual([], failures)
        self.assertEqual(4, len(paths))
        self.assertEqual(1, len(set(paths)))
        self.assertCompleteImage(paths[0])
        self.assertEqual(1, len(self.server.requests))
        self.assertEqual(SIZE, self.server.body_bytes_sent)

    def test_resumes_partial_file_left_by_an_earlier_process(self):
        part = os.path.join(
            self.cache_dir,
            '%s.sha512-%s.part' % (IMAGE_ID, self.sha512[:32]))
        with open(part, 'wb') as f:
            f.write(self.data[:MiB])
        path = self._fetch()
        self.assertCompleteImage(path)
        self.assertEqual([MiB], [r.start for r in self.server.requests])
        self.assertEqual(SIZE - MiB, self.server.body_bytes_sent)


class TestResume(DownloaderTestCase):

    def _assert_resumed_once(self, path, cut):
        self.assertCompleteImage(path)
        starts = [r.start for r in self.server.requests]
        self.assertEqual(2, len(starts))
        self.assertEqual(0, starts[0])
        self.assertGreater(starts[1], 0)
        self.assertLessEqual(starts[1], cut)
        self.assertEqual(206, self.server.requests[1].status)
        self.assertEqual('bytes=%d-' % starts[1],
                         self.server.requests[1].headers['Range'])
        # Only what was in flight when the connection broke is sent twice.
        self.assertLessEqual(self.server.body_bytes_sent - SIZE,
                             cut - starts[1])

    def test_resumes_after_connection_reset_mid_stream(self):
        self.server.inject(fake.Drop(after=MiB + 100))
        downloader = self._downloader()
        path = self._fetch(downloader)
        self._assert_resumed_once(path, MiB + 100)
        self.assertEqual([0], self.sleeps.delays)
        self.assertEqual(1, downloader.last_stats.reconnects)

    def test_resumes_after_close_before_announced_length(self):
        self.server.inject(fake.CloseEarly(after=2 * MiB))
        path = self._fetch()
        self._assert_resumed_once(path, 2 * MiB)
        self.assertEqual(SIZE, self.server.body_bytes_sent)

    def test_close_inside_a_chunk_keeps_every_byte_received(self):
        # 1 MiB chunks (the default) and a close after 200 KiB: the data
        # that arrived is kept, so no byte is fetched twice.
        self.server.inject(fake.CloseEarly(after=200 * 1024))
        downloader = self._downloader(chunk_size=MiB)
        path = self._fetch(downloader)
        self._assert_resumed_once(path, 200 * 1024)
        self.assertEqual(SIZE, self.server.body_bytes_sent)

    def test_replaces_a_stalled_connection(self):
        self.server.inject(fake.Stall(after=MiB, seconds=5))
        started = time.monotonic()
        path = self._fetch()
        self.assertLess(time.monotonic() - started, 3)
        self._assert_resumed_once(path, MiB)
        self.assertIn('stalled', self.log.output)

    def test_restarts_from_zero_when_server_ignores_range(self):
        self.server.inject(fake.Drop(after=MiB), fake.IgnoreRange())
        downloader = self._downloader()
        path = self._fetch(downloader)
        self.assertCompleteImage(path)
        self.assertEqual([200, 200],
                         [r.status for r in self.server.requests])
        self.assertIn('Range', self.server.requests[1].headers)
        self.assertEqual(1, downloader.last_stats.restarts)
        self.assertLessEqual(self.server.body_bytes_sent, SIZE + MiB)

    def test_progress_resets_backoff_between_drops(self):
        self.server.inject(fake.Drop(after=MiB), fake.Drop(after=MiB),
                           fake.Status(503), fake.Status(503))
        path = self._fetch()
        self.assertCompleteImage(path)
        first, second, third, fourth = self.sleeps.delays
        self.assertEqual((0, 0), (first, second))
        self.assertTrue(0.05 <= third <= 0.1, third)
        self.assertTrue(0.1 <= fourth <= 0.2, fourth)

    def test_many_drops_finish_with_bounded_duplicate_bytes(self):
        self.server.inject(*[fake.Drop(after=200 * 1024)] * 12)
        downloader = self._downloader()
        path = self._fetch(downloader)
        self.assertCompleteImage(path)
        self.assertEqual(12, downloader.last_stats.reconnects)
        self.assertLessEqual(self.server.body_bytes_sent, SIZE + 12 * 200 *
                             1024)


class TestRetryableStatus(DownloaderTestCase):

    def test_503_waits_for_retry_after_then_succeeds(self):
        self.server.inject(fake.Status(503, retry_after=7))
        path = self._fetch()
        self.assertCompleteImage(path)
        self.assertEqual([7], self.sleeps.delays)
        self.assertEqual([503, 200],
                         [r.status for r in self.server.requests])

    def test_retry_after_is_capped(self):
        self.server.inject(fake.Status(429, retry_after=86400))
        self._fetch(self._downloader(max_retry_after=20))
        self.assertEqual([20], self.sleeps.delays)

    def test_persistent_503_exhausts_retries_and_keeps_partial(self):
        self.server.inject(fake.Drop(after=MiB), *[fake.Status(503)] * 4)
        error = self.assertRaises(download.DownloadRetriesExhausted,
                                  self._fetch)
        self.assertEqual(5, error.attempts)
        self.assertIn('HTTP 503', str(error))
        parts = [n for n in os.listdir(self.cache_dir)
                 if n.endswith('.part')]
        self.assertEqual(1, len(parts))


class TestPermanentFailures(DownloaderTestCase):

    def test_404_fails_at_once_with_clear_message(self):
        self.server.inject(fake.Status(404))
        url = self.server.url('/v2/images/x/file?temp_url_sig=SECRET')
        url = url.replace('http://', 'http://admin:hunter2@')
        error = self.assertRaises(download.DownloadHTTPError, self._fetch,
                                  url=url)
        self.assertEqual(404, error.status)
        self.assertEqual(1, len(self.server.requests))
        self.assertEqual([], self.sleeps.delays)
        message = str(error)
        self.assertIn(IMAGE_ID, message)
        self.assertIn('HTTP 404', message)
        self.assertIn('127.0.0.1:%d/v2/images/x/file' % self.server.port,
                      message)
        self.assertIn('check that the image is active', message)
        for secret in ('hunter2', 'admin', 'SECRET'):
            self.assertNotIn(secret, message)
        self.assertNoImageFile()

    def test_wrong_checksum_raises_and_discards_the_data(self):
        wrong = hashlib.sha512(b'another image').hexdigest()
        error = self.assertRaises(download.ImageVerificationError,
                                  self._fetch, hash_value=wrong)
        self.assertIn(IMAGE_ID, str(error))
        self.assertIn('sha512 is %s' % self.sha512, str(error))
        self.assertNoImageFile()

    def test_wrong_md5_raises(self):
        self.assertRaises(download.ImageVerificationError, self._fetch,
                          hash_algo=None, hash_value=None,
                          md5=hashlib.md5(b'x').hexdigest())
        self.assertNoImageFile()

    def test_size_announced_by_server_differs_from_expected(self):
        error = self.assertRaises(download.ImageVerificationError,
                                  self._fetch, size=SIZE + 1)
        self.assertIn('announces %d bytes' % SIZE, str(error))
        self.assertNoImageFile()

    def test_refused_connection_exhausts_retries_with_backoff(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        url = 'http://127.0.0.1:%d/v2/images/%s/file' % (port, IMAGE_ID)
        error = self.assertRaises(download.DownloadRetriesExhausted,
                                  self._fetch, url=url)
        self.assertEqual(4, error.attempts)
        self.assertIn('connection refused', str(error))
        self.assertIn(IMAGE_ID, str(error))
        self.assertIn('reachable', str(error))
        self.assertEqual(3, len(self.sleeps.delays))
        for delay, ceiling in zip(self.sleeps.delays, (0.1, 0.2, 0.4)):
            self.assertTrue(ceiling / 2 <= delay <= ceiling, delay)

    def test_unresolvable_host_exhausts_retries(self):
        error = self.assertRaises(
            download.DownloadRetriesExhausted, self._fetch,
            downloader=self._downloader(retries=1),
            url='http://image-host.invalid/v2/images/x/file')
        self.assertEqual(2, error.attempts)
        self.assertIn('host name lookup failed', str(error))

    def test_rejects_unsafe_image_id(self):
        error = self.assertRaises(
            download.InvalidDownloadRequest, self._downloader().fetch,
            '../etc', self.server.url())
        self.assertIn('not usable as a cache file name', str(error))
        self.assertEqual([], self.server.requests)

    def test_rejects_bad_checksum_arguments(self):
        self.assertRaises(download.InvalidDownloadRequest, self._fetch,
                          hash_value='abc')
        self.assertRaises(download.InvalidDownloadRequest, self._fetch,
                          hash_algo='whirlpool2000')
        self.assertRaises(download.InvalidDownloadRequest, self._fetch,
                          hash_value=None)
        self.assertRaises(download.InvalidDownloadRequest, self._fetch,
                          size=-1)

    def test_rejects_non_http_url(self):
        error = self.assertRaises(download.InvalidDownloadRequest,
                                  self._fetch, url='file:///etc/passwd')
        self.assertIn('not an http(s) URL', str(error))


class TestSecrets(DownloaderTestCase):

    def test_auth_token_never_logged_or_in_errors(self):
        self.server.inject(fake.Drop(after=MiB), fake.Status(503),
                           fake.Stall(after=10, seconds=2))
        self._fetch()
        self.server.inject(fake.Status(403))
        error = self.assertRaises(download.DownloadHTTPError, self._fetch,
                                  hash_value=hashlib.sha512(b'y').hexdigest())
        self.assertIn('reconnect', self.log.output)
        self.assertNotIn(TOKEN, self.log.output)
        self.assertNotIn(TOKEN, str(error))
