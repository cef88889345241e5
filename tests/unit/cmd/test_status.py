"""nova-dpm-status: exit codes, one-line errors, any status file content."""

import io
import json
import os
import time

import fixtures
from nova.conf import paths
import testtools

from nova_dpm.cmd import status
from nova_dpm.hmc import connections
from tests.unit.hmc import fakes

#: What a status file may contain after a crash, a full disk or a bad
#: edit; none of it may give a traceback.
DAMAGED_CONTENTS = [
    b'', b'{"connections": {', b'garbage', b'\xff\xfe{}', b'[]', b'null',
    b'17', b'"text"', b'{"connections": []}', b'{"connections": {"x": 1}}',
    b'{"connections": {"x": {"connection_info": "10.0.0.5"}}}',
    b'{"connections": {"x": {"connection_info": {"hmc": "10.0.0.5"}}}}',
    b'{"connections": {"x": {"waiting_calls": {"what": "x"}}}}',
    b'{"connections": {"x": {"waiting_calls": [3]}}}',
    b'[' * 100000,
]


def entry(state='connected', **extra):
    value = {'managed': True, 'connected': state == 'connected',
             'state': state, 'last_error': None, 'waiting_calls': [],
             'current_hmc': '10.0.0.5:6794', 'pid': 4711,
             'updated_at': '2026-11-30T09:00:00+00:00',
             'connection_info': {'hmc': ['10.0.0.5'], 'port': 6794,
                                 'userid': 'nova'}}
    value.update(extra)
    return value


class StatusTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.path = connections.state_file(self.state_dir)

    def write(self, content):
        with open(self.path, 'wb') as f:
            f.write(content if isinstance(content, bytes)
                    else json.dumps(content).encode())

    def show(self, as_json=False):
        out = io.StringIO()
        code = status.show_state(self.state_dir, as_json, out)
        return code, out.getvalue()

    def test_any_damaged_file_is_one_line_and_exit_1(self):
        for content in DAMAGED_CONTENTS:
            self.write(content)
            for as_json in (False, True):
                code, text = self.show(as_json)
                self.assertEqual(1, code, content[:40])
                self.assertEqual(1, text.count('\n'), text)
                self.assertIn('%s cannot be read' % self.path, text)
            # A reader never moves the file: only nova-compute does.
            self.assertTrue(os.path.exists(self.path))

    def test_a_status_file_that_cannot_be_opened_is_one_line(self):
        os.mkdir(self.path)   # open() fails (EISDIR), also for root
        code, text = self.show()
        self.assertEqual((1, 1), (code, text.count('\n')))
        self.assertIn('%s cannot be read' % self.path, text)

    def test_odd_but_valid_values_are_shown(self):
        self.write({'connections': {'x': {
            'state': {'a': 1}, 'connected': 'yes', 'pid': 'p',
            'connection_info': {'hmc': [1, None], 'port': 'many'},
            'waiting_calls': [{'what': None, 'waiting_s': 'long'}, {}]}}})
        code, text = self.show()
        self.assertEqual(1, code)
        self.assertIn('waiting on the HMC: 2 calls', text)

    def test_connected_is_exit_0(self):
        self.write({'connections': {'nova-compute:h': entry()}})
        code, text = self.show()
        self.assertEqual(0, code)
        self.assertIn('nova-compute:h: connected', text)
        self.assertIn('written by pid 4711', text)

    def test_the_notification_channel_is_shown(self):
        self.write({'connections': {
            'nova-compute:a': entry(notifications='up'),
            'nova-compute:b': entry(notifications='down',
                                    notification_error='connection lost'),
            'nova-compute:c': entry(notifications=['odd'])}})
        code, text = self.show()
        self.assertEqual(0, code)
        self.assertIn('    notifications: up\n', text)
        self.assertIn('    notifications: down (connection lost; waits '
                      'poll)\n', text)
        self.assertIn("    notifications: ['odd']\n", text)

    def test_unresponsive_shows_the_waiting_calls_and_is_exit_1(self):
        self.write({'connections': {'nova-compute:h': entry(
            'unresponsive', last_error='HMC 10.0.0.5:6794 answers nothing',
            waiting_calls=[{'what': 'list partitions', 'waiting_s': 4.2},
                           {'what': 'get CPC', 'waiting_s': 61.5}])}})
        code, text = self.show()
        self.assertEqual(1, code)
        self.assertIn('nova-compute:h: unresponsive', text)
        self.assertIn('waiting on the HMC: 2 calls, longest 61.5 s '
                      '(get CPC: 61.5 s; list partitions: 4.2 s)', text)

    def test_one_service_down_of_two_is_exit_1(self):
        self.write({'connections': {'nova-compute:a': entry(),
                                    'nova-compute:b': entry('down')}})
        self.assertEqual(1, self.show()[0])


