"""The one table that turns zhmcclient exceptions into Nova exceptions.

Every HMC call of nova-dpm goes through :meth:`HMCSupervisor.call`, which
classifies a failure with :func:`classify` (what happened, so the retry
policy knows whether to retry) and, when it gives up, turns it into the
exception Nova understands with :func:`translate`.  The table, in order
(first match wins):

================================  ===============  ============================
zhmcclient error                  kind             Nova exception (after retry)
================================  ===============  ============================
ReadTimeout                       READ_TIMEOUT     reads: retried read_retries
                                                   times; mutating: see
                                                   ``already_done``; then
                                                   HypervisorUnavailable
ConnectionError, ConnectTimeout   UNREACHABLE      reconnect with backoff and
RetriesExceeded                                    failover (connect_retries);
                                                   then HypervisorUnavailable
                                                   and fail fast until the HMC
                                                   answers again
HTTPError 403.4 / 403.5,          SESSION_EXPIRED  re-logon once, then
ServerAuthError caused by them                     HypervisorUnavailable
other AuthError                   AUTH             HypervisorUnavailable
                                                   ("check hmc_username/
                                                   hmc_password")
NotFound, CeasedExistence,        NOT_FOUND        InstanceNotFound when the
HTTPError 404.1                                    call names an instance, else
                                                   the operation's failure
HTTPError 409.1                   WRONG_STATE      nova_dpm.hmc.WrongState
HTTPError with a status in        RETRY_STATUS     retried retries_number times
retry_http_statuses                                waiting max(retry_after,
                                                   Retry-After); then the
                                                   operation's failure
anything else (HTTPError,         FAILURE          the operation's failure,
OperationTimeout, StatusTimeout,                   e.g. InstanceDeployFailure
ParseError, VersionError, ...)                     (default HMCOperationFailed)
================================  ===============  ============================

A call that runs out of its ``call_deadline`` (or is asked by a
Retry-After to wait beyond it) fails with the exception of its last
failure's row; the message ends with why no further attempt was made.

The zhmcclient error is always chained (``raise ... from exc``) and logged
once with the HTTP method, URI, status and reason; never the password.
"""

import enum

from nova import exception
from oslo_log import log as logging
import zhmcclient

from nova_dpm.hmc import gone

LOG = logging.getLogger(__name__)


class HMCStartupError(exception.NovaException):
    """nova-compute cannot manage its CPC subset; the start must fail."""

    msg_fmt = '%(reason)s'


class HMCConfigError(HMCStartupError):
    """A ``[dpm]`` option is missing or wrong."""

    msg_fmt = '[dpm] %(option)s %(detail)s'


class HMCOperationFailed(exception.NovaException):
    """An HMC operation failed and the caller named no better exception."""

    msg_fmt = '%(reason)s'


class WrongState(exception.NovaException):
    """The HMC refused an operation in the object's current state (409.1).

    The caller decides: wait through a transitional state and retry, or
    report ``InstanceInvalidState``.

    :ivar http_status: 409
    :ivar reason: the HMC reason code (1)
    :ivar hmc_message: the HMC's explanation
    """

    msg_fmt = '%(what)s: %(hmc_message)s (HTTP %(http_status)s.%(reason)s)'

    def __init__(self, what, hmc_message, http_status=409, reason=1):
        self.what = what
        self.hmc_message = hmc_message
        self.http_status = http_status
        self.reason = reason
        super().__init__(what=what, hmc_message=hmc_message,
                         http_status=http_status, reason=reason)


class Kind(enum.Enum):
    """What a failure means for the retry policy."""

    READ_TIMEOUT = 'read timeout'
    UNREACHABLE = 'unreachable'
    SESSION_EXPIRED = 'session expired'
    AUTH = 'credentials rejected'
    NOT_FOUND = 'not found'
    WRONG_STATE = 'wrong state'
    RETRY_STATUS = 'retryable HTTP status'
    FAILURE = 'failure'


def _http(exc):
    """The HTTPError behind ``exc`` (itself or an AuthError's details)."""
    if isinstance(exc, zhmcclient.HTTPError):
        return exc
    details = getattr(exc, 'details', None)
    if isinstance(details, zhmcclient.HTTPError):
        return details
    return None


def _status(exc, status, reasons):
    http = _http(exc)
    return (http is not None and http.http_status == status and
            http.reason in reasons)


