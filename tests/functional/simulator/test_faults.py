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

"""Each fault kind, as zhmcclient sees it."""

import json
import socket
import ssl
import time
import urllib.request

import requests
import zhmcclient

from nova_dpm.simulator import faults
from tests.functional.simulator import base

PARTITIONS = r'/api/cpcs/[^/]+/partitions$'


class HTTPErrorFaultTest(base.SimulatorTestCase):

    def test_next_matching_requests_fail_with_status_and_reason(self):
        cpc = self.cpc(self.session())
        self.sim.fail_next(2, 503, 3, method='POST', uri=PARTITIONS,
                           message='HMC busy')
        for name in ('a', 'b'):
            exc = self.assertRaises(zhmcclient.HTTPError,
                                    self.create_partition, cpc, name)
            self.assertEqual((503, 3, 'HMC busy'),
                             (exc.http_status, exc.reason, exc.message))
        # Non-matching requests were never affected; the third POST works.
        cpc.pull_full_properties()
        self.create_partition(cpc, 'c')
        self.assertEqual(['c'], self.sim.resources()['partitions'])

    def test_failure_carries_retry_after_header(self):
        session = self.session()
        session.logon()
        self.sim.fail_next(1, 503, 0, retry_after=7, uri='/api/cpcs$')
        response = requests.get(
            'https://%s:%d/api/cpcs' % (self.sim.host, self.sim.port),
            headers={'X-API-Session': session.session_id},
            verify=self.sim.ca_file, timeout=5)
        self.assertEqual(503, response.status_code)
        self.assertEqual('7', response.headers['Retry-After'])
        self.assertEqual(503, response.json()['http-status'])

    def test_invalid_rule_is_refused(self):
        self.assertRaises(ValueError, self.sim.fail_next, 1, 503, 0,
                          uri='(unclosed')
        self.assertRaises(ValueError, self.sim.fail_next, 0, 503, 0)
        self.assertRaises(ValueError, self.sim.fail_next, 1, 'x', 0)


class DropFaultTest(base.SimulatorTestCase):

    def test_dropped_post_raises_connection_error_and_does_nothing(self):
        cpc = self.cpc(self.session())
        self.sim.drop_next(1, method='POST', uri=PARTITIONS)
        self.assertRaises(zhmcclient.ConnectionError, self.create_partition,
                          cpc)
        self.assertEqual([], self.sim.resources()['partitions'])

    def test_dropped_get_is_retried_by_zhmcclient(self):
        session = self.session(read_retries=3, connect_retries=3)
        cpc = self.cpc(session)
        self.sim.reset_stats()
        self.sim.drop_next(1, method='GET')
        cpc.pull_full_properties()
        self.assertEqual(2, self.sim.stats()['by_call'][
            'GET /api/cpcs/{id}'])

    def test_more_drops_than_retries_surface_as_connection_error(self):
        session = self.session(read_retries=2, connect_retries=2)
        cpc = self.cpc(session)
        self.sim.drop_next(10, method='GET')
        self.assertRaises(zhmcclient.ConnectionError,
                          cpc.pull_full_properties)


class LostResponseFaultTest(base.SimulatorTestCase):

    def test_lost_response_means_executed_but_unanswered(self):
        cpc = self.cpc(self.session())
        self.sim.lose_response_next(1, uri=PARTITIONS)
        self.assertRaises(zhmcclient.ConnectionError, self.create_partition,
                          cpc, 'ghost')
        self.assertEqual(['ghost'], self.sim.resources()['partitions'])
        exc = self.assertRaises(zhmcclient.HTTPError, self.create_partition,
                                cpc, 'ghost')
        self.assertEqual((400, 8), (exc.http_status, exc.reason))

    def test_reads_are_not_lost_unless_asked_for(self):
        cpc = self.cpc(self.session())
        self.sim.lose_response_next(1)
        cpc.pull_full_properties()           # a GET is answered
        self.assertRaises(zhmcclient.ConnectionError, self.create_partition,
                          cpc)


