"""The ``[dpm]`` options the HMC supervisor needs, as one immutable value.

Reading oslo.config once, into a frozen dataclass, means the supervisor,
its threads and the tests all see the same values, and a test can build
settings without touching the global CONF.  The password field is
``repr=False`` so a settings object can be logged or shown in a traceback
without leaking it.
"""

import dataclasses
import os

from nova_dpm.hmc import errors

#: Options that must be set for nova-compute to manage a CPC subset.
REQUIRED_OPTIONS = ('hmc', 'hmc_username', 'hmc_password', 'cpc_object_id',
                    'max_processors', 'max_memory')


@dataclasses.dataclass(frozen=True)
class HMCSettings:
    """How to reach the HMC and which CPC subset to manage."""

    hosts: tuple
    userid: str
    password: str = dataclasses.field(repr=False)
    port: int = 6794
    verify_cert: object = True
    cpc_object_id: str = None
    max_processors: int = None
    max_memory: int = None
    processor_type: str = 'ifl'
    storage_adapter_mappings: tuple = ()
    #: ((physical network, adapter object-id, port index), ...)
    network_adapter_mappings: tuple = ()
    target_wwpn_ignore_list: tuple = ()
    connect_timeout: float = 30
    connect_retries: int = 120
    startup_connect_retries: int = 3
    read_timeout: float = 300
    read_retries: int = 3
    operation_timeout: float = 3600
    status_timeout: float = 60
    retry_http_statuses: frozenset = frozenset(
        (408, 413, 429, 500, 502, 503, 504))
    retries_number: int = 5
    retry_after: float = 10
    max_retry_interval: float = 30
    pool_size: int = 4
    call_deadline: float = 300
    startup_deadline: float = 120
    #: Wait for jobs and statuses by HMC notification (``[dpm]
    #: hmc_notifications``, True there; off here so that a settings
    #: object built by hand opens no STOMP connection unasked).
    notifications: bool = False
    notification_port: int = 61612

    @classmethod
    def from_conf(cls, conf, validate=True):
        """Build settings from the ``[dpm]`` group (``CONF.dpm``).

        :param conf: the ``dpm`` option group object
        :param validate: raise :class:`HMCConfigError` naming the first
            required option that is unset (``nova-dpm-status`` passes False
            to show what it can)
        :raises HMCConfigError: a required option is missing
        """
        if validate:
            for name in REQUIRED_OPTIONS:
                value = getattr(conf, name)
                if value is None or value == [] or value == '':
                    raise errors.HMCConfigError(
                        option=name,
                        detail='is not set; set it in the [dpm] section of '
                               'nova.conf')
        verify = False
        if conf.hmc_verify_cert:
            verify = conf.hmc_ca_file or True
            if validate and conf.hmc_ca_file and not (
                    os.path.isfile(conf.hmc_ca_file) and
                    os.access(conf.hmc_ca_file, os.R_OK)):
                raise errors.HMCConfigError(
                    option='hmc_ca_file',
                    detail='names %s, which is not a readable file; set '
                           'it to the PEM file of the CA that signed the '
                           'HMC certificate' % conf.hmc_ca_file)
        mappings = []
        for entry in conf.physical_storage_adapter_mappings or ():
            adapter, _sep, port = entry.rpartition(':')
            mappings.append((adapter.lower(), int(port)))
        return cls(
            network_adapter_mappings=network_mappings(
                conf.physical_network_adapter_mappings),
            hosts=tuple(conf.hmc or ()),
            port=conf.hmc_port,
            userid=conf.hmc_username,
            password=conf.hmc_password,
            verify_cert=verify,
            cpc_object_id=(conf.cpc_object_id or '').lower() or None,
            max_processors=conf.max_processors,
            max_memory=conf.max_memory,
            processor_type=conf.processor_type,
            storage_adapter_mappings=tuple(mappings),
            target_wwpn_ignore_list=tuple(
                str(wwpn).lower()
                for wwpn in conf.target_wwpn_ignore_list or ()),
            connect_timeout=conf.connect_timeout,
            connect_retries=conf.connect_retries,
            startup_connect_retries=conf.startup_connect_retries,
            read_timeout=conf.read_timeout,
            read_retries=conf.read_retries,
            operation_timeout=conf.operation_timeout,
            status_timeout=conf.status_timeout,
            retry_http_statuses=frozenset(conf.retry_http_statuses or ()),
            retries_number=conf.retries_number,
            retry_after=conf.retry_after,
            max_retry_interval=conf.max_retry_interval,
            pool_size=conf.hmc_session_pool_size,
            call_deadline=conf.call_deadline,
            startup_deadline=conf.startup_deadline,
            notifications=conf.hmc_notifications,
            notification_port=conf.hmc_notification_port,
        )

    @property
    def addresses(self):
        """``host:port`` of every HMC, for messages (never the password)."""
        return ', '.join('%s:%s' % (host, self.port) for host in self.hosts)

    def connection_key(self):
        """What makes two users share one HMC connection."""
        return (tuple(self.hosts), self.port, self.userid)

    def connection_info(self):
        """What status output may show about the connection."""
        return {'hmc': list(self.hosts), 'port': self.port,
                'userid': self.userid}


def network_mappings(entries):
    """``physnet:adapter[:port]`` entries as (physnet, adapter, port).

    The option's type has checked each entry's form.

    :raises ValueError: a physical network is mapped twice (one line)
    """
    mappings = {}
    for entry in entries or ():
        physnet, adapter, *port = entry.split(':')
        if physnet in mappings:
            raise ValueError(
                'physical_network_adapter_mappings maps physical network '
                '%r twice (%s and %s); keep one entry per physical network'
                % (physnet, ':'.join(str(p) for p in mappings[physnet]),
                   entry))
        mappings[physnet] = (physnet, adapter.lower(),
                             int(port[0]) if port else 0)
    return tuple(mappings.values())
