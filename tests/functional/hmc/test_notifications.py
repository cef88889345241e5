"""Jobs and statuses seen by HMC notification, with polling as fallback.

Real zhmcclient over real TLS (HTTPS and STOMP) against the simulator,
the faults injected there: the notification connection dropped mid-job,
a lost notification, a late one.  The quiet time before a covered wait
polls is cut from 15 s to QUIET so that the fallback shows in seconds.
"""

import threading
import time

import fixtures
from nova import exception

from nova_dpm.hmc import connections
from nova_dpm.hmc import cpc as cpc_mod
from nova_dpm.hmc import waiters
from tests.functional.hmc import base

JOB_POLL = 'GET /api/jobs/{id}'
STATUS_GET = 'GET /api/partitions/{id}'
#: The quiet time of covered waits in these tests (15 s in production).
QUIET = 3.0
#: A start job's simulated duration.
JOB = 1.5


class NotificationWaitTest(base.SupervisorTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova_dpm.hmc.polling.QUIET', QUIET))
        self.threads_before = set(threading.enumerate())
        self.sim.set_job_duration(0.0, operation='stop')
        self.addCleanup(self.sim.clear_faults)

    def managed_cpc(self, notifications=True, cleanup=True):
        # stomp.py keeps the STOMP connect timeout (the connect_timeout,
        # at most 10 s) as its socket's read timeout: the base's 2 s would
        # drop a channel between the HMC's 5 s heart-beats, and every
        # reconnect makes waits poll.
        sup = self.supervisor(notifications=notifications,
                              notification_port=self.sim.notification_port,
                              connect_timeout=10)
        if notifications:
            self.wait_until(lambda: sup.status()['notifications'] == 'up',
                            'the notification channel never came up')
        cpc = cpc_mod.ManagedCpc(sup, self.sim.cpc_object_id,
                                 status_timeout=10, operation_timeout=60)
        uri = cpc.create_partition(
            {'name': 'notified-%d' % len(self.sim.resources()['partitions']),
             'initial-memory': 1024, 'maximum-memory': 1024,
             'ifl-processors': 1}, failure=exception.InstanceDeployFailure)
        if cleanup:
            self.addCleanup(cpc.delete_partition, uri,
                            exception.InstanceTerminationFailure)
            self.addCleanup(cpc.stop_partition, uri,
                            exception.InstancePowerOffFailure)
        return sup, cpc, uri

    def wait_until(self, condition, message, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not condition():
            self.assertLess(time.monotonic(), deadline, message)
            time.sleep(0.05)

    def start(self, cpc, uri, duration=JOB):
        """Start a ``duration`` s job: (seconds after its end, job GETs).

        ``self.requests``: the requests the start made, by call.
        """
        self.sim.set_job_duration(duration, operation='start')
        self.sim.reset_stats()
        started = time.monotonic()
        cpc.start_partition(uri, exception.InstancePowerOnFailure,
                            known_status='stopped')
        seen = time.monotonic() - started - duration
        self.requests = self.sim.stats()['by_call']
        self.assertEqual('active', cpc.partition_status(uri))
        return seen, self.requests.get(JOB_POLL, 0)

    def test_a_job_is_seen_at_once_with_one_request(self):
        sup, cpc, uri = self.managed_cpc()
        seen, polls = self.start(cpc, uri)
        # the notification ends the wait; one GET confirms it and reads
        # the results (polling: about 10 GETs for 1.5 s)
        self.assertEqual(1, polls)
        self.assertLess(seen, 0.5)
        self.assertEqual(1, self.requests[STATUS_GET])
        # nova-dpm-status reads it from the status file
        entry = connections.load_state(self.state_dir)['connections'][
            'nova-compute:test']
        self.assertEqual(('up', None), (entry['notifications'],
                                        entry['notification_error']))

    def test_polling_costs_more_requests(self):
        sup, cpc, uri = self.managed_cpc(notifications=False)
        self.assertEqual('off', sup.status()['notifications'])
        seen, polls = self.start(cpc, uri)
        self.assertGreaterEqual(polls, 8)
        self.assertEqual(0, self.sim.stats()['notification_connections'])

    def test_channel_dropped_mid_job_falls_back_to_polling(self):
        sup, cpc, uri = self.managed_cpc()
        self.later(0.5, self.sim.drop_notification_connections)
        seen, polls = self.start(cpc, uri, duration=2.0)
        # polled from the drop on: seen within the schedule's 0.25 s
        self.assertLess(seen, 0.6)
        self.assertGreater(polls, 1)
        # and the channel comes back by itself
        self.wait_until(lambda: sup.status()['notifications'] == 'up',
                        'the notification channel did not come back')
        cpc.stop_partition(uri, exception.InstancePowerOffFailure)
        seen, polls = self.start(cpc, uri)
        self.assertEqual(1, polls)

    def test_a_lost_notification_costs_the_quiet_time(self):
        sup, cpc, uri = self.managed_cpc()
        self.sim.lose_notifications(1, kind='job-completion')
        seen, polls = self.start(cpc, uri)
        self.assertEqual(1, self.sim.stats()['notifications_lost'])
        # no notification: the first poll after QUIET s finds it done
        self.assertGreater(seen, QUIET - JOB - 0.1)
        self.assertLess(seen, QUIET - JOB + 1.0)
        self.assertEqual(1, polls)

    def test_notifications_that_keep_missing_make_it_subscribe_again(self):
        sup, cpc, uri = self.managed_cpc()
        connects = sup.status()['notification_connects']
        # a start, a stop and a start whose completions never come
        self.sim.lose_notifications(waiters.MISSES_BEFORE_RESUBSCRIBE,
                                    kind='job-completion')
        self.start(cpc, uri)
        cpc.stop_partition(uri, exception.InstancePowerOffFailure)
        self.assertEqual(connects, sup.status()['notification_connects'])
        self.start(cpc, uri)
        self.wait_until(
            lambda: sup.status()['notification_connects'] > connects and
            sup.status()['notifications'] == 'up',
            'the channel did not connect again')
        # on the new connection the next job is notified again
        cpc.stop_partition(uri, exception.InstancePowerOffFailure)
        seen, polls = self.start(cpc, uri)
        self.assertEqual(1, polls)
        self.assertLess(seen, 0.5)

    def test_a_renewed_session_s_jobs_are_notified(self):
        sup, cpc, uri = self.managed_cpc()
        connects = sup.status()['notification_connects']
        # zhmcclient logs the session on again before it starts the job:
        # a new session id and a new job topic
        self.sim.expire_sessions()
        seen, polls = self.start(cpc, uri)
        self.assertEqual(1, polls)
        self.assertLess(seen, 0.5)
        # subscribed on the connection that was up (no reconnect)
        self.assertEqual(connects, sup.status()['notification_connects'])

    def test_a_renewed_session_s_status_changes_are_notified(self):
        sup, cpc, uri = self.managed_cpc()
        self.sim.expire_sessions()
        self.assert_status_change_ends_a_status_wait(sup, cpc, uri)

    def test_a_late_notification_is_waited_for(self):
        sup, cpc, uri = self.managed_cpc()
        self.sim.delay_notifications(1.0)
        seen, polls = self.start(cpc, uri, duration=0.5)
        self.assertGreater(seen, 0.9)
        self.assertLess(seen, 1.6)
        self.assertEqual(1, polls)

    def test_a_status_change_ends_a_status_wait(self):
        sup, cpc, uri = self.managed_cpc()
        self.assert_status_change_ends_a_status_wait(sup, cpc, uri)

    def assert_status_change_ends_a_status_wait(self, sup, cpc, uri):
        def someone_else_starts(client):
            client.session.post(uri + '/operations/start')
        self.sim.set_job_duration(2.0, operation='start')
        sup.call(someone_else_starts, what='start behind our back',
                 mutating=True)
        self.sim.reset_stats()
        started = time.monotonic()
        # starting: wait for the status to leave it, then it is active
        cpc.start_partition(uri, exception.InstancePowerOnFailure)
        self.assertLess(time.monotonic() - started, 2.5)
        # a look (starting), one after registering, the notification and
        # one look to confirm
        self.assertEqual(3, self.sim.stats()['by_call'][STATUS_GET])

    def test_close_leaves_no_thread_or_connection(self):
        sup, cpc, uri = self.managed_cpc(cleanup=False)
        self.start(cpc, uri, duration=0.2)
        self.assertEqual(1, self.sim.stats()['notification_connections'])
        cpc.stop_partition(uri, exception.InstancePowerOffFailure)
        cpc.delete_partition(uri, exception.InstanceTerminationFailure)
        started = time.monotonic()
        sup.stop()
        self.assertLess(time.monotonic() - started, 2.0)
        self.wait_until(
            lambda: self.sim.stats()['notification_connections'] == 0,
            'a STOMP connection is left after close', timeout=5)
        self.wait_until(lambda: not self.new_threads(),
                        'threads left after close', timeout=5)

    def new_threads(self):
        # threading.Timer threads of other libraries end by themselves
        return [t for t in threading.enumerate()
                if t not in self.threads_before and
                not isinstance(t, threading.Timer)]
