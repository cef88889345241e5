"""A faked HMC (zhmcclient.mock) for the NIC and FCP storage unit tests.

zhmcclient.mock lacks what a real HMC does when a storage group is
attached to a partition (virtual storage resources with WWPNs appear), so
two small handlers add that. ``FaultyHandler`` injects one fault into the
next matching request: an HTTP error, a dropped connection (request not
executed) or a lost response (executed, then a read timeout).
"""

import re

import zhmcclient
from zhmcclient import mock
from zhmcclient.mock import _urihandler as urihandler

from nova_dpm.hmc import settings as hmc_settings

CPC_OID = '3931a0f0-5e16-11ef-9c1a-00106f0d0001'
OSA_OID = '3931a0f0-5e16-11ef-9c1a-00106f0d0101'
ROCE_OID = '3931a0f0-5e16-11ef-9c1a-00106f0d0102'
FCP_OIDS = ('3931a0f0-5e16-11ef-9c1a-00106f0d0103',
            '3931a0f0-5e16-11ef-9c1a-00106f0d0104')
VSWITCH_OID = '3931a0f0-5e16-11ef-9c1a-00106f0d0201'
PARTITION_NAME = 'OpenStack-host1-instance'


def _port(index, kind):
    props = {'element-id': str(index), 'name': 'Port %d' % index,
             'index': index, 'description': ''}
    if kind == 'storage':
        props['fabric-id'] = '10000000C9A1B2C3'
    return {'properties': props}


def _adapter(oid, name, adapter_type, ports):
    return {'properties': {'object-id': oid, 'name': name,
                           'type': adapter_type, 'status': 'active',
                           'state': 'online', 'port-count': len(ports)},
            'ports': ports}


def inventory(storage_management):
    features = [{'name': 'dpm-storage-management',
                 'state': bool(storage_management), 'description': ''}]
    cpc = {
        'properties': {
            'object-id': CPC_OID, 'name': 'CPC1', 'dpm-enabled': True,
            'iml-mode': 'dpm', 'status': 'active', 'se-version': '2.16.0',
            'has-unacceptable-status': False, 'machine-type': '3931',
            'processor-count-ifl': 10, 'processor-count-general-purpose': 4,
            'storage-customer': 1024 * 1024,
            'storage-customer-available': 1024 * 1024,
            'available-features-list': features},
        'adapters': [
            _adapter(OSA_OID, 'OSA', 'osd',
                     [_port(0, 'network'), _port(1, 'network')]),
            _adapter(ROCE_OID, 'ROCE', 'roce',
                     [_port(0, 'network'), _port(1, 'network')]),
            _adapter(FCP_OIDS[0], 'FCP1', 'fcp', [_port(0, 'storage')]),
            _adapter(FCP_OIDS[1], 'FCP2', 'fcp', [_port(0, 'storage')]),
        ],
        'virtual_switches': [{'properties': {
            'object-id': VSWITCH_OID, 'name': 'VSWITCH OSA 0',
            'type': 'osd', 'port': 0,
            'backing-adapter-uri': '/api/adapters/' + OSA_OID}}],
        'partitions': [{'properties': {
            'object-id': 'a0000000-0000-0000-0000-000000000001',
            'name': PARTITION_NAME, 'status': 'stopped',
            'ifl-processors': 1, 'initial-memory': 1024,
            'maximum-memory': 1024}}],
    }
    return {'consoles': [{'properties': {'name': 'HMC1',
                                         'object-uri': '/api/console'}}],
            'cpcs': [cpc]}


class _AttachStorageGroup(object):
    @staticmethod
    def post(method, hmc, uri, uri_parms, body, logon_required,
             wait_for_completion):
        partition = hmc.lookup_by_uri('/api/partitions/' + uri_parms[0])
        group = hmc.lookup_by_uri(body['storage-group-uri'])
        attached = partition.properties.setdefault('storage-group-uris', [])
        if group.uri in attached:
            raise urihandler.ConflictError(method, uri, 120,
                                           'already attached')
        attached.append(group.uri)
        for path in range(int(group.properties.get('connectivity') or 1)):
            group.virtual_storage_resources.add({
                'name': '%s path %d' % (partition.name, path),
                'partition-uri': partition.uri,
                'adapter-port-uri': '/api/adapters/%s/storage-ports/0'
                                    % FCP_OIDS[path % len(FCP_OIDS)],
                'world-wide-port-name': 'c05076%010x' % (
                    abs(hash((partition.uri, path))) % (16 ** 10)),
            })


class _FulfillFcpStorageVolume(object):
    """Fulfill FCP Storage Volume, complete at once (the mock lacks it)."""

    @staticmethod
    def post(method, hmc, uri, uri_parms, body, logon_required,
             wait_for_completion):
        volume = hmc.lookup_by_uri('/api/storage-groups/%s/storage-volumes/'
                                   '%s' % tuple(uri_parms))
        volume.properties.update({
            'fulfillment-state': 'complete',
            # Not an HMC property: which port the test saw named.
            'fake-fulfilled-through': body['adapter-port-uri'],
            'paths': [{'target-world-wide-port-name':
                       body['world-wide-port-name'],
                       'logical-unit-number': body['logical-unit-number']}]})


