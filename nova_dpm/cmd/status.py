"""``nova-dpm-status``: what the HMC connection of nova-compute is doing.

Without ``--probe`` it prints the managed HMC connections, their state,
the calls waiting on the HMC and the last error, from the status file
nova-compute keeps current under its ``state_path`` (no HMC request is
made).  ``--probe`` checks live what nova-compute checks at start
(version, logon, CPC, DPM mode, capacity, storage adapters) and fails
with the same one-line message.

Every problem is reported in one line, never a traceback, and nothing
printed ever contains the HMC password.
"""

import json
import re
import sys
import time

from nova.conf import paths
from oslo_config import cfg

from nova_dpm import conf as nova_dpm_conf
from nova_dpm.hmc import connections
from nova_dpm.hmc import errors
from nova_dpm.hmc import report
from nova_dpm.hmc import session as session_mod
from nova_dpm.hmc import settings as settings_mod
from nova_dpm.hmc import validation
from nova_dpm import state_file

PROG = 'nova-dpm-status'

#: Exit statuses (documented in doc/operations.rst).
OK = 0
NOT_OK = 1
CONFIG_ERROR = 2

DESCRIPTION = (
    "Show what nova-compute's DPM driver is doing with the HMC: every "
    "managed HMC connection with its state (connected, unresponsive, "
    "reconnecting, down, idle), the calls waiting on the HMC and for how "
    "long, and the last error. Read from the status file nova-compute "
    "keeps in its state_path (no HMC request); --probe checks the HMC "
    "live instead, as nova-compute does at start. Reads nova.conf like "
    "nova-compute (--config-file, --config-dir).")

EPILOG = (
    "Exit status: 0 every managed connection is connected (or the probe "
    "passed); 1 a connection is not connected, there is no status file or "
    "it cannot be read, or the probe failed; 2 the command line or "
    "nova.conf is wrong (the message names the option, the file and what "
    "is expected).")

CLI_OPTS = [
    cfg.BoolOpt('json', default=False,
                help='Print machine-readable JSON.'),
    cfg.BoolOpt('probe', default=False,
                help='Check the HMC live (version, logon, CPC, DPM mode) '
                     'instead of reading the state nova-compute keeps.'),
]

_FROM_FILE = re.compile(r"detail='(?P<file>[^']*)'")
_REASON = re.compile(r' is not valid: (?P<reason>.*)$', re.S)


def _scrub(text, secret):
    return errors.redact(text, secret) if secret else text


def _expected(opt):
    """What a valid value of ``opt`` looks like, in words."""
    kind = getattr(opt.type, 'type_name', 'value')
    low = getattr(opt.type, 'min', None)
    high = getattr(opt.type, 'max', None)
    choices = getattr(opt.type, 'choices', None)
    if low is not None and high is not None:
        return 'a %s from %s to %s' % (kind, low, high)
    if low is not None:
        return 'a %s of at least %s' % (kind, low)
    if high is not None:
        return 'a %s of at most %s' % (kind, high)
    if choices:
        return 'one of %s' % ', '.join(str(c) for c in choices)
    return 'a %s' % kind


def option_error(group, opt, exc):
    """One line naming the option, the file and what is expected.

    oslo.config's own message quotes its internal ``LocationInfo(...)``.
    """
    text = str(exc)
    where = _FROM_FILE.search(text)
    reason = _REASON.search(text)
    reason = reason.group('reason') if reason else text
    return '[%s] %s%s is not valid (%s); expected %s' % (
        group or 'DEFAULT', opt.dest,
        ' in %s' % where.group('file') if where else '',
        reason[:1].lower() + reason[1:], _expected(opt))


def check_options(conf):
    """Read every option this tool uses once; the first bad one fails.

    :returns: None, or the one-line message for the first invalid value
    """
    for group, opts in ((None, paths.ALL_OPTS),
                        ('dpm', nova_dpm_conf.dpm.ALL_OPTS)):
        for opt in opts:
            try:
                (conf[group] if group else conf)[opt.dest]
            except (cfg.Error, ValueError) as exc:
                return option_error(group, opt, exc)
    return None


def _waiting(info):
    calls = info.get('waiting_calls') or []
    return report.waiting_summary(calls) if calls else None


