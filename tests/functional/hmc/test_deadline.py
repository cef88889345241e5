"""Bounds against an HMC that misbehaves the way networks do (real HTTPS).

Small configured values (seconds), so each bound is asserted in a test:
every call ends by ``call_deadline``, every start by ``startup_deadline``,
a stop by the logoff timeout, whatever the shape of the fault.
"""

import io
import json
import os
import socket
import threading
import time

from nova import exception

from nova_dpm.cmd import status as status_cmd
from nova_dpm.hmc import connections
from nova_dpm.hmc import errors
from nova_dpm.hmc import session as session_mod
from nova_dpm.simulator import faults
from nova_dpm.simulator import inventory
from tests.functional.hmc import base

#: Slack on top of a bound: thread scheduling, TLS teardown, 2 shared CPUs.
MARGIN = 1.5


class Blackhole:
    """A TCP port that drops connection attempts (a full accept queue).

    With a backlog of 0 and the queue filled by connections nobody
    accepts, Linux drops further SYNs: connecting hangs as it does when
    packets to an HMC are dropped.
    """

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(('127.0.0.1', self.port))
            self.fillers.append(filler)
        time.sleep(0.2)

    def close(self):
        for sock in self.fillers + [self.listener]:
            sock.close()


def established_to(port):
    """Open TCP connections of this process to ``port`` (IPv4, Linux)."""
    count = 0
    with open('/proc/net/tcp') as table:
        next(table)
        for line in table:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == '01' and int(remote.split(':')[1], 16) == port:
                count += 1
    return count


class StartBoundTest(base.SupervisorTestCase):
    """Start-up fails within startup_deadline for every failure shape."""

    def assert_start_bounded(self, bound=3, **overrides):
        sup = self.supervisor(start=False, startup_deadline=bound,
                              **overrides)
        exc, took = self.timed(sup.start)
        self.assertIsInstance(exc, errors.HMCStartupError)
        self.assertLess(took, bound + MARGIN)
        self.assertNotIn('\n', str(exc))
        return str(exc), took

    def test_refused(self):
        self.sim.down()
        message, _took = self.assert_start_bounded(
            startup_connect_retries=1000)
        self.assertIn('unreachable after', message)
        self.assertIn('(connection refused)', message)

    def test_dropped_packets(self):
        hole = Blackhole()
        self.addCleanup(hole.close)
        message, took = self.assert_start_bounded(port=hole.port,
                                                  connect_timeout=30)
        self.assertIn('127.0.0.1:%d unreachable after' % hole.port, message)
        self.assertGreater(took, 2)

    def test_tls_never_completes(self):
        self.sim.mute(faults.MUTE_NO_TLS)
        message, _took = self.assert_start_bounded(connect_timeout=30)
        self.assertIn('unreachable after', message)
        self.assertIn('(timed out)', message)

    def test_tls_up_then_mute(self):
        self.sim.mute(faults.MUTE_AFTER_TLS)
        message, _took = self.assert_start_bounded(read_timeout=300)
        self.assertIn('(timed out)', message)

    def test_stalled_mid_response(self):
        self.sim.mute(faults.MUTE_MID_RESPONSE)
        message, _took = self.assert_start_bounded(read_timeout=300)
        self.assertIn('unreachable after', message)

    def test_503_forever(self):
        self.sim.fail_next(10000, 503, 0, retry_after=1)
        message, _took = self.assert_start_bounded(
            startup_connect_retries=1000)
        self.assertIn('still busy after', message)

    def test_slow_answers(self):
        self.sim.set_latency(1.2)
        message, took = self.assert_start_bounded(bound=2,
                                                  read_timeout=300)
        self.assertGreater(took, 1.9)

    def test_cpc_check_on_a_mute_hmc(self):
        sup = self.supervisor(start=False, startup_deadline=3)

        def mute_after_logon():
            # Mute once logged on: the CPC GET is left unanswered.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if self.logon_attempts():
                    self.sim.mute(faults.MUTE_AFTER_TLS)
                    return
                time.sleep(0.002)
        watcher = threading.Thread(target=mute_after_logon)
        watcher.start()
        exc, took = self.timed(sup.start)
        watcher.join()
        self.assertIsInstance(exc, errors.HMCStartupError)
        # The start's own bound, then the logoff of the session (bounded).
        self.assertLess(took, 3 + session_mod.LOGOFF_TIMEOUT + MARGIN)
        self.assertIn('CPC %s could not be read' % self.sim.cpc_object_id,
                      str(exc))


