"""Benchmarks of the HMC session supervisor against the simulator.

Each metric is ``{"value", "baseline", "target", "unit"}``; the baseline
is plain zhmcclient with its default settings doing the same thing.

* ``startup_fail_s``: start() against an unreachable HMC (refused
  connections) with DEFAULT settings.  Refused connections fail at once,
  so this measures startup_connect_retries x backoff; ``bound_s`` is the
  configured worst case connect_timeout x (startup_connect_retries + 1)
  + backoff (a black-holed address).  Baseline: ``Session.logon()``.
* ``recovery_s``: from ``simulator.up()`` to the first successful call,
  for a call waiting inside the (default, long) reconnect budget.
* ``hmc_recovery_fail_fast_s``: the same after the budget was spent and
  calls failed fast (connect_retries=1); callers retry every 50 ms.
  Baseline: a plain session retried by the caller every 50 ms.
* ``hmc_sessions_left_after_stop``: HMC sessions left after three
  concurrent calls and stop(); baseline: three plain sessions, which
  zhmcclient never logs off by itself.
* ``hmc_job_seen_s``: a 1 s partition start until the caller sees it done;
  baseline ``Job.wait_for_completion`` (polls every 10 s).
* ``call_deadline_s``: the longest of three calls started 1 s apart while
  the HMC is mute after TLS (DEFAULT settings); target ``call_deadline``
  plus 1 s of scheduling slack.  No baseline is run (plain zhmcclient
  waits read_timeout 3600 s per attempt); ``before_s`` is what issue 17
  measured before the deadline existed.
* ``startup_mute_s``: start() against an HMC mute after TLS (DEFAULT
  settings); target ``startup_deadline``.
"""

import dataclasses
import threading
import time

import zhmcclient

from nova_dpm.hmc import policy
from nova_dpm.hmc import settings as settings_mod
from nova_dpm.hmc import supervisor as supervisor_mod
from nova_dpm.simulator import faults
from nova_dpm.simulator import HMCSimulator


def _settings(sim, **overrides):
    values = dict(hosts=sim.hosts, port=sim.port, userid=sim.userid,
                  password=sim.password, verify_cert=sim.ca_file,
                  cpc_object_id=sim.cpc_object_id, max_processors=2,
                  max_memory=4096)
    values.update(overrides)
    return settings_mod.HMCSettings(**values)


def _plain_session(sim):
    return zhmcclient.Session(sim.host, sim.userid, sim.password,
                              verify_cert=sim.ca_file, port=sim.port)


def _supervisor(sim, **overrides):
    return supervisor_mod.HMCSupervisor(_settings(sim, **overrides),
                                        'bench', guru_report=False)


def notification_settings(sim, enabled):
    """Overrides that switch the supervisor's HMC notifications on or off.

    Empty while the settings have no such field (before issue 19's third
    slice): the supervisor then polls either way.
    """
    fields = {field.name for field in dataclasses.fields(
        settings_mod.HMCSettings)}
    overrides = {}
    if 'notifications' in fields:
        overrides['notifications'] = enabled
    if 'notification_port' in fields:
        overrides['notification_port'] = sim.notification_port
    return overrides


def _metric(value, baseline, target, unit, **extra):
    result = {'value': round(value, 3) if value is not None else None,
              'baseline': (round(baseline, 3) if baseline is not None
                           else None),
              'target': target, 'unit': unit}
    result.update(extra)
    return result


def startup_fail(sim):
    defaults = _settings(sim)
    sim.down()
    try:
        value = _failed_start_s(sim)
        started = time.monotonic()
        try:
            _plain_session(sim).logon()
        except zhmcclient.Error:
            pass
        baseline = time.monotonic() - started
    finally:
        sim.up()
    retries = defaults.startup_connect_retries
    backoff = sum(min(policy.INITIAL_BACKOFF * 2 ** n +
                      policy.INITIAL_BACKOFF, defaults.max_retry_interval)
                  for n in range(retries))
    bound = min(defaults.connect_timeout * (retries + 1) + backoff,
                defaults.startup_deadline)
    return _metric(value, baseline, round(bound, 1), 's',
                   bound_s=round(bound, 1))


def _names(client):
    return [c.name for c in client.cpcs.list()]


def recovery_within_budget(sim, outage=3.0):
    sup = _supervisor(sim)
    sup.start()
    try:
        done = []
        sim.down()
        caller = threading.Thread(
            target=lambda: done.append((sup.call(_names),
                                        time.monotonic())))
        caller.start()
        time.sleep(outage)
        up_at = time.monotonic()
        sim.up()
        caller.join(60)
        return done[0][1] - up_at if done else None
    finally:
        sim.up()
        sup.stop()


def _first_success_after_up(sim, call):
    up_at = time.monotonic()
    sim.up()
    while time.monotonic() - up_at < 60:
        try:
            call()
            return time.monotonic() - up_at
        except Exception:  # noqa: B902 - keep trying like a caller would
            time.sleep(0.05)
    return None


