"""Run tempest's compute API tests against a mini-cloud on the simulator.

``tox -e tempest`` (smoke and server selection), ``tox -e tempest-faults``
(the same with transient HMC faults) and ``tox -e tempest-full`` (the
whole ``tempest.api.compute`` package) call this. Exit status 0 means:
tempest ran and nothing failed, the HMC holds nothing the run created,
and the HMC password appears in no log. Every service's log stays in
``<run dir>/logs``.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import time

from minicloud import cloud as cloud_mod
from minicloud import faults
from minicloud import leaks
from minicloud import leftovers
from minicloud import port_nics
from minicloud import processes
from minicloud import system_packages
from minicloud import tempest_run


def say(text):
    sys.stdout.write('[minicloud] %s\n' % text)
    sys.stdout.flush()


def relay(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def _interrupt(signum, frame):
    # SIGTERM and SIGHUP end the run like Ctrl-C: through the finally
    # blocks, so that every service is stopped.
    raise KeyboardInterrupt('signal %d' % signum)


def build_parser():
    parser = argparse.ArgumentParser(
        prog='minicloud', description=__doc__.splitlines()[0])
    parser.add_argument('--selection', choices=sorted(
        tempest_run.SELECTIONS), default='smoke')
    parser.add_argument('--faults', action='store_true',
                        help='inject transient HMC faults while tempest runs')
    parser.add_argument('--concurrency', type=int, default=2)
    parser.add_argument('--runs-dir', default='.minicloud',
                        help='parent of the run directory (default '
                        '%(default)s)')
    parser.add_argument('--keep-data', action='store_true',
                        help='keep the databases, broker and image data '
                        '(about 250 MB) instead of only the logs')
    parser.add_argument('--stop-leftovers', action='store_true',
                        help='stop the services of earlier runs whose '
                        'runner was killed, then exit')
    parser.add_argument('--job-duration', type=float, default=1.0,
                        help='seconds a simulated HMC job takes')
    parser.add_argument('--inventory', default='z16',
                        choices=('z16', 'z17', 'z13'),
                        help='the simulated CPC kind (a built-in inventory '
                        'of nova-dpm-hmc-simulator; default %(default)s)')
    return parser


def password_leaks(password, roots):
    """Files under ``roots`` that contain ``password``."""
    found = []
    needle = password.encode()
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                try:
                    with open(path, 'rb') as f:
                        if needle in f.read():
                            found.append(path)
                except OSError:
                    pass
    return found


class Run(object):

    def __init__(self, args, repo_dir):
        self.args = args
        self.repo_dir = repo_dir
        name = '%s%s-%s-%d' % (args.selection, '-faults' if args.faults
                               else '', time.strftime('%Y%m%d-%H%M%S'),
                               os.getpid())
        self.run_dir = os.path.abspath(os.path.join(args.runs_dir, name))
        self.result = {'selection': args.selection, 'faults': args.faults,
                       'inventory': args.inventory, 'run_dir': self.run_dir}
        self.problems = []

    def main(self):
        started = time.monotonic()
        say('run directory %s (service logs in logs/); simulated CPC %s'
            % (self.run_dir, self.args.inventory))
        os.makedirs(self.run_dir)
        installed = system_packages.ensure(
            os.path.join(self.run_dir, 'apt.log'))
        if installed:
            say('installed %s' % ', '.join(installed))
        cloud = cloud_mod.Cloud(self.run_dir, say, self.args.job_duration,
                                self.args.inventory)
        schedule = None
        try:
            cloud.up()
            self.result['bring_up_s'] = round(time.monotonic() - started)
            say('cloud ready in %d s' % self.result['bring_up_s'])
            before = cloud.baseline
            say('HMC before: %s' % leaks.describe(before))
            tempest = tempest_run.Tempest(
                cloud.table, cloud, os.path.join(self.repo_dir, 'doc',
                                                 'tempest'),
                os.path.join(self.run_dir, 'tempest'))
            tempest.configure()
            if self.args.faults:
                schedule = faults.FaultSchedule(cloud.simulator.client)
                schedule.start()
                say('HMC fault schedule started')
            sampler = cloud.port_nic_sampler()
            sampler.start()
            t0 = time.monotonic()
            try:
                rc, totals = tempest.run(self.args.selection,
                                         self.args.concurrency, relay)
            finally:
                sampler.stop()
            self.result['tempest_s'] = round(time.monotonic() - t0)
            self.result['tempest'] = dict(totals.counts, ran=totals.ran)
            if schedule is not None:
                self._end_faults(schedule)
                schedule = None
            if rc != 0 or not totals.complete or totals.get('failed'):
                self.problems.append('tempest: %s (exit %d)' % (
                    totals.line(), rc))
            cloud.table.check_alive()
            cloud.stop_compute()
            after = leaks.snapshot(cloud.simulator.client, cloud.conn)
            say('HMC after:  %s' % leaks.describe(after))
            left_behind = leaks.compare(before, after)
            left_behind += sampler.problems + port_nics.left_after(
                *sampler.read()[:2])
            say(sampler.summary())
            self.result['port_nic_samples'] = {'read': sampler.good,
                                               'failed': sampler.failed}
            unread = sampler.unread()
            if unread:
                left_behind.append(unread)
            self.result['leaks'] = left_behind
            self.problems.extend('leak: %s' % p for p in left_behind)
            broken = leaks.rule_violations(cloud.simulator.client)
            self.result['rule_violations'] = broken
            say('HMC rule violations: %s' % ('; '.join(broken) or '0'))
            self.problems.extend(broken)
            self.result['tempest_line'] = totals.line()
        finally:
            if schedule is not None:
                schedule.stop()
            say('stopping every service')
            cloud.down()
            hmc_password = cloud.simulator.password() if (
                cloud.simulator.info) else None
            if not self.args.keep_data:
                shutil.rmtree(cloud.data, ignore_errors=True)
        if hmc_password:
            for path in password_leaks(hmc_password, [
                    os.path.join(self.run_dir, 'logs'),
                    os.path.join(self.run_dir, 'tempest')]):
                self.problems.append('the HMC password appears in %s' % path)
        self.result['wall_s'] = round(time.monotonic() - started)
        self.result['problems'] = self.problems
        with open(os.path.join(self.run_dir, 'summary.json'), 'w') as f:
            json.dump(self.result, f, indent=2)
        self._report()
        return 1 if self.problems else 0

    def _end_faults(self, schedule):
        pending = schedule.stop()
        lines = schedule.summary(pending)
        self.result['faults_injected'] = dict(schedule.injected)
        say('HMC faults during tempest:')
        for line in lines:
            say('  ' + line)

    def _report(self):
        say('=' * 60)
        say('selection %s%s: %s' % (
            self.args.selection, ' with HMC faults' if self.args.faults
            else '', self.result.get('tempest_line', 'not run')))
        say('leak check: %s' % ('clean' if 'leaks' in self.result and
                                not self.result['leaks'] else
                                'FAILED' if self.result.get('leaks') else
                                'not run'))
        say('wall time %d s (bring-up %s s, tempest %s s)' % (
            self.result['wall_s'], self.result.get('bring_up_s', '-'),
            self.result.get('tempest_s', '-')))
        for problem in self.problems:
            say('PROBLEM: %s' % problem)
        say('logs: %s' % os.path.join(self.run_dir, 'logs'))


def check_leftovers(runs_dir, stop):
    found = leftovers.find(runs_dir)
    if stop:
        leftovers.stop(found)
        say('stopped %d leftover services' % len(found))
    elif found:
        runs = sorted({run for run, _, _ in found})
        say('WARNING: %d services of earlier runs are still running (%s); '
            'they do not disturb this run; stop them with: python '
            'tools/minicloud/run.py --stop-leftovers' % (
                len(found), ', '.join(runs)))
    return found


def main(argv=None, repo_dir=None):
    args = build_parser().parse_args(argv)
    check_leftovers(args.runs_dir, args.stop_leftovers)
    if args.stop_leftovers:
        return 0
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    run = Run(args, repo_dir or os.getcwd())
    try:
        return run.main()
    except (processes.ServiceFailed, system_packages.MissingPackages,
            RuntimeError) as exc:
        say('FAILED: %s' % exc)
        return 1
    except KeyboardInterrupt:
        say('interrupted; every service was stopped')
        return 130
