"""The simulator's control API client and nova.conf's [dpm] options."""

import http.server
import json
import os
import threading

import fixtures
import testtools

from minicloud import hmc
from minicloud_tests import base


class _Handler(http.server.BaseHTTPRequestHandler):

    def log_message(self, fmt, *args):
        pass

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length).decode() if length else None
        self.server.requests.append((self.command, self.path, body))
        payload = self.server.answers.get(self.path, b'')
        self.send_response(200)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer


class SimulatorClientTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # A proxy in the environment (tox passes them on) must not divert
        # calls to the loopback control API: point them at a dead port.
        for name in base.PROXY_VARIABLES:
            self.useFixture(fixtures.EnvironmentVariable(
                name, 'http://127.0.0.1:9'))
        self.server = http.server.HTTPServer(('127.0.0.1', 0), _Handler)
        self.server.requests = []
        self.server.answers = {}
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(thread.join)
        self.addCleanup(self.server.shutdown)
        self.client = hmc.SimulatorClient(
            'http://127.0.0.1:%d/' % self.server.server_address[1])

    def test_stats_reads_the_json_answer(self):
        self.server.answers['/stats'] = b'{"total": 42}'

        self.assertEqual({'total': 42}, self.client.stats())
        self.assertEqual([('GET', '/stats', None)], self.server.requests)

    def test_fault_posts_its_body_as_json(self):
        self.client.fault('fail', status=503, reason=0, count=2)

        method, path, body = self.server.requests[0]
        self.assertEqual(('POST', '/faults/fail'), (method, path))
        self.assertEqual({'status': 503, 'reason': 0, 'count': 2},
                         json.loads(body))

    def test_fault_without_options_posts_an_empty_object(self):
        self.assertIsNone(self.client.fault('clear'))

        self.assertEqual([('POST', '/faults/clear', '{}')],
                         self.server.requests)

    def test_resources_and_faults(self):
        self.server.answers['/resources'] = b'{"partitions": []}'
        self.server.answers['/faults'] = b'{"latency": 0, "rules": []}'

        self.assertEqual({'partitions': []}, self.client.resources())
        self.assertEqual({'latency': 0, 'rules': []}, self.client.faults())


class DpmOptionsTest(testtools.TestCase):

    def test_dpm_options_come_from_simulator_json(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        password_file = os.path.join(tmp, 'password')
        with open(password_file, 'w') as f:
            f.write('Hmc-Secret-42\nsecond line\n')
        service = hmc.HMCSimulatorService(None, '/bin', tmp, 9000, 1.0, 'z16')
        service.info = {'host': '127.0.0.1', 'port': 6794,
                        'userid': 'ensadmin', 'password_file': password_file,
                        'ca_file': os.path.join(tmp, 'ca.pem'),
                        'cpc_object_id': 'cpc-1', 'notification_port': 6161,
                        'control_url': 'http://127.0.0.1:9000'}

        options = service.dpm_options()

        self.assertEqual('Hmc-Secret-42', options['hmc_password'])
        self.assertEqual('127.0.0.1', options['hmc'])
        self.assertEqual(6794, options['hmc_port'])
        self.assertEqual('ensadmin', options['hmc_username'])
        self.assertEqual('True', options['hmc_verify_cert'])
        self.assertEqual(os.path.join(tmp, 'ca.pem'), options['hmc_ca_file'])
        self.assertEqual('cpc-1', options['cpc_object_id'])
        self.assertEqual(('True', 6161), (options['hmc_notifications'],
                                          options['hmc_notification_port']))
