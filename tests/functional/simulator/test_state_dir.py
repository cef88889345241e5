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

"""A nova.conf made for a simulator keeps working after it restarts.

With a state directory the CA, the password and the object-ids survive a
restart; without one the command says that everything is temporary.
"""

import io
import os
import signal
import subprocess
import sys

import fixtures
import testtools

from nova_dpm.cmd import status
from nova_dpm.simulator import HMCSimulator
from nova_dpm.simulator import simulator as simulator_mod

CLI = [sys.executable, '-m', 'nova_dpm.simulator.cli']


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


class StateDirRestartTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.state_dir = os.path.join(self.tmp, 'simulator')

    def start_simulator(self, port=0):
        sim = HMCSimulator(state_dir=self.state_dir, port=port,
                           job_duration=0.1)
        sim.start()
        self.addCleanup(sim.stop)
        return sim

    def write_nova_conf(self, sim):
        """The [dpm] section as doc/ tells: the password from its file."""
        dpm = {
            'hmc': sim.host, 'hmc_port': sim.port, 'hmc_username': sim.userid,
            'hmc_password': simulator_mod.read_password(
                sim.info()['password_file']),
            'hmc_ca_file': sim.ca_file, 'cpc_object_id': sim.cpc_object_id,
            'max_processors': 4, 'max_memory': 16384,
            'startup_connect_retries': 0}
        path = os.path.join(self.tmp, 'nova.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\n\n[dpm]\n' % self.tmp)
            f.writelines('%s = %s\n' % option for option in dpm.items())
        return path

    def assert_probe_ok(self, conf_file):
        out, err = io.StringIO(), io.StringIO()
        code = status.main(['--config-file', conf_file, '--probe'], out, err)
        self.assertEqual(0, code, err.getvalue())
        self.assertIn('OK', out.getvalue())

    def test_restarted_simulator_is_accepted_by_the_same_nova_conf(self):
        first = self.start_simulator()
        conf_file = self.write_nova_conf(first)
        ca = _read(first.ca_file)
        self.assert_probe_ok(conf_file)
        first.stop()
        self.assertEqual(ca, _read(first.ca_file))

        second = self.start_simulator(port=first.port)
        self.assertEqual((first.ca_file, first.password,
                          first.cpc_object_id),
                         (second.ca_file, second.password,
                          second.cpc_object_id))
        self.assertEqual(ca, _read(second.ca_file))
        self.assert_probe_ok(conf_file)

    def test_a_given_password_replaces_the_kept_one(self):
        self.start_simulator().stop()
        sim = HMCSimulator(state_dir=self.state_dir, password='Other-Pw-1')
        sim.start()
        self.addCleanup(sim.stop)
        self.assertEqual('Other-Pw-1', simulator_mod.read_password(
            sim.info()['password_file']))

    def test_without_state_dir_the_command_says_all_is_temporary(self):
        env = dict(os.environ, PYTHONPATH=os.getcwd())
        process = subprocess.Popen(
            CLI + ['--port', '0'], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(process.kill)
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith('Everything above is temporary'):
                break
        ca_file = [line.split(': ', 1)[1].strip() for line in lines
                   if line.startswith('CA certificate: ')][0]
        self.assertIn('Use --state-dir DIR', lines[-1])
        self.assertTrue(os.path.isfile(ca_file))
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
        self.assertEqual(0, process.returncode, stderr)
        self.assertFalse(os.path.exists(ca_file))
        self.assertIn('deleted the temporary state directory %s'
                      % os.path.dirname(ca_file), stdout)
