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
"""

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
        return session

    def _remember_retry_after(self, response, *args, **kwargs):
        self.last_retry_after = http_headers.parse_retry_after(
            response.headers.get('Retry-After'))


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


def make_session(factory, hosts, settings, connect_timeout=None):
    """Call a session factory; test factories may not take a timeout."""
    if connect_timeout is None:
        return factory(hosts, settings)
    try:
        return factory(hosts, settings, connect_timeout=connect_timeout)
    except TypeError:
        return factory(hosts, settings)


def logoff_quietly(session, other_host=None):
    """Log a session off; HMC sessions are limited, so always try.

    zhmcclient's ``logoff()`` silently ignores an unreachable HMC, so the
    DELETE is sent here to know whether it arrived.  When the session's
    own address is gone and ``other_host`` is given, try there too:
    addresses of one HMC accept its session ids (a real alternate HMC
    answers 403.5, which is ignored).

    :returns: True when the HMC received the logoff
    """
    session_id = getattr(session, 'session_id', None)
    if not session_id:
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
            target.delete('/api/sessions/this-session',
                          logon_required=False, renew_session=False)
        except zhmcclient.ConnectionError:
            continue
        except Exception:  # noqa: B902 - best effort: 403.5 and the like
            pass
        return True
    return False
