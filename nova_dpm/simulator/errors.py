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

"""The HMC's error answers, as the simulator raises them internally.

Every handler raises ``HMCError`` for an HMC error response; a refusal
that a rule of the real HMC makes is a ``RuleViolation`` (see rules.py),
which the backend also counts in the statistics.
"""


class HMCError(Exception):
    """An HMC error response (HTTP status, reason code, message)."""

    def __init__(self, status, reason, message):
        super(HMCError, self).__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


class RuleViolation(HMCError):
    """A request a real HMC refuses, by the rule ``rule_id``."""

    def __init__(self, rule_id, status, reason, message):
        super(RuleViolation, self).__init__(status, reason, message)
        self.rule_id = rule_id
