"""What the HMC holds before and after a run: nothing may be left behind."""

# resources() entries a run could leak: partitions are listed by name, the
# others are counts.
CHECKED = ('partitions', 'nics', 'hbas', 'storage_group_attachments',
           'virtual_storage_resources', 'iso_mounts', 'sessions_active')


def snapshot(client):
    resources = client.resources()
    return {key: resources[key] for key in CHECKED}


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
