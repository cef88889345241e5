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

"""A simulator per test and a real zhmcclient.Session with TLS verified."""

import time

import fixtures
import testtools
import zhmcclient

from nova_dpm.simulator import HMCSimulator

JOB_SECONDS = 0.2


def read_banner(process):
    """What nova-dpm-hmc-simulator prints up to its ``State:`` line."""
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith('State:'):
            break
    return ''.join(lines)


class SimulatorTestCase(testtools.TestCase):
    """Starts an HMCSimulator (short jobs) and logs sessions off at the end."""

    hosts = ('127.0.0.1',)
    control_port = None
    inventory = None
    san = False

    def setUp(self):
        super(SimulatorTestCase, self).setUp()
        # Logs go with the test result (shown when it fails), not to the
        # runner's console.
        self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.sim = HMCSimulator(hosts=self.hosts, job_duration=JOB_SECONDS,
                                control_port=self.control_port,
                                inventory=self.inventory, san=self.san)
        self.sim.start()
        self.addCleanup(self.sim.stop)

    def session(self, host=None, password=None, **retry):
        retry.setdefault('connect_timeout', 5)
        retry.setdefault('read_timeout', 10)
        session = zhmcclient.Session(
            host or self.sim.host, self.sim.userid,
            password or self.sim.password, verify_cert=self.sim.ca_file,
            port=self.sim.port,
            retry_timeout_config=zhmcclient.RetryTimeoutConfig(**retry))
        self.addCleanup(self._logoff_quietly, session)
        return session

    @staticmethod
    def _logoff_quietly(session):
        try:
            session.logoff()
        except zhmcclient.Error:
            pass

    def cpc(self, session):
        client = zhmcclient.Client(session)
        return client.cpcs.find(
            **{'object-uri': '/api/cpcs/' + self.sim.cpc_object_id})

    def create_partition(self, cpc, name='part-1'):
        return cpc.partitions.create({
            'name': name, 'initial-memory': 4096, 'maximum-memory': 4096,
            'ifl-processors': 2})

    def wait_for_job(self, session, job_uri, timeout=5.0):
        """Poll the job like the supervisor does; return its final body."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = session.get(job_uri)
            if body['status'] != 'running':
                return body
            time.sleep(0.02)
        self.fail('job %s still running after %s s' % (job_uri, timeout))

    def status(self, partition):
        partition.pull_full_properties()
        return partition.get_property('status')
