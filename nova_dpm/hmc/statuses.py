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

"""The statuses the HMC reports for partitions, jobs and storage volumes.

One place for the HMC's words, so that the power logic (``cpc.py``), the
Nova power-state table (``virt/dpm/partition.py``), job polling and the
storage code agree on them. Values as the HMC Web Services API and
zhmcclient name them.
"""

# --- partition "status" ---
ACTIVE = 'active'
DEGRADED = 'degraded'
STOPPED = 'stopped'
RESERVATION_ERROR = 'reservation-error'
STARTING = 'starting'
STOPPING = 'stopping'
PAUSED = 'paused'
TERMINATED = 'terminated'
STATUS_CHECK = 'status-check'
COMMUNICATIONS_NOT_ACTIVE = 'communications-not-active'

#: A partition in one of these runs its operating system.
RUNNING = frozenset([ACTIVE, DEGRADED])
#: A partition in one of these is not running and can be started/deleted.
STOPPED_LIKE = frozenset([STOPPED, RESERVATION_ERROR])
#: The HMC is changing the partition's state; most operations get 409.1.
TRANSITIONAL = frozenset([STARTING, STOPPING])

# --- job "status" (Query Job Status) ---
JOB_RUNNING = 'running'
JOB_CANCEL_PENDING = 'cancel-pending'
JOB_COMPLETE = 'complete'
JOB_CANCELED = 'canceled'
#: A job in one of these has ended; its results can be read.
JOB_ENDED = frozenset([JOB_COMPLETE, JOB_CANCELED])

# --- storage group / volume "fulfillment-state" ---
FULFILLMENT_COMPLETE = 'complete'
FULFILLMENT_PENDING = 'pending'