def recovery_after_fail_fast(sim):
    sup = _supervisor(sim, connect_retries=1, max_retry_interval=1)
    sup.start()
    try:
        sim.down()
        try:
            sup.call(_names)
        except Exception:  # noqa: B902 - expected: HypervisorUnavailable
            pass
        value = _first_success_after_up(sim, lambda: sup.call(_names))
    finally:
        sim.up()
        sup.stop()
    plain = zhmcclient.Client(_plain_session(sim))
    _names(plain)
    sim.down()
    try:
        _names(plain)
    except zhmcclient.Error:
        pass
    baseline = _first_success_after_up(sim, lambda: _names(plain))
    plain.session.logoff()
    return value, baseline


def _in_threads(count, function):
    threads = [threading.Thread(target=function) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def sessions_left(sim):
    sim.set_latency(0.2)
    try:
        before = sim.stats()['sessions_active']
        sup = _supervisor(sim, pool_size=3)
        sup.start()
        _in_threads(3, lambda: sup.call(_names))
        sup.stop()
        value = sim.stats()['sessions_active'] - before
        plain = []
        _in_threads(3, lambda: plain.append(
            _names(zhmcclient.Client(_plain_session(sim)))))
        baseline = sim.stats()['sessions_active'] - before
    finally:
        sim.set_latency(0)
    return value, baseline


def job_seen(sim, duration=1.0):
    sim.set_job_duration(duration)
    sup = _supervisor(sim)
    sup.start()
    cpc_uri = '/api/cpcs/' + sim.cpc_object_id
    try:
        def create_and_start(name, wait):
            def action(client):
                cpc = client.cpcs.resource_object(cpc_uri)
                part = cpc.partitions.create({
                    'name': name, 'initial-memory': 1024,
                    'maximum-memory': 1024, 'ifl-processors': 1})
                job = part.start(wait_for_completion=False)
                started = time.monotonic()
                wait(client, job)
                return time.monotonic() - started
            return sup.call(action, mutating=True)

        value = create_and_start('bench-fast', lambda client, job:
                                 sup.wait_for_job(client, job.uri))
        baseline = create_and_start('bench-plain', lambda client, job:
                                    job.wait_for_completion())
    finally:
        sup.stop()
    return value, baseline


def _worst_mute_call(sim, callers=3, spacing=1.0):
    sup = _supervisor(sim)
    sup.start()
    sim.mute(faults.MUTE_AFTER_TLS)
    took = []

    def call():
        started = time.monotonic()
        try:
            sup.call(_names, what='list CPCs')
        except Exception:  # noqa: B902 - the failure is what we time
            pass
        took.append(time.monotonic() - started)
    threads = []
    for _ in range(callers):
        threads.append(threading.Thread(target=call))
        threads[-1].start()
        time.sleep(spacing)
    for thread in threads:
        thread.join()
    sim.unmute()
    sup.stop()
    return max(took)


def _mute_start(sim):
    sim.mute(faults.MUTE_AFTER_TLS)
    try:
        return _failed_start_s(sim)
    finally:
        sim.unmute()


def _failed_start_s(sim):
    """Seconds until a supervisor's start() against ``sim`` gives up."""
    sup = _supervisor(sim)
    started = time.monotonic()
    try:
        sup.start()
    except Exception:  # noqa: B902 - the failure is what we time
        pass
    value = time.monotonic() - started
    sup.stop()
    return value


def deadline_metrics():
    """call_deadline_s and startup_mute_s, side by side (about 5 min)."""
    defaults = settings_mod.HMCSettings(hosts=('h',), userid='u',
                                        password='p')
    values = {}

    def measure(name, function):
        with HMCSimulator(job_duration=1.0) as sim:
            values[name] = function(sim)
    threads = [threading.Thread(target=measure, args=item) for item in (
        ('call', _worst_mute_call), ('start', _mute_start))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        'call_deadline_s': _metric(
            values['call'], None, defaults.call_deadline + 1, 's',
            before_s=3599, note='worst of 3 calls 1 s apart, HMC mute '
            'after TLS, default settings'),
        'startup_mute_s': _metric(
            values['start'], None, defaults.startup_deadline, 's',
            before_s=1205, note='start() with the HMC mute after TLS, '
            'default settings'),
    }


def run():
    """All HMC metrics, for bench/run.py."""
    results = {}
    with HMCSimulator(job_duration=1.0) as sim:
        results['startup_fail_s'] = startup_fail(sim)
        results['recovery_s'] = _metric(
            recovery_within_budget(sim), None, 2.0, 's')
        value, baseline = recovery_after_fail_fast(sim)
        results['hmc_recovery_fail_fast_s'] = _metric(value, baseline, 2.0,
                                                      's')
        value, baseline = sessions_left(sim)
        results['hmc_sessions_left_after_stop'] = _metric(
            value, baseline, 0, 'sessions')
        value, baseline = job_seen(sim)
        results['hmc_job_seen_s'] = _metric(value, baseline, 1.0 + 0.5, 's')
    return results


if __name__ == '__main__':
    import json
    print(json.dumps(run(), indent=2))
