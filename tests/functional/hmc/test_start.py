"""Service start against a simulated HMC: fatal, clear, bounded."""

import io

from nova_dpm.cmd import status
from nova_dpm.hmc import errors
from tests.functional.hmc import base


class StartTest(base.SupervisorTestCase):

    def assert_start_fails(self, sup, *fragments):
        exc, seconds = self.timed(sup.start)
        self.assertIsInstance(exc, errors.HMCStartupError)
        for fragment in fragments:
            self.assertIn(fragment, str(exc))
        self.assertNotIn(base.PASSWORD, str(exc))
        return exc, seconds

    def test_start_succeeds_with_one_session(self):
        sup = self.supervisor()
        self.assertEqual(1, self.sim.stats()['sessions_active'])
        self.assertTrue(sup.status()['connected'])
        sup.stop()
        self.assertEqual(0, self.sim.stats()['sessions_active'])

    def test_unreachable_hmc_fails_in_bounded_time(self):
        self.sim.down()
        sup = self.supervisor(start=False, startup_connect_retries=2)
        exc, seconds = self.assert_start_fails(
            sup, 'HMC 127.0.0.1:%d' % self.sim.port,
            'unreachable after 3 attempts', 'connection refused')
        # connect_timeout x 3 + backoff (<= 1 s each); refused is instant.
        self.assertLess(seconds, 2 * 3 + 2 + 2)
        sup.stop()

    def test_busy_hmc_at_start_is_retried(self):
        self.sim.fail_next(2, 503, 0, method='GET', uri='/api/version$')
        sup = self.supervisor(startup_connect_retries=2)
        self.assertTrue(sup.status()['connected'])
        self.assertEqual(3, self.sim.stats()['by_call']['GET /api/version'])

    def test_hmc_busy_through_start_fails_naming_the_status(self):
        self.sim.fail_next(3, 503, 0, method='GET', uri='/api/version$')
        sup = self.supervisor(start=False, startup_connect_retries=2)
        self.assert_start_fails(sup, 'still busy after 3 attempts',
                                'HTTP 503.0')
        sup.stop()

    def test_bad_password_is_not_retried(self):
        sup = self.supervisor(start=False, password='Wrong-Pw-00000')
        self.assert_start_fails(sup, "logon as 'nova' rejected",
                                'hmc_username/hmc_password',
                                '127.0.0.1:%d' % self.sim.port)
        self.assertEqual(1, self.logon_attempts())
        self.assertNotIn('Wrong-Pw-00000', self.log.output)

    def test_unknown_cpc(self):
        sup = self.supervisor(
            start=False,
            cpc_object_id='00000000-1111-2222-3333-444444444444')
        self.assert_start_fails(sup, 'CPC 00000000-1111', 'not found',
                                'cpc_object_id')
        self.assertEqual(0, self.sim.stats()['sessions_active'])

    def test_cpc_not_in_dpm_mode(self):
        self.sim.update_cpc({'dpm-enabled': False})
        sup = self.supervisor(start=False)
        self.assert_start_fails(sup, 'is not in DPM mode')
        self.assertEqual(0, self.sim.stats()['sessions_active'])

    def test_status_probe(self):
        out, err = io.StringIO(), io.StringIO()
        code = status.main(['--config-file', self.write_conf(base.PASSWORD),
                            '--probe'], out, err)
        self.assertEqual(0, code, err.getvalue())
        self.assertIn('OK: HMC 127.0.0.1', out.getvalue())
        self.assertEqual(0, self.sim.stats()['sessions_active'])
        out, err = io.StringIO(), io.StringIO()
        code = status.main(['--config-file', self.write_conf('Bad-Pw-123'),
                            '--probe'], out, err)
        self.assertEqual(1, code)
        self.assertIn("CRITICAL: logon as 'nova' rejected", err.getvalue())
        self.assertNotIn('Bad-Pw-123', out.getvalue() + err.getvalue())

    def test_status_shows_managed_connection(self):
        self.supervisor()
        out = io.StringIO()
        code = status.main(['--config-file', self.write_conf(base.PASSWORD)],
                           out, io.StringIO())
        self.assertEqual(0, code)
        self.assertIn('nova-compute:test: connected', out.getvalue())
        self.assertNotIn(base.PASSWORD, out.getvalue())
