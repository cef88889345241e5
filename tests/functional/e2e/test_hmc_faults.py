"""What a cloud user sees when the HMC misbehaves, through the REST API."""

import threading
import time

from nova_dpm import hmc
from tests.functional.e2e import base


class TestHMCFaults(base.DPMNovaTestCase):

    def test_short_outage_is_invisible_to_users(self):
        server = self._boot_from_volume('survivor')
        self.sim.down()
        self.api.post_server_action(server['id'], {'os-stop': None})
        # The resource periodic task runs during the outage, in its own
        # thread as in nova-compute; it waits for the HMC, not fails.
        periodic = threading.Thread(target=self._run_periodics)
        periodic.start()
        time.sleep(2)
        self.sim.up()
        periodic.join(30)
        self.assertFalse(periodic.is_alive(), 'periodic task hangs')
        server = self._wait_for_state_change(server, 'SHUTOFF',
                                             max_retries=60)
        self.assertEqual([], [s['name'] for s in self.api.get_servers()
                              if s['status'] == 'ERROR'])
        server = self._start_server(server)
        self._delete_server(server)
        self.assertEqual([], self.partitions())

    def test_session_expiry_is_transparent(self):
        server = self._boot_from_volume('expiry')
        self.sim.expire_sessions()
        server = self._reboot_server(server, hard=True)
        self.sim.expire_sessions()
        self._delete_server(server)
        self.assertEqual([], self.partitions())

    def test_delete_while_building_leaves_nothing(self):
        self.sim.set_job_duration(3.0, operation='start')
        server = self._build_server(name='hasty', image_uuid='',
                                    flavor_id=self.flavor_id,
                                    networks='none')
        server['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': base.FC_BOOT_VOLUME,
            'source_type': 'volume', 'destination_type': 'volume'}]
        server = self.api.post_server({'server': server})
        self.wait_until(lambda: self.partitions(), what='partition created')
        self.api.delete_server(server['id'])
        self._wait_until_deleted(server)
        self.wait_until(lambda: not self.partitions(), timeout=20,
                        what='partition removed after delete')
        left = self.sim.resources()
        self.assertEqual((0, 0, 0), (left['nics'], left['hbas'],
                                     left['storage_group_attachments']))

    def test_failed_hmc_job_puts_server_in_error_with_reason(self):
        self.sim.fail_job_next(1, operation='start',
                               message='partition activation failed')
        server = self._boot_from_volume('doomed', expected_state='ERROR')
        self.assertIn('partition activation failed',
                      server['fault']['message'])
        self.assertEqual([], self.partitions())
        left = self.sim.resources()
        self.assertEqual((0, 0, 0), (left['nics'], left['hbas'],
                                     left['storage_group_attachments']))
        self._delete_server(server)


class TestLongHMCOutage(base.DPMNovaTestCase):
    """An outage longer than the (here small) reconnection budget."""

    CONNECT_RETRIES = 2

    def test_outage_beyond_budget_fails_clearly_then_recovers(self):
        self.sim.down()
        server = self._boot_from_volume('too-early', expected_state='ERROR')
        self.assertIn('HMC', server['fault']['message'])
        self.sim.up()
        # nova-compute notices by itself; no restart.
        self.wait_until(self.hmc_connected, timeout=5,
                        what='nova-compute reconnected to the HMC')
        self.assertEqual([], self.partitions())
        self._delete_server(server)
        server = self._boot_from_volume('after-recovery')
        self._delete_server(server)
        self.assertEqual([], self.partitions())
        self.assertEqual(0, self.sim.resources()['nics'])


class TestComputeStart(base.DPMNovaTestCase):
    """nova-compute's own start path (init_host) with a broken HMC."""

    def test_start_with_unreachable_hmc_fails_in_one_clear_line(self):
        self.sim.down()
        started = time.monotonic()
        exc = self.assertRaises(hmc.HMCStartupError, self._start_compute,
                                'compute-2')
        message = str(exc)
        self.assertEqual(1, len(message.splitlines()), message)
        self.assertIn('%s:%d' % (self.sim.host, self.sim.port), message)
        self.assertIn('unreachable', message)
        self.assertNotIn(self.sim.password, message)
        self.assertNotIn(self.sim.password, self.stdlog.logger.output)
        # connect_timeout 2 s x (startup_connect_retries 1 + 1) + backoff
        self.assertLess(time.monotonic() - started, 15)

    def test_start_with_wrong_password_is_not_retried(self):
        self.flags(hmc_password='not-the-password', group='dpm')
        attempts = self._logon_attempts()
        exc = self.assertRaises(hmc.HMCStartupError, self._start_compute,
                                'compute-2')
        self.assertIn("logon as '%s' rejected" % self.sim.userid, str(exc))
        self.assertNotIn('not-the-password', str(exc))
        self.assertNotIn('not-the-password', self.stdlog.logger.output)
        # Failed logons can lock the HMC user: exactly one attempt.
        self.assertEqual(attempts + 1, self._logon_attempts())

    def _logon_attempts(self):
        return self.sim.stats()['by_call'].get('POST /api/sessions', 0)
