"""What nova-compute checks before it may manage its CPC subset.

Everything here runs at service start and fails with ONE line naming the
HMC address(es), the userid and the cause, so an operator reading the
CRITICAL line of a failed nova-compute knows what to fix.  The CPC is
fetched by URI (one GET) rather than by listing and fetching every CPC.
"""

import time

import requests
import urllib3
import zhmcclient

from nova_dpm.hmc import errors
from nova_dpm.hmc import gone
from nova_dpm.hmc import policy
from nova_dpm.hmc import session as session_mod

#: CPC statuses in which partitions can be managed.
OPERATIONAL_CPC_STATUSES = frozenset(
    ('active', 'operating', 'service-required', 'degraded', 'exceptions',
     'acceptable'))

#: CPC property with the processor count, per processor_type.
PROCESSOR_PROPERTY = {'ifl': 'processor-count-ifl',
                      'cp': 'processor-count-general-purpose'}

MEMORY_PROPERTY = 'storage-customer'

#: Adapter families whose ports can back a partition's NIC (zhmc-ansible-
#: modules zhmc_nic.py: virtual switch for osa/hipersockets before z17,
#: adapter port otherwise).
NIC_ADAPTER_FAMILIES = frozenset(
    ('osa', 'hipersockets', 'roce', 'cna', 'network-express'))

_NOT_SENT = (urllib3.exceptions.NewConnectionError,
             urllib3.exceptions.ConnectTimeoutError,
             requests.exceptions.ConnectTimeout,
             requests.exceptions.SSLError,
             urllib3.exceptions.SSLError)


def check_settings(settings):
    """Raise HMCConfigError naming the first required option unset."""
    for option, value in (('hmc', settings.hosts),
                          ('hmc_username', settings.userid),
                          ('hmc_password', settings.password),
                          ('cpc_object_id', settings.cpc_object_id),
                          ('max_processors', settings.max_processors),
                          ('max_memory', settings.max_memory)):
        if value in (None, '', (), []):
            raise errors.HMCConfigError(
                option=option,
                detail='is not set; set it in the [dpm] section of nova.conf')


def request_may_have_been_sent(exc):
    """Could the HMC have received (and run) the failed request?

    False only when the failure provably happened before the request left:
    no TCP connection, or no TLS session.
    """
    if isinstance(exc, zhmcclient.ReadTimeout):
        return True
    if isinstance(exc, zhmcclient.ConnectTimeout):
        return False
    if not isinstance(exc, zhmcclient.ConnectionError):
        return False
    seen = set()
    todo = [getattr(exc, 'details', None)]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, _NOT_SENT):
            return False
        todo.extend(arg for arg in getattr(item, 'args', ())
                    if isinstance(arg, BaseException))
        todo.extend((getattr(item, 'reason', None), item.__cause__,
                     item.__context__))
    return True


def _who(settings):
    return '%r' % settings.userid


def connect_for_start(settings, factory, sleep, deadline=None):
    """Reach an HMC (version query) and log on; bounded, no logon retry.

    Tries the addresses in order within each attempt; attempts are
    ``startup_connect_retries`` + 1 with backoff, all within ``deadline``.
    A rejected logon ends at once: repeating it can lock the HMC user.

    :param deadline: ``time.monotonic()`` value by which the start must
        be done (default: ``startup_deadline`` from now)
    :returns: (logged-on zhmcclient.Client, index of the address used);
        its session keeps ``deadline``, so :func:`check_cpc` is bounded
        by it too (the caller clears it before lending the client)
    :raises HMCStartupError: unreachable, logon rejected, HMC error
    """
    if deadline is None:
        deadline = time.monotonic() + settings.startup_deadline
    attempts = [0]

    def attempt():
        attempts[0] += 1
        last = None
        for index, host in enumerate(settings.hosts):
            session = session_mod.make_session(factory, [host], settings)
            client = zhmcclient.Client(session)
            try:
                with session_mod.bounded(session, min(
                        deadline, time.monotonic() +
                        session_mod.VERSION_QUERY_TIMEOUT)):
                    client.query_api_version()
            except zhmcclient.Error as exc:
                session_mod.close_transport(session)
                if not policy.not_yet(exc, settings):
                    raise
                last = exc
                continue
            session.deadline = deadline
            try:
                session.logon()
            except BaseException:
                session_mod.close_transport(session)
                raise
            return client, index
        raise last

    retrying = policy.startup_retrying(
        settings, 'Connecting to HMC %s' % settings.addresses, deadline,
        sleep=sleep)
    try:
        return retrying(attempt)
    except zhmcclient.AuthError as exc:
        raise errors.HMCStartupError(reason=(
            'logon as %s rejected by HMC %s (check hmc_username/'
            'hmc_password)' % (_who(settings), settings.addresses))) from exc
    except zhmcclient.ConnectionError as exc:
        raise errors.HMCStartupError(reason=(
            'HMC %s unreachable after %d attempts (%s)' % (
                settings.addresses, attempts[0],
                errors.short_cause(exc)))) from exc
    except zhmcclient.Error as exc:
        if policy.not_yet(exc, settings):  # a retryable status throughout
            raise errors.HMCStartupError(reason=(
                'HMC %s still busy after %d attempts (%s)' % (
                    settings.addresses, attempts[0],
                    errors.describe(exc, settings.password)))) from exc
        raise errors.HMCStartupError(reason=(
            'HMC %s failed the logon of %s: %s' % (
                settings.addresses, _who(settings),
                errors.describe(exc, settings.password)))) from exc


