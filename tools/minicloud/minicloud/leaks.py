"""What the HMC, the storage array and Cinder hold before and after a run.

Nothing may be left behind.
"""

# resources() entries a run could leak: partitions are listed by name, the
# others are counts.
HMC_CHECKED = ('partitions', 'nics', 'hbas', 'storage_groups',
               'storage_volumes', 'storage_group_attachments',
               'virtual_storage_resources', 'iso_mounts', 'sessions_active')
# The array (LUNs by name, host mappings as "LUN initiator target") and
# Cinder (volumes, snapshots and attachments of every project, by id).
CHECKED = HMC_CHECKED + ('array_luns', 'array_mappings', 'cinder_volumes',
                         'cinder_snapshots', 'cinder_attachments')


def snapshot(client, conn=None):
    """The HMC's and the array's resources; Cinder's given a connection.

    Without one (before Cinder runs), Cinder holds nothing.
    """
    resources = client.resources()
    snap = {key: resources[key] for key in HMC_CHECKED}
    array = client.array()
    snap['array_luns'] = ['%s (LUN %d)' % (lun['name'], lun['lun'])
                          for lun in array['luns']]
    snap['array_mappings'] = ['LUN %(lun)d to %(initiator)s via '
                              '%(target_port)s' % m
                              for m in array['mappings']]
    snap.update(_cinder(conn))
    return snap


def _cinder(conn):
    if conn is None:
        return {'cinder_volumes': [], 'cinder_snapshots': [],
                'cinder_attachments': []}
    storage = conn.block_storage
    volumes = list(storage.volumes(all_projects=True))
    return {
        'cinder_volumes': ['%s (%s)' % (v.id, v.status) for v in volumes],
        'cinder_snapshots': ['%s (%s)' % (s.id, s.status) for s in
                             storage.snapshots(all_projects=True)],
        'cinder_attachments': [
            '%s of volume %s' % (a.get('attachment_id') or a.get('id'), v.id)
            for v in volumes for a in v.attachments or ()],
    }


def _size(value):
    return len(value) if isinstance(value, list) else value


def compare(before, after):
    """Lines naming every leftover; empty when nothing was left behind."""
    problems = []
    for key in CHECKED:
        what = key.replace('_', ' ')
        if isinstance(after[key], list):
            extra = sorted(set(after[key]) - set(before[key]))
            if extra:
                problems.append('%d %s left: %s' % (
                    len(extra), what, ', '.join(extra[:10])))
        elif after[key] > before[key]:
            problems.append('%s: %d after the run, %d before' % (
                what, after[key], before[key]))
    return problems


def describe(snap):
    return ', '.join('%s %d' % (key.replace('_', ' '), _size(snap[key]))
                     for key in CHECKED)


def rule_violations(client):
    """Lines naming each HMC rule the run broke; empty when none was.

    The simulator refuses what a real HMC refuses and counts each refusal
    by rule (nova_dpm/simulator/RULES.rst): any count means the driver
    sent a request that real hardware would have refused.
    """
    stats = client.stats()
    by_rule = stats.get('rule_violations_by_rule') or {}
    return ['HMC rule %s broken %d times (see nova_dpm/simulator/RULES.rst)'
            % (rule, count) for rule, count in sorted(by_rule.items())
            if count]
