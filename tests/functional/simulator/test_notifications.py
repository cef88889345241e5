"""The simulator's STOMP endpoint, received by zhmcclient over TLS."""

import queue
import threading

import fixtures
import testtools
import zhmcclient

from nova_dpm.hmc import stomp_tls
from nova_dpm.simulator import HMCSimulator
from nova_dpm import stomp_passcodes

PASSWORD = 'Wombat-Pw-5e2b91'
WAIT = 5.0
#: zhmcclient reports a lost connection after its heartbeat receive cycle
#: (5 s) + 1 s of quiet on the handover queue.
DISCONNECT_SEEN = 10.0


class NotificationEndpointTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        # a failure's captured log must not show the password either
        stomp_passcodes.hide_passcodes('stomp.py')
        self.sim = HMCSimulator(job_duration=0.5, password=PASSWORD)
        self.sim.start()
        self.addCleanup(self.sim.stop)
        # zhmcclient's synchronous stop() polls every 10 s: make it instant
        self.sim.set_job_duration(0, operation='stop')
        self.session = zhmcclient.Session(
            self.sim.host, self.sim.userid, PASSWORD, port=self.sim.port,
            verify_cert=self.sim.ca_file)
        self.session.logon()
        self.addCleanup(self.session.logoff)
        self.client = zhmcclient.Client(self.session)
        cpc = self.client.cpcs.find(
            **{'object-uri': '/api/cpcs/' + self.sim.cpc_object_id})
        self.partition = cpc.partitions.create({
            'name': 'notified', 'initial-memory': 1024,
            'maximum-memory': 1024, 'ifl-processors': 1})
        self.addCleanup(self.partition.delete)
        self.description = self.partition.get_property('description')
        self.addCleanup(self.stop_partition)

    def stop_partition(self):
        self.partition.pull_properties(['status'])
        if self.partition.properties['status'] != 'stopped':
            self.partition.stop()

    def receive(self, password=PASSWORD, heartbeat=None):
        """A NotificationReceiver on both topics; its notifications queue."""
        receiver = self.receiver = zhmcclient.NotificationReceiver(
            [self.session.job_topic, self.session.object_topic],
            self.sim.host, self.sim.userid, password,
            port=self.sim.notification_port, verify_cert=self.sim.ca_file,
            stomp_rt_config=zhmcclient.StompRetryTimeoutConfig(
                heartbeat_send_cycle=heartbeat,
                heartbeat_receive_cycle=heartbeat))
        # stomp.py reads and writes one TLS socket from two threads, which
        # now and then ends the connection on the client's side; what
        # nova-compute uses does not (nova_dpm.hmc.stomp_tls)
        receiver._stomp = stomp_tls
        received = queue.Queue()

        def run():
            try:
                for headers, message in receiver.notifications():
                    received.put((headers, message))
            except Exception as exc:  # noqa: B902 - handed to the test
                received.put((None, exc))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.addCleanup(thread.join, WAIT)
        self.addCleanup(receiver.close)
        return received

    def next_of(self, received, kind, timeout=WAIT):
        while True:
            headers, message = received.get(timeout=timeout)
            if headers is None:
                raise message
            if headers.get('notification-type') == kind:
                return headers, message

    def start_partition(self):
        return self.partition.start(wait_for_completion=False)

    def assert_partition_became(self, received, status):
        headers, message = self.next_of(received, 'status-change')
        while message['change-reports'][0]['new-status'] != status:
            headers, message = self.next_of(received, 'status-change')
        self.assertEqual(self.partition.uri, headers['object-uri'])

    def test_job_completion_and_status_change_arrive_over_tls(self):
        received = self.receiving()
        job = self.start_partition()
        self.sim.reset_stats()
        headers, _ = self.next_of(received, 'job-completion')
        self.assertEqual(job.uri, headers['job-uri'])
        # completed by the HMC itself: nobody asked
        self.assertEqual(0, self.sim.stats()['total'])
        self.assert_partition_became(received, 'active')
        self.session.delete(job.uri)

    def test_property_change_arrives(self):
        received = self.receiving()
        self.partition.update_properties({'description': 'renamed'})
        headers, message = self.next_of(received, 'property-change')
        self.assertEqual(self.partition.uri, headers['object-uri'])
        self.assertEqual([{'property-name': 'description',
                           'old-value': self.description,
                           'new-value': 'renamed'}],
                         message['change-reports'])

    def test_lost_job_completion_is_never_sent(self):
        received = self.receiving()
        self.sim.lose_notifications(1, kind='job-completion')
        job = self.start_partition()
        self.assert_partition_became(received, 'active')
        self.assertRaises(queue.Empty, self.next_of, received,
                          'job-completion', 1.0)
        self.assertEqual(1, self.sim.stats()['notifications_lost'])
        self.session.delete(job.uri)

    def test_late_notification_arrives_late(self):
        received = self.receiving()
        self.sim.delay_notifications(1.5)
        job = self.start_partition()
        self.assertRaises(queue.Empty, received.get, timeout=1.0)
        headers, _ = self.next_of(received, 'job-completion')
        self.assertEqual(job.uri, headers['job-uri'])
        self.session.delete(job.uri)

    def test_dropped_connection_ends_the_receiver(self):
        received = self.receiving()
        self.assertEqual(1, self.sim.drop_notification_connections())
        self.assertRaises(zhmcclient.NotificationConnectionError,
                          self.next_of, received, 'job-completion',
                          DISCONNECT_SEEN)

    def test_topic_subscribed_after_heart_beats_delivers(self):
        # nova-compute subscribes the job topic of a session that logs on
        # later on the live connection, long after the receiver's first
        # heart-beat (an EOL between frames).
        received = self.receiving(heartbeat=1.0)
        threading.Event().wait(1.5)   # a heart-beat from the receiver
        later = zhmcclient.Session(
            self.sim.host, self.sim.userid, PASSWORD, port=self.sim.port,
            verify_cert=self.sim.ca_file)
        later.logon()
        self.addCleanup(later.logoff)
        self.receiver.subscribe(later.job_topic)
        self.wait_for_stat('notification_subscribes', 3)
        job = later.post(self.partition.uri + '/operations/start')
        headers, _ = self.next_of(received, 'job-completion')
        self.assertEqual(job.uri, headers['job-uri'])
        later.delete(job.uri)

    def test_unsubscribing_by_id_ends_a_topic(self):
        # STOMP 1.1: UNSUBSCRIBE names the subscription id only
        received = self.receiving()
        self.receiver.unsubscribe(self.session.job_topic)
        self.wait_for_stat('notification_unsubscribes', 1)
        job = self.session.post(self.partition.uri + '/operations/start')
        self.addCleanup(self.session.delete, job.uri)
        # the status change on the object topic still comes; the job's
        # completion does not
        self.next_of(received, 'status-change')
        self.assertRaises(queue.Empty, self.next_of, received,
                          'job-completion', 1.5)
        self.assertTrue(self.receiver.is_connected())

    def test_wrong_password_is_refused(self):
        received = self.receive(password='not-it')
        self.assertRaises(zhmcclient.NotificationConnectionError,
                          self.next_of, received, 'job-completion')

    def receiving(self, heartbeat=None):
        """Notifications go to subscribers only: wait for the receiver."""
        received = self.receive(heartbeat=heartbeat)
        self.wait_for_stat('notification_subscribes', 2)   # both topics
        return received

    def wait_for_stat(self, name, least):
        """Until the broker has counted ``least`` of ``name``."""
        deadline = WAIT
        while self.sim.stats()[name] < least:
            self.assertGreater(deadline, 0, '%s stayed below %d' % (
                name, least))
            threading.Event().wait(0.05)
            deadline -= 0.05