def show_state(state_dir, as_json, out):
    """Print the managed connections; returns the exit status."""
    path = connections.state_file(state_dir)
    try:
        state = connections.load_state(state_dir)
    except (state_file.Damaged, OSError) as exc:
        state, problem = None, (
            'the HMC connection status file %s cannot be read (%s); '
            'nova-compute sets it aside and writes a new one at its next '
            'status change' % (path, exc))
    else:
        problem = None if state is not None else (
            'no HMC connection state at %s: nova-compute has not started '
            'the DPM driver with this state_path' % path)
    if problem:
        out.write((json.dumps({'error': problem}) if as_json else problem)
                  + '\n')
        return NOT_OK
    managed = state.get('connections', {})
    healthy = bool(managed) and all(c.get('connected') is True
                                    for c in managed.values())
    status = OK if healthy else NOT_OK
    if as_json:
        out.write(json.dumps(state, indent=2, sort_keys=True) + '\n')
        return status
    out.write('HMC connections (state of %s, updated %s):\n' % (
        path, state.get('updated_at', '?')))
    for connection_id, info in sorted(managed.items()):
        target = info.get('connection_info', {})
        out.write('  %s: %s\n' % (connection_id, info.get('state', '?')))
        out.write('    hmc: %s port %s, userid %r\n' % (
            ', '.join(str(h) for h in target.get('hmc', [])),
            target.get('port'), target.get('userid')))
        if info.get('current_hmc'):
            out.write('    current: %s\n' % info['current_hmc'])
        if info.get('notifications'):
            out.write('    notifications: %s%s\n' % (
                info['notifications'],
                ' (%s; waits poll)' % info['notification_error']
                if info['notifications'] == 'down' and
                info.get('notification_error') else ''))
        waiting = _waiting(info)
        if waiting:
            out.write('    waiting on the HMC: %s\n' % waiting)
        if info.get('last_error'):
            out.write('    last error: %s\n' % info['last_error'])
        if info.get('pid'):
            out.write('    written by pid %s at %s\n' % (
                info['pid'], info.get('updated_at', '?')))
    if not managed:
        out.write('  (none)\n')
    return status


def _fail(message, code, as_json, out, err, label):
    if as_json:
        out.write(json.dumps({'ok': False, 'error': message}) + '\n')
    err.write('%s: %s\n' % (label, message))
    return code


def probe(conf_group, as_json, out, err):
    """Check the HMC live like nova-compute's start; returns exit status."""
    started = time.monotonic()
    password = conf_group.hmc_password
    try:
        settings = settings_mod.HMCSettings.from_conf(conf_group)
        client, index = validation.connect_for_start(
            settings, session_mod.default_session_factory, time.sleep)
        try:
            cpc = validation.check_cpc(client, settings,
                                       settings.hosts[index])
        finally:
            session_mod.logoff_quietly(client.session)
    except errors.HMCConfigError as exc:
        return _fail(_scrub(exc.format_message(), password), CONFIG_ERROR,
                     as_json, out, err, PROG)
    except errors.HMCStartupError as exc:
        return _fail(_scrub(exc.format_message(), password), NOT_OK,
                     as_json, out, err, 'CRITICAL')
    result = {
        'ok': True, 'hmc': '%s:%s' % (settings.hosts[index], settings.port),
        'userid': settings.userid, 'cpc_object_id': settings.cpc_object_id,
        'cpc_name': cpc.get('name'), 'cpc_status': cpc.get('status'),
        'seconds': round(time.monotonic() - started, 2)}
    if as_json:
        out.write(json.dumps(result, sort_keys=True) + '\n')
    else:
        out.write('OK: HMC %(hmc)s, logged on as %(userid)r; CPC '
                  '%(cpc_object_id)s (%(cpc_name)s) is in DPM mode, status '
                  '%(cpc_status)s (%(seconds)s s)\n' % result)
    return OK


def build_conf():
    """The options this tool reads: ``[dpm]`` and Nova's own state_path."""
    conf = cfg.ConfigOpts()
    nova_dpm_conf.dpm.register_opts(conf)
    paths.register_opts(conf)
    conf.register_cli_opts(CLI_OPTS)
    return conf


def main(argv=None, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    conf = build_conf()
    try:
        conf(sys.argv[1:] if argv is None else argv, project='nova',
             prog=PROG, description=DESCRIPTION, epilog=EPILOG)
    except (cfg.Error, ValueError) as exc:
        err.write('%s: %s\n' % (PROG, exc))
        return CONFIG_ERROR
    try:
        problem = check_options(conf)
        if problem:
            return _fail(problem, CONFIG_ERROR, conf.json, out, err, PROG)
        if conf.probe:
            return probe(conf.dpm, conf.json, out, err)
        return show_state(conf.state_path, conf.json, out)
    finally:
        conf.clear()


if __name__ == '__main__':
    sys.exit(main())
