"""A long partition start against the simulator: few polls, seen soon."""

import time

from nova import exception

from nova_dpm.hmc import cpc as cpc_mod
from tests.functional.hmc import base

JOB_POLL = 'GET /api/jobs/{id}'


class PollScheduleTest(base.SupervisorTestCase):

    def setUp(self):
        super().setUp()
        self.sup = self.supervisor()
        self.cpc = cpc_mod.ManagedCpc(self.sup, self.sim.cpc_object_id,
                                      status_timeout=10,
                                      operation_timeout=60)
        self.uri = self.cpc.create_partition(
            {'name': 'long-start', 'initial-memory': 1024,
             'maximum-memory': 1024, 'ifl-processors': 1},
            failure=exception.InstanceDeployFailure)
        self.addCleanup(self.cpc.delete_partition, self.uri,
                        exception.InstanceTerminationFailure)
        self.addCleanup(self.cpc.stop_partition, self.uri,
                        exception.InstancePowerOffFailure)
        self.addCleanup(self.sim.set_job_duration, 0.0, operation='start')

    def test_ten_second_start_costs_few_polls_and_is_seen_soon(self):
        self.sim.set_job_duration(10.0, operation='start')
        self.sim.reset_stats()
        started = time.monotonic()
        self.cpc.start_partition(self.uri, exception.InstancePowerOnFailure,
                                 known_status='stopped')
        seconds = time.monotonic() - started
        self.assertEqual('active', self.cpc.partition_status(self.uri))
        # every 0.25 s: 42 polls; on the schedule: 28 (the ramp, 0.25 s to
        # 2.5 s, then 10 % of the time waited), a few more as the requests
        # take time too
        polls = self.sim.stats()['by_call'].get(JOB_POLL, 0)
        self.assertLessEqual(polls, 31)
        self.assertGreaterEqual(polls, 20)
        # seen within 10 % of 10 s (and the requests' own time)
        self.assertLess(seconds, 10.0 * 1.1 + 0.5)
