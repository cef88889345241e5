"""nova-dpm-status as operators run it: a process reading nova.conf.

The status file is written by a real supervisor against the HTTPS
simulator; the tool runs as ``python -m nova_dpm.cmd.status``.
"""

import os
import subprocess
import sys
import threading
import time

from nova_dpm.hmc import connections
from nova_dpm.simulator import faults
from tests.functional.hmc import base


class TestStatusTool(base.SupervisorTestCase):

    def run_tool(self, *args):
        done = subprocess.run(
            [sys.executable, '-m', 'nova_dpm.cmd.status'] + list(args),
            capture_output=True, text=True, timeout=60,
            env=dict(os.environ, HOME=self.state_dir))
        return done.returncode, done.stdout, done.stderr

    def wait_for(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while not predicate() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(predicate())

    def test_unresponsive_hmc_and_the_waiting_call_are_shown(self):
        conf = self.write_conf(base.PASSWORD)
        # A deadline far beyond the tool's two runs: the call must still be
        # waiting when the tool reads the file, also on a loaded machine.
        sup = self.supervisor(call_deadline=60, read_timeout=300)
        code, out, err = self.run_tool('--config-file', conf)
        self.assertEqual((0, ''), (code, err))
        self.assertIn('nova-compute:test: connected', out)

        self.sim.mute(faults.MUTE_AFTER_TLS)
        caller = threading.Thread(target=self.timed, args=(
            sup.call, lambda client: client.cpcs.list(), 'list CPCs'))
        caller.start()
        self.addCleanup(caller.join, 70)
        self.wait_for(lambda: self.on_disk().get('state') == 'unresponsive'
                      and self.on_disk().get('waiting_calls'))
        code, out, err = self.run_tool('--config-file', conf)
        self.assertEqual((1, ''), (code, err))
        self.assertIn('nova-compute:test: unresponsive', out)
        self.assertIn('waiting on the HMC: 1 call, longest', out)
        self.assertIn('(list CPCs: ', out)
        self.assertNotIn(base.PASSWORD, out)

        self.sim.unmute()
        caller.join(70)
        self.assertEqual(1, len(sup.call(lambda client: client.cpcs.list())))
        self.wait_for(lambda: self.on_disk().get('state') == 'connected')
        code, out, _err = self.run_tool('--config-file', conf)
        self.assertEqual(0, code)
        self.assertNotIn('waiting on the HMC', out)

    def on_disk(self):
        state = connections.load_state(self.state_dir) or {}
        return state.get('connections', {}).get('nova-compute:test', {})

    def test_damaged_status_file_is_one_line_then_rebuilt(self):
        conf = self.write_conf(base.PASSWORD)
        path = os.path.join(self.state_dir, connections.STATE_FILE)
        with open(path, 'w') as f:
            f.write('[]')
        code, out, err = self.run_tool('--config-file', conf)
        self.assertEqual((1, 1, ''), (code, out.count('\n'), err))
        self.assertIn('%s cannot be read' % path, out)
        self.supervisor()
        code, out, _err = self.run_tool('--config-file', conf)
        self.assertEqual(0, code)
        self.assertIn('nova-compute:test: connected', out)

    def test_configuration_errors_exit_2_in_one_line(self):
        conf = self.write_conf(base.PASSWORD, extra='hmc_port = https\n')
        code, out, err = self.run_tool('--config-file', conf)
        self.assertEqual((2, ''), (code, out))
        self.assertEqual(1, err.count('\n'), err)
        self.assertIn('[dpm] hmc_port in %s is not valid' % conf, err)
        self.assertNotIn('LocationInfo', err)

    def test_help_explains_the_tool(self):
        code, out, _err = self.run_tool('--help')
        self.assertEqual(0, code)
        self.assertIn("what nova-compute's DPM driver is doing", out)
        self.assertIn('Exit status:', out)
