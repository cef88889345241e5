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

"""How much a resumable download saves when the connection keeps dropping.

Serves a generated image on 127.0.0.1 (content is computed per offset, so
a gigabyte is never held in memory), then downloads it with
:class:`nova_dpm.image.download.ImageDownloader`:

1. fault-free, for the reference throughput;
2. with ``drops`` connection resets (RST) spread evenly over the image;
3. with the same drops, by a naive downloader that restarts from byte 0
   after each drop (the baseline: what resuming saves).

``image_resume_bytes_ratio`` is the body bytes the downloader received
divided by the image size (1.0 = nothing received twice).  Bytes the
server wrote that died in kernel buffers when the connection was reset
never reached the downloader; they are reported separately as
``server_bytes_ratio``.  ``image_resume_throughput_ratio`` is the image
throughput (size / wall time, verification and fsync included) with drops
divided by that without.

Run: ``python bench/image_bench.py [--size MiB] [--drops N]``.
"""

import argparse
import hashlib
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time

import requests

if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    # The tests package imports Nova's test setup, which would otherwise
    # switch to eventlet; nova-dpm runs on native threads.
    os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')

from nova_dpm.image import download  # noqa: E402
from tests.unit.image import fake_image_server as fake  # noqa: E402

MiB = 1024 * 1024
GiB = 1024 * MiB
_BLOCK = MiB
_IMAGE_ID = 'bench-image'


class PatternSource:
    """Deterministic pseudo-random content of any size, made per offset.

    Block *b* (1 MiB) is a rotation of one random 1 MiB pattern by an
    offset derived from *b*, so blocks differ (a misplaced resume changes
    the checksum) while reads are zero-copy slices.
    """

    def __init__(self, size, seed=7):
        self.size = size
        pattern = random.Random(seed).randbytes(_BLOCK)
        self._doubled = memoryview(pattern + pattern)

    def read(self, offset, length):
        length = min(length, self.size - offset)
        block, within = divmod(offset, _BLOCK)
        length = min(length, _BLOCK - within)   # never cross a block
        shift = (block * 2654435761 + within) % _BLOCK
        return self._doubled[shift:shift + length]

    def sha512(self):
        digest = hashlib.sha512()
        offset = 0
        while offset < self.size:
            piece = self.read(offset, _BLOCK)
            digest.update(piece)
            offset += len(piece)
        return digest.hexdigest()


def _drop_offsets(size, drops):
    return [size * (i + 1) // (drops + 1) for i in range(drops)]


def _timed_fetch(server, size, digest, drops):
    server.reset_counters()
    server.drop_at(_drop_offsets(size, drops))
    cache_dir = tempfile.mkdtemp(prefix='image-bench-')
    try:
        downloader = download.ImageDownloader(
            cache_dir, stall_timeout=10, connect_timeout=5,
            progress_interval=5)
        started = time.monotonic()
        downloader.fetch(_IMAGE_ID, server.url(), size=size,
                         hash_algo='sha512', hash_value=digest)
        seconds = time.monotonic() - started
        return seconds, downloader.last_stats, server.body_bytes_sent
    finally:
        shutil.rmtree(cache_dir)


def _naive_fetch(server, size, digest, drops):
    """Restart from byte 0 after every failure, as a plain GET loop does."""
    server.reset_counters()
    server.drop_at(_drop_offsets(size, drops))
    received = 0
    started = time.monotonic()
    with tempfile.TemporaryFile() as target, requests.Session() as session:
        for _ in range(drops + 2):
            target.seek(0)
            target.truncate()
            hasher, got = hashlib.sha512(), 0
            try:
                with session.get(server.url(), stream=True,
                                 timeout=(5, 10)) as resp:
                    for chunk in resp.iter_content(MiB):
                        target.write(chunk)
                        hasher.update(chunk)
                        got += len(chunk)
                        received += len(chunk)
            except requests.exceptions.RequestException:
                continue
            if got == size:
                target.flush()
                os.fsync(target.fileno())
                break
        else:
            raise RuntimeError('naive download did not finish')
    if hasher.hexdigest() != digest:
        raise RuntimeError('naive download is corrupt')
    return time.monotonic() - started, received, server.body_bytes_sent


def run(size=GiB, drops=20, naive=True, repeats=2):
    """Measure resume efficiency; returns the metrics dict (see module).

    :param size: image size in bytes
    :param drops: connection resets in the faulty runs
    :param naive: also measure the restart-from-zero baseline
    :param repeats: runs of each kind; the fastest counts
    """
    source = PatternSource(size)
    digest = source.sha512()
    server = fake.ImageServer(source)
    server.setUp()
    try:
        # Alternate the two runs and keep the fastest of each, so disk
        # write-back of an earlier run does not land on one side only.
        clean_runs, faulty_runs = [], []
        for _ in range(repeats):
            clean_runs.append(_timed_fetch(server, size, digest, 0))
            faulty_runs.append(_timed_fetch(server, size, digest, drops))
        clean_s, clean, _ = min(clean_runs, key=lambda run: run[0])
        faulty_s, faulty, faulty_sent = min(faulty_runs,
                                            key=lambda run: run[0])
        if naive:
            naive_s, naive_bytes, _ = _naive_fetch(server, size, digest,
                                                   drops)
    finally:
        server.cleanUp()
    if faulty.reconnects != drops:
        raise RuntimeError('expected %d reconnects, saw %d' % (
            drops, faulty.reconnects))
    clean_tp, faulty_tp = size / clean_s, size / faulty_s
    bytes_metric = {
        'value': round(faulty.bytes_received / size, 4),
        'target': 1.02, 'unit': 'ratio', 'drops': drops,
        'reconnects': faulty.reconnects,
        'server_bytes_ratio': round(faulty_sent / size, 4),
        'clean_bytes_ratio': round(clean.bytes_received / size, 4)}
    speed_metric = {
        'value': round(faulty_tp / clean_tp, 4),
        'target': 0.8, 'goal': 'min', 'unit': 'ratio',
        'clean_MBps': round(clean_tp / 1e6, 1),
        'faulty_MBps': round(faulty_tp / 1e6, 1),
        'clean_seconds': round(clean_s, 2),
        'faulty_seconds': round(faulty_s, 2),
        'all_seconds': {'clean': [round(r[0], 2) for r in clean_runs],
                        'faulty': [round(r[0], 2) for r in faulty_runs]}}
    if naive:
        bytes_metric['baseline'] = round(naive_bytes / size, 4)
        speed_metric['baseline'] = round(size / naive_s / clean_tp, 4)
        speed_metric['naive_seconds'] = round(naive_s, 2)
    return {'image_resume_bytes_ratio': bytes_metric,
            'image_resume_throughput_ratio': speed_metric}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, default=1024,
                        help='image size in MiB (default 1024)')
    parser.add_argument('--drops', type=int, default=20,
                        help='connection resets during the faulty run')
    parser.add_argument('--no-naive', action='store_true',
                        help='skip the restart-from-zero baseline')
    parser.add_argument('--repeats', type=int, default=2,
                        help='runs of each kind; the fastest counts')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='show the downloader log')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else
                        logging.ERROR)
    metrics = run(size=args.size * MiB, drops=args.drops,
                  naive=not args.no_naive, repeats=args.repeats)
    print(json.dumps(metrics, indent=2, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
