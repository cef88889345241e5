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

"""Asynchronous HMC jobs ("Query Job Status", "Delete Completed Job").

zhmcclient.mock finishes every operation at once; a real HMC answers 202
with a job URI and finishes later. Jobs here complete lazily: the backend
calls ``advance()`` (under its lock) before it serves any request, so a
client that polls the job or the partition sees the same time line as with
a real HMC, and no background thread is needed.

Not thread-safe by itself: the backend's lock guards it.
"""

import time
import uuid

RUNNING = 'running'
COMPLETE = 'complete'
CANCELED = 'canceled'


class Job(object):
    """One asynchronous operation and its outcome."""

    def __init__(self, operation, due, finish, undo, failure, owner=None):
        self.job_id = uuid.uuid4().hex
        self.owner = owner  # the session that started it (notifications)
        self.uri = '/api/jobs/' + self.job_id
        self.operation = operation
        self.due = due
        self.status = RUNNING
        self.status_code = None
        self.reason_code = None
        self.results = None
        self._finish = finish
        self._undo = undo
        self._failure = failure

    def complete(self):
        if self._failure is None:
            self._finish()
            self.status_code = 204
        else:
            self._undo()
            self.status_code = self._failure.status
            self.reason_code = self._failure.reason
            self.results = {'message': self._failure.message or (
                'Simulated failure of the %s job' % self.operation)}
        self.status = COMPLETE

    def cancel(self):
        self._undo()
        self.status = CANCELED

    def body(self):
        body = {'status': self.status}
        if self.status == COMPLETE:
            body['job-status-code'] = self.status_code
            body['job-reason-code'] = self.reason_code
            if self.results is not None:
                body['job-results'] = self.results
        return body


class JobTable(object):
    """The jobs of one simulated HMC."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._jobs = {}
        #: The session whose request is being served: new jobs are its.
        self.owner = None

    def submit(self, operation, duration, finish, undo, failure=None):
        """Start a job; ``finish``/``undo`` apply success/failure effects.

        ``failure`` is a fault rule (status, reason, message) that makes the
        job end in error, or None.
        """
        job = Job(operation, self._clock() + duration, finish, undo, failure,
                  self.owner)
        self._jobs[job.job_id] = job
        return job

    def advance(self):
        """Complete every running job whose time has come; return them."""
        now = self._clock()
        ended = [job for job in self._jobs.values()
                 if job.status == RUNNING and job.due <= now]
        for job in ended:
            job.complete()
        return ended

    def get(self, job_id):
        return self._jobs.get(job_id)

    def remove(self, job_id):
        del self._jobs[job_id]

    def running(self):
        return [j for j in self._jobs.values() if j.status == RUNNING]
