"""The leak check: what the HMC holds before and after a run."""

import testtools

from minicloud import leaks


def _snapshot(**changes):
    snap = {'partitions': ['keep-me'], 'nics': 1, 'hbas': 2,
            'storage_groups': ['OpenStack-keep'], 'storage_volumes': 1,
            'storage_group_attachments': 0, 'virtual_storage_resources': 4,
            'iso_mounts': 0, 'sessions_active': 2,
            'array_luns': [], 'array_mappings': [], 'cinder_volumes': [],
            'cinder_snapshots': [], 'cinder_attachments': []}
    snap.update(changes)
    return snap


class FakeClient(object):

    def __init__(self, by_rule=None):
        self.by_rule = by_rule or {}

    def resources(self):
        return dict(_snapshot(), cpcs=1, adapters=['a', 'b'])

    def array(self):
        return {'target_ports': ['500507680b215660'], 'luns': [],
                'mappings': [], 'capacity': {'total_gib': 10}}

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
            'resources 4, iso mounts 0, sessions active 2, array luns 0, '
            'array mappings 0, cinder volumes 0, cinder snapshots 0, '
            'cinder attachments 0',
            leaks.describe(_snapshot()))

    def test_snapshot_keeps_only_the_checked_resources(self):
        self.assertEqual(_snapshot(), leaks.snapshot(FakeClient()))


class ArrayAndCinderTest(testtools.TestCase):
    """LUNs, mappings and Cinder's volumes left are named."""

    def test_luns_mappings_and_cinder_resources_left_are_named(self):
        client = FakeClient()
        client.array = lambda: {
            'target_ports': ['500507680b215660'], 'capacity': {},
            'luns': [{'lun': 3, 'name': 'volume-v1', 'size': 1.0}],
            'mappings': [{'lun': 3, 'initiator': 'c05076aaaaaa0001',
                          'target_port': '500507680b215660'}]}

        class Volume(object):
            id, status = 'v1', 'in-use'
            attachments = [{'attachment_id': 'a1', 'server_id': 's1'}]

        class Snapshot(object):
            id, status = 's1', 'available'

        class Storage(object):
            def volumes(self, all_projects):
                assert all_projects
                return iter([Volume()])

            def snapshots(self, all_projects):
                assert all_projects
                return iter([Snapshot()])

        class Conn(object):
            block_storage = Storage()

        problems = leaks.compare(_snapshot(),
                                 leaks.snapshot(client, Conn()))

        self.assertEqual([
            '1 array luns left: volume-v1 (LUN 3)',
            '1 array mappings left: LUN 3 to c05076aaaaaa0001 via '
            '500507680b215660',
            '1 cinder volumes left: v1 (in-use)',
            '1 cinder snapshots left: s1 (available)',
            '1 cinder attachments left: a1 of volume v1'], problems)


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
