"""What the HMC holds before and after a run: nothing may be left behind."""

# resources() entries a run could leak: partitions are listed by name, the
# others are counts.
CHECKED = ('partitions', 'nics', 'hbas', 'storage_groups',
           'storage_volumes', 'storage_group_attachments',
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
