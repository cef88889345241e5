"""The HMC session supervisor: every HMC call of nova-dpm goes through it.

``start()`` proves, once and fatally, that nova-compute can do its job
(HMC reachable, logon accepted, the CPC exists, is in DPM mode, operating,
and big enough; every storage adapter mapping names a real FCP port).
``call()`` then lends a logged-on client from a bounded pool, runs the
caller's action under the retry policy and translates failures with the
one table in :mod:`nova_dpm.hmc.errors`.  Reconnection, failover and
fail-fast during outages live in :class:`nova_dpm.hmc.link.HMCLink`.
"""

import time

from nova import exception
from oslo_log import log as logging
import zhmcclient

from nova_dpm.hmc import connections as connections_mod
from nova_dpm.hmc import errors
from nova_dpm.hmc import jobs
from nova_dpm.hmc import policy
from nova_dpm.hmc import pool as pool_mod
from nova_dpm.hmc import report
from nova_dpm.hmc import session as session_mod
from nova_dpm.hmc import validation
from nova_dpm.hmc import waiters

LOG = logging.getLogger(__name__)


class HMCSupervisor:
    """Supervises the HMC connection of one nova-compute (CPC subset).

    Constructing does no I/O.

    :param settings: :class:`~nova_dpm.hmc.settings.HMCSettings`
    :param connection_id: managed connection id, ``nova-compute:<host>``
    :param state_dir: Nova's ``state_path`` (status file); None: no file
    :param session_factory: ``factory(hosts, settings) -> Session``;
        default: a real zhmcclient session (see :mod:`.session`)
    :param manager: a shared :class:`ConnectionManager` (default: own)
    :param probe_interval: seconds between probes while the HMC is down
    :param sleep: sleep function for retry waits (tests)
    :param guru_report: add an HMC section to Guru Meditation reports
    """

    def __init__(self, settings, connection_id='nova-compute',
                 state_dir=None, session_factory=None, manager=None,
                 probe_interval=1.0, sleep=time.sleep, guru_report=True):
        self.settings = settings
        self.connection_id = connection_id
        self._factory = session_factory or session_mod.default_session_factory
        self._manager = manager or connections_mod.ConnectionManager(
            state_dir, self._factory, probe_interval=probe_interval)
        self._sleep = sleep
        self._link = None
        self._guru_report = guru_report

    # -- start / stop ----------------------------------------------------
    def start(self):
        """Validate everything nova-compute needs; fatal on failure.

        :raises HMCStartupError: one clear line naming the HMC address(es),
            the userid and the cause (never the password)
        """
        if self._link is not None:
            return
        validation.check_settings(self.settings)
        if not self.settings.verify_cert:
            LOG.warning('[dpm] hmc_verify_cert = false: the HMC certificate '
                        'is not verified, so anyone between nova-compute '
                        'and %s can read the HMC password; set hmc_ca_file '
                        'instead', self.settings.addresses)
        client, host_index = validation.connect_for_start(
            self.settings, self._factory, self._sleep)
        try:
            validation.check_cpc(client, self.settings,
                                 self.settings.hosts[host_index])
        except BaseException:
            # Bounded: the start's deadline still applies to the session.
            session_mod.logoff_quietly(client.session)
            raise
        client.session.deadline = None
        link = self._manager.manage(self.connection_id, self.settings,
                                    self._factory,
                                    logged_on=(client, host_index))
        self._link = link
        if self._guru_report:
            self._guru_report = False
            report.register(self)
        LOG.info('HMC %s: logged on as %r; CPC %s in DPM mode is ready '
                 '(pool of up to %d sessions)', link.where,
                 self.settings.userid, self.settings.cpc_object_id,
                 self.settings.pool_size)

    def stop(self):
        """Log off every session; safe without (successful) start."""
        link, self._link = self._link, None
        if link is not None:
            self._manager.detach(self.connection_id)
            link.close()

    # -- calls -----------------------------------------------------------
    def call(self, action, what='HMC operation', failure=None,
             instance_uuid=None, mutating=False, already_done=None):
        """Run ``action(client)`` with a pooled, logged-on client.

        :param action: ``action(zhmcclient.Client) -> result``
        :param what: what the call does, for messages and logs
        :param failure: Nova exception class for a failed operation,
            called as ``failure(reason=...)`` (default HMCOperationFailed)
        :param instance_uuid: the instance the call is about; a missing
            HMC object then means ``InstanceNotFound``
        :param mutating: the action changes the HMC (POST/DELETE): never
            re-sent blindly
        :param already_done: ``already_done(client) -> (done, result)``,
            asked before re-sending a mutating request that may have been
            carried out
        :raises HypervisorUnavailable: the HMC cannot be reached or
            rejected the credentials
        :raises InstanceNotFound, WrongState, failure: see errors.py
        """
        link = self._link
        if link is None:
            raise errors.unavailable(
                '%s: the HMC connection is not started' % what)
        call_policy = policy.CallPolicy.begin(
            self.settings, what, time.monotonic(), mutating=mutating,
            has_already_done=already_done is not None)
        with link.calls.waiting(what) as token:
            while True:
                try:
                    return self._attempt(link, token, action, call_policy,
                                         already_done)
                except policy.CallFailed as failed:
                    try:
                        call_policy, wait = call_policy.after(
                            failed, time.monotonic())
                    except policy.GiveUp as gave_up:
                        raise self._gave_up(
                            link, gave_up, what, failure, instance_uuid,
                            mutating, already_done) from failed.error
                    call_policy.log_retry(failed, wait)
                    if wait:
                        self._sleep(wait)

    def _gave_up(self, link, gave_up, what, failure, instance_uuid,
                 mutating, already_done):
        """The Nova exception for a call that makes no further attempt."""
        failed, why = gave_up.failed, gave_up.why
        if (mutating and failed.maybe_sent and
                failed.kind in (errors.Kind.UNREACHABLE,
                                errors.Kind.READ_TIMEOUT) and
                (already_done is None or why)):
            # Out of time or without already_done: the caller's rollback
            # finds what the HMC may have done, as after a lost answer.
            return (failure or errors.HMCOperationFailed)(
                reason='%s: the HMC %s may have carried it out before the '
                       'connection failed (%s); not re-sent%s' % (
                           what, link.where,
                           errors.short_cause(failed.error),
                           '; %s' % why if why else ''))
        return errors.translate(
            failed.error, failed.kind, what, failure=failure,
            instance_uuid=instance_uuid, where=link.where,
            userid=self.settings.userid, secret=self.settings.password,
            note=why)

    def _attempt(self, link, token, action, call_policy, already_done):
        deadline = call_policy.deadline
        epoch = link.wait_usable(deadline, call_policy.what)
        try:
            with link.pool.borrow(deadline) as (client, drop):
                try:
                    with session_mod.bounded(client.session, deadline,
                                             link.calls.answered), \
                            link.calls.on_hmc(token):
                        if call_policy.check_done:
                            done, result = already_done(client)
                            if done:
                                LOG.info('%s: the HMC had already done it',
                                         call_policy.what)
                                return result
                        if hasattr(client.session, 'last_retry_after'):
                            client.session.last_retry_after = None
                        return action(client)
                except zhmcclient.Error as exc:
                    raise self._failed(link, exc, epoch, client, drop)
        except pool_mod.PoolClosed:
            raise errors.unavailable('%s: nova-compute is stopping' %
                                     call_policy.what)
        except pool_mod.PoolTimeout:
            raise errors.unavailable(
                '%s: all %d sessions to HMC %s stayed busy until the call '
                'deadline (call_deadline = %s s)' % (
                    call_policy.what, self.settings.pool_size, link.where,
                    self.settings.call_deadline))
        except zhmcclient.Error as exc:
            # Logging a new pooled session on failed.
            raise self._failed(link, exc, epoch, None, lambda: None)

    def _failed(self, link, exc, epoch, client, drop):
        kind = errors.classify(exc, self.settings.retry_http_statuses)
        if kind is errors.Kind.UNREACHABLE:
            link.report_unreachable(exc, epoch)
        elif kind is errors.Kind.READ_TIMEOUT:
            link.report_no_answer(exc, epoch)
        elif kind is errors.Kind.SESSION_EXPIRED:
            drop()   # expired anyway; the next loan logs on afresh
        elif kind is errors.Kind.AUTH:
            drop()
            link.report_auth_failure(exc)
        return policy.CallFailed(
            exc, kind,
            retry_after=getattr(getattr(client, 'session', None),
                                'last_retry_after', None),
            maybe_sent=validation.request_may_have_been_sent(exc))

    def wait_for_job(self, client, job_uri, what='HMC job', failure=None,
                     timeout=None):
        """Wait for an asynchronous HMC job; see :func:`jobs.wait_for_job`.

        Call it inside an action, with the borrowed client; the wait ends
        by the call's deadline at the latest.
        """
        timeout = timeout or self.settings.operation_timeout
        deadline = getattr(client.session, 'deadline', None)
        if deadline is not None:
            timeout = max(0.0, min(timeout, deadline - time.monotonic()))
        with self._waits().watch_job(job_uri) as waiter:
            return jobs.wait_for_job(
                client, job_uri, what, failure=failure, timeout=timeout,
                unreachable_grace=self.settings.max_retry_interval,
                waiter=waiter)

    def notification_mark(self):
        """Taken before starting a job, for :meth:`await_job` ``since``."""
        return self._waits().mark()

    def watch_status(self, uri, wanted):
        """A waiter for a status change of ``uri`` (``wanted(status)``).

        Register it before the first look at the status; use it as a
        context manager and pass it to ``polling.poll_until``.
        """
        return self._waits().watch_status(uri, wanted)

    def _waits(self):
        link = self._link
        return link.waits if link is not None else waiters.WaitRegistry()

    def await_job(self, job_uri, what='HMC job', failure=None,
                  timeout=None, instance_uuid=None, since=None):
        """Wait for an asynchronous HMC job, borrowing a session per poll.

        Unlike :meth:`wait_for_job`, no pooled session is held while the
        job runs, so many concurrent builds share a small pool; each poll
        is a supervised read (reconnects, session expiry, failover).

        :param since: :meth:`notification_mark` taken before the job was
            started: when the notification channel has been up since, the
            job is not asked about until its completion is announced (or
            the sparse fallback polls, see :mod:`.polling`); None: the job
            is asked about once at once
        """
        def get_job():
            return self.call(
                lambda client: jobs.get_job_status(client, job_uri),
                what=what, failure=failure, instance_uuid=instance_uuid)

        def delete():
            try:
                self.call(lambda client: jobs.delete_job(client, job_uri),
                          what='delete ended %s' % what)
            except exception.NovaException as exc:
                LOG.debug('Could not delete ended HMC job %s: %s',
                          job_uri, exc)

        with self._waits().watch_job(job_uri, since) as waiter:
            return jobs.poll_job(
                get_job, delete, job_uri, what, failure=failure,
                timeout=timeout or self.settings.operation_timeout,
                sleep=self._sleep, waiter=waiter,
                fetch_first=since is None)

    # -- status ----------------------------------------------------------
    @property
    def manager(self):
        return self._manager

    def status(self):
        """Connection state for nova-dpm-status and Guru Meditation."""
        info = {
            'connection_id': self.connection_id,
            'started': self._link is not None,
            'hmc': list(self.settings.hosts),
            'port': self.settings.port,
            'userid': self.settings.userid,
            'cpc_object_id': self.settings.cpc_object_id,
        }
        if self._link is not None:
            info.update(self._link.status())
        info['connections'] = self._manager.connections()
        return info
