"""The devstack plugin's dry run, and the ini helper it relies on.

tools/check-devstack-plugin.sh does the real work (bash + python3 only, so
CI can run it without this venv); running it from here puts it in the unit
suite and adds the oslo.config cross-check with this interpreter. Its
fixtures (stubs, ini_tool.py, local.conf.all-options) are in tests/devstack.
"""

import os
import re
import subprocess
import sys
import tempfile

import testtools

from tests.devstack import ini_tool

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
CHECK = os.path.join(REPO, 'tools', 'check-devstack-plugin.sh')


class DevstackPluginCheckTest(testtools.TestCase):

    def test_dry_run_check_passes_with_oslo_config_cross_check(self):
        env = dict(os.environ, NOVA_DPM_CHECK_PYTHON=sys.executable)
        result = subprocess.run(['bash', CHECK], env=env, cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        last = result.stdout.strip().splitlines()[-1]
        self.assertEqual(0, result.returncode, result.stdout[-3000:])
        match = re.match(r'^(\d+) passed, 0 failed, (\d+) skipped$', last)
        self.assertIsNotNone(match, last)
        self.assertGreater(int(match.group(1)), 150)
        self.assertNotIn('skipped oslo.config', result.stdout)


class IniFileTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        handle, self.path = tempfile.mkstemp(suffix='.conf')
        os.close(handle)
        self.addCleanup(os.unlink, self.path)
        with open(self.path, 'w') as f:
            f.write('[DEFAULT]\ndebug = True\n\n[dpm]\nhmc = a\n')

    def _reload(self):
        return ini_tool.IniFile(self.path)

    def test_set_replaces_value_and_keeps_other_sections(self):
        ini = self._reload()
        ini.set('dpm', 'hmc', 'b,c')
        ini.save()
        ini = self._reload()
        self.assertEqual(['b,c'], ini.get_all('dpm', 'hmc'))
        self.assertEqual(['True'], ini.get_all('DEFAULT', 'debug'))

    def test_set_multiline_replaces_every_line(self):
        ini = self._reload()
        ini.set_multiline('dpm', 'mappings', ['x:0', 'y:1'])
        ini.set_multiline('dpm', 'mappings', ['z:2', 'w:3'])
        ini.save()
        self.assertEqual(['z:2', 'w:3'],
                         self._reload().get_all('dpm', 'mappings'))

    def test_add_appends_lines(self):
        ini = self._reload()
        ini.add('dpm', 'mappings', ['x:0'])
        ini.add('dpm', 'mappings', ['y:1'])
        self.assertEqual(['x:0', 'y:1'], ini.get_all('dpm', 'mappings'))

    def test_set_creates_missing_section(self):
        ini = self._reload()
        ini.set('compute-feature-enabled', 'snapshot', 'False')
        ini.save()
        self.assertEqual(['False'], self._reload().get_all(
            'compute-feature-enabled', 'snapshot'))
        self.assertEqual(['hmc'], self._reload().options('dpm'))

    def test_batch_applies_queued_edits_in_order(self):
        queue = self.path + '.queue'
        self.addCleanup(os.unlink, queue)
        fields = ['5', 'set', self.path, 'dpm', 'hmc', 'q',
                  '6', 'set-multiline', self.path, 'dpm', 'm', 'x:0', 'y:1',
                  '4', 'delete', self.path, 'DEFAULT', 'debug']
        with open(queue, 'wb') as f:
            f.write(''.join(field + '\0' for field in fields).encode())
        self.assertEqual(0, ini_tool.main(['batch', queue]))
        ini = self._reload()
        self.assertEqual(['q'], ini.get_all('dpm', 'hmc'))
        self.assertEqual(['x:0', 'y:1'], ini.get_all('dpm', 'm'))
        self.assertEqual([], ini.get_all('DEFAULT', 'debug'))
