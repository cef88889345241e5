"""doc/tempest's test lists: valid expressions, every exclusion explained."""

import os
import re

import testtools

DOC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))), 'doc', 'tempest')


def _entries(name):
    with open(os.path.join(DOC_DIR, name)) as f:
        return [line.rstrip('\n') for line in f
                if line.strip() and not line.startswith('#')]


class TempestListsTest(testtools.TestCase):

    def test_every_exclusion_has_a_reason_and_compiles(self):
        for name in ('exclude-list.txt', 'exclude-list-minicloud.txt'):
            for line in _entries(name):
                pattern, sep, reason = line.partition('  # ')
                self.assertTrue(sep and len(reason.split()) >= 3,
                                '%s: no reason given: %s' % (name, line))
                re.compile(pattern.strip())

    def test_every_inclusion_compiles_and_is_a_compute_test(self):
        for line in _entries('include-list.txt'):
            re.compile(line)
            self.assertTrue(line.startswith(r'^tempest\.api\.compute\.'),
                            line)

    def test_the_minicloud_excludes_nothing_the_driver_list_does(self):
        driver = {line.partition('  # ')[0].strip()
                  for line in _entries('exclude-list.txt')}
        for line in _entries('exclude-list-minicloud.txt'):
            self.assertNotIn(line.partition('  # ')[0].strip(), driver)
