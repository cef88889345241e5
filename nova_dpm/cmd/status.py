"""``nova-dpm-status``: what the HMC connection of nova-compute is doing.

Without ``--probe`` it prints the managed HMC connections and their last
error from the state file nova-compute keeps current under
``state_path`` (no HMC request is made).  ``--probe`` checks live what
nova-compute checks at start (version, logon, CPC, DPM mode, capacity,
storage adapters) and fails with the same one-line message.

Exit status: 0 all managed connections connected (or the probe passed);
1 a connection is not connected, there is no state, or the probe failed.
Nothing printed ever contains the HMC password.
"""

import json
import os
import sys
import time

from oslo_config import cfg

from nova_dpm import conf as nova_dpm_conf
from nova_dpm.hmc import connections
from nova_dpm.hmc import errors
from nova_dpm.hmc import session as session_mod
from nova_dpm.hmc import settings as settings_mod
from nova_dpm.hmc import validation

CLI_OPTS = [
    cfg.BoolOpt('json', default=False,
                help='Print machine-readable JSON.'),
    cfg.BoolOpt('probe', default=False,
                help='Check the HMC live (version, logon, CPC, DPM mode) '
                     'instead of reading the state nova-compute keeps.'),
]


def _scrub(text, secret):
    return errors.redact(text, secret) if secret else text


def show_state(state_dir, as_json, out):
    """Print the managed connections; returns the exit status."""
    path = connections.state_file(state_dir)
    if not os.path.exists(path):
        message = ('no HMC connection state at %s: nova-compute has not '
                   'started the DPM driver with this state_path' % path)
        if as_json:
            out.write(json.dumps({'error': message}) + '\n')
        else:
            out.write(message + '\n')
        return 1
    with open(path) as f:
        state = json.load(f)
    managed = state.get('connections', {})
    healthy = bool(managed) and all(c.get('connected')
                                    for c in managed.values())
    if as_json:
        out.write(json.dumps(state, indent=2, sort_keys=True) + '\n')
        return 0 if healthy else 1
    out.write('HMC connections (state of %s, updated %s):\n' % (
        path, state.get('updated_at', '?')))
    for connection_id, info in sorted(managed.items()):
        target = info.get('connection_info', {})
        out.write('  %s: %s\n' % (connection_id, info.get('state', '?')))
        out.write('    hmc: %s port %s, userid %r\n' % (
            ', '.join(target.get('hmc', [])), target.get('port'),
            target.get('userid')))
        if info.get('current_hmc'):
            out.write('    current: %s\n' % info['current_hmc'])
        if info.get('last_error'):
            out.write('    last error: %s\n' % info['last_error'])
    if not managed:
        out.write('  (none)\n')
    return 0 if healthy else 1


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
    except errors.HMCStartupError as exc:
        message = _scrub(exc.format_message(), password)
        if as_json:
            out.write(json.dumps({'ok': False, 'error': message}) + '\n')
        err.write('CRITICAL: %s\n' % message)
        return 1
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
    return 0


def main(argv=None, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    conf = cfg.ConfigOpts()
    nova_dpm_conf.dpm.register_opts(conf)
    conf.register_opt(cfg.StrOpt('state_path', default='/var/lib/nova',
                                 help="nova-compute's state_path."))
    conf.register_cli_opts(CLI_OPTS)
    try:
        conf(sys.argv[1:] if argv is None else argv, project='nova',
             prog='nova-dpm-status')
    except (cfg.Error, ValueError) as exc:
        err.write('nova-dpm-status: %s\n' % exc)
        return 2
    try:
        if conf.probe:
            return probe(conf.dpm, conf.json, out, err)
        return show_state(conf.state_path, conf.json, out)
    except (cfg.Error, ValueError) as exc:
        # A bad value is only parsed when it is read.
        err.write('nova-dpm-status: %s\n' % exc)
        return 2
    finally:
        conf.clear()


if __name__ == '__main__':
    sys.exit(main())
