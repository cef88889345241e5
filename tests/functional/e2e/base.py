"""Real Nova (API, conductor, scheduler, placement, compute) with DPMDriver.

The compute service loads ``dpm.DPMDriver`` exactly as nova-compute does and
talks HTTPS, with certificate verification, to the built-in HMC simulator.
The demo (tools/demo.py) runs a scenario on this same base class.
"""

import json
import logging
import os
import sys
import time

import fixtures
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional import integrated_helpers
import urllib3

import nova_dpm.conf  # noqa: F401 (registers [dpm])
from nova_dpm.hmc import connections
from nova_dpm.simulator import HMCSimulator
from nova_dpm.simulator import inventory
from tests.functional.virt import driver_base

FC_BOOT_VOLUME = '6f3c7ea4-1a2b-4c5d-8e9f-0a1b2c3d4e5f'
FC_DATA_VOLUME = '7a4d8fb5-2b3c-4d6e-9fa0-1b2c3d4e5f60'
TARGET_WWPN = '500507680b214ac1'


def _fc_connection_info(lun):
    return {'driver_volume_type': 'fibre_channel',
            'data': {'target_wwn': [TARGET_WWPN], 'target_lun': lun,
                     'target_discovered': False}}


def _give_https_back():
    """Undo wsgi_intercept's HTTPS hook so the HMC connections are real TLS.

    Nova's placement and API fixtures intercept plain-HTTP URLs through
    wsgi_intercept, which also swaps urllib3's HTTPS connection class for one
    that cannot open real TLS connections (it rejects ``cert_reqs``). Nothing
    intercepted uses HTTPS, so the real class goes back.
    """
    urllib3.connectionpool.HTTPSConnectionPool.ConnectionCls = (
        urllib3.connection.HTTPSConnection)


class FCCinderFixture(nova_fixtures.CinderFixture):
    """Nova's Cinder fixture with Fibre Channel volumes, as on DPM."""

    # Any volume not named otherwise (Nova's 'fake' entry) is an FC LUN.
    VOLUME_CONNECTION_INFO = dict(
        nova_fixtures.CinderFixture.VOLUME_CONNECTION_INFO,
        fake=_fc_connection_info(0),
        **{FC_BOOT_VOLUME: _fc_connection_info(0),
           FC_DATA_VOLUME: _fc_connection_info(1)})


