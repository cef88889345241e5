"""A zhmcclient.mock HMC with scripted failures, for supervisor tests."""

import threading
import time

import zhmcclient
import zhmcclient.mock

from nova_dpm.hmc import settings as settings_mod
from nova_dpm.hmc import supervisor as supervisor_mod

CPC_OID = '11111111-2222-3333-4444-555555555555'
FCP_OID = 'aaaaaaaa-2222-3333-4444-555555555555'
OSA_OID = 'bbbbbbbb-2222-3333-4444-555555555555'
PASSWORD = 'Zebra-Secret-4711'


class FakeClock:
    """A monotonic clock that moves only when its ``sleep`` is called."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def connection_error(text='Connection refused'):
    return zhmcclient.ConnectionError(text, None)


def http_error(status, reason, method='GET', uri='/api/cpcs',
               message='simulated'):
    return zhmcclient.HTTPError({
        'http-status': status, 'reason': reason, 'message': message,
        'request-method': method, 'request-uri': uri})


def settings(**overrides):
    values = dict(
        hosts=('10.0.0.5', '10.0.0.6'), userid='nova', password=PASSWORD,
        verify_cert=True, cpc_object_id=CPC_OID, max_processors=4,
        max_memory=8192, connect_timeout=1, connect_retries=2,
        startup_connect_retries=2, read_retries=1, retries_number=2,
        retry_after=0, max_retry_interval=1, pool_size=2,
        operation_timeout=5)
    values.update(overrides)
    return settings_mod.HMCSettings(**values)


class ScriptedSession(zhmcclient.mock.FakedSession):
    """A FakedSession sharing one faked HMC, failing on command.

    ``hmc_owner.script`` is a list of ``(method, uri_part, exception)``;
    the first entry matching a request is removed and raised instead.
    """

    def __init__(self, owner, host):
        super().__init__(host, 'hmc1', '2.16.0', '4.10', userid='nova',
                         password=PASSWORD)
        self._hmc = owner.hmc_session.hmc
        self._owner = owner

    def _scripted(self, method, uri):
        with self._owner.lock:
            self._owner.requests.append((method, uri, self.host))
            for index, (m, part, exc) in enumerate(self._owner.script):
                if m == method and part in uri:
                    del self._owner.script[index]
                    raise exc

    def _do_logon(self):
        self._scripted('POST', '/api/sessions')
        with self._owner.lock:
            self._owner.logons += 1
        return super()._do_logon()

    def _do_logoff(self):
        with self._owner.lock:
            self._owner.logoffs += 1
        return super()._do_logoff()

    def get(self, uri, *args, **kwargs):
        self._scripted('GET', uri)
        return super().get(uri, *args, **kwargs)

    def post(self, uri, *args, **kwargs):
        self._scripted('POST', uri)
        return super().post(uri, *args, **kwargs)

    def delete(self, uri, *args, **kwargs):
        self._scripted('DELETE', uri)
        return super().delete(uri, *args, **kwargs)


class FakeHMC:
    """One faked HMC with a CPC in DPM mode; ``factory`` for supervisors."""

    def __init__(self, dpm=True, status='active'):
        self.hmc_session = zhmcclient.mock.FakedSession(
            'fake', 'hmc1', '2.16.0', '4.10')
        self.hmc_session.hmc.add_resources({'cpcs': [{
            'properties': {
                'object-id': CPC_OID, 'name': 'CPC1', 'dpm-enabled': dpm,
                'status': status, 'processor-count-ifl': 10,
                'processor-count-general-purpose': 2,
                'storage-customer': 100000},
            'adapters': [
                {'properties': {'object-id': FCP_OID, 'name': 'fcp1',
                                'type': 'fcp', 'adapter-family': 'ficon'},
                 'ports': [{'properties': {'element-id': '0',
                                           'name': 'p0'}}]},
                {'properties': {'object-id': OSA_OID, 'name': 'osa1',
                                'type': 'osd', 'adapter-family': 'osa'},
                 'ports': [{'properties': {'element-id': '0',
                                           'name': 'p0'}}]}],
        }]})
        self.lock = threading.Lock()
        self.script = []
        self.requests = []
        self.sessions = []
        self.logons = 0
        self.logoffs = 0

    def fail(self, method, uri_part, exc, times=1):
        with self.lock:
            self.script.extend([(method, uri_part, exc)] * times)

    def factory(self, hosts, settings, connect_timeout=None):
        session = ScriptedSession(self, hosts[0])
        self.sessions.append(session)
        return session

    def count(self, method, uri_part):
        with self.lock:
            return sum(1 for m, u, _h in self.requests
                       if m == method and uri_part in u)

    def partitions(self):
        cpc = self.hmc_session.hmc.cpcs.lookup_by_oid(CPC_OID)
        return [p.properties['name'] for p in cpc.partitions.list()]


class Sleeps:
    """Records sleeps instead of sleeping."""

    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


def start_supervisor(test, hmc, sleeps, **overrides):
    """A started supervisor on ``hmc``, stopped at the test's cleanup."""
    sup = supervisor_mod.HMCSupervisor(
        settings(**overrides), 'nova-compute:h1',
        session_factory=hmc.factory, sleep=sleeps,
        probe_interval=0.05, guru_report=False)
    sup.start()
    test.addCleanup(sup.stop)
    return sup


def wait_for_state(sup, state, timeout=5):
    """Wait until the supervisor's connection is in ``state``."""
    deadline = time.monotonic() + timeout
    while (sup.status()['state'] != state and
           time.monotonic() < deadline):
        time.sleep(0.02)
    return sup.status()['state']
