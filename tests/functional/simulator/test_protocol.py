# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The simulator speaks the HMC protocol to an unmodified zhmcclient."""

import io
import json
import os
import stat
import tempfile
import threading
import time
from unittest import mock

import requests
import zhmcclient

from nova_dpm.simulator import HMCSimulator
from nova_dpm.simulator import inventory
from nova_dpm.simulator import SimulatorError
from tests.functional.simulator import base


class SessionTest(base.SimulatorTestCase):

    def test_version_is_answered_without_logon(self):
        client = zhmcclient.Client(self.session())
        version = client.query_api_version()
        self.assertEqual('2.16.0', version['hmc-version'])
        self.assertEqual(0, self.sim.stats()['logons'])

    def test_logon_over_verified_tls_and_logoff_ends_session(self):
        session = self.session()
        session.logon()
        self.assertTrue(session.is_logon(verify=True))
        self.assertEqual(1, self.sim.stats()['sessions_active'])
        session.logoff()
        stats = self.sim.stats()
        self.assertEqual(0, stats['sessions_active'])
        self.assertEqual(1, stats['logons'])

    def test_untrusted_certificate_is_refused_by_client(self):
        session = zhmcclient.Session(
            self.sim.host, self.sim.userid, self.sim.password,
            verify_cert=True, port=self.sim.port)
        self.assertRaises(zhmcclient.ConnectionError, session.logon)

    def test_wrong_password_gets_403_reason_0(self):
        session = self.session(password='not-the-password')
        exc = self.assertRaises(zhmcclient.ServerAuthError, session.logon)
        self.assertEqual(403, exc.details.http_status)
        self.assertEqual(0, exc.details.reason)
        self.assertEqual(0, self.sim.stats()['sessions_active'])

    def _raw_get(self, path, session_id=None):
        headers = {'X-API-Session': session_id} if session_id else {}
        return requests.get('https://%s:%d%s' % (
            self.sim.host, self.sim.port, path), headers=headers,
            verify=self.sim.ca_file, timeout=5)

    def test_missing_session_header_gets_403_reason_4(self):
        response = self._raw_get('/api/cpcs')
        self.assertEqual(403, response.status_code)
        body = response.json()
        self.assertEqual((403, 4, 'GET', '/api/cpcs'), (
            body['http-status'], body['reason'], body['request-method'],
            body['request-uri']))
        self.assertIn('message', body)

    def test_unknown_session_gets_403_reason_5(self):
        response = self._raw_get('/api/cpcs', session_id='deadbeef')
        self.assertEqual(403, response.status_code)
        self.assertEqual(5, response.json()['reason'])

    def test_logged_off_session_is_no_longer_accepted(self):
        session = self.session()
        session.logon()
        session_id = session.session_id
        session.logoff()
        self.assertEqual(5, self._raw_get('/api/cpcs', session_id).json()[
            'reason'])


