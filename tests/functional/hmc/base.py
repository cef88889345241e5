"""A simulated HMC (real HTTPS) and a supervisor with small budgets."""

import os
import threading
import time

import fixtures
import testtools

from nova_dpm.hmc import settings as settings_mod
from nova_dpm.hmc import supervisor as supervisor_mod
from nova_dpm.simulator import HMCSimulator

#: Distinctive, so a leak anywhere is found by a plain substring search.
PASSWORD = 'Quokka-Pw-93c1e7'


class SupervisorTestCase(testtools.TestCase):
    """Per test: a simulator, captured logs, and a password-leak check."""

    hosts = ('127.0.0.1',)

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.sim = HMCSimulator(hosts=self.hosts, job_duration=0.2,
                                password=PASSWORD)
        self.sim.start()
        self.addCleanup(self.sim.stop)
        self.addCleanup(self.assert_password_never_logged)

    def assert_password_never_logged(self):
        self.assertNotIn(PASSWORD, self.log.output)

    def settings(self, **overrides):
        values = dict(
            hosts=self.sim.hosts, port=self.sim.port, userid=self.sim.userid,
            password=PASSWORD, verify_cert=self.sim.ca_file,
            cpc_object_id=self.sim.cpc_object_id, max_processors=4,
            max_memory=8192, connect_timeout=2, connect_retries=3,
            startup_connect_retries=2, read_timeout=10, read_retries=1,
            retries_number=2, retry_after=0, max_retry_interval=1,
            operation_timeout=20, status_timeout=10, pool_size=3)
        values.update(overrides)
        return settings_mod.HMCSettings(**values)

    def supervisor(self, start=True, **overrides):
        sup = supervisor_mod.HMCSupervisor(
            self.settings(**overrides), 'nova-compute:test',
            state_dir=self.state_dir, probe_interval=0.2,
            guru_report=False)
        self.addCleanup(sup.stop)
        if start:
            sup.start()
        return sup

    def later(self, seconds, function, *args):
        timer = threading.Timer(seconds, function, args)
        timer.start()
        self.addCleanup(timer.cancel)

    @staticmethod
    def timed(function, *args, **kwargs):
        started = time.monotonic()
        try:
            return function(*args, **kwargs), time.monotonic() - started
        except Exception as exc:  # noqa: B902 - returned for assertions
            return exc, time.monotonic() - started

    def logon_attempts(self):
        return self.sim.stats()['by_call'].get('POST /api/sessions', 0)

    def write_conf(self, password, extra=''):
        """A nova.conf for nova-dpm-status against the simulator."""
        path = os.path.join(self.state_dir, 'nova.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\n[dpm]\nhmc = %s\n'
                    'hmc_port = %d\nhmc_username = %s\nhmc_password = %s\n'
                    'hmc_ca_file = %s\ncpc_object_id = %s\n'
                    'max_processors = 2\nmax_memory = 4096\n'
                    'startup_connect_retries = 0\n%s' % (
                        self.state_dir, self.sim.host, self.sim.port,
                        self.sim.userid, password, self.sim.ca_file,
                        self.sim.cpc_object_id, extra))
        return path
