"""How long to wait and how often to retry, as named tenacity objects.

Three budgets, each from one ``[dpm]`` option:

* start: ``startup_connect_retries`` connection attempts beyond the first
  (:func:`startup_retrying`), then the start fails;
* an outage at runtime: ``connect_retries`` reconnection attempts with
  failover (:func:`reconnect_retrying`, run by the link's background
  thread, so concurrent calls share one budget instead of each thread
  waiting out its own);
* one call (:class:`CallPolicy`, an immutable value): ``retries_number``
  retries of a retryable HTTP status, ``read_retries`` retries of a read
  timeout, one re-logon on session expiry, and at most
  ``connect_retries`` + 1 tries through reconnections; all of it, waits
  included, within ``call_deadline``.

Backoff is exponential with jitter, capped by ``max_retry_interval``.
"""

import dataclasses
import datetime
import time

from oslo_log import log as logging
import tenacity

from nova_dpm.hmc import errors

LOG = logging.getLogger(__name__)

#: First backoff step in seconds; doubles per attempt up to
#: max_retry_interval.
INITIAL_BACKOFF = 0.5

#: Statuses after which a POST/DELETE may have been carried out anyway.
MAYBE_EXECUTED_STATUSES = frozenset((500, 502, 504))

#: An attempt with less time than this before the deadline is not made
#: (seconds): its requests could not even connect.
MIN_ATTEMPT_TIME = 0.1


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


def startup_retrying(settings, label, deadline, sleep=tenacity.nap.sleep):
    """Connection attempts at service start: bounded, then give up.

    At most ``startup_connect_retries`` + 1 attempts, and no attempt or
    backoff past ``deadline`` (``time.monotonic()`` value).
    """
    def out_of_time(retry_state):
        upcoming = getattr(retry_state, 'upcoming_sleep', 0) or 0
        return time.monotonic() + upcoming + MIN_ATTEMPT_TIME > deadline

    def sleep_within(seconds):
        sleep(max(0.0, min(seconds, deadline - time.monotonic())))

    return _connecting(
        settings, label, sleep_within,
        tenacity.stop_after_attempt(settings.startup_connect_retries + 1) |
        out_of_time)


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


class GiveUp(Exception):
    """The call ends with its last failure.

    :ivar failed: the last :class:`CallFailed`
    :ivar why: why no further attempt is made, for the message (deadline,
        Retry-After), or None when the kind's budget is spent
    """

    def __init__(self, failed, why=None):
        super().__init__(str(failed))
        self.failed = failed
        self.why = why


@dataclasses.dataclass(frozen=True)
class CallPolicy:
    """Retry state of one :meth:`HMCSupervisor.call`, as an immutable value.

    Like urllib3's ``Retry``: :meth:`after` never changes the policy, it
    returns the policy of the next attempt (or raises :class:`GiveUp`),
    so a policy can be logged, compared and shared between threads.
    Each kind of failure counts against its own budget, and every wait
    must end before :attr:`deadline`.  A mutating call whose request may
    have been carried out is retried only when ``already_done`` can tell
    (then the next policies have :attr:`check_done` set so that every
    later attempt asks it first).
    """

    settings: object
    what: str
    #: ``time.monotonic()`` value by which the call must have ended
    deadline: float
    mutating: bool = False
    has_already_done: bool = False
    #: failures so far, ``((Kind, count), ...)``
    counts: tuple = ()
    check_done: bool = False

    @classmethod
    def begin(cls, settings, what, now, mutating=False,
              has_already_done=False):
        """The policy of a call's first attempt (deadline from now)."""
        return cls(settings, what, now + settings.call_deadline,
                   mutating=mutating, has_already_done=has_already_done)

    def left(self, now):
        """Seconds left before the deadline (negative once past)."""
        return self.deadline - now

    def count(self, kind):
        return dict(self.counts).get(kind, 0)

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

    def _wait(self, failed):
        """The HMC's Retry-After or our own interval (seconds)."""
        if failed.kind is errors.Kind.RETRY_STATUS:
            return max(self.settings.retry_after, failed.retry_after or 0)
        # Reconnection backoff happens in the link; others retry at once.
        return 0

    def after(self, failed, now):
        """Decide what follows a failed attempt.

        :param failed: the attempt's :class:`CallFailed`
        :param now: ``time.monotonic()``
        :returns: ``(policy of the next attempt, seconds to wait first)``
        :raises GiveUp: no further attempt (budget spent, request may have
            been carried out, or the deadline does not allow the wait)
        """
        if not isinstance(failed, CallFailed):
            raise TypeError('not a CallFailed: %r' % (failed,))
        count = self.count(failed.kind) + 1
        if count > self._budget(failed.kind):
            raise GiveUp(failed)
        # Owed until a check has answered: a failed check (or a failure
        # after it) proves nothing about the earlier request.
        check_done = self.check_done
        if self._may_have_run(failed):
            if not self.has_already_done:
                LOG.warning('%s: the HMC may have carried out the request '
                            'before the failure; not re-sending it',
                            self.what)
                raise GiveUp(failed)
            check_done = True
        wait = self._wait(failed)
        left = self.left(now)
        if (failed.kind is errors.Kind.RETRY_STATUS and
                (failed.retry_after or 0) > left):
            when = (datetime.datetime.now(datetime.timezone.utc) +
                    datetime.timedelta(seconds=failed.retry_after))
            raise GiveUp(failed, why=(
                'the HMC asked to be retried in %.0f s (at %s UTC), after '
                'the call deadline (%.0f s left of call_deadline = %s s)' % (
                    failed.retry_after, when.strftime('%H:%M:%S'),
                    max(0, left), self.settings.call_deadline)))
        if wait + MIN_ATTEMPT_TIME > left:
            raise GiveUp(failed, why=self.deadline_note())
        counts = dict(self.counts)
        counts[failed.kind] = count
        return dataclasses.replace(
            self, counts=tuple(counts.items()), check_done=check_done), wait

    def deadline_note(self):
        """Words for a call that ran out of time."""
        return 'no result within the call deadline (call_deadline = %s s)' % (
            self.settings.call_deadline)

    def log_retry(self, failed, wait):
        """Log one line before the next attempt."""
        if failed.kind in (errors.Kind.UNREACHABLE, errors.Kind.READ_TIMEOUT):
            detail = errors.short_cause(failed.error)
        else:
            detail = errors.describe(failed.error, self.settings.password)
        LOG.warning('%s: %s (%s); retry %d in %.1f s', self.what,
                    failed.kind.value, detail, self.count(failed.kind),
                    wait)
