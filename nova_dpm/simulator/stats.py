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

"""Request accounting: benchmarks count HMC round trips with this.

Requests refused by a rule of the real HMC (rules.py) are counted too, by
rule id, so a test or a tempest run can show that the driver broke none.
"""

import collections
import threading

# Path segments that name a single object rather than a collection.
_SINGLETONS = ('console', 'version', 'services', 'inventory', 'metrics',
               'context')
_LITERAL_IDS = ('this-session', 'submit')


def uri_template(path):
    """Return the URI template of a request path.

    '/api/partitions/0a1b/nics/77' -> '/api/partitions/{id}/nics/{id}'.
    HMC URIs alternate collection and id segments after '/api'; the segment
    after 'operations' is an operation name and stays as it is.
    """
    path = path.split('?', 1)[0]
    segments = path.strip('/').split('/')
    if not segments or segments[0] != 'api':
        return path
    out = ['api']
    expect_id = False
    after_operations = False
    for seg in segments[1:]:
        if after_operations:
            out.append(seg)
            after_operations = False
        elif expect_id:
            out.append(seg if seg in _LITERAL_IDS else '{id}')
            expect_id = False
        else:
            out.append(seg)
            if seg == 'operations':
                after_operations = True
            elif seg not in _SINGLETONS:
                expect_id = True
    return '/' + '/'.join(out)


class RequestStats(object):
    """Counts of requests received, thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._reset_locked()

    def _reset_locked(self):
        self._total = 0
        self._by_method = collections.Counter()
        self._by_uri = collections.Counter()
        self._by_call = collections.Counter()
        self._logons = 0
        self._violations = collections.Counter()

    def count(self, method, path):
        template = uri_template(path)
        with self._lock:
            self._total += 1
            self._by_method[method] += 1
            self._by_uri[template] += 1
            self._by_call['%s %s' % (method, template)] += 1

    def count_violation(self, rule_id):
        with self._lock:
            self._violations[rule_id] += 1

    def count_logon(self):
        with self._lock:
            self._logons += 1

    def reset(self):
        with self._lock:
            self._reset_locked()

    def snapshot(self):
        with self._lock:
            return {
                'total': self._total,
                'by_method': dict(self._by_method),
                'by_uri': dict(self._by_uri),
                'by_call': dict(self._by_call),
                'logons': self._logons,
                'rule_violations': sum(self._violations.values()),
                'rule_violations_by_rule': dict(self._violations),
            }
