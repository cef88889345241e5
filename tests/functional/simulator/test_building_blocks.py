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

"""Fault rules and URI templates without a network."""

import threading

import testtools

from nova_dpm.simulator import faults
from nova_dpm.simulator import stats


class UriTemplateTest(testtools.TestCase):

    def test_ids_become_placeholders_and_operations_stay(self):
        for path, template in [
                ('/api/version', '/api/version'),
                ('/api/sessions', '/api/sessions'),
                ('/api/sessions/this-session', '/api/sessions/this-session'),
                ('/api/cpcs?name=x', '/api/cpcs'),
                ('/api/cpcs/abc/partitions', '/api/cpcs/{id}/partitions'),
                ('/api/partitions/7/nics/9',
                 '/api/partitions/{id}/nics/{id}'),
                ('/api/partitions/7/operations/start',
                 '/api/partitions/{id}/operations/start'),
                ('/api/console/operations/list-permitted-partitions',
                 '/api/console/operations/list-permitted-partitions'),
                ('/api/console/users/u1', '/api/console/users/{id}'),
                ('/api/jobs/0f0f', '/api/jobs/{id}')]:
            self.assertEqual(template, stats.uri_template(path), path)


class FaultBoardTest(testtools.TestCase):

    def test_rule_is_consumed_exactly_n_times_across_threads(self):
        board = faults.FaultBoard()
        board.add(50, faults.make_rule(faults.DROP, 'GET', '/api/cpcs'))
        taken = []

        def take():
            for _ in range(40):
                if board.take(faults.DROP, 'GET', '/api/cpcs/1'):
                    taken.append(1)

        threads = [threading.Thread(target=take) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(50, len(taken))
        self.assertEqual([], board.pending()['rules'])

    def test_method_and_uri_must_both_match(self):
        board = faults.FaultBoard()
        board.add(1, faults.make_rule(faults.FAIL, 'post', r'/partitions$',
                                      status=503, reason=0))
        self.assertIsNone(board.take(faults.FAIL, 'GET', '/api/cpcs/1/'
                                     'partitions'))
        self.assertIsNone(board.take(faults.FAIL, 'POST', '/api/cpcs/1'))
        self.assertIsNotNone(board.take(faults.FAIL, 'POST',
                                        '/api/cpcs/1/partitions'))

    def test_job_failures_match_on_operation(self):
        board = faults.FaultBoard()
        board.add(1, faults.make_rule(faults.FAIL_JOB, status=500,
                                      reason=263, operation='stop'))
        self.assertIsNone(board.take(faults.FAIL_JOB, operation='start'))
        self.assertEqual(263, board.take(faults.FAIL_JOB,
                                         operation='stop').reason)
