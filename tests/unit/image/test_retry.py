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

"""The reconnect budget: progress resets it, idle failures back off."""

import tenacity
import testtools

from nova_dpm.image import retry


class TestReconnectPolicy(testtools.TestCase):

    def _run(self, outcomes, **kwargs):
        """Run attempts raising/returning *outcomes*; return the sleeps."""
        sleeps = []
        policy = retry.ReconnectPolicy(sleep=sleeps.append, **kwargs)
        retrying, state = policy.start(lambda: 'Image x')
        pending = list(outcomes)
        for attempt in retrying:
            with attempt:
                outcome = pending.pop(0)
                if outcome is not None:
                    raise outcome
        return sleeps, state

    def test_backoff_doubles_with_equal_jitter_and_is_capped(self):
        low = retry.ReconnectPolicy(initial_backoff=1, max_backoff=5,
                                    rng=lambda: 0.0)
        high = retry.ReconnectPolicy(initial_backoff=1, max_backoff=5,
                                     rng=lambda: 0.999999)
        self.assertEqual([0, 0.5, 1, 2, 2.5, 2.5],
                         [low.backoff(n) for n in range(6)])
        self.assertEqual([0, 1, 2, 4, 5, 5],
                         [round(high.backoff(n), 3) for n in range(6)])

    def test_failure_with_progress_retries_immediately(self):
        sleeps, state = self._run(
            [retry.TransientFailure('drop', progressed=True)] * 30 + [None],
            retries=2)
        self.assertEqual([0.0] * 30, sleeps)
        self.assertEqual(30, state.reconnects)

    def test_idle_failures_give_up_after_retries(self):
        idle = retry.TransientFailure('refused')
        self.assertRaises(tenacity.RetryError, self._run, [idle] * 10,
                          retries=3, initial_backoff=0.1)

    def test_progress_resets_the_idle_count(self):
        idle = retry.TransientFailure('503')
        moved = retry.TransientFailure('drop', progressed=True)
        sleeps, state = self._run([idle, idle, moved, idle, idle, None],
                                  retries=2, initial_backoff=1,
                                  rng=lambda: 0.0)
        self.assertEqual([0.5, 1, 0, 0.5, 1], sleeps)

    def test_retry_after_wins_over_shorter_backoff_up_to_cap(self):
        sleeps, _ = self._run(
            [retry.TransientFailure('503', retry_after=3),
             retry.TransientFailure('429', retry_after=999), None],
            initial_backoff=1, max_retry_after=60)
        self.assertEqual([3, 60], sleeps)

    def test_max_reconnects_caps_even_with_progress(self):
        moved = retry.TransientFailure('drop', progressed=True)
        self.assertRaises(tenacity.RetryError, self._run, [moved] * 10,
                          max_reconnects=4)

    def test_permanent_errors_are_not_retried(self):
        sleeps = []
        policy = retry.ReconnectPolicy(sleep=sleeps.append)
        retrying, _ = policy.start(lambda: 'Image x')

        def attempt_once():
            for attempt in retrying:
                with attempt:
                    raise KeyError('permanent')

        self.assertRaises(KeyError, attempt_once)
        self.assertEqual([], sleeps)
