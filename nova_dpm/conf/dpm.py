"""The ``[dpm]`` options of nova.conf.

Option names are part of the operator interface (nova.conf, the devstack
plugin, the documentation): never rename one without a deprecation.
"""

from oslo_config import cfg
from oslo_config import types

GROUP = cfg.OptGroup(
    'dpm',
    title='IBM Z DPM driver',
    help='How nova-compute reaches the HMC and which subset of one CPC in '
         'DPM mode it manages.')


class _Pattern(types.String):
    """A string that must match a pattern, with an error saying what to do."""

    def __init__(self, regex, type_name, expected):
        super().__init__(regex=regex, type_name=type_name)
        self.expected = expected

    def __call__(self, value):
        try:
            return super().__call__(value)
        except ValueError:
            raise ValueError('%r is not a valid %s: expected %s'
                             % (value, self.type_name, self.expected))


_OID = r'[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}'


class ObjectId(_Pattern):
    """An HMC object-id: a UUID (32 hex digits, dashes optional)."""

    def __init__(self):
        super().__init__(
            '^%s$' % _OID, 'HMC object-id',
            'a UUID such as 1a2b3c4d-0000-1111-2222-333344445555, as shown '
            'in the object-id of the CPC on the HMC')


class AdapterPort(_Pattern):
    """``<adapter-object-id>:<port>`` naming one FCP adapter port."""

    def __init__(self):
        super().__init__(
            '^%s:[0-9]$' % _OID, '<adapter-object-id>:<port>',
            'the object-id of an FCP adapter, a colon and its port '
            'index 0-9')


class NetworkAdapterPort(_Pattern):
    """``<physnet>:<adapter-object-id>[:<port>]``: one physical network."""

    def __init__(self):
        super().__init__(
            r'^[^:\s]+:%s(:[0-9])?$' % _OID,
            '<physical-network>:<adapter-object-id>[:<port>]',
            'a Neutron physical network name, a colon, the object-id of a '
            'network adapter (OSA, HiperSockets, RoCE, CNA, Network '
            'Express) and optionally a colon and its port index 0-9 '
            '(default 0)')


class Wwpn(_Pattern):
    """A world wide port name: 16 hex digits."""

    def __init__(self):
        super().__init__(r'^(0x)?[0-9a-fA-F]{16}$', 'WWPN',
                         '16 hex digits such as 500507680b214ac1')


HMC_OPTS = [
    cfg.ListOpt(
        'hmc', default=[],
        help='Addresses (host names or IPs) of the HMC. The first is the '
             'primary; the others are alternate HMCs managing the same CPC, '
             'used in order when the current one is unreachable.'),
    cfg.PortOpt('hmc_port', default=6794,
                help='TCP port of the HMC Web Services API.'),
    cfg.StrOpt('hmc_username', help='HMC user ID nova-compute logs on as.'),
    cfg.StrOpt('hmc_password', secret=True,
               help='Password of hmc_username. Never logged.'),
    cfg.BoolOpt('hmc_verify_cert', default=True,
                help='Verify the HMC certificate. Turn off only in a lab.'),
    cfg.StrOpt('hmc_ca_file',
               help='CA certificate (PEM) that signed the HMC certificate. '
                    'Unset: the system CA store.'),
]

CPC_OPTS = [
    cfg.Opt('cpc_object_id', type=ObjectId(),
            help='Object-id of the CPC (in DPM mode) whose subset this '
                 'nova-compute manages.'),
    cfg.IntOpt('max_processors', min=1,
               help='Processors of processor_type this nova-compute may '
                    'give to its partitions (the size of its CPC subset).'),
    cfg.IntOpt('max_memory', min=512,
               help='Memory in MiB this nova-compute may give to its '
                    'partitions (the size of its CPC subset).'),
    cfg.StrOpt('processor_type', default='ifl',
               choices=[('ifl', 'Integrated Facility for Linux'),
                        ('cp', 'general purpose central processor')],
               help='Processor type of the partitions: ifl (Linux) or cp '
                    '(general purpose).'),
    cfg.MultiOpt('physical_storage_adapter_mappings', item_type=AdapterPort(),
                 help='FCP adapter ports used for volumes, one '
                      '<adapter-object-id>:<port> per line; each partition '
                      'gets one HBA (virtual HBA) per entry.'),
    cfg.MultiOpt('physical_network_adapter_mappings',
                 item_type=NetworkAdapterPort(),
                 help='Network adapter ports of the CPC for Neutron physical '
                      'networks, one <physical-network>:<adapter-object-id>'
                      '[:<port>] per line (port 0 when omitted), as '
                      "networking-dpm's agent had them. A port bound by "
                      "Neutron's dpm mechanism driver names only its "
                      'physical network; its NIC goes to the adapter port '
                      'mapped here (through the virtual switch of an OSA '
                      'or HiperSockets port on CPCs before z17). Checked '
                      'at start: every adapter must exist and carry NICs.'),
    cfg.ListOpt('target_wwpn_ignore_list', item_type=Wwpn(), default=[],
                help='Target WWPNs never used for boot or attach, even when '
                     'the volume connection lists them.'),
]

