"""zhmcclient sessions that leave retrying to the supervisor.

zhmcclient mounts a ``urllib3.Retry`` built from ``RetryTimeoutConfig``:
read retries capped by connect retries, no backoff, GETs only, and its own
sleeping on ``Retry-After`` for GET 413/429/503.  Two retry layers would
multiply each other's budgets, so these sessions retry nothing at the
HTTP layer (``Retry(total=0, read=False)``: a read timeout surfaces as
``ReadTimeout`` rather than a ``ConnectionError``) and the supervisor's
tenacity policies decide everything.

zhmcclient's ``HTTPError`` does not keep the response headers, so the
HMC's ``Retry-After`` would be lost.  :class:`HMCSession` adds a requests
response hook that remembers the last ``Retry-After`` on the session;
a session is used by one thread at a time, so reading it right after the
failed call is safe.  This relies on zhmcclient building its
``requests.Session`` in ``_new_session`` (true in 1.26); if that changes,
the hook is simply not installed and the configured ``retry_after`` is
used.

Deadlines: native threads cannot be cancelled, so the only way to keep a
call within its deadline is to give each of its requests socket timeouts
no longer than the time left.  zhmcclient reads ``retry_timeout_config``
for every request, so :class:`HMCSession` caps the connect and read
timeouts it returns by ``session.deadline`` (set for the duration of one
call with :func:`bounded`).
"""

import contextlib
import time

import requests
import urllib3
import zhmcclient

from nova_dpm import http_headers


class HMCSession(zhmcclient.Session):
    """A zhmcclient Session without HTTP-layer retries, keeping Retry-After.

    :ivar last_retry_after: seconds the HMC asked to wait in its last
        response, or None
    """

    last_retry_after = None
    #: ``time.monotonic()`` value no request may outlast, or None
    deadline = None
    #: ``on_answer()`` after every HTTP response (the HMC is alive)
    on_answer = None
    #: ``on_relogon(session)`` after zhmcclient logged this session on
    #: again (an expired session: new session id, new topics), before it
    #: repeats the request that found it expired
    on_relogon = None
    _transport = None

    def _do_logon(self):
        again = self._session_id is not None
        super()._do_logon()
        if again and self.on_relogon is not None:
            self.on_relogon(self)

    @property
    def retry_timeout_config(self):
        """zhmcclient's timeouts, capped by the time left to the deadline."""
        config = self._retry_timeout_config
        if self.deadline is None:
            return config
        return capped_config(config, self.deadline - time.monotonic())

    def close_transport(self):
        """Close the kept-alive HTTPS connections of this session."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def _new_session(self, retry_timeout_config):
        # Overrides zhmcclient's staticmethod; it is called as
        # self._new_session(...), so an instance method receives self.
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            max_retries=urllib3.Retry(total=0, read=False, redirect=False,
                                      respect_retry_after_header=False))
        session.mount('https://', adapter)
        session.mount('http://', adapter)
        session.hooks['response'].append(self._remember_retry_after)
        self._transport = session
        return session

    def _remember_retry_after(self, response, *args, **kwargs):
        self.last_retry_after = http_headers.parse_retry_after(
            response.headers.get('Retry-After'))
        if self.on_answer is not None:
            self.on_answer()


#: Longest connect and read timeout of a version query (seconds): the
#: query is tiny, so an HMC that cannot answer it this fast is not usable
#: now, whatever read_timeout allows a real operation.
VERSION_QUERY_TIMEOUT = 10.0

#: Connect and read timeout of a logoff (seconds): a stopping service or
#: a failed start does not wait longer for an HMC to take its session
#: back (the HMC expires it anyway).
LOGOFF_TIMEOUT = 5.0

#: Shortest socket timeout of a request close to its deadline (seconds);
#: zero would mean "no timeout at all" to zhmcclient.
MIN_TIMEOUT = 0.05


def capped_config(config, seconds_left):
    """``config`` with connect and read timeouts of at most the time left."""
    left = max(MIN_TIMEOUT, seconds_left)
    return config.override_with(zhmcclient.RetryTimeoutConfig(
        connect_timeout=min(config.connect_timeout or left, left),
        read_timeout=min(config.read_timeout or left, left)))


@contextlib.contextmanager
def bounded(session, deadline, on_answer=None):
    """Cap every request ``session`` sends in the block by ``deadline``.

    A session is used by one thread at a time, so setting its attributes
    for the block is safe; they are reset afterwards (the session goes back
    to the pool).
    """
    session.deadline = deadline
    session.on_answer = on_answer
    try:
        yield session
    finally:
        session.deadline = None
        session.on_answer = None


def close_transport(session):
    """Close a session's connections (sessions of other factories: no-op)."""
    close = getattr(session, 'close_transport', None)
    if close is not None:
        close()


def retry_timeout_config(settings, connect_timeout=None):
    """zhmcclient timeouts from the settings, with its retries off."""
    return zhmcclient.RetryTimeoutConfig(
        connect_timeout=connect_timeout or settings.connect_timeout,
        connect_retries=0,
        read_timeout=settings.read_timeout,
        read_retries=0,
        operation_timeout=settings.operation_timeout,
        status_timeout=settings.status_timeout)


def default_session_factory(hosts, settings, connect_timeout=None):
    """A real zhmcclient session to the first answering host of ``hosts``."""
    return HMCSession(
        list(hosts), userid=settings.userid, password=settings.password,
        retry_timeout_config=retry_timeout_config(settings, connect_timeout),
        port=settings.port, verify_cert=settings.verify_cert)


def version_query(factory, host, settings, timeout):
    """Ask ``host`` for its API version with socket timeouts of ``timeout``.

    For the link's background thread (reconnect attempts and probes).
    """
    session = make_session(factory, [host], settings, timeout)
    with bounded(session, time.monotonic() + timeout):
        try:
            return zhmcclient.Client(session).query_api_version()
        finally:
            close_transport(session)


def make_session(factory, hosts, settings, connect_timeout=None):
    """Call a session factory; test factories may not take a timeout."""
    if connect_timeout is None:
        return factory(hosts, settings)
    try:
        return factory(hosts, settings, connect_timeout=connect_timeout)
    except TypeError:
        return factory(hosts, settings)


def logoff_quietly(session, other_host=None, deadline=None):
    """Log a session off; HMC sessions are limited, so always try.

    zhmcclient's ``logoff()`` silently ignores an unreachable HMC, so the
    DELETE is sent here to know whether it arrived.  When the session's
    own address is gone and ``other_host`` is given, try there too:
    addresses of one HMC accept its session ids (a real alternate HMC
    answers 403.5, which is ignored).

    :param deadline: ``time.monotonic()`` value bounding the requests
        (default: LOGOFF_TIMEOUT from now)
    :returns: True when the HMC received the logoff
    """
    session.deadline = deadline or time.monotonic() + LOGOFF_TIMEOUT
    session_id = getattr(session, 'session_id', None)
    if not session_id:
        close_transport(session)
        return True
    hosts = [None] + ([other_host] if other_host else [])
    for host in hosts:
        target = session
        try:
            if host is not None:
                target = HMCSession(
                    host, userid=session.userid, session_id=session_id,
                    retry_timeout_config=session.retry_timeout_config,
                    port=session.port, verify_cert=session.verify_cert)
            target.deadline = session.deadline
            target.delete('/api/sessions/this-session',
                          logon_required=False, renew_session=False)
        except zhmcclient.ConnectionError:
            continue
        except Exception:  # noqa: B902 - best effort: 403.5 and the like
            pass
        finally:
            close_transport(target)
        return True
    return False
