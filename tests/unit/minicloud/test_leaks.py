"""The leak check: what the HMC holds before and after a run."""

import testtools

from minicloud import leaks


def _snapshot(**changes):
    snap = {'partitions': ['keep-me'], 'nics': 1, 'hbas': 2,
            'storage_groups': ['OpenStack-keep'], 'storage_volumes': 1,
            'storage_group_attachments': 0, 'virtual_storage_resources': 4,
            'iso_mounts': 0, 'sessions_active': 2}
    snap.update(changes)
    return snap


class FakeClient(object):

    def __init__(self, by_rule=None):
        self.by_rule = by_rule or {}

    def resources(self):
        return dict(_snapshot(), cpcs=1, adapters=['a', 'b'])

    def stats(self):
        return {'total': 9, 'rule_violations': sum(self.by_rule.values()),
                'rule_violations_by_rule': self.by_rule}


class CompareTest(testtools.TestCase):

    def test_nothing_new_is_clean(self):
        self.assertEqual([], leaks.compare(_snapshot(), _snapshot()))

    def test_fewer_resources_after_the_run_is_clean(self):
        after = _snapshot(partitions=[], nics=0, sessions_active=1)

        self.assertEqual([], leaks.compare(_snapshot(), after))

    def test_a_new_partition_is_named(self):
        after = _snapshot(partitions=['keep-me', 'instance-0001'])

        self.assertEqual(['1 partitions left: instance-0001'],
                         leaks.compare(_snapshot(), after))

    def test_more_nics_and_sessions_are_reported_with_counts(self):
        after = _snapshot(nics=3, sessions_active=5)

        self.assertEqual(['nics: 3 after the run, 1 before',
                          'sessions active: 5 after the run, 2 before'],
                         leaks.compare(_snapshot(), after))

    def test_every_leftover_kind_gets_a_line(self):
        after = _snapshot(partitions=['keep-me', 'b', 'a'], hbas=3,
                          storage_groups=['OpenStack-keep', 'OpenStack-x'],
                          storage_volumes=2, storage_group_attachments=1,
                          virtual_storage_resources=5, iso_mounts=1)

        problems = leaks.compare(_snapshot(), after)

        self.assertEqual(7, len(problems))
        self.assertEqual('2 partitions left: a, b', problems[0])
        self.assertIn('1 storage groups left: OpenStack-x', problems)
        for what in ('hbas', 'storage volumes', 'storage group attachments',
                     'virtual storage resources', 'iso mounts'):
            self.assertTrue(any(p.startswith(what + ':') for p in problems),
                            what)


class DescribeTest(testtools.TestCase):

    def test_describe_formats_counts(self):
        self.assertEqual(
            'partitions 1, nics 1, hbas 2, storage groups 1, storage '
            'volumes 1, storage group attachments 0, virtual storage '
            'resources 4, iso mounts 0, sessions active 2',
            leaks.describe(_snapshot()))

    def test_snapshot_keeps_only_the_checked_resources(self):
        self.assertEqual(_snapshot(), leaks.snapshot(FakeClient()))


class RuleViolationsTest(testtools.TestCase):

    def test_no_violation_is_clean(self):
        self.assertEqual([], leaks.rule_violations(
            FakeClient({'boot-storage-volume-fulfilled': 0})))

    def test_each_broken_rule_gets_a_line_with_its_count(self):
        problems = leaks.rule_violations(FakeClient(
            {'nic-network-express': 1, 'boot-storage-adapter-hba': 3}))

        self.assertEqual(
            ['HMC rule boot-storage-adapter-hba broken 3 times (see '
             'nova_dpm/simulator/RULES.rst)',
             'HMC rule nic-network-express broken 1 times (see '
             'nova_dpm/simulator/RULES.rst)'], problems)
