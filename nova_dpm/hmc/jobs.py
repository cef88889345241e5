"""Waiting for asynchronous HMC jobs without zhmcclient's 10 s naps.

``zhmcclient.Job.wait_for_completion`` sleeps 10 s between polls, so a
partition start that takes 2 s would look like 10.  Here jobs are polled on
the one poll schedule (``polling.PollSchedule``): a job is seen complete
within 0.25 s or 10 % of its duration, whichever is larger, at the cost of
a number of GETs that grows with the logarithm of its duration.  With a
notification waiter (:mod:`nova_dpm.hmc.waiters`) the job's completion
notification ends the wait at once and the GET only confirms it and reads
the results; polling then only guards against a lost notification.
"""

import time

from oslo_log import log as logging
import zhmcclient

from nova_dpm.hmc import errors
from nova_dpm.hmc import gone
from nova_dpm.hmc import polling
from nova_dpm.hmc import statuses

LOG = logging.getLogger(__name__)


def wait_for_job(client, job_uri, what, failure=None, timeout=None,
                 unreachable_grace=30.0, sleep=time.sleep,
                 clock=time.monotonic, waiter=None):
    """Poll an HMC job with one borrowed client; return its ``job-results``.

    :param client: a logged-on ``zhmcclient.Client`` (the borrowed one)
    :param job_uri: ``/api/jobs/<id>`` (``job.uri`` of a zhmcclient Job)
    :param what: what the job does, for messages
    :param failure: Nova exception class raised when the job fails or
        times out (``failure(reason=...)``); default HMCOperationFailed
    :param timeout: seconds (operation_timeout)
    :param unreachable_grace: seconds of consecutive connection errors
        tolerated while polling (an HMC restarting) before the
        ConnectionError propagates to the supervisor
    :raises failure: the job ended with job-status-code >= 400, was
        cancelled, vanished, or did not end within ``timeout``
    :param waiter: a registered job waiter (the first GET is sent at
        once all the same: the job may be done before it registered)
    :raises zhmcclient.ConnectionError: the HMC stayed unreachable
    """
    state = {'since': None}

    def get_job():
        try:
            job = get_job_status(client, job_uri)
            state['since'] = None
            return job
        except zhmcclient.ConnectionError:
            now = clock()
            state['since'] = state['since'] or now
            if now - state['since'] >= unreachable_grace:
                raise
            return {'status': 'unknown'}

    return poll_job(get_job, lambda: delete_job(client, job_uri), job_uri,
                    what, failure=failure, timeout=timeout, sleep=sleep,
                    clock=clock, waiter=waiter)


def poll_job(get_job, delete, job_uri, what, failure=None, timeout=None,
             sleep=time.sleep, clock=time.monotonic, waiter=None,
             fetch_first=True):
    """Poll ``get_job()`` until the job ends; return its results.

    ``get_job`` returns the job's status body, or None when the job
    vanished; ``delete`` removes the ended job's status from the HMC.
    ``waiter`` and ``fetch_first``: see :func:`polling.poll_until`.
    """
    failure = failure or errors.HMCOperationFailed
    job = polling.poll_until(
        get_job, lambda job: job is None or
        job.get('status') in statuses.JOB_ENDED,
        timeout, sleep=sleep, clock=clock, waiter=waiter,
        fetch_first=fetch_first)
    if job is None:
        raise failure(reason='%s: HMC job %s vanished (HTTP 404)' % (
            what, job_uri))
    if job.get('status') not in statuses.JOB_ENDED:
        raise failure(reason='%s: HMC job %s did not end within %s s '
                             '(operation_timeout)' % (what, job_uri, timeout))
    delete()
    return _result(job, job_uri, what, failure)


def get_job_status(client, job_uri):
    """The job's status body, or None when the HMC no longer knows it."""
    try:
        return client.session.get(job_uri)
    except zhmcclient.HTTPError as exc:
        if gone.is_gone(exc):
            return None
        raise


def _result(job, job_uri, what, failure):
    code = job.get('job-status-code')
    if job.get('status') == statuses.JOB_CANCELED or (
            code is not None and code >= 400):
        results = job.get('job-results') or {}
        message = results.get('message') if isinstance(results, dict) else ''
        raise failure(reason='%s: HMC job %s %s with HTTP %s.%s: %s' % (
            what, job_uri, job.get('status'), code,
            job.get('job-reason-code'), message or 'no message'))
    return job.get('job-results')


def delete_job(client, job_uri):
    """Delete the ended job's status (the HMC keeps it otherwise)."""
    try:
        client.session.delete(job_uri)
    except zhmcclient.Error as exc:
        LOG.debug('Could not delete ended HMC job %s: %s', job_uri, exc)
