"""Managed connections: ids, reference counts, persistence, status."""

import io
import json
import os
import time

import fixtures
import testtools

from nova_dpm.cmd import status
from nova_dpm.hmc import connections
from nova_dpm.hmc import report
from nova_dpm.hmc import supervisor
from tests.unit.hmc import fakes


class ConnectionManagerTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.hmc = fakes.FakeHMC()
        self.manager = connections.ConnectionManager(
            self.state_dir, self.hmc.factory, probe_interval=0.05)
        self.addCleanup(self.manager.close)

    def state(self):
        with open(connections.state_file(self.state_dir)) as f:
            return json.load(f)['connections']

    def wait_connected(self, connection_id):
        for _ in range(200):
            if self.manager.connections()[connection_id]['connected']:
                return
            time.sleep(0.01)
        self.fail('%s never connected' % connection_id)

    def test_manage_returns_at_once_and_connects_in_background(self):
        link = self.manager.manage('storage:a', fakes.settings())
        self.wait_connected('storage:a')
        self.assertEqual(['CPC1'], [c.name for c in
                                    _borrow_list(link)])
        info = self.manager.connections()['storage:a']
        self.assertEqual({'hmc': ['10.0.0.5', '10.0.0.6'], 'port': 6794,
                          'userid': 'nova'}, info['connection_info'])
        self.assertTrue(info['managed'])

    def test_ids_share_one_connection_until_the_last_is_released(self):
        one = self.manager.manage('a', fakes.settings())
        two = self.manager.manage('b', fakes.settings())
        self.assertIs(one, two)
        self.wait_connected('a')
        _borrow_list(one)
        self.manager.unmanage('a')
        self.assertEqual('connected', one.state)
        self.manager.unmanage('b')
        self.assertEqual('closed', one.state)
        self.assertEqual(
            1, self.hmc.count('DELETE', '/api/sessions/this-session'))

    def test_invalid_and_unknown_ids(self):
        self.assertRaises(connections.ConnectionIdInvalid,
                          self.manager.manage, 'a/b', fakes.settings())
        self.assertRaises(connections.ConnectionIdInvalid,
                          self.manager.manage, '', fakes.settings())
        exc = self.assertRaises(connections.ConnectionNotManaged,
                                self.manager.unmanage, 'nope')
        self.assertIn('nope', str(exc))

    def test_ids_persist_until_unmanaged_without_the_password(self):
        self.manager.manage('keep:me', fakes.settings())
        self.wait_connected('keep:me')
        self.manager.close()
        with open(connections.state_file(self.state_dir)) as f:
            self.assertNotIn(fakes.PASSWORD, f.read())
        entry = self.state()['keep:me']
        self.assertEqual(('idle', False, connections.DETACHED),
                         (entry['state'], entry['connected'],
                          entry['last_error']))
        # A later run (say, after a restart) can unmanage it for good.
        again = connections.ConnectionManager(self.state_dir,
                                              self.hmc.factory)
        again.unmanage('keep:me')
        self.assertEqual({}, self.state())
        self.assertRaises(connections.ConnectionNotManaged,
                          again.unmanage, 'keep:me')

    def test_services_sharing_a_state_path_keep_each_others_entries(self):
        other = connections.ConnectionManager(
            self.state_dir, self.hmc.factory, probe_interval=0.05)
        self.addCleanup(other.close)
        self.manager.manage('nova-compute:a', fakes.settings())
        other.manage('nova-compute:b', fakes.settings(userid='other'))
        self.wait_connected('nova-compute:a')
        self.manager.save()
        other.save()
        state = self.state()
        self.assertEqual({'nova-compute:a', 'nova-compute:b'}, set(state))
        self.assertTrue(state['nova-compute:a']['connected'])
        self.assertEqual('other',
                         state['nova-compute:b']['connection_info']['userid'])
        other.unmanage('nova-compute:b')
        self.assertEqual(['nova-compute:a'], list(self.state()))

    def test_unreadable_status_file_is_set_aside_and_rebuilt(self):
        path = connections.state_file(self.state_dir)
        contents = [b'', b'{"connections": {', b'garbage', b'\xff\xfe{}',
                    b'[]', b'null', b'{"connections": []}',
                    b'{"connections": {"x": 1}}',
                    b'{"connections": {"x": {"waiting_calls": [1]}}}',
                    b'[' * 100000]
        for content in contents:
            with open(path, 'wb') as f:
                f.write(content)
            manager = connections.ConnectionManager(self.state_dir,
                                                    self.hmc.factory)
            manager.manage('nova-compute:h', fakes.settings())
            manager.close()
            self.assertEqual(['nova-compute:h'], list(self.state()))
            aside = [n for n in os.listdir(self.state_dir)
                     if '.damaged-' in n]
            self.assertEqual(1, len(aside), content[:20])
            with open(os.path.join(self.state_dir, aside[0]), 'rb') as f:
                self.assertEqual(content, f.read())
            self.assertIn('%s cannot be used' % path, self.log.output)
            self.assertIn(aside[0], self.log.output)
            os.unlink(os.path.join(self.state_dir, aside[0]))

    def test_waiting_calls_are_copied_per_id(self):
        link = self.manager.manage('a', fakes.settings())
        calls = [{'what': 'list partitions', 'waiting_s': 12.5}]
        self.useFixture(fixtures.MockPatchObject(
            link, 'status', return_value={
                'state': 'unresponsive', 'connected': False,
                'current_hmc': '10.0.0.5:6794', 'last_error': 'mute',
                'sessions': {}, 'waiting_calls': calls}))
        entry = self.manager.connections()['a']
        self.assertEqual(('unresponsive', calls),
                         (entry['state'], entry['waiting_calls']))

    def test_unwritable_state_path_only_warns(self):
        # A regular file where the directory should be: every write fails
        # (as it would in a read-only directory, also for root).
        not_a_dir = os.path.join(self.state_dir, 'file')
        open(not_a_dir, 'w').close()
        self.manager = connections.ConnectionManager(
            not_a_dir, self.hmc.factory, probe_interval=0.05)
        self.addCleanup(self.manager.close)
        self.manager.manage('a', fakes.settings())
        self.wait_connected('a')
        self.assertIn('Could not write the HMC connection status file',
                      self.log.output)

    def test_state_file_is_replaced_atomically(self):
        self.manager.manage('x', fakes.settings())
        # The background connect also writes the file: let it finish.
        self.manager.close()
        self.assertIn('x', self.state())
        leftovers = [n for n in os.listdir(self.state_dir)
                     if n.startswith('.')]
        self.assertEqual([], leftovers)