CONNECTION_OPTS = [
    cfg.IntOpt('connect_timeout', default=30, min=1,
               help='Seconds to wait for a TCP/TLS connection to the HMC.'),
    cfg.IntOpt('connect_retries', default=120, min=0,
               help='Reconnection attempts at runtime before HMC calls fail '
                    'fast with HypervisorUnavailable (backoff between '
                    'attempts, capped by max_retry_interval).'),
    cfg.IntOpt('startup_connect_retries', default=3, min=0,
               help='Connection attempts beyond the first when '
                    'nova-compute starts; then the start fails.'),
    cfg.IntOpt('read_timeout', default=300, min=1,
               help='Seconds to wait for an HMC response.'),
    cfg.IntOpt('read_retries', default=3, min=0,
               help='Retries of a read (GET) that timed out.'),
    cfg.IntOpt('operation_timeout', default=3600, min=1,
               help='Seconds an asynchronous HMC job (start, stop, ...) may '
                    'take.'),
    cfg.IntOpt('status_timeout', default=60, min=1,
               help='Seconds to wait for a partition to reach a status '
                    'after its job ended.'),
    cfg.ListOpt('retry_http_statuses', item_type=types.Integer(100, 599),
                default=[408, 413, 429, 500, 502, 503, 504],
                help='HTTP statuses of the HMC that are retried.'),
    cfg.IntOpt('retries_number', default=5, min=0,
               help='Retries of a call answered with a status in '
                    'retry_http_statuses.'),
    cfg.IntOpt('retry_after', default=10, min=0,
               help='Seconds between retries of such a call; a larger '
                    'Retry-After from the HMC wins.'),
    cfg.IntOpt('max_retry_interval', default=30, min=1,
               help='Upper bound in seconds of the reconnection backoff.'),
    cfg.IntOpt('hmc_session_pool_size', default=4, min=1,
               help='Logged-on HMC sessions kept for concurrent operations '
                    '(each counts against the HMC session limit).'),
    cfg.IntOpt('call_deadline', default=300, min=1,
               help='Seconds one HMC call of the driver may take in all: '
                    'waiting for a reconnection or a pooled session, '
                    'connect and read timeouts, retries and Retry-After '
                    'waits. Beyond it the call fails (HypervisorUnavailable '
                    'for an unreachable or mute HMC) while reconnection '
                    'goes on in the background (connect_retries), and '
                    'calls work again as soon as the HMC answers. 300 s: a '
                    'slow but answering HMC operation (Create Partition '
                    'under load takes up to a few minutes) still '
                    'completes, while a hung HMC frees the few worker '
                    'threads of nova-compute (builds, power-state sync, '
                    'RPC handlers) after 5 minutes instead of an hour. '
                    'Asynchronous jobs are bounded by operation_timeout; '
                    'each of their status polls is one call.'),
    cfg.BoolOpt('hmc_notifications', default=True,
                help='Learn that an HMC job (partition start, stop) ended, '
                     'or that a partition reached a status, from the '
                     "HMC's notifications (JMS over STOMP over TLS on "
                     'hmc_notification_port, one connection per HMC '
                     'connection, the HMC certificate verified as for the '
                     'Web Services API) instead of asking it again and '
                     'again: a 30 s partition start then costs about 3 '
                     'requests instead of about 40, and is seen at once. '
                     'Polling remains the fallback: while the notification '
                     'connection is down, and every wait polls after 15 s '
                     'and then after each half of the time waited, so a '
                     'lost notification costs time, never a hung call. '
                     'False: poll only.'),
    cfg.PortOpt('hmc_notification_port', default=61612,
                help="TCP port of the HMC's STOMP notification endpoint "
                     '(used with hmc_notifications).'),
    cfg.IntOpt('startup_deadline', default=120, min=1,
               help='Seconds nova-compute start may spend on the HMC '
                    '(connection attempts, logon, CPC and adapter checks) '
                    'whatever the HMC does: refuses connections, drops '
                    'packets, goes mute after TLS, answers 503 or answers '
                    'slowly. Then the start fails with one line naming '
                    'the cause. 120 s: an HMC that cannot answer a '
                    'handful of small requests in two minutes is not '
                    'usable, and a configuration mistake is reported '
                    'while the operator still watches.'),
]

IMAGE_OPTS = [
    cfg.StrOpt('image_cache_dir', default='$state_path/dpm_image_cache',
               help='Where downloaded ISO images are kept.'),
    cfg.IntOpt('image_stall_timeout', default=30, min=1,
               help='Seconds without data after which an image download '
                    'reconnects and resumes.'),
    cfg.IntOpt('image_download_retries', default=10, min=0,
               help='Reconnections of one image download before the build '
                    'fails.'),
    cfg.StrOpt('default_ins_file', default='/generic.ins',
               help='The .ins file inside an ISO image used to boot it, '
                    'unless the image property dpm_ins_file names another.'),
]

ALL_OPTS = HMC_OPTS + CPC_OPTS + CONNECTION_OPTS + IMAGE_OPTS


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(ALL_OPTS, group=GROUP)


def list_opts():
    return {GROUP: ALL_OPTS}