class _DetachStorageGroup(object):
    @staticmethod
    def post(method, hmc, uri, uri_parms, body, logon_required,
             wait_for_completion):
        partition = hmc.lookup_by_uri('/api/partitions/' + uri_parms[0])
        group = hmc.lookup_by_uri(body['storage-group-uri'])
        attached = partition.properties.get('storage-group-uris') or []
        if group.uri not in attached:
            raise urihandler.ConflictError(method, uri, 121, 'not attached')
        attached.remove(group.uri)
        for vsr in group.virtual_storage_resources.list():
            if vsr.properties.get('partition-uri') == partition.uri:
                group.virtual_storage_resources.remove(vsr.oid)


EXTRA_URIS = (
    (r'/api/partitions/([^/]+)/operations/attach-storage-group',
     _AttachStorageGroup),
    (r'/api/partitions/([^/]+)/operations/detach-storage-group',
     _DetachStorageGroup),
    (r'/api/storage-groups/([^/]+)/storage-volumes/([^/]+)/operations/'
     r'fulfill-fcp-storage-volume', _FulfillFcpStorageVolume),
)


class FaultyHandler(urihandler.UriHandler):
    """A UriHandler that fails chosen requests once, then works."""

    def __init__(self):
        super().__init__(EXTRA_URIS + tuple(urihandler.URIS))
        self.faults = []        # [method, uri regex, kind]
        self.requests = []      # (method, uri)

    def fail_next(self, method, uri_regex, kind):
        """kind: 'http500', 'http409', 'drop' or 'lost'."""
        self.faults.append([method, uri_regex, kind])

    def _fault(self, method, uri):
        for fault in self.faults:
            if fault[0] == method and re.search(fault[1], uri):
                self.faults.remove(fault)
                return fault[2]
        return None

    def _run(self, method, uri, call):
        self.requests.append((method, uri))
        kind = self._fault(method, uri)
        if kind == 'drop':
            raise urihandler.FakedConnectionError('connection reset by peer')
        if kind == 'http500':
            raise urihandler.ServerError(method, uri, reason=1,
                                         message='injected fault')
        if kind == 'http409':
            raise urihandler.ConflictError(method, uri, 1,
                                           'injected wrong state')
        result = call()
        if kind == 'lost':
            raise zhmcclient.ReadTimeout('response lost (injected)', None,
                                         1, 0)
        return result

    def get(self, hmc, uri, logon_required):
        return self._run('GET', uri, lambda: super(FaultyHandler, self).get(
            hmc, uri, logon_required))

    def post(self, hmc, uri, body, logon_required, wait_for_completion):
        return self._run('POST', uri, lambda: super(FaultyHandler, self).post(
            hmc, uri, body, logon_required, wait_for_completion))

    def delete(self, hmc, uri, logon_required):
        return self._run('DELETE', uri,
                         lambda: super(FaultyHandler, self).delete(
                             hmc, uri, logon_required))


class FakeHMC(object):
    """One faked HMC shared by every session the supervisor opens."""

    def __init__(self, storage_management=True):
        self.session = mock.FakedSession('fake-hmc', 'HMC1', '2.16.0',
                                         '4.10', 'user', 'secret')
        self.session.hmc.add_resources(inventory(storage_management))
        self.handler = FaultyHandler()
        self.session._urihandler = self.handler

    @property
    def hmc(self):
        return self.session.hmc

    def session_factory(self, hosts, settings, connect_timeout=None):
        session = mock.FakedSession('fake-hmc', 'HMC1', '2.16.0', '4.10',
                                    settings.userid, settings.password)
        session._hmc = self.session.hmc
        session._urihandler = self.handler
        return session

    def partition(self, name=PARTITION_NAME):
        return self.hmc.cpcs.lookup_by_oid(CPC_OID).partitions.list(
            {'name': name})[0]

    def partition_uri(self):
        return self.partition().uri

    def nics(self):
        return [n.properties for n in self.partition().nics.list()]

    def hbas(self):
        return [h.properties for h in self.partition().hbas.list()]

    def storage_groups(self):
        return [g.properties
                for g in self.hmc.consoles.console.storage_groups.list()]

    def posts(self, uri_regex):
        return [u for m, u in self.handler.requests
                if m == 'POST' and re.search(uri_regex, u)]


def settings(**overrides):
    """HMC settings for the faked HMC, with fast retries."""
    values = dict(
        hosts=('fake-hmc',), userid='user', password='secret',
        cpc_object_id=CPC_OID, max_processors=4, max_memory=8192,
        storage_adapter_mappings=((FCP_OIDS[0], 0), (FCP_OIDS[1], 0)),
        connect_retries=2, startup_connect_retries=0, read_retries=1,
        retries_number=2, retry_after=0, max_retry_interval=0.05,
        pool_size=2)
    values.update(overrides)
    return hmc_settings.HMCSettings(**values)
