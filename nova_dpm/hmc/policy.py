"""How long to wait and how often to retry, as named tenacity objects.

Three budgets, each from one ``[dpm]`` option:

* start: ``startup_connect_retries`` connection attempts beyond the first
  (:func:`startup_retrying`), then the start fails;
* an outage at runtime: ``connect_retries`` reconnection attempts with
  failover (:func:`reconnect_retrying`, run by the link's background
  thread, so concurrent calls share one budget instead of each thread
  waiting out its own);
* one call (:class:`CallPolicy`): ``retries_number`` retries of a
  retryable HTTP status, ``read_retries`` retries of a read timeout, one
  re-logon on session expiry, and at most ``connect_retries`` + 1 tries
  through reconnections.

Backoff is exponential with jitter, capped by ``max_retry_interval``.
"""

from oslo_log import log as logging
import tenacity

from nova_dpm.hmc import errors

LOG = logging.getLogger(__name__)

#: First backoff step in seconds; doubles per attempt up to
#: max_retry_interval.
INITIAL_BACKOFF = 0.5

#: Statuses after which a POST/DELETE may have been carried out anyway.
MAYBE_EXECUTED_STATUSES = frozenset((500, 502, 504))


#: Longest Retry-After honoured (seconds): an HMC asking for more would
#: hold an operation (and its Nova request) for that long; past this the
#: call waits this much and retries within retries_number.
MAX_RETRY_AFTER = 300


def backoff(settings):
    """Exponential backoff with jitter, capped by max_retry_interval."""
    return tenacity.wait_exponential_jitter(
        multiplier=INITIAL_BACKOFF, max=settings.max_retry_interval,
        jitter=INITIAL_BACKOFF)


def _log_before_sleep(label):
    def log(retry_state):
        exc = retry_state.outcome.exception()
        LOG.warning('%s failed (%s); attempt %d, next in %.1f s',
                    label, errors.short_cause(exc),
                    retry_state.attempt_number,
                    retry_state.next_action.sleep)
    return log


def startup_retrying(settings, label, sleep=tenacity.nap.sleep):
    """Connection attempts at service start: bounded, then give up."""
    return _connecting(
        settings, label, sleep,
        tenacity.stop_after_attempt(settings.startup_connect_retries + 1))


def reconnect_retrying(settings, label, sleep, stopped):
    """Reconnection attempts during an outage (``connect_retries``).

    :param stopped: callable; True ends the attempts (link closed)
    """
    return _connecting(
        settings, label, sleep,
        tenacity.stop_after_attempt(settings.connect_retries + 1) |
        (lambda retry_state: stopped()))


#: Failures of a connection attempt that mean "not yet": the HMC did not
#: answer, or answered with a retryable status (busy, restarting).
NOT_YET = (errors.Kind.UNREACHABLE, errors.Kind.READ_TIMEOUT,
           errors.Kind.RETRY_STATUS)


def not_yet(exc, settings):
    """Whether a failed connection attempt is worth another attempt."""
    return errors.classify(exc, settings.retry_http_statuses) in NOT_YET


def _connecting(settings, label, sleep, stop):
    """Retry connection attempts that failed with :func:`not_yet`."""
    return tenacity.Retrying(
        stop=stop, wait=backoff(settings),
        retry=tenacity.retry_if_exception(
            lambda exc: not_yet(exc, settings)),
        before_sleep=_log_before_sleep(label),
        sleep=sleep, reraise=True)


class CallFailed(Exception):
    """One attempt of a call failed with a zhmcclient error.

    :ivar error: the zhmcclient exception
    :ivar kind: its :class:`errors.Kind`
    :ivar retry_after: seconds the HMC asked to wait, or None
    :ivar maybe_sent: whether a mutating request may have reached the HMC
    """

    def __init__(self, error, kind, retry_after=None, maybe_sent=False):
        super().__init__(str(error))
        self.error = error
        self.kind = kind
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class CallPolicy:
    """Retry decisions for one :meth:`HMCSupervisor.call`.

    Plugged into ``tenacity.Retrying`` as ``retry``, ``stop`` and
    ``wait``.  Counts each kind of failure against its own budget.  A
    mutating call whose request may have been carried out is retried only
    when ``already_done`` can tell (then :attr:`check_done` is set so the
    next attempt asks it first).
    """

    def __init__(self, settings, what, mutating=False,
                 has_already_done=False):
        self.settings = settings
        self.what = what
        self.mutating = mutating
        self.has_already_done = has_already_done
        self.counts = {}
        self.check_done = False

    def _budget(self, kind):
        s = self.settings
        return {
            errors.Kind.UNREACHABLE: s.connect_retries,
            errors.Kind.READ_TIMEOUT: s.read_retries,
            errors.Kind.SESSION_EXPIRED: 1,
            errors.Kind.RETRY_STATUS: s.retries_number,
        }.get(kind, 0)

    def _may_have_run(self, failed):
        if not self.mutating:
            return False
        if failed.kind is errors.Kind.RETRY_STATUS:
            return (errors._http(failed.error).http_status in
                    MAYBE_EXECUTED_STATUSES)
        return failed.maybe_sent

    def should_retry(self, retry_state):
        """tenacity ``retry``: is this failure worth another attempt?"""
        failed = retry_state.outcome.exception()
        if not isinstance(failed, CallFailed):
            return False
        count = self.counts.get(failed.kind, 0) + 1
        self.counts[failed.kind] = count
        if count > self._budget(failed.kind):
            return False
        if self._may_have_run(failed):
            if not self.has_already_done:
                LOG.warning('%s: the HMC may have carried out the request '
                            'before the failure; not re-sending it',
                            self.what)
                return False
            self.check_done = True
        return True

    def wait(self, retry_state):
        """tenacity ``wait``: the HMC's Retry-After or our own interval."""
        failed = retry_state.outcome.exception()
        if (isinstance(failed, CallFailed) and
                failed.kind is errors.Kind.RETRY_STATUS):
            asked = min(failed.retry_after or 0, MAX_RETRY_AFTER)
            return max(self.settings.retry_after, asked)
        # Reconnection backoff happens in the link; others retry at once.
        return 0

    def before_sleep(self, retry_state):
        failed = retry_state.outcome.exception()
        if failed.kind in (errors.Kind.UNREACHABLE, errors.Kind.READ_TIMEOUT):
            detail = errors.short_cause(failed.error)
        else:
            detail = errors.describe(failed.error, self.settings.password)
        LOG.warning('%s: %s (%s); retry %d in %.1f s', self.what,
                    failed.kind.value, detail, retry_state.attempt_number,
                    retry_state.next_action.sleep)
