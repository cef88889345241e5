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

"""The one rule for "the HMC object does not exist".

The HMC answers a request addressed to an object that does not exist with
HTTP 404 reason 1; zhmcclient raises ``NotFound`` when a lookup finds
nothing and ``CeasedExistence`` when an object vanished under it. Those
three, and nothing else, mean "gone": other 404 reasons (e.g. an object
*named in the request body* that does not exist) are failures of the
request, not proof that the addressed object is gone. The error table
(``errors.py``), removal methods that treat "already gone" as success, and
existence checks all ask :func:`is_gone`.
"""

import zhmcclient

#: The HMC's HTTP status and reason for "the addressed object does not
#: exist".
NOT_FOUND_STATUS = 404
NOT_FOUND_REASON = 1


def is_gone(exc):
    """True when ``exc`` says the addressed HMC object does not exist."""
    if isinstance(exc, (zhmcclient.NotFound, zhmcclient.CeasedExistence)):
        return True
    return (isinstance(exc, zhmcclient.HTTPError) and
            exc.http_status == NOT_FOUND_STATUS and
            exc.reason == NOT_FOUND_REASON)