class PartitionLifecycleTest(base.SimulatorTestCase):

    def test_create_start_stop_delete_through_jobs(self):
        session = self.session()
        cpc = self.cpc(session)
        partition = self.create_partition(cpc)
        self.assertEqual('stopped', self.status(partition))

        job = partition.start(wait_for_completion=False)
        self.assertEqual('starting', self.status(partition))
        self.assertEqual('running', session.get(job.uri)['status'])
        body = self.wait_for_job(session, job.uri)
        self.assertEqual('complete', body['status'])
        self.assertIn(body['job-status-code'], (200, 204))
        self.assertEqual('active', self.status(partition))
        job.delete()
        self.assertRaises(zhmcclient.HTTPError, session.get, job.uri)

        job = partition.stop(wait_for_completion=False)
        self.assertEqual('stopping', self.status(partition))
        self.wait_for_job(session, job.uri)
        self.assertEqual('stopped', self.status(partition))

        partition.delete()
        self.assertEqual([], self.sim.resources()['partitions'])

    def test_running_job_cannot_be_deleted(self):
        session = self.session()
        partition = self.create_partition(self.cpc(session))
        job = partition.start(wait_for_completion=False)
        exc = self.assertRaises(zhmcclient.HTTPError, job.delete)
        self.assertEqual((409, 40), (exc.http_status, exc.reason))

    def test_job_duration_can_be_set_per_operation(self):
        self.sim.set_job_duration(0.05, operation='start')
        session = self.session()
        partition = self.create_partition(self.cpc(session))
        started = time.monotonic()
        job = partition.start(wait_for_completion=False)
        self.wait_for_job(session, job.uri)
        self.assertLess(time.monotonic() - started, base.JOB_SECONDS)
        started = time.monotonic()
        job = partition.stop(wait_for_completion=False)
        self.wait_for_job(session, job.uri)
        self.assertGreaterEqual(time.monotonic() - started, base.JOB_SECONDS)

    def test_a_list_of_durations_is_taken_in_turn_by_successive_jobs(self):
        self.sim.set_job_duration([0.05, 0.6], operation='start')
        session = self.session()
        cpc = self.cpc(session)
        quick, slow, quick_again = [
            self.create_partition(cpc, 'part-%d' % n) for n in range(3)]
        took = []
        for partition in (quick, slow, quick_again):
            started = time.monotonic()
            job = partition.start(wait_for_completion=False)
            self.wait_for_job(session, job.uri)
            took.append(time.monotonic() - started)
        self.assertLess(took[0], 0.5)
        self.assertGreaterEqual(took[1], 0.6)
        self.assertLess(took[2], 0.5)

    def test_a_bad_list_of_durations_is_refused(self):
        for seconds, operation in (([], 'start'), ([1, -1], 'start'),
                                   ([1, 'x'], 'start'), ([1, 2], None)):
            self.assertRaises(ValueError, self.sim.set_job_duration,
                              seconds, operation)

    def test_deleting_active_partition_gets_409_reason_1(self):
        session = self.session()
        partition = self.create_partition(self.cpc(session))
        self.wait_for_job(session,
                          partition.start(wait_for_completion=False).uri)
        exc = self.assertRaises(zhmcclient.HTTPError, partition.delete)
        self.assertEqual((409, 1), (exc.http_status, exc.reason))
        self.assertEqual(['part-1'], self.sim.resources()['partitions'])

    def test_duplicate_partition_name_gets_400_reason_8(self):
        cpc = self.cpc(self.session())
        self.create_partition(cpc, 'dup')
        exc = self.assertRaises(zhmcclient.HTTPError, self.create_partition,
                                cpc, 'dup')
        self.assertEqual((400, 8), (exc.http_status, exc.reason))
        self.assertEqual(['dup'], self.sim.resources()['partitions'])

    def test_list_partitions_returns_additional_properties(self):
        cpc = self.cpc(self.session())
        self.create_partition(cpc, 'a')
        self.create_partition(cpc, 'b')
        self.sim.reset_stats()
        listed = cpc.partitions.list(
            additional_properties=['initial-memory', 'ifl-processors'])
        self.assertEqual({('a', 4096, 2), ('b', 4096, 2)}, {
            (p.properties['name'], p.properties['initial-memory'],
             p.properties['ifl-processors']) for p in listed})
        self.assertEqual(1, self.sim.stats()['total'])

    def test_cpc_has_driver_properties_and_can_be_changed(self):
        cpc = self.cpc(self.session())
        cpc.pull_full_properties()
        self.assertTrue(cpc.get_property('dpm-enabled'))
        self.assertEqual('3931', cpc.get_property('machine-type'))
        self.assertEqual(40, cpc.get_property('processor-count-ifl'))
        features = {f['name']: f['state']
                    for f in cpc.get_property('available-features-list')}
        self.assertTrue(features['dpm-storage-management'])
        self.sim.update_cpc({'dpm-enabled': False})
        exc = self.assertRaises(zhmcclient.HTTPError, self.create_partition,
                                cpc)
        self.assertEqual((409, 5), (exc.http_status, exc.reason))


