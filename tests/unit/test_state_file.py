"""The one durable JSON writer and the reader that sets damage aside."""

import json
import os
import stat
from unittest import mock

import fixtures
import testtools

from nova_dpm import state_file


class WriteJsonTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'sub', 'state.json')

    def test_file_and_directory_are_synced_before_it_counts(self):
        synced = []
        real_fsync = os.fsync

        def fsync(fd):
            synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
            real_fsync(fd)

        self.useFixture(fixtures.MonkeyPatch('os.fsync', fsync))
        state_file.write_json(self.path, {'a': 1})
        self.assertEqual([False, True], synced)
        with open(self.path) as f:
            self.assertEqual({'a': 1}, json.load(f))
        self.assertEqual(0o600, stat.S_IMODE(os.stat(self.path).st_mode))

    def test_a_failed_write_keeps_the_old_file_and_no_temporary(self):
        state_file.write_json(self.path, {'old': True})
        with mock.patch('os.replace', side_effect=OSError(28, 'full')):
            self.assertRaises(OSError, state_file.write_json, self.path,
                              {'new': True})
        self.assertEqual(['state.json'], os.listdir(os.path.dirname(
            self.path)))
        with open(self.path) as f:
            self.assertEqual({'old': True}, json.load(f))


class LoadTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level='WARNING'))
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'state.json')

    def write(self, content):
        with open(self.path, 'wb') as f:
            f.write(content)

    def test_missing_file_is_none(self):
        self.assertIsNone(state_file.load_json(self.path, bool))

    def test_each_kind_of_damage_is_named(self):
        for content, reason in ((b'{"a": ', 'not JSON'),
                                (b'\xff', 'not UTF-8'),
                                (b'[' * 100000, 'not JSON'),
                                (b'[]', 'not the layout')):
            self.write(content)
            exc = self.assertRaises(
                state_file.Damaged, state_file.load_json, self.path,
                lambda data: isinstance(data, dict))
            self.assertIn(reason, str(exc))

    def test_damaged_file_is_set_aside_once_each_time(self):
        for number in (1, 2):
            self.write(b'garbage %d' % number)
            self.assertIsNone(state_file.load_or_set_aside(
                self.path, bool, 'test file'))
            self.assertFalse(os.path.exists(self.path))
        aside = sorted(os.listdir(self.dir))
        self.assertEqual(2, len(aside))
        for name in aside:
            self.assertIn('test file %s cannot be used' % self.path,
                          self.log.output)
            self.assertIn(name, self.log.output)

    def test_a_file_that_cannot_be_moved_is_still_only_a_warning(self):
        self.write(b'garbage')
        with mock.patch('os.rename', side_effect=OSError(30, 'read-only')):
            self.assertIsNone(state_file.load_or_set_aside(
                self.path, bool, 'test file'))
        self.assertIn('could not be set aside (', self.log.output)
