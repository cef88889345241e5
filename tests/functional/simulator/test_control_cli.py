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

"""The control HTTP API and the nova-dpm-hmc-simulator command."""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import fixtures
import testtools
import zhmcclient

from tests.functional.simulator import base

CLI = [sys.executable, '-m', 'nova_dpm.simulator.cli']


class ControlAPITest(base.SimulatorTestCase):

    control_port = 0

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.sim.control_url + path,
                                         data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def test_faults_switched_over_http_reach_the_client(self):
        cpc = self.cpc(self.session())
        status, _ = self._call('POST', '/faults/fail', {
            'count': 1, 'status': 500, 'reason': 263, 'method': 'POST'})
        self.assertEqual(200, status)
        exc = self.assertRaises(zhmcclient.HTTPError, self.create_partition,
                                cpc)
        self.assertEqual((500, 263), (exc.http_status, exc.reason))
        self.create_partition(cpc)
        status, resources = self._call('GET', '/resources')
        self.assertEqual(['part-1'], resources['partitions'])

    def test_down_and_up_over_http(self):
        session = self.session(connect_retries=1, read_retries=1)
        session.logon()
        self._call('POST', '/faults/down', {})
        self.assertRaises(zhmcclient.ConnectionError, session.get,
                          '/api/cpcs')
        self._call('POST', '/faults/up', {})
        session.get('/api/cpcs')

    def test_stats_and_reset_over_http(self):
        self.session().logon()
        status, stats = self._call('GET', '/stats')
        self.assertEqual((200, 1, 1, 1),
                         (status, stats['total'], stats['logons'],
                          stats['sessions_active']))
        self._call('POST', '/stats/reset', {})
        self.assertEqual(0, self._call('GET', '/stats')[1]['total'])

    def test_other_switches_over_http(self):
        for path, body in [
                ('/faults/latency', {'seconds': 0}),
                ('/faults/drop', {'count': 2, 'uri': '/api/cpcs$'}),
                ('/faults/lose-response', {'method': 'DELETE'}),
                ('/faults/fail-job', {'operation': 'start'}),
                ('/faults/job-duration', {'seconds': 0.1,
                                          'operation': 'stop'}),
                ('/faults/expire-sessions', None)]:
            self.assertEqual(200, self._call('POST', path, body)[0], path)
        rules = self._call('GET', '/faults')[1]['rules']
        self.assertEqual(['drop', 'lose-response', 'fail-job'],
                         [r['kind'] for r in rules])
        self.assertEqual(2, rules[0]['remaining'])
        self._call('POST', '/faults/clear', {})
        self.assertEqual([], self._call('GET', '/faults')[1]['rules'])

    def test_bad_control_requests_get_400_or_404(self):
        status, body = self._call('POST', '/faults/fail', {'status': 500})
        self.assertEqual(400, status)
        self.assertIn('reason', body['error'])
        status, body = self._call('POST', '/faults/latency',
                                  {'seconds': -1})
        self.assertEqual(400, status)
        self.assertEqual(404, self._call('POST', '/faults/nope', {})[0])
        self.assertEqual(404, self._call('GET', '/nope')[0])


class CommandLineTest(testtools.TestCase):

    def setUp(self):
        super(CommandLineTest, self).setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.env = dict(os.environ, PYTHONPATH=os.getcwd())

    def _run(self, *args):
        return subprocess.run(CLI + list(args), capture_output=True,
                              text=True, timeout=30, env=self.env)

    def _assert_one_line_error(self, result, *fragments):
        self.assertNotEqual(0, result.returncode)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(1, len(lines), result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def test_invalid_inventory_exits_with_one_line(self):
        path = os.path.join(self.tmp, 'bad.yaml')
        with open(path, 'w') as f:
            f.write('hmc_definition: {host: x}\n')
        self._assert_one_line_error(
            self._run('--port', '0', '--inventory', path), 'bad.yaml')

    def test_missing_inventory_exits_with_one_line(self):
        self._assert_one_line_error(
            self._run('--inventory', os.path.join(self.tmp, 'none.yaml')),
            'none.yaml')

    def test_port_in_use_exits_with_one_line(self):
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        self._assert_one_line_error(self._run('--port', port), port)

    def test_unusable_options_exit_with_one_line(self):
        self._assert_one_line_error(self._run('--port', 'x'), '--port')
        self._assert_one_line_error(self._run('--listen', 'somewhere'),
                                    '--listen')
        self._assert_one_line_error(self._run('--latency', '-1'),
                                    '--latency')
        self._assert_one_line_error(
            self._run('--password-file', os.path.join(self.tmp, 'none')),
            'password file')

    def test_runs_until_sigterm_and_exits_cleanly(self):
        state_dir = os.path.join(self.tmp, 'state')
        process = subprocess.Popen(
            CLI + ['--port', '0', '--state-dir', state_dir,
                   '--password', 'pw-cli', '--job-duration', '0.1'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.env)
        self.addCleanup(process.kill)
        output = base.read_banner(process)
        with open(os.path.join(state_dir, 'simulator.json')) as f:
            info = json.load(f)
        self.assertIn('https://127.0.0.1:%d' % info['port'], output)
        self.assertIn(info['ca_file'], output)
        self.assertIn(info['control_url'], output)
        self.assertIn(info['cpc_object_id'], output)
        self.assertNotIn('pw-cli', output)
        session = zhmcclient.Session('127.0.0.1', 'nova', 'pw-cli',
                                     verify_cert=info['ca_file'],
                                     port=info['port'])
        session.logon()
        session.logoff()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
        self.assertEqual(0, process.returncode, stderr)
        self.assertNotIn('pw-cli', stderr)