class MainTest(testtools.TestCase):
    """The command line as an operator runs it."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        # Nothing from the machine's own nova.conf.
        self.useFixture(fixtures.EnvironmentVariable('HOME', self.dir))

    def config(self, text):
        path = os.path.join(self.dir, 'nova.conf')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def run_main(self, *args):
        out, err = io.StringIO(), io.StringIO()
        code = status.main(list(args), out, err)
        return code, out.getvalue(), err.getvalue()

    def test_invalid_option_value_is_one_clean_line_and_exit_2(self):
        conf = self.config('[dpm]\nhmc_port = abc\n')
        code, out, err = self.run_main('--config-file', conf)
        self.assertEqual(2, code)
        self.assertEqual('', out)
        self.assertEqual(1, err.count('\n'), err)
        self.assertIn('[dpm] hmc_port in %s is not valid' % conf, err)
        self.assertIn("'abc'", err)
        self.assertIn('expected a port value from 0 to 65535', err)
        self.assertNotIn('LocationInfo', err)

    def test_invalid_option_value_in_json_mode(self):
        conf = self.config('[dpm]\nmax_memory = 12\n')
        code, out, err = self.run_main('--config-file', conf, '--json')
        self.assertEqual(2, code)
        result = json.loads(out)
        self.assertFalse(result['ok'])
        self.assertIn('[dpm] max_memory in %s' % conf, result['error'])
        self.assertIn('of at least 512', err)

    def test_value_below_its_minimum_names_the_minimum(self):
        conf = self.config('[dpm]\nread_timeout = -3\n')
        code, _out, err = self.run_main('--config-file', conf)
        self.assertEqual(2, code)
        self.assertIn('[dpm] read_timeout in %s is not valid' % conf, err)
        self.assertIn('of at least', err)

    def test_unparsable_config_file_is_exit_2(self):
        conf = self.config('[dpm\nhmc = x\n')
        code, _out, err = self.run_main('--config-file', conf)
        self.assertEqual(2, code)
        self.assertEqual(1, err.count('\n'), err)
        self.assertIn(conf, err)

    def test_state_path_defaults_to_novas_own(self):
        conf = status.build_conf()
        conf([], project='nova', prog=status.PROG,
             default_config_files=[], default_config_dirs=[])
        self.addCleanup(conf.clear)
        novas = [o for o in paths.ALL_OPTS if o.name == 'pybasedir'][0]
        self.assertEqual(novas.default, conf.state_path)
        self.assertNotEqual('/var/lib/nova', conf.state_path)

    def test_state_path_from_nova_conf_is_read(self):
        conf = self.config('[DEFAULT]\nstate_path = %s\n' % self.dir)
        code, out, _err = self.run_main('--config-file', conf)
        self.assertEqual(1, code)
        self.assertIn('no HMC connection state at %s' %
                      connections.state_file(self.dir), out)

    def test_help_says_what_the_tool_does_and_its_exit_codes(self):
        out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        exc = self.assertRaises(SystemExit, status.main, ['--help'])
        self.assertEqual(0, exc.code)
        text = ' '.join(out.getvalue().split())
        self.assertIn("Show what nova-compute's DPM driver is doing", text)
        self.assertIn('Exit status: 0', text)
        self.assertIn('--probe', text)

    def test_missing_ca_file_is_a_configuration_error_at_once(self):
        conf = self.config(
            '[dpm]\nhmc = 127.0.0.1\nhmc_port = 9\nhmc_username = nova\n'
            'hmc_password = %s\ncpc_object_id = %s\nmax_processors = 2\n'
            'max_memory = 4096\nhmc_ca_file = %s\n' % (
                fakes.PASSWORD, fakes.CPC_OID,
                os.path.join(self.dir, 'missing-ca.pem')))
        started = time.monotonic()
        code, _out, err = self.run_main('--config-file', conf, '--probe')
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual(2, code)
        self.assertEqual(1, err.count('\n'), err)
        self.assertIn('[dpm] hmc_ca_file', err)
        self.assertIn('missing-ca.pem', err)
        self.assertNotIn('unreachable', err)
        self.assertNotIn(fakes.PASSWORD, err)

    def test_missing_required_option_in_probe_is_exit_2(self):
        conf = self.config('[dpm]\nhmc_username = nova\n')
        code, _out, err = self.run_main('--config-file', conf, '--probe',
                                        '--json')
        self.assertEqual(2, code)
        self.assertIn('[dpm] hmc is not set', err)
