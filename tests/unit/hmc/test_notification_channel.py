"""The channel's topics follow the pooled sessions (no STOMP here)."""

import types

import testtools

from nova_dpm.hmc import notifications
from nova_dpm.hmc import settings as settings_mod
from nova_dpm.hmc import waiters


def session(n):
    return types.SimpleNamespace(session_id='s%d' % n,
                                 job_topic='job-%d' % n,
                                 object_topic='obj-%d' % n)


class FakeReceiver(object):
    def __init__(self, ready=True, fail=False):
        self.ready = ready
        self.fail = fail
        self.subscribed = []
        self.unsubscribed = []
        self.stopped = False

    def subscribe(self, topic):
        if self.fail:
            raise RuntimeError('not connected')
        self.subscribed.append(topic)

    def unsubscribe(self, topic):
        self.unsubscribed.append(topic)

    def stop(self):
        self.stopped = True


class ChannelTopicsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.channel = notifications.NotificationChannel(
            settings_mod.HMCSettings(hosts=('h',), userid='u', password='p',
                                     notifications=True),
            waiters.WaitRegistry(), lambda: 'h')

    def test_job_topic_of_every_session_and_one_object_topic(self):
        self.channel.add_session(session(1))
        self.channel.add_session(session(2))
        self.assertEqual(['job-1', 'job-2', 'obj-1'],
                         sorted(self.channel._wanted_topics()))

    def test_a_new_session_is_subscribed_on_the_connected_receiver(self):
        self.channel.add_session(session(1))
        receiver = self.channel._receiver = FakeReceiver()
        self.channel._subscribed = {'job-1', 'obj-1'}
        self.channel.add_session(session(2))
        self.assertEqual(['job-2'], receiver.subscribed)
        self.assertFalse(receiver.stopped)

    def test_a_receiver_still_connecting_is_replaced(self):
        self.channel.add_session(session(1))
        receiver = self.channel._receiver = FakeReceiver(ready=False)
        self.channel.add_session(session(2))
        self.assertTrue(receiver.stopped)

    def test_a_failed_subscription_replaces_the_receiver(self):
        receiver = self.channel._receiver = FakeReceiver(fail=True)
        self.channel.add_session(session(1))
        self.assertTrue(receiver.stopped)

    def connected(self, *sessions):
        for each in sessions:
            self.channel.add_session(each)
        receiver = self.channel._receiver = FakeReceiver()
        self.channel._subscribed = set(self.channel._wanted_topics())
        return receiver

    def test_losing_the_object_topic_session_subscribes_another(self):
        first, second = session(1), session(2)
        receiver = self.connected(first, second)
        self.channel.remove_session(first)
        self.assertEqual(['obj-2'], receiver.subscribed)
        self.assertEqual(['job-1', 'obj-1'], sorted(receiver.unsubscribed))
        self.assertEqual({'job-2', 'obj-2'}, self.channel._subscribed)
        self.assertFalse(receiver.stopped)

    def test_a_session_logged_on_again_has_its_new_topics_subscribed(self):
        # zhmcclient renews an expired session in place: new topics
        first, second = session(1), session(2)
        receiver = self.connected(first, second)
        first.job_topic, first.object_topic = 'job-1b', 'obj-1b'
        self.channel.add_session(first)
        self.assertEqual(['job-1b', 'obj-1b'], sorted(receiver.subscribed))
        self.assertEqual(['job-1', 'obj-1'], sorted(receiver.unsubscribed))
        self.assertEqual({'job-1b', 'job-2', 'obj-1b'},
                         self.channel._subscribed)
        self.assertFalse(receiver.stopped)
        # a reconnect subscribes the live topics too
        self.assertEqual(['job-1b', 'job-2', 'obj-1b'],
                         sorted(self.channel._wanted_topics()))

    def test_missing_notifications_move_the_object_topic_on(self):
        # the object topic's session may have expired unnoticed
        receiver = self.connected(session(1), session(2))
        self.channel.resubscribe()
        self.assertTrue(receiver.stopped)
        self.assertIn('obj-2', self.channel._wanted_topics())
        self.channel.resubscribe()
        self.assertIn('obj-1', self.channel._wanted_topics())

    def test_sessions_without_topics_are_ignored(self):
        self.channel.add_session(types.SimpleNamespace(session_id='x'))
        self.assertEqual([], self.channel._wanted_topics())

    def test_status_says_down_until_subscribed(self):
        self.assertEqual('down', self.channel.status()['notifications'])
        self.channel._ready()
        self.assertEqual('up', self.channel.status()['notifications'])
