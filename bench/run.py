"""nova-dpm benchmarks, each side by side with the naive baseline.

Runs against the HMC simulator with 50 ms added to every request and
realistic job durations, writes ``bench/results.json`` (per metric: value,
baseline, ratio, target, unit, met; ``polling``: the same with HMC
notifications off, where measured) and prints a table. ``tox -e bench``.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

# Nova's monkey patching and object registration come first.
import nova.tests.unit  # noqa: F401,E402,I100

from bench import driver_bench  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'results.json')


#: What --only can select.
PARTS = ('driver', 'hmc', 'hmc-deadline', 'poll', 'image', 'fleet')


def _collect(args):
    results = {}
    parts = args.only.split(',') if args.only else PARTS
    if 'driver' in parts:
        results.update(driver_bench.run(instances=args.instances))
    from bench import hmc_bench
    if 'hmc' in parts:
        results.update(hmc_bench.run())
    if 'hmc-deadline' in parts:
        results.update(hmc_bench.deadline_metrics())
    if 'poll' in parts:
        from bench import poll_bench
        results.update(poll_bench.run())
    if 'image' in parts and not args.skip_image:
        from bench import image_bench
        results.update(image_bench.run(size=args.image_mib * 1024 * 1024,
                                       drops=20))
    if 'fleet' in parts:
        from bench import fleet_bench
        results.update(fleet_bench.run(drivers=args.fleet_drivers))
    return results


def _met(metric):
    target, value = metric.get('target'), metric.get('value')
    if target is None or value is None:
        return None
    if metric.get('goal', 'max') == 'min':
        return value >= target
    return value <= target


def _finish(results):
    for metric in results.values():
        base, value = metric.get('baseline'), metric.get('value')
        if base not in (None, 0) and value is not None:
            metric['ratio'] = round(value / base, 4)
        metric['met'] = _met(metric)
    return results


def _print(results):
    print()
    print('%-36s %10s %10s %10s %9s %10s %5s' % (
        'metric', 'nova-dpm', 'polling', 'naive', 'ratio', 'target', 'met'))
    print('-' * 96)
    for name, m in sorted(results.items()):
        goal = '>=' if m.get('goal') == 'min' else '<='
        print('%-36s %10s %10s %10s %9s %10s %5s' % (
            name, _fmt(m.get('value')), _fmt(m.get('polling')),
            _fmt(m.get('baseline')), _fmt(m.get('ratio')),
            '%s %s' % (goal, _fmt(m.get('target'))),
            {True: 'yes', False: 'NO', None: '-'}[m['met']]))


def _fmt(value):
    if value is None:
        return '-'
    if isinstance(value, float):
        return '%.3f' % value
    return str(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--instances', type=int, default=50)
    parser.add_argument('--image-mib', type=int, default=1024)
    parser.add_argument('--skip-image', action='store_true')
    parser.add_argument('--fleet-drivers', type=int, default=20,
                        help='nova-computes of the fleet benchmark')
    parser.add_argument('--only', help='comma-separated parts of %s; the '
                        'other metrics in results.json are kept' %
                        ', '.join(PARTS))
    args = parser.parse_args()
    results = _collect(args)
    if args.only and os.path.exists(RESULTS):
        with open(RESULTS) as f:
            kept = json.load(f)
        kept.update(results)
        results = kept
    results = _finish(results)
    with open(RESULTS, 'w') as f:
        json.dump(results, f, indent=2, sort_keys=True)
    _print(results)
    print('\nwritten to %s' % RESULTS)
    missed = [n for n, m in results.items() if m['met'] is False]
    if missed:
        print('targets missed: %s' % ', '.join(sorted(missed)))
        return 1
    return 0


if __name__ == '__main__':
    started = time.monotonic()
    code = main()
    print('benchmarks took %.0f s' % (time.monotonic() - started))
    sys.exit(code)