class DriverExtrasTest(base.SimulatorTestCase):

    def test_storage_group_attach_and_detach(self):
        session = self.session()
        client = zhmcclient.Client(session)
        cpc = self.cpc(session)
        partition = self.create_partition(cpc)
        group = client.consoles.console.storage_groups.create({
            'name': 'sg-1', 'cpc-uri': cpc.uri, 'type': 'fcp'})
        partition.attach_storage_group(group)
        self.assertEqual([group.uri], [
            g.uri for g in partition.list_attached_storage_groups()])
        self.assertEqual(1,
                         self.sim.resources()['storage_group_attachments'])
        exc = self.assertRaises(zhmcclient.HTTPError,
                                partition.attach_storage_group, group)
        self.assertEqual(409, exc.http_status)
        partition.detach_storage_group(group)
        self.assertEqual(0,
                         self.sim.resources()['storage_group_attachments'])

    def test_os_messages_show_boot_lines_of_active_partition(self):
        session = self.session()
        partition = self.create_partition(self.cpc(session))
        self.assertEqual([], partition.list_os_messages()['os-messages'])
        self.wait_for_job(session,
                          partition.start(wait_for_completion=False).uri)
        messages = partition.list_os_messages()['os-messages']
        self.assertGreater(len(messages), 3)
        self.assertIn('part-1', messages[0]['message-text'])
        later = partition.list_os_messages(begin=2)['os-messages']
        self.assertEqual(messages[2:], later)

    def test_mount_iso_streams_body_and_keeps_only_its_size(self):
        partition = self.create_partition(self.cpc(self.session()))
        size = 48 * 1024 * 1024

        def chunks():
            piece = b'\0' * (1024 * 1024)
            for _ in range(size // len(piece)):
                yield piece

        partition.mount_iso_image(chunks(), 'install.iso', 'generic.ins')
        partition.pull_full_properties()
        self.assertEqual('install.iso',
                         partition.get_property('boot-iso-image-name'))
        self.assertEqual(1, self.sim.resources()['iso_mounts'])
        partition.unmount_iso_image()
        self.assertEqual(0, self.sim.resources()['iso_mounts'])
        partition.mount_iso_image(io.BytesIO(b'x' * 1000), 'small.iso',
                                  'generic.ins')
        self.assertEqual(1, self.sim.resources()['iso_mounts'])

    def test_nics_are_counted_for_leak_checks(self):
        session = self.session()
        partition = self.create_partition(self.cpc(session))
        vswitch = '/api/virtual-switches/' + inventory.VSWITCH_OID
        nic = partition.nics.create({'name': 'eth0',
                                     'virtual-switch-uri': vswitch})
        self.assertEqual(1, self.sim.resources()['nics'])
        nic.delete()
        self.assertEqual(0, self.sim.resources()['nics'])


class AccountingTest(base.SimulatorTestCase):

    def test_every_request_is_counted_by_method_and_template(self):
        session = self.session()
        cpc = self.cpc(session)           # logon + GET /api/cpcs
        partition = self.create_partition(cpc)
        job = partition.start(wait_for_completion=False)
        self.wait_for_job(session, job.uri)
        stats = self.sim.stats()
        polls = stats['by_call']['GET /api/jobs/{id}']
        self.assertGreaterEqual(polls, 1)
        self.assertEqual({
            'POST /api/sessions': 1,
            'GET /api/cpcs': 1,
            'POST /api/cpcs/{id}/partitions': 1,
            'POST /api/partitions/{id}/operations/start': 1,
            'GET /api/jobs/{id}': polls,
        }, stats['by_call'])
        self.assertEqual(4 + polls, stats['total'])
        self.assertEqual({'GET': 1 + polls, 'POST': 3}, stats['by_method'])
        self.assertEqual(1, stats['by_uri']['/api/cpcs/{id}/partitions'])
        self.sim.reset_stats()
        self.assertEqual(0, self.sim.stats()['total'])

    def test_concurrent_clients_are_served_concurrently(self):
        self.sim.set_latency(0.3)
        sessions = [self.session() for _ in range(4)]
        errors = []

        def call(session):
            try:
                session.get('/api/version', logon_required=False)
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=call, args=(s,))
                   for s in sessions]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual([], errors)
        self.assertLess(time.monotonic() - started, 0.9)
        self.assertEqual(4, self.sim.stats()['total'])


