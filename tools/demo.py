"""nova-dpm in one command: real Nova, DPMDriver, the HMC simulator.

Starts the built-in HMC simulator (HTTPS), runs Nova's API, conductor,
scheduler, placement and compute in this process with
``compute_driver = dpm.DPMDriver``, boots servers through the REST API,
shows their partitions on the HMC, takes the HMC away and brings it back,
expires the HMC sessions, deletes everything and prints a summary.

Run it with ``make demo`` (``tox -e demo``); ``make demo INVENTORY=z17``
(``tox -e demo -- --inventory z17``) chooses the simulated CPC kind: z16
(the default: storage groups), z17 (storage groups, NICs by adapter port)
or z13 (HBAs). Exit status 0 means every step did what it says and the HMC
refused nothing by its rules (``rule_violations = 0``, printed); otherwise
the failing step and its reason are printed.
"""

import argparse
import io
import logging
import os
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

# Nova's test package must come first: it sets up Nova's threading mode.
from tests.functional.e2e import base  # noqa: E402,I100

from nova.compute import power_state  # noqa: E402,I100
from nova import context as nova_context  # noqa: E402

from nova_dpm.simulator import inventory  # noqa: E402

OUT = sys.__stdout__


def say(text=''):
    OUT.write(text + '\n')
    OUT.flush()


class Timeline(object):
    """What happened, how long it took and how many HMC requests it cost."""

    def __init__(self, sim):
        self.sim = sim
        self.rows = []
        self.started = time.monotonic()

    def step(self, title):
        return _Step(self, title)

    def summary(self):
        say()
        say('Summary')
        say('=' * 72)
        say('%-46s %8s %14s' % ('operation', 'seconds', 'HMC requests'))
        say('-' * 72)
        for title, seconds, requests in self.rows:
            say('%-46s %8.2f %14d' % (title[:46], seconds, requests))
        say('-' * 72)
        stats = self.sim.stats()
        say('%-46s %8.2f %14d' % ('total', time.monotonic() - self.started,
                                  sum(r for _, _, r in self.rows)))
        say('HMC requests by method: %s' % ', '.join(
            '%s %d' % kv for kv in sorted(stats['by_method'].items())))
        say('rule_violations = %d (requests the HMC refuses by its rules%s)'
            % (stats['rule_violations'],
               ': %s' % stats['rule_violations_by_rule']
               if stats['rule_violations'] else ''))


class _Step(object):

    def __init__(self, timeline, title):
        self.timeline = timeline
        self.title = title

    def __enter__(self):
        say('-> %s ...' % self.title)
        self.t0 = time.monotonic()
        self.r0 = self.timeline.sim.stats()['total']
        return self

    def __exit__(self, exc_type, exc, tb):
        seconds = time.monotonic() - self.t0
        requests = self.timeline.sim.stats()['total'] - self.r0
        if exc_type is None:
            self.timeline.rows.append((self.title, seconds, requests))
            say('   done in %.2f s (%d HMC requests)' % (seconds, requests))
        else:
            say('   FAILED after %.2f s: %s' % (seconds, exc))
        return False


