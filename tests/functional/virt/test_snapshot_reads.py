"""Reads never wait behind the HMC (real HTTPS, simulator latency)."""

import threading
import time

import fixtures
from nova.compute import power_state

from nova_dpm.virt.dpm import partition
from tests.functional.virt import driver_base

LATENCY = 0.3
STUCK = 2.0      # below read_timeout (3 s) in driver_base
#: an answer from what is known, not after the stuck refresh (a loaded
#: machine can take a while for a cached read, never STUCK)
ANSWERED = STUCK / 4


class TestSnapshotReads(driver_base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.instance_ = self.instance()
        self.driver._ready.subset.cpc.create_partition({
            'name': partition.partition_name(self.host, self.instance_.uuid),
            'description': partition.description(self.host,
                                                 self.instance_),
            'ifl-processors': 1, 'initial-memory': 1024,
            'maximum-memory': 1024}, None)
        # Known: one snapshot taken before the HMC slows down.
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(self.instance_).state)
        self.sim.reset_stats()

    def requests(self):
        return self.sim.stats()['total']

    def in_threads(self, count, call):
        results = []
        threads = [threading.Thread(target=lambda: results.append(call()))
                   for _ in range(count)]
        for thread in threads:
            thread.start()
        return threads, results

    def join(self, threads):
        for thread in threads:
            thread.join(10)
        self.assertFalse(any(t.is_alive() for t in threads))

    def wait_for_request(self):
        deadline = time.monotonic() + 5
        while self.requests() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(1, self.requests())

    def test_concurrent_listings_share_one_request(self):
        self.sim.set_latency(LATENCY)
        started = time.monotonic()
        threads, results = self.in_threads(
            8, self.driver.list_instance_uuids)
        self.join(threads)
        elapsed = time.monotonic() - started
        self.assertEqual([[self.instance_.uuid]] * 8, results)
        self.assertEqual(1, self.requests())
        self.assertLess(elapsed, 2 * LATENCY)

    def test_cached_get_info_answers_while_a_refresh_is_stuck(self):
        # What power_off, reboot, destroy ... do: the snapshot is stale.
        self.driver._ready.subset.forget_snapshot()
        self.sim.set_latency(STUCK)
        threads, _ = self.in_threads(1, self.driver.list_instance_uuids)
        self.wait_for_request()
        started = time.monotonic()
        info = self.driver.get_info(self.instance_, use_cache=True)
        self.assertLess(time.monotonic() - started, ANSWERED)
        self.assertEqual(power_state.SHUTDOWN, info.state)
        self.join(threads)
        self.assertEqual(1, self.requests())

    def test_expired_snapshot_is_refreshed_once_and_meanwhile_used(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova_dpm.virt.dpm.host.SNAPSHOT_SECONDS', 0.2))
        driver = self.make_driver()
        self.assertEqual(power_state.SHUTDOWN,
                         driver.get_info(self.instance_).state)
        time.sleep(0.3)
        self.sim.reset_stats()
        self.sim.set_latency(STUCK)
        # The first cached read after expiry refreshes (and waits) ...
        threads, _ = self.in_threads(
            1, lambda: driver.get_info(self.instance_, use_cache=True))
        self.wait_for_request()
        # ... every other one answers from what is known.
        started = time.monotonic()
        for _ in range(20):
            self.assertEqual(power_state.SHUTDOWN, driver.get_info(
                self.instance_, use_cache=True).state)
        self.assertLess(time.monotonic() - started, ANSWERED)
        self.join(threads)
        self.assertEqual(1, self.requests())