class SessionExpiryTest(base.SimulatorTestCase):

    def test_expired_sessions_get_403_5_and_zhmcclient_logs_on_again(self):
        session = self.session()
        cpc = self.cpc(session)
        old_session_id = session.session_id
        self.sim.expire_sessions()
        self.assertEqual(0, self.sim.stats()['sessions_active'])
        self.sim.reset_stats()
        cpc.pull_full_properties()
        stats = self.sim.stats()
        self.assertNotEqual(old_session_id, session.session_id)
        self.assertEqual(1, stats['logons'])
        self.assertEqual({'GET /api/cpcs/{id}': 2, 'POST /api/sessions': 1},
                         stats['by_call'])


class JobFailureFaultTest(base.SimulatorTestCase):

    def test_failed_job_reports_status_reason_and_message(self):
        session = self.session()
        partition = self.create_partition(self.cpc(session))
        self.sim.fail_job_next(1, status=500, reason=263,
                               message='Start failed: no IFLs',
                               operation='start')
        job = partition.start(wait_for_completion=False)
        self.assertEqual('starting', self.status(partition))
        body = self.wait_for_job(session, job.uri)
        self.assertEqual((500, 263), (body['job-status-code'],
                                      body['job-reason-code']))
        self.assertEqual('Start failed: no IFLs',
                         body['job-results']['message'])
        exc = self.assertRaises(zhmcclient.HTTPError,
                                job.check_for_completion)
        self.assertEqual((500, 263), (exc.http_status, exc.reason))
        self.assertEqual('stopped', self.status(partition))

    def test_job_failure_matches_operation(self):
        session = self.session()
        partition = self.create_partition(self.cpc(session))
        self.sim.fail_job_next(1, operation='stop')
        body = self.wait_for_job(
            session, partition.start(wait_for_completion=False).uri)
        self.assertIn(body['job-status-code'], (200, 204))
        body = self.wait_for_job(
            session, partition.stop(wait_for_completion=False).uri)
        self.assertEqual(500, body['job-status-code'])
        self.assertEqual('active', self.status(partition))


class LatencyFaultTest(base.SimulatorTestCase):

    def test_latency_delays_every_request(self):
        session = self.session()
        session.logon()
        self.sim.set_latency(0.25)
        started = time.monotonic()
        session.get('/api/cpcs')
        self.assertGreaterEqual(time.monotonic() - started, 0.25)
        self.sim.clear_faults()
        started = time.monotonic()
        session.get('/api/cpcs')
        self.assertLess(time.monotonic() - started, 0.25)