class ProbeTest(base.SupervisorTestCase):
    """nova-dpm-status --probe: bounded, one line, never a traceback."""

    def probe(self):
        extra = ('startup_deadline = 3\n'
                 'physical_storage_adapter_mappings = %s:0\n' %
                 inventory.FCP_ADAPTER_OIDS[0])
        out, err = io.StringIO(), io.StringIO()
        code, took = self.timed(status_cmd.main, [
            '--config-file', self.write_conf(base.PASSWORD, extra),
            '--probe'], out, err)
        self.assertEqual(1, code, out.getvalue())
        self.assertLess(took, 3 + session_mod.LOGOFF_TIMEOUT + MARGIN)
        message = err.getvalue()
        self.assertEqual(1, message.count('\n'), message)
        self.assertTrue(message.startswith('CRITICAL: '), message)
        self.assertNotIn('Traceback', message)
        self.assertNotIn(base.PASSWORD, message)
        return message

    def test_adapter_read_failures_are_translated(self):
        adapter = '^/api/adapters/%s$' % inventory.FCP_ADAPTER_OIDS[0]
        self.sim.fail_next(10, 500, 0, uri=adapter)
        self.assertIn('the adapter could not be read: Simulated HMC error '
                      '(HTTP 500.0)', self.probe())
        self.sim.clear_faults()
        self.sim.drop_next(10, uri=adapter)
        self.assertIn('the adapter could not be read: HMC 127.0.0.1:%d '
                      'unreachable (connection closed by the HMC)' %
                      self.sim.port, self.probe())
        self.assertEqual(0, self.sim.stats()['sessions_active'])

    def test_mute_hmc(self):
        self.sim.mute(faults.MUTE_AFTER_TLS)
        self.assertIn('unreachable after 1 attempts (timed out)',
                      self.probe())