class DPMNovaTestCase(integrated_helpers._IntegratedTestBase):
    """In-process Nova whose compute service drives the HMC simulator."""

    ADMIN_API = True
    # Builds and actions run asynchronously, as in a real cloud.
    CAST_AS_CALL = False
    microversion = 'latest'
    # Simulated duration of HMC jobs (start, stop, ...).
    JOB_DURATION = 0.2
    MAX_PROCESSORS = 16
    MAX_MEMORY = 65536
    # Runtime reconnection budget: about this many seconds of outage.
    CONNECT_RETRIES = 30

    #: Built-in CPC kind of the simulated HMC (inventory.INVENTORIES).
    INVENTORY = inventory.DEFAULT_INVENTORY
    #: An FCP storage array behind the HMC (LUNs must be mapped).
    SAN = False

    def setUp(self):
        # Nova's thread pools log their shutdown after the test's log
        # capture has ended: noise on the runner's console.
        logging.getLogger('nova.thread_pool_factory').setLevel(
            logging.WARNING)
        self.sim = HMCSimulator(job_duration=self.JOB_DURATION,
                                inventory=self.INVENTORY, san=self.SAN)
        self.sim.start()
        self.addCleanup(self.sim.stop)
        # Runs before the simulator stops (cleanups run in reverse).
        # Nova's base class clears the test's attributes before this
        # runs, so the simulator is passed along.
        self.addCleanup(self.assert_no_rule_violations, self.sim)
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.flags(compute_driver='dpm.DPMDriver',
                   state_path=self.state_path)
        self.flags(api_paste_config=os.path.join(
            sys.prefix, 'etc', 'nova', 'api-paste.ini'), group='wsgi')
        self.flags(group='dpm', **self.dpm_options())
        # One compute host: a reschedule cannot help, and without one the
        # server's fault carries the driver's own reason.
        self.flags(max_attempts=1, group='scheduler')
        # Nova stops each service on cleanup with a graceful shutdown that
        # runs cleanup_host in a background thread and waits for it at most
        # manager_shutdown_timeout (0 in Nova's test config). A thread still
        # running when ServiceFixture removes its patch would shut the
        # process-wide thread pool factory down for every later test, so
        # the wait covers cleanup_host and the patch outlives the services.
        self.flags(manager_shutdown_timeout=30)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.thread_pool_factory.shutdown_all_executors',
            lambda: None))
        super().setUp()
        self.cinder = self.useFixture(FCCinderFixture(self))
        self.flavor_id = self._create_flavor(
            name='dpm.small', memory_mb=1024, vcpu=1, disk=0, ephemeral=0)

    def _setup_compute_service(self):
        _give_https_back()
        return super()._setup_compute_service()

    def _setup_services(self):
        super()._setup_services()
        _give_https_back()

    def dpm_options(self):
        """The [dpm] section of this test's nova.conf."""
        sim = self.sim
        return dict(
            hmc=[sim.host], hmc_port=sim.port, hmc_username=sim.userid,
            hmc_password=sim.password, hmc_ca_file=sim.ca_file,
            hmc_notification_port=sim.notification_port,
            cpc_object_id=sim.cpc_object_id,
            # HBAs on CPCs without storage management (z13) use these.
            physical_storage_adapter_mappings=[
                '%s:0' % oid for oid in
                inventory.MACHINES[self.INVENTORY].fcp_adapter_oids],
            max_processors=self.MAX_PROCESSORS,
            max_memory=self.MAX_MEMORY,
            connect_timeout=2, connect_retries=self.CONNECT_RETRIES,
            startup_connect_retries=1,
            read_timeout=10, retry_after=0, max_retry_interval=1,
            operation_timeout=30, status_timeout=10)

    # -- helpers the scenarios share ---------------------------------------

    def _boot_from_volume(self, name, volume_id=FC_BOOT_VOLUME,
                          expected_state='ACTIVE'):
        server = self._build_server(name=name, image_uuid='',
                                    flavor_id=self.flavor_id,
                                    networks='none')
        server['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': volume_id, 'source_type': 'volume',
            'destination_type': 'volume'}]
        server = self.api.post_server({'server': server})
        return self._wait_for_state_change(server, expected_state,
                                           max_retries=60)

    def assert_no_rule_violations(self, sim):
        """Nova's use of the driver made the HMC refuse nothing."""
        stats = sim.stats()
        self.assertEqual(0, stats['rule_violations'],
                         'requests the HMC refuses by its rules: %s'
                         % stats['rule_violations_by_rule'])

    def boot_settings(self, server):
        """Boot settings of the server's partition (driver_base)."""
        driver = self.compute.manager.driver
        names = [n for n in self.partitions() if server['id'] in n]
        self.assertEqual(1, len(names), 'partition of %s' % server['id'])
        return driver_base.boot_settings(driver._ready.supervisor,
                                         self.sim.cpc_object_id, names[0])

    def partitions(self):
        """Names of the partitions on the simulated HMC."""
        return sorted(self.sim.resources()['partitions'])

    def hmc_connected(self):
        """What nova-dpm-status shows: is nova-compute's HMC link up?"""
        path = connections.state_file(self.state_path)
        try:
            with open(path) as f:
                state = json.load(f)['connections']
        except (OSError, ValueError, KeyError):
            return False
        return state.get('nova-compute:compute', {}).get('connected', False)

    def wait_until(self, predicate, timeout=30, what='condition'):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.fail('timed out after %ss waiting for %s' % (timeout, what))