def _borrow_list(link):
    with link.pool.borrow() as (client, _drop):
        return client.cpcs.list()


class StatusOutputTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.hmc = fakes.FakeHMC()
        self.sup = supervisor.HMCSupervisor(
            fakes.settings(), 'nova-compute:h1', state_dir=self.state_dir,
            session_factory=self.hmc.factory, guru_report=False)
        self.sup.start()
        self.addCleanup(self.sup.stop)

    def test_status_command_shows_connection_without_password(self):
        out = io.StringIO()
        code = status.show_state(self.state_dir, False, out)
        self.assertEqual(0, code)
        self.assertIn('nova-compute:h1: connected', out.getvalue())
        self.assertIn("userid 'nova'", out.getvalue())
        self.assertNotIn(fakes.PASSWORD, out.getvalue())

    def test_status_command_json_and_exit_code_when_down(self):
        self.sup.stop()
        out = io.StringIO()
        self.assertEqual(1, status.show_state(self.state_dir, True, out))
        data = json.loads(out.getvalue())
        self.assertIn('nova-compute:h1', data['connections'])

    def test_status_command_without_state(self):
        out = io.StringIO()
        self.assertEqual(1, status.show_state(
            self.useFixture(fixtures.TempDir()).path, False, out))
        self.assertIn('no HMC connection state', out.getvalue())

    def test_guru_meditation_section_has_no_password(self):
        registered = []

        class FakeReport:
            @classmethod
            def register_section(cls, title, generator):
                registered.append((title, generator))
        generator = report.register(self.sup, FakeReport)
        model = generator()
        model.set_current_view_type('text')
        text = str(model)
        self.assertIn('nova-compute:h1', text)
        self.assertIn('connected', text)
        self.assertNotIn(fakes.PASSWORD, text)
        self.assertEqual(report.SECTION_TITLE, registered[0][0])

    def test_guru_meditation_section_shows_the_calls_waiting(self):
        calls = [{'what': 'list partitions', 'waiting_s': 42.0},
                 {'what': 'get CPC %s' % fakes.PASSWORD, 'waiting_s': 3.5}]
        self.useFixture(fixtures.MockPatchObject(
            self.sup.manager.link('nova-compute:h1'), 'status',
            return_value={'state': 'unresponsive', 'connected': False,
                          'current_hmc': '10.0.0.5:6794',
                          'last_error': 'no answer', 'sessions': {},
                          'waiting_calls': calls}))
        data = report.section_data(self.sup)
        expected = ('2 calls, longest 42.0 s (list partitions: 42.0 s; '
                    'get CPC ********: 3.5 s)')
        self.assertEqual(('unresponsive', expected),
                         (data['state'], data['waiting_on_hmc']))
        entry = data['connections']['nova-compute:h1']
        self.assertEqual(expected, entry['waiting_on_hmc'])
        self.assertNotIn('waiting_calls', entry)
