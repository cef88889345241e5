"""WWPNStore: the crash-safe JSON file behind get_volume_connector."""

import json
import os
import threading
import time

import fixtures
import testtools

from nova_dpm.virt.dpm import wwpn_store


class TestWWPNStore(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.store = wwpn_store.WWPNStore(self.state_dir)

    def temp_files(self):
        return [name for name in os.listdir(self.state_dir)
                if name not in (wwpn_store.FILE_NAME,
                                wwpn_store.FILE_NAME + '.lock')]

    def test_record_is_persisted_for_a_new_store(self):
        self.store.update('i1', lambda r: r.update(wwpns=['c0507601']))
        again = wwpn_store.WWPNStore(self.state_dir)
        self.assertEqual(['c0507601'], again.get('i1')['wwpns'])
        with open(self.store.path) as stream:
            self.assertEqual(1, json.load(stream)['version'])
        self.assertEqual([], self.temp_files())

    def test_released_record_without_volumes_is_dropped(self):
        self.store.update('i1', lambda r: r.update(wwpns=['c0507601']))
        self.store.update('i1', lambda r: r.update(released_at=time.time()))
        self.assertIsNone(self.store.get('i1'))

    def test_old_released_records_are_pruned(self):
        long_ago = time.time() - wwpn_store.RELEASED_RECORD_TTL - 1
        self.store.update('old', lambda r: r.update(
            volumes=['v'], released_at=long_ago))
        self.store.update('new', lambda r: r.update(wwpns=['c0507602']))
        self.assertIsNone(self.store.get('old'))
        self.assertIsNotNone(self.store.get('new'))

    def test_damaged_file_is_set_aside_with_a_warning_and_kept(self):
        log = self.useFixture(fixtures.FakeLogger(level='WARNING'))
        record = {'version': 1, 'instances': {'i1': {'wwpns': 'c05076'}}}
        contents = [b'{not json', b'', b'\xff\xfe', b'[]', b'null',
                    b'{"version": 2, "instances": {}}',
                    json.dumps(record).encode(),
                    b'{"version": 1, "instances": {"i1": 5}}']
        for content in contents:
            with open(self.store.path, 'wb') as stream:
                stream.write(content)
            self.assertIsNone(self.store.get('i1'))
            self.store.update('i2', lambda r: r.update(wwpns=['c0507602']))
            self.assertEqual(['c0507602'], self.store.get('i2')['wwpns'])
            aside = [n for n in self.temp_files() if '.damaged-' in n]
            self.assertEqual(1, len(aside), content)
            with open(os.path.join(self.state_dir, aside[0]), 'rb') as f:
                self.assertEqual(content, f.read())
            self.assertIn('DPM storage state file %s cannot be used' %
                          self.store.path, log.output)
            self.assertIn(aside[0], log.output)
            os.unlink(os.path.join(self.state_dir, aside[0]))
            os.unlink(self.store.path)

    def test_unreadable_file_is_reported_with_path_and_remedy(self):
        os.mkdir(self.store.path)   # open() fails, also for root
        exc = self.assertRaises(wwpn_store.StorageStateError,
                                self.store.get, 'i1')
        self.assertIn(self.store.path, str(exc))
        self.assertIn('Make state_path writable', str(exc))
        self.assertEqual([], [n for n in self.temp_files()
                              if '.damaged-' in n])

    def test_failed_write_keeps_the_previous_file(self):
        self.store.update('i1', lambda r: r.update(wwpns=['c0507601']))
        self.useFixture(fixtures.MockPatch(
            'os.replace', side_effect=OSError(28, 'No space left')))
        exc = self.assertRaises(
            wwpn_store.StorageStateError, self.store.update, 'i2',
            lambda r: r.update(wwpns=['c0507602']))
        self.assertIn('No space left', str(exc))
        self.assertEqual([], self.temp_files())
        with open(self.store.path) as stream:
            self.assertEqual(['i1'], list(json.load(stream)['instances']))

    def test_concurrent_updates_are_all_kept(self):
        # Half the threads use a second store on the same file, as a
        # re-created driver object would.
        stores = (self.store, wwpn_store.WWPNStore(self.state_dir))

        def add(index):
            for volume in range(10):
                stores[index % 2].update('i%d' % index, lambda r: r.update(
                    volumes=r['volumes'] + ['v%d' % volume]))

        threads = [threading.Thread(target=add, args=(i,))
                   for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        again = wwpn_store.WWPNStore(self.state_dir)
        for index in range(8):
            self.assertEqual(10, len(again.get('i%d' % index)['volumes']))