class Demo(base.DPMNovaTestCase):
    """The demo scenario, run on the same harness as the end-to-end tests."""

    JOB_DURATION = 1.0
    SERVERS = 3
    OUTAGE_SECONDS = 4

    def test_demo(self):
        sim = self.sim
        machine = inventory.MACHINES[self.INVENTORY]
        say('HMC simulator: https://%s:%d (TLS verified with %s)'
            % (sim.host, sim.port, sim.ca_file))
        say('CPC kind: %s (%s; %s)' % (
            machine.name,
            'storage groups, boot from storage volumes'
            if machine.storage_management else 'HBAs',
            'NICs by adapter port, no virtual switches'
            if machine.network_express else 'OSA NICs by virtual switch'))
        say('CPC object-id: %s; HMC jobs take %.1f s'
            % (sim.cpc_object_id, self.JOB_DURATION))
        say('Nova: API, conductor, scheduler, placement and nova-compute '
            'with compute_driver = dpm.DPMDriver are up')
        timeline = Timeline(sim)

        with timeline.step('boot %d servers from volumes, 1 from an ISO'
                           % self.SERVERS):
            servers = [self._post_bfv('demo-%d' % i)
                       for i in range(self.SERVERS)]
            servers.append(self._post_iso('demo-iso'))
            servers = [self._wait_for_state_change(s, 'ACTIVE',
                                                   max_retries=60)
                       for s in servers]
            say('   ISO images mounted on the HMC: %d'
                % sim.resources()['iso_mounts'])

        say('   partitions on the HMC:')
        for name in self.partitions():
            say('     %s' % name)
        for server in servers:
            say('   server %s: %s, power state %s' % (
                server['name'], server['status'],
                power_state.STATE_MAP[server['OS-EXT-STS:power_state']]))

        with timeline.step('HMC outage of %d s while stopping %s'
                           % (self.OUTAGE_SECONDS, servers[0]['name'])):
            sim.down()
            self.api.post_server_action(servers[0]['id'], {'os-stop': None})
            time.sleep(self.OUTAGE_SECONDS)
            say('   HMC back up')
            sim.up()
            self._wait_for_state_change(servers[0], 'SHUTOFF',
                                        max_retries=60)
            errors = [s['name'] for s in self.api.get_servers()
                      if s['status'] == 'ERROR']
            self.assertEqual([], errors, 'servers in ERROR after outage')
            say('   stop completed after the HMC returned; no server in '
                'ERROR')

        with timeline.step('HMC sessions expire, then start %s'
                           % servers[0]['name']):
            sim.expire_sessions()
            self._start_server(servers[0])
            say('   nova-compute logged on again by itself')

        with timeline.step('delete all servers'):
            for server in servers:
                self.api.delete_server(server['id'])
            for server in servers:
                self._wait_until_deleted(server)

        left = sim.resources()
        self.assertEqual([], left['partitions'], 'partitions left behind')
        self.assertEqual(0, left['iso_mounts'], 'ISO images left mounted')
        self.assertEqual([], left['storage_groups'],
                         'storage groups left behind')
        self.assertEqual(0, left['storage_volumes'],
                         'storage volumes left behind')
        say('   left on the HMC: %d partitions, %d NICs, %d HBAs, %d '
            'storage groups, %d storage volumes, %d storage-group '
            'attachments, %d ISO images'
            % (len(left['partitions']), left['nics'], left['hbas'],
               len(left['storage_groups']), left['storage_volumes'],
               left['storage_group_attachments'], left['iso_mounts']))
        say('   HMC sessions nova-compute keeps logged on for its pool: %d'
            % left['sessions_active'])
        timeline.summary()

    def _post_iso(self, name):
        data = b'ISO9660 demo image' * 4096
        image_id = str(uuid.uuid4())
        self.glance.create(nova_context.get_admin_context(), {
            'id': image_id, 'name': 'demo.iso', 'status': 'active',
            'container_format': 'bare', 'disk_format': 'iso',
            'min_ram': 0, 'min_disk': 0, 'size': len(data),
            'properties': {'architecture': 's390x'}}, data=io.BytesIO(data))
        server = self._build_server(name=name, image_uuid=image_id,
                                    flavor_id=self.flavor_id,
                                    networks='none')
        return self.api.post_server({'server': server})

    def _post_bfv(self, name):
        server = self._build_server(name=name, image_uuid='',
                                    flavor_id=self.flavor_id,
                                    networks='none')
        server['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': str(uuid.uuid4()),
            'source_type': 'volume', 'destination_type': 'volume'}]
        return self.api.post_server({'server': server})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--inventory', choices=inventory.INVENTORIES,
                        default=inventory.DEFAULT_INVENTORY,
                        help='simulated CPC kind (default: %(default)s)')
    args = parser.parse_args(argv)
    Demo.INVENTORY = args.inventory
    # Nova's thread pools log their shutdown after the test's log capture
    # has ended; that is noise here.
    logging.getLogger('nova.thread_pool_factory').setLevel(logging.WARNING)
    say('nova-dpm demo: starting the HMC simulator (%s) and in-process Nova'
        % args.inventory)
    started = time.monotonic()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Demo)
    result = unittest.TextTestRunner(stream=open(os.devnull, 'w'),
                                     verbosity=0).run(suite)
    for _, trace in result.errors + result.failures:
        log = os.path.abspath('demo-failure.log')
        with open(log, 'w') as f:
            f.write(trace)
        reason = [line for line in trace.splitlines()
                  if line.startswith(('AssertionError', 'nova.exception',
                                      'Exception', 'RuntimeError'))]
        say()
        say('The demo failed: %s' % (reason[-1] if reason else
                                     'see %s' % log)[:400])
        say('Traceback and service logs: %s' % log)
    ok = result.wasSuccessful() and result.testsRun == 1
    say()
    say('demo %s in %.1f s' % ('succeeded' if ok else 'FAILED',
                               time.monotonic() - started))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