#: (kind, test) in order; the first test that matches wins.  ``retry``
#: is the set of HTTP statuses configured as retryable.
TABLE = (
    (Kind.READ_TIMEOUT,
     lambda exc, retry: isinstance(exc, zhmcclient.ReadTimeout)),
    (Kind.UNREACHABLE,
     lambda exc, retry: isinstance(exc, zhmcclient.ConnectionError)),
    (Kind.SESSION_EXPIRED,
     lambda exc, retry: _status(exc, 403, (4, 5))),
    (Kind.AUTH,
     lambda exc, retry: isinstance(exc, zhmcclient.AuthError)),
    (Kind.NOT_FOUND,
     lambda exc, retry: gone.is_gone(exc)),
    (Kind.WRONG_STATE,
     lambda exc, retry: _status(exc, 409, (1,))),
    (Kind.RETRY_STATUS,
     lambda exc, retry: (_http(exc) is not None and
                         _http(exc).http_status in retry)),
)


def classify(exc, retry_statuses=frozenset()):
    """Return the :class:`Kind` of a zhmcclient exception."""
    for kind, test in TABLE:
        if test(exc, retry_statuses):
            return kind
    return Kind.FAILURE


def redact(text, secret):
    """``text`` with ``secret`` blanked out (defence in depth)."""
    text = str(text)
    if secret:
        text = text.replace(secret, '********')
    return text


def describe(exc, secret=None):
    """One line about a zhmcclient error: method, URI, status, reason."""
    http = _http(exc)
    if http is not None:
        text = '%s %s: HTTP %s.%s: %s' % (
            http.request_method, http.request_uri, http.http_status,
            http.reason, http.message)
    else:
        text = '%s: %s' % (type(exc).__name__, exc)
    return redact(text, secret)


def short_cause(exc):
    """A few words on why the HMC could not be reached, for one-liners."""
    text = str(exc)
    lowered = text.lower()
    for needle, words in (
            ('certificate verify failed',
             'TLS certificate verification failed; check hmc_ca_file and '
             'hmc_verify_cert'),
            ('refused', 'connection refused'),
            ('timed out', 'timed out'),
            ('name or service not known', 'host name not resolvable'),
            ('nameresolution', 'host name not resolvable'),
            ('no route to host', 'no route to host'),
            ('remotedisconnected', 'connection closed by the HMC'),
            ('connection reset', 'connection reset'),
            ('connection aborted', 'connection closed by the HMC')):
        if needle in lowered:
            return words
    return text[:200]


def unavailable(message):
    """``HypervisorUnavailable`` carrying an operator-readable message."""
    return exception.HypervisorUnavailable(message=message)


def translate(exc, kind, what, failure=None, instance_uuid=None,
              where='the HMC', userid=None, secret=None, note=None):
    """The Nova exception for a zhmcclient error the policy gave up on.

    Logs the zhmcclient error once.  The caller raises the result ``from
    exc``.

    :param note: why no further attempt was made (a deadline, the HMC's
        Retry-After), appended to the message
    """
    failure = failure or HMCOperationFailed
    detail = describe(exc, secret)
    LOG.warning('HMC call failed (%s) on %s: %s', what, where, detail)
    http = _http(exc)
    tail = '; %s' % note if note else ''
    if kind is Kind.READ_TIMEOUT:
        return unavailable('%s: HMC %s did not answer (%s)%s' % (
            what, where, short_cause(exc), tail))
    if kind is Kind.UNREACHABLE:
        return unavailable('%s: HMC %s unreachable (%s)%s' % (
            what, where, short_cause(exc), tail))
    if kind in (Kind.AUTH, Kind.SESSION_EXPIRED):
        return unavailable(
            '%s: logon as %r rejected by HMC %s (check hmc_username/'
            'hmc_password)' % (what, userid, where))
    if kind is Kind.NOT_FOUND and instance_uuid:
        return exception.InstanceNotFound(instance_id=instance_uuid)
    if kind is Kind.WRONG_STATE:
        return WrongState(what=what, hmc_message=redact(http.message, secret),
                          http_status=http.http_status, reason=http.reason)
    if http is not None:
        message = '%s: %s (HTTP %s.%s)' % (
            what, http.message, http.http_status, http.reason)
    else:
        message = '%s: %s' % (what, exc)
    return failure(reason=redact(message + tail, secret))