def _fail(settings, host, text):
    raise errors.HMCStartupError(reason='%s (HMC %s:%s, user %s)' % (
        text, host, settings.port, _who(settings)))


def _hmc_failed(settings, host, exc, what):
    """Fail the start for a zhmcclient error, through the one table."""
    translated = errors.translate(
        exc, errors.classify(exc, settings.retry_http_statuses), what,
        failure=errors.HMCOperationFailed,
        where='%s:%s' % (host, settings.port), userid=settings.userid,
        secret=settings.password)
    _fail(settings, host, translated.format_message())


def check_cpc(client, settings, host):
    """The CPC exists, is in DPM mode, operating, and big enough.

    Requests are bounded by the session's deadline (set by
    :func:`connect_for_start`).

    :raises HMCStartupError: naming what is wrong and what to check
    """
    oid = settings.cpc_object_id
    try:
        cpc = client.session.get('/api/cpcs/%s' % oid)
    except zhmcclient.Error as exc:
        if gone.is_gone(exc):
            _fail(settings, host, 'CPC %s not found on HMC %s (check '
                  'cpc_object_id)' % (oid, host))
        _hmc_failed(settings, host, exc, 'CPC %s could not be read' % oid)
    name = '%s (%s)' % (oid, cpc.get('name', '?'))
    if not cpc.get('dpm-enabled'):
        _fail(settings, host, 'CPC %s is not in DPM mode' % name)
    status = cpc.get('status')
    if status not in OPERATIONAL_CPC_STATUSES:
        _fail(settings, host, 'CPC %s is not operational (status %r)' % (
            name, status))
    _check_capacity(settings, host, name, cpc)
    for adapter_oid, port in settings.storage_adapter_mappings:
        _check_fcp_port(client, settings, host, cpc, adapter_oid, port)
    for physnet, adapter_oid, port in settings.network_adapter_mappings:
        _check_network_port(client, settings, host, cpc, physnet,
                            adapter_oid, port)
    return cpc


def _check_capacity(settings, host, name, cpc):
    prop = PROCESSOR_PROPERTY[settings.processor_type]
    for option, wanted, prop in (
            ('max_processors', settings.max_processors, prop),
            ('max_memory', settings.max_memory, MEMORY_PROPERTY)):
        have = cpc.get(prop)
        if have is not None and wanted > have:
            _fail(settings, host, '[dpm] %s = %s exceeds the %s of CPC %s '
                  '(%s)' % (option, wanted, prop, name, have))


def _read_adapter(client, settings, host, cpc, adapter_oid, where):
    """The adapter's properties; fails the start naming ``where``."""
    try:
        adapter = client.session.get('/api/adapters/%s' % adapter_oid)
    except zhmcclient.Error as exc:
        if gone.is_gone(exc):
            _fail(settings, host, '%s: no such adapter on the HMC' % where)
        _hmc_failed(settings, host, exc, '%s: the adapter could not be '
                    'read' % where)
    if adapter.get('parent') not in (None, cpc.get('object-uri')):
        _fail(settings, host, '%s: the adapter belongs to another CPC' %
              where)
    return adapter


def _check_port_count(settings, host, where, adapter, port, ports):
    if ports is not None and port >= len(ports):
        _fail(settings, host, '%s: adapter %r has no port %d (it has %d)' % (
            where, adapter.get('name'), port, len(ports)))


def _check_fcp_port(client, settings, host, cpc, adapter_oid, port):
    where = 'physical_storage_adapter_mappings entry %s:%s' % (adapter_oid,
                                                               port)
    adapter = _read_adapter(client, settings, host, cpc, adapter_oid, where)
    if adapter.get('type') != 'fcp':
        _fail(settings, host, '%s: adapter %r is of type %r, not an FCP '
              'adapter' % (where, adapter.get('name'), adapter.get('type')))
    _check_port_count(settings, host, where, adapter, port,
                      adapter.get('storage-port-uris'))


def _check_network_port(client, settings, host, cpc, physnet, adapter_oid,
                        port):
    where = 'physical_network_adapter_mappings entry %s:%s:%s' % (
        physnet, adapter_oid, port)
    adapter = _read_adapter(client, settings, host, cpc, adapter_oid, where)
    family = adapter.get('adapter-family')
    if family not in NIC_ADAPTER_FAMILIES:
        _fail(settings, host, '%s: adapter %r is a %r adapter (type %r), '
              'which cannot carry NICs; map the physical network to an '
              'OSA, HiperSockets, RoCE, CNA or Network Express adapter' % (
                  where, adapter.get('name'), family, adapter.get('type')))
    _check_port_count(settings, host, where, adapter, port,
                      adapter.get('network-port-uris'))
