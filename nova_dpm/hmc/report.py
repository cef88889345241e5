"""The HMC section of nova-compute's Guru Meditation report.

``kill -USR2 <nova-compute>`` (or the configured signal) then shows the
HMC connection: addresses, userid, state (``unresponsive`` when the HMC
takes requests but answers none), the calls waiting on the HMC and for how
long, last error, session pool use and every managed connection id.
Built from :meth:`HMCSupervisor.status`, which never contains the
password; the password is blanked out here too in case some error text
quoted it.
"""

import weakref

from oslo_reports import guru_meditation_report as gmr
from oslo_reports.models import with_default_views as mwdv
from oslo_reports.views.text import generic as text_views

SECTION_TITLE = 'HMC (nova-dpm)'


def _scrub(value, secret):
    if isinstance(value, dict):
        return {k: _scrub(v, secret) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, secret) for v in value]
    if isinstance(value, str) and secret:
        return value.replace(secret, '********')
    return value


def waiting_summary(calls):
    """One line for the calls waiting on the HMC, longest wait first.

    :param calls: ``[{'what': str, 'waiting_s': float}, ...]`` as the
        supervisor's status gives them (or a status file holds them)
    """
    def seconds(call):
        value = call.get('waiting_s')
        return value if isinstance(value, (int, float)) else 0.0

    ordered = sorted(calls, key=seconds, reverse=True)
    return '%d call%s, longest %.1f s (%s)' % (
        len(ordered), '' if len(ordered) == 1 else 's',
        seconds(ordered[0]) if ordered else 0.0,
        '; '.join('%s: %.1f s' % (call.get('what', '?'), seconds(call))
                  for call in ordered))


def section_data(supervisor):
    """The section's content as plain data (no password)."""
    data = supervisor.status()
    for entry in [data] + list(data.get('connections', {}).values()):
        calls = entry.pop('waiting_calls', None) or []
        entry['waiting_on_hmc'] = waiting_summary(calls) if calls else 'none'
    return _scrub(data, supervisor.settings.password)


def register(supervisor, report_class=gmr.TextGuruMeditation):
    """Add the HMC section; holds the supervisor weakly.

    :returns: the generator (tests call it)
    """
    ref = weakref.ref(supervisor)

    def generate():
        current = ref()
        data = ({'state': 'supervisor gone'} if current is None
                else section_data(current))
        return mwdv.ModelWithDefaultViews(
            data, text_view=text_views.KeyValueView())

    report_class.register_section(SECTION_TITLE, generate)
    return generate
