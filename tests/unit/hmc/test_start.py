"""Service start: fatal, one clear line, bounded, no logon retry."""

import fixtures
from nova import exception
import testtools
import zhmcclient

from nova_dpm.hmc import errors
from nova_dpm.hmc import supervisor
from tests.unit.hmc import fakes


class StartTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.hmc = fakes.FakeHMC()
        self.sleeps = fakes.Sleeps()

    def supervisor(self, **overrides):
        sup = supervisor.HMCSupervisor(
            fakes.settings(**overrides), 'nova-compute:h1',
            session_factory=self.hmc.factory, sleep=self.sleeps,
            guru_report=False)
        self.addCleanup(sup.stop)
        return sup

    def assert_start_fails(self, sup, *fragments):
        exc = self.assertRaises(errors.HMCStartupError, sup.start)
        self.assertIsInstance(exc, exception.NovaException)
        text = str(exc)
        self.assertNotIn('\n', text)
        for fragment in fragments:
            self.assertIn(fragment, text)
        self.assertNotIn(fakes.PASSWORD, text)
        self.assertNotIn(fakes.PASSWORD, self.log.output)
        return text

    def test_start_logs_on_and_uses_one_session(self):
        sup = self.supervisor()
        sup.start()
        self.assertEqual(1, self.hmc.logons)
        self.assertEqual('CPC1', sup.call(lambda c: c.cpcs.list()[0].name))
        self.assertEqual(1, self.hmc.logons)
        self.assertEqual(0, self.hmc.count('GET', '/api/cpcs?'))

    def test_unverified_certificate_is_warned_about_at_every_start(self):
        warning = ('[dpm] hmc_verify_cert = false: the HMC certificate is '
                   'not verified')
        self.supervisor().start()
        self.assertNotIn(warning, self.log.output)
        for _ in range(2):
            sup = self.supervisor(verify_cert=False)
            sup.start()
            sup.stop()
        self.assertEqual(2, self.log.output.count(warning))

    def test_missing_option_is_named(self):
        sup = self.supervisor(userid=None)
        self.assert_start_fails(sup, 'hmc_username', 'not set')
        self.assertEqual([], self.hmc.requests)

    def test_unreachable_hmc_fails_after_bounded_attempts(self):
        self.hmc.fail('GET', '/api/version', fakes.connection_error(),
                      times=100)
        sup = self.supervisor(startup_connect_retries=3)
        self.assert_start_fails(sup, 'HMC 10.0.0.5:6794, 10.0.0.6:6794',
                                'unreachable after 4 attempts',
                                'connection refused')
        # 4 attempts x 2 addresses, 3 waits between attempts.
        self.assertEqual(8, self.hmc.count('GET', '/api/version'))
        self.assertEqual(3, len(self.sleeps.calls))
        self.assertTrue(all(0 < s <= 1 for s in self.sleeps.calls))

    def test_first_address_down_uses_the_alternate(self):
        self.hmc.fail('GET', '/api/version', fakes.connection_error())
        sup = self.supervisor()
        sup.start()
        self.assertEqual('10.0.0.6:6794', sup.status()['current_hmc'])

    def test_rejected_logon_is_not_retried(self):
        self.hmc.fail('POST', '/api/sessions', zhmcclient.ServerAuthError(
            'HTTP authentication failed with 403,0',
            fakes.http_error(403, 0, 'POST', '/api/sessions')), times=5)
        sup = self.supervisor()
        self.assert_start_fails(sup, "logon as 'nova' rejected by HMC",
                                'hmc_username/hmc_password')
        self.assertEqual(1, self.hmc.count('POST', '/api/sessions'))
        self.assertEqual([], self.sleeps.calls)

    def test_unknown_cpc(self):
        sup = self.supervisor(
            cpc_object_id='99999999-2222-3333-4444-555555555555')
        self.assert_start_fails(sup, 'CPC 99999999-', 'not found',
                                'cpc_object_id', "user 'nova'")

    def test_cpc_not_in_dpm_mode(self):
        self.hmc = fakes.FakeHMC(dpm=False)
        self.assert_start_fails(self.supervisor(), 'is not in DPM mode')

    def test_cpc_not_operational(self):
        self.hmc = fakes.FakeHMC(status='no-power')
        self.assert_start_fails(self.supervisor(), 'not operational',
                                'no-power')

    def test_subset_larger_than_cpc(self):
        self.assert_start_fails(self.supervisor(max_processors=11),
                                'max_processors = 11 exceeds',
                                'processor-count-ifl')
        self.assert_start_fails(
            self.supervisor(processor_type='cp', max_processors=3),
            'processor-count-general-purpose')
        self.assert_start_fails(self.supervisor(max_memory=200000),
                                'max_memory = 200000')

    def test_storage_mapping_checks(self):
        missing = 'cccccccc-2222-3333-4444-555555555555'
        self.assert_start_fails(
            self.supervisor(storage_adapter_mappings=((missing, 0),)),
            missing, 'no such adapter')
        self.assert_start_fails(
            self.supervisor(storage_adapter_mappings=((fakes.OSA_OID, 0),)),
            'not an FCP adapter')
        self.assert_start_fails(
            self.supervisor(storage_adapter_mappings=((fakes.FCP_OID, 1),)),
            'has no port 1')
        self.supervisor(
            storage_adapter_mappings=((fakes.FCP_OID, 0),)).start()

    def test_failed_start_logs_off_and_stop_copes(self):
        sup = self.supervisor(max_processors=99)
        self.assertRaises(errors.HMCStartupError, sup.start)
        self.assertEqual(
            1, self.hmc.count('DELETE', '/api/sessions/this-session'))
        sup.stop()
        sup.stop()

    def test_stop_without_start(self):
        self.supervisor().stop()
        self.assertEqual([], self.hmc.requests)