class CallBoundTest(base.SupervisorTestCase):
    """Every call returns or fails within call_deadline."""

    def list_cpcs(self, sup):
        return sup.call(lambda c: [cpc.name for cpc in c.cpcs.list()],
                        what='list CPCs')

    def status_file(self):
        path = os.path.join(self.state_dir, connections.STATE_FILE)
        with open(path) as f:
            return json.load(f)['connections']['nova-compute:test']

    def test_mute_hmc_call_fails_by_the_deadline_and_status_tells(self):
        sup = self.supervisor(call_deadline=10, read_timeout=300,
                              read_retries=5)
        self.sim.mute(faults.MUTE_AFTER_TLS)
        result = {}
        caller = threading.Thread(
            target=lambda: result.update(
                outcome=self.timed(self.list_cpcs, sup)))
        caller.start()
        # While it waits: after 10 probe intervals (2 s) without an answer
        # a probe (2 s) finds the HMC mute; the call is listed, and the
        # status file says so too.
        deadline = time.monotonic() + 8
        while (sup.status()['state'] != 'unresponsive' and
               time.monotonic() < deadline):
            time.sleep(0.05)
        time.sleep(0.5)
        status = sup.status()
        self.assertEqual('unresponsive', status['state'])
        self.assertFalse(status['connected'])
        self.assertEqual(['list CPCs'],
                         [call['what'] for call in status['waiting_calls']])
        on_disk = self.status_file()
        self.assertEqual('unresponsive', on_disk['state'])
        self.assertEqual(['list CPCs'],
                         [call['what'] for call in on_disk['waiting_calls']])
        self.assertGreater(on_disk['waiting_calls'][0]['waiting_s'], 1.0)
        caller.join(10)
        exc, took = result['outcome']
        self.assertIsInstance(exc, exception.HypervisorUnavailable)
        self.assertLess(took, 10 + MARGIN)
        self.assertIn('no result within the call deadline', str(exc))
        # The HMC answers again: calls work, the status recovers.
        self.sim.unmute()
        self.assertEqual(1, len(self.list_cpcs(sup)))
        deadline = time.monotonic() + 5
        while (sup.status()['state'] != 'connected' and
               time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual('connected', sup.status()['state'])
        self.assertEqual([], self.status_file()['waiting_calls'])

    def test_dropped_packets_call_fails_by_the_deadline(self):
        sup = self.supervisor(call_deadline=3, read_timeout=300,
                              connect_timeout=30, connect_retries=1000)
        self.sim.mute(faults.MUTE_DROPPED)
        exc, took = self.timed(self.list_cpcs, sup)
        self.assertIsInstance(exc, exception.HypervisorUnavailable)
        self.assertLess(took, 3 + MARGIN)
        self.assertNotEqual('connected', sup.status()['state'])
        self.sim.unmute()
        deadline = time.monotonic() + 10
        while (sup.status()['state'] != 'connected' and
               time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual(1, len(self.list_cpcs(sup)))

    def test_outage_call_fails_by_the_deadline_reconnection_goes_on(self):
        sup = self.supervisor(call_deadline=2, connect_retries=1000,
                              max_retry_interval=0.5)
        self.sim.down()
        exc, took = self.timed(self.list_cpcs, sup)
        self.assertIsInstance(exc, exception.HypervisorUnavailable)
        self.assertLess(took, 2 + MARGIN)
        self.assertIn('reconnecting in the background', str(exc))
        self.assertEqual('reconnecting', sup.status()['state'])
        self.sim.up()
        result, took = self.timed(self.list_cpcs, sup)
        self.assertNotIsInstance(result, Exception)
        self.assertLess(took, 2 + MARGIN)

    def test_status_file_drops_a_call_that_ended(self):
        sup = self.supervisor(connect_retries=1, max_retry_interval=0.2)
        self.sim.down()
        exc, _took = self.timed(self.list_cpcs, sup)
        self.assertIsInstance(exc, exception.HypervisorUnavailable)
        # It was listed while the connection went down; not any more.
        on_disk = self.status_file()
        self.assertEqual('down', on_disk['state'])
        self.assertEqual([], on_disk['waiting_calls'])

    def test_retry_after_beyond_the_deadline_fails_at_once(self):
        sup = self.supervisor(call_deadline=20)
        self.sim.fail_next(1, 503, 0, retry_after=600, uri='^/api/cpcs$')
        exc, took = self.timed(self.list_cpcs, sup)
        self.assertLess(took, 1)
        self.assertIn('the HMC asked to be retried in 600 s (at ', str(exc))

    def test_repeated_503_end_by_the_deadline(self):
        sup = self.supervisor(call_deadline=2.5, retries_number=100,
                              retry_after=1)
        self.sim.fail_next(100, 503, 0, uri='^/api/cpcs$')
        exc, took = self.timed(self.list_cpcs, sup)
        self.assertIsInstance(exc, errors.HMCOperationFailed)
        self.assertLess(took, 2.5 + MARGIN)
        self.assertIn('(HTTP 503.0); no result within the call deadline '
                      '(call_deadline = 2.5 s)', str(exc))

    def test_read_stalled_mid_response_ends_by_the_deadline(self):
        sup = self.supervisor(call_deadline=3, read_timeout=300,
                              connect_retries=1000)
        self.sim.mute(faults.MUTE_MID_RESPONSE)
        exc, took = self.timed(self.list_cpcs, sup)
        self.assertIsInstance(exc, exception.HypervisorUnavailable)
        self.assertLess(took, 3 + MARGIN)
        self.sim.unmute()
        result, took = self.timed(self.list_cpcs, sup)
        self.assertEqual(1, len(result))

    def test_create_stalled_mid_response_is_not_resent(self):
        sup = self.supervisor(call_deadline=2, read_timeout=300)
        name = 'deadline-p1'
        cpc_uri = '/api/cpcs/%s' % self.sim.cpc_object_id

        def create(client):
            cpc = client.cpcs.resource_object(cpc_uri)
            return cpc.partitions.create({
                'name': name, 'initial-memory': 1024,
                'maximum-memory': 1024, 'ifl-processors': 1}).uri

        def already_done(client):
            cpc = client.cpcs.resource_object(cpc_uri)
            found = cpc.partitions.list(filter_args={'name': name})
            return bool(found), found[0].uri if found else None

        self.sim.mute(faults.MUTE_MID_RESPONSE)
        exc, took = self.timed(sup.call, create, what='create partition',
                               mutating=True, already_done=already_done,
                               failure=exception.InstanceDeployFailure)
        self.sim.unmute()
        self.assertIsInstance(exc, exception.InstanceDeployFailure)
        self.assertLess(took, 2 + MARGIN)
        self.assertIn('may have carried it out', str(exc))
        # The HMC did it once; the rollback finds it, nothing duplicated.
        names = self.sim.resources()['partitions']
        self.assertEqual(1, names.count(name))

    def test_stop_with_a_mute_hmc_is_bounded_and_leaves_no_thread(self):
        sup = self.supervisor()
        barrier = threading.Barrier(3, timeout=5)

        def hold(client):
            barrier.wait()
            return True
        callers = [threading.Thread(target=sup.call, args=(hold,))
                   for _ in range(3)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(5)
        self.assertEqual(3, sup.status()['sessions']['idle'])
        self.assertEqual(3, established_to(self.sim.port))
        self.sim.mute(faults.MUTE_AFTER_TLS)
        _result, took = self.timed(sup.stop)
        self.assertLess(took, session_mod.LOGOFF_TIMEOUT + MARGIN)
        left = [t.name for t in threading.enumerate()
                if t.name.startswith('hmc-') and t.is_alive() and
                not t.name.startswith('hmc-simulator')]
        self.assertEqual([], left)
        self.assertEqual(0, established_to(self.sim.port))


class MuteFailoverTest(base.SupervisorTestCase):
    """An HMC that answers nothing is left for an alternate that answers."""

    hosts = ('127.0.0.1', '127.0.0.2')

    def test_calls_go_to_the_alternate_when_the_current_hmc_is_mute(self):
        sup = self.supervisor(call_deadline=4, read_timeout=300)
        self.sim.mute(faults.MUTE_AFTER_TLS, host='127.0.0.1')
        exc, took = self.timed(sup.call, lambda c: c.cpcs.list(),
                               what='list CPCs')
        self.assertIsInstance(exc, exception.HypervisorUnavailable)
        self.assertLess(took, 4 + MARGIN)
        deadline = time.monotonic() + 15
        while (sup.status()['state'] != 'connected' and
               time.monotonic() < deadline):
            time.sleep(0.05)
        status = sup.status()
        self.assertEqual(('connected', '127.0.0.2:%d' % self.sim.port),
                         (status['state'], status['current_hmc']))
        result, took = self.timed(sup.call, lambda c: len(c.cpcs.list()))
        self.assertEqual(1, result)
        self.assertLess(took, 1)