class MuteFaultTest(base.SimulatorTestCase):
    """An HMC that stops answering: each shape, then unmuted."""

    control_port = 0

    def assert_handshake_hangs(self):
        context = ssl.create_default_context(cafile=self.sim.ca_file)
        with socket.create_connection((self.sim.host, self.sim.port),
                                      timeout=5) as raw:
            raw.settimeout(0.5)
            self.assertRaises(socket.timeout, context.wrap_socket, raw,
                              server_hostname=self.sim.host)

    def test_no_tls_accepts_and_never_completes_the_handshake(self):
        self.sim.mute(faults.MUTE_NO_TLS)
        self.assert_handshake_hangs()
        self.sim.unmute()
        self.session().logon()

    def test_after_tls_reads_requests_and_never_answers(self):
        session = self.session(read_timeout=0.5, read_retries=0,
                               connect_retries=0)
        session.logon()
        self.sim.mute()
        self.assertEqual('after-tls', self.sim.faults()['mute'])
        started = time.monotonic()
        self.assertRaises(zhmcclient.ConnectionError, session.get,
                          '/api/cpcs')
        self.assertGreaterEqual(time.monotonic() - started, 0.5)
        self.sim.unmute()
        session.get('/api/cpcs')

    def test_mid_response_sends_half_an_answer(self):
        self.sim.mute(faults.MUTE_MID_RESPONSE)
        url = 'https://%s:%s/api/version' % (self.sim.host, self.sim.port)
        with requests.get(url, verify=self.sim.ca_file, timeout=(5, 0.5),
                          stream=True) as response:
            self.assertEqual(200, response.status_code)
            self.assertRaises(requests.exceptions.ConnectionError,
                              lambda: response.content)
        self.sim.clear_faults()
        self.assertEqual(200, requests.get(url, verify=self.sim.ca_file,
                                           timeout=5).status_code)

    def test_dropped_stops_open_and_new_connections(self):
        session = self.session(read_timeout=0.5, read_retries=0,
                               connect_retries=0)
        session.logon()
        self.sim.mute(faults.MUTE_DROPPED)
        self.assertRaises(zhmcclient.ConnectionError, session.get,
                          '/api/cpcs')
        self.assert_handshake_hangs()
        self.sim.unmute()
        session.get('/api/cpcs')

    def test_mute_over_the_control_api(self):
        def post(path, body):
            request = urllib.request.Request(
                self.sim.control_url + path, method='POST',
                data=json.dumps(body).encode())
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        self.assertEqual(200, post('/faults/mute', {'shape': 'no-tls'}))
        self.assertEqual('no-tls', self.sim.faults()['mute'])
        self.assertEqual(200, post('/faults/unmute', {}))
        self.assertIsNone(self.sim.faults()['mute'])
        self.assertEqual(200, post('/faults/mute', {'host': '127.0.0.1'}))
        self.assertEqual({'127.0.0.1': 'after-tls'},
                         self.sim.faults()['mute_by_address'])
        self.assertEqual(200, post('/faults/unmute', {'host': '127.0.0.1'}))
        self.assertEqual({}, self.sim.faults()['mute_by_address'])
        self.assertRaises(ValueError, self.sim.mute, 'deaf')
        self.assertRaises(ValueError, self.sim.mute, 'no-tls', '10.9.9.9')


def _refused(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


class DownUpTest(base.SimulatorTestCase):

    def test_down_refuses_and_cuts_keepalive_connections_up_restores(self):
        session = self.session(connect_retries=1, read_retries=1)
        cpc = self.cpc(session)          # a keep-alive connection is open
        self.sim.down()
        self.assertTrue(_refused(self.sim.host, self.sim.port))
        started = time.monotonic()
        self.assertRaises(zhmcclient.ConnectionError,
                          cpc.pull_full_properties)
        self.assertLess(time.monotonic() - started, 2)
        port = self.sim.port
        self.sim.up()
        self.assertEqual(port, self.sim.port)
        cpc.pull_full_properties()
        self.assertEqual('CPCSIM1', cpc.name)

    def test_clear_faults_brings_the_hmc_back(self):
        self.sim.down()
        self.sim.clear_faults()
        self.assertFalse(_refused(self.sim.host, self.sim.port))


class TwoAddressTest(base.SimulatorTestCase):

    hosts = ('127.0.0.1', '127.0.0.2')

    def test_both_addresses_serve_the_same_hmc(self):
        primary = self.cpc(self.session('127.0.0.1'))
        alternate = self.cpc(self.session('127.0.0.2'))
        self.create_partition(primary, 'shared')
        self.assertEqual(['shared'], [
            p.name for p in alternate.partitions.list()])

    def test_primary_down_alternate_answers_logon(self):
        self.sim.down('127.0.0.1')
        self.assertTrue(_refused('127.0.0.1', self.sim.port))
        self.assertFalse(_refused('127.0.0.2', self.sim.port))
        session = zhmcclient.Session(
            ['127.0.0.1', '127.0.0.2'], self.sim.userid, self.sim.password,
            verify_cert=self.sim.ca_file, port=self.sim.port)
        self.addCleanup(session.logoff)
        session.logon()
        self.assertEqual('127.0.0.2', session.actual_host)
        self.sim.up('127.0.0.1')
        self.assertFalse(_refused('127.0.0.1', self.sim.port))

    def test_unknown_address_is_refused(self):
        self.assertRaises(ValueError, self.sim.down, '10.0.0.1')