class StateDirTest(base.SimulatorTestCase):

    def test_state_files_name_everything_but_the_password(self):
        state = os.path.join(self.sim.state_dir, 'simulator.json')
        with open(state) as f:
            info = json.load(f)
        self.assertEqual((self.sim.port, self.sim.cpc_object_id,
                          self.sim.ca_file),
                         (info['port'], info['cpc_object_id'],
                          info['ca_file']))
        with open(state) as f:
            self.assertNotIn(self.sim.password, f.read())
        password_file = os.path.join(self.sim.state_dir, 'password')
        self.assertEqual(0o600, stat.S_IMODE(os.stat(password_file).st_mode))
        with open(password_file) as f:
            self.assertEqual(self.sim.password, f.read().strip())

    def test_certificates_are_reused_and_reissued_for_new_addresses(self):
        state_dir = self.useFixture(
            __import__('fixtures').TempDir()).path
        with HMCSimulator(state_dir=state_dir) as first:
            with open(first.ca_file, 'rb') as f:
                ca = f.read()
            with open(os.path.join(state_dir, 'server.pem'), 'rb') as f:
                server_cert = f.read()
        with HMCSimulator(state_dir=state_dir) as again:
            with open(again.ca_file, 'rb') as f:
                self.assertEqual(ca, f.read())
            with open(os.path.join(state_dir, 'server.pem'), 'rb') as f:
                self.assertEqual(server_cert, f.read())
        with HMCSimulator(hosts=['127.0.0.1', '127.0.0.3'],
                          state_dir=state_dir) as wider:
            with open(wider.ca_file, 'rb') as f:
                self.assertEqual(ca, f.read())
            with open(os.path.join(state_dir, 'server.pem'), 'rb') as f:
                self.assertNotEqual(server_cert, f.read())
            session = zhmcclient.Session(
                '127.0.0.3', wider.userid, wider.password,
                verify_cert=wider.ca_file, port=wider.port)
            session.logon()
            session.logoff()

    def test_yaml_inventory_is_loaded(self):
        path = os.path.join(self.sim.state_dir, 'hmc.yaml')
        with open(path, 'w') as f:
            f.write(YAML_INVENTORY)
        with HMCSimulator(inventory=path) as sim:
            self.assertEqual('cpc-yaml-1', sim.cpc_object_id)
            session = zhmcclient.Session(sim.host, sim.userid, sim.password,
                                         verify_cert=sim.ca_file,
                                         port=sim.port)
            cpcs = zhmcclient.Client(session).cpcs.list()
            self.assertEqual(['YAMLCPC'], [c.name for c in cpcs])
            session.logoff()

    def test_invalid_inventory_raises_one_line_error(self):
        path = os.path.join(self.sim.state_dir, 'bad.yaml')
        with open(path, 'w') as f:
            f.write('hmc_definition: [unclosed\n')
        sim = HMCSimulator(inventory=path)
        exc = self.assertRaises(SimulatorError, sim.start)
        self.assertIn('bad.yaml', str(exc))
        self.assertNotIn('\n', str(exc))
        # Nothing is left of the failed start: no temporary state directory.
        self.assertIsNone(sim.state_dir)

    def test_port_in_use_leaves_no_temporary_directory(self):
        created = []

        def mkdtemp(**kwargs):
            created.append(real_mkdtemp(**kwargs))
            return created[-1]

        real_mkdtemp = tempfile.mkdtemp
        sim = HMCSimulator(port=self.sim.port)
        with mock.patch.object(tempfile, 'mkdtemp', mkdtemp):
            exc = self.assertRaises(SimulatorError, sim.start)
        self.assertIn('cannot listen', str(exc))
        self.assertEqual(1, len(created))
        self.assertFalse(os.path.exists(created[0]))


YAML_INVENTORY = """\
hmc_definition:
  host: hmc1
  api_version: '4.10'
  consoles:
    - properties:
        name: HMC1
        version: '2.16.0'
  cpcs:
    - properties:
        object-id: cpc-yaml-1
        name: YAMLCPC
        dpm-enabled: true
        status: active
"""
