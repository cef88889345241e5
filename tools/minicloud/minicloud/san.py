"""The simulator's FCP storage array, as the mini-cloud's Cinder sees it.

``ArrayClient`` talks to the array through the simulator's control API
(``/san``, plain HTTP on loopback; see nova_dpm/simulator/README.rst).
``ArrayVolumes`` is everything Cinder's volume driver does with it: a
Cinder volume is one LUN (its number kept in ``provider_location`` as
``lun:<n>``), attaching maps the LUN to each initiator WWPN of Nova's
connector through every target port and answers ``fibre_channel``
connection info, detaching unmaps. Neither needs Cinder, so both are
tested against a real simulator; ``cinder_driver`` only wraps them.
"""

import json
import urllib.error

from minicloud import hmc

LOCATION_PREFIX = 'lun:'


class ArrayError(Exception):
    """The array refused a request, or cannot be reached (one line)."""

    def __init__(self, status, message):
        super(ArrayError, self).__init__(message)
        self.status = status


class ArrayClient(hmc.SimulatorClient):
    """The ``/san`` part of the simulator's control API."""

    def _call(self, method, path, body=None):
        try:
            return super(ArrayClient, self)._call(method, path, body)
        except urllib.error.HTTPError as exc:
            raise ArrayError(exc.code, 'the storage array refused %s %s: '
                             '%s' % (method, path, _error_of(exc)))
        except (urllib.error.URLError, OSError) as exc:
            raise ArrayError(None, 'the storage array (HMC simulator '
                             'control API at %s) cannot be reached: %s; is '
                             'the simulator running with --san?'
                             % (self.url, getattr(exc, 'reason', exc)))

    def create_lun(self, size, name=''):
        return self._call('POST', '/san/luns', {'size': size, 'name': name})

    def extend_lun(self, lun, size):
        return self._call('POST', '/san/luns/extend',
                          {'lun': lun, 'size': size})

    def delete_lun(self, lun):
        self._call('POST', '/san/luns/delete', {'lun': lun})

    def map_lun(self, lun, initiator, target_port):
        self._call('POST', '/san/map', {'lun': lun, 'initiator': initiator,
                                        'target_port': target_port})

    def unmap_lun(self, lun, initiator=None, target_port=None):
        return self._call('POST', '/san/unmap', {
            'lun': lun, 'initiator': initiator,
            'target_port': target_port})['unmapped']


def _error_of(exc):
    try:
        return json.loads(exc.read().decode())['error']
    except (ValueError, KeyError, TypeError, OSError):
        return 'HTTP %s' % exc.code


def lun_of(volume):
    """The LUN number of a Cinder volume (from ``provider_location``)."""
    location = volume.get('provider_location') or ''
    if not location.startswith(LOCATION_PREFIX):
        raise ArrayError(None, 'volume %s has no LUN on the storage array '
                         '(provider_location %r)' % (volume.get('id'),
                                                     location or None))
    return int(location[len(LOCATION_PREFIX):])


def _initiators(connector):
    wwpns = (connector or {}).get('wwpns') or []
    return [str(w).lower().replace(':', '') for w in wwpns]


class ArrayVolumes(object):
    """Cinder's volume operations on the array (dict-like volumes)."""

    def __init__(self, client, backend_name='hmc-simulator-san'):
        self.client = client
        self.backend_name = backend_name

    def check(self):
        """The array answers and has target ports (else ArrayError)."""
        if not self.client.array()['target_ports']:
            raise ArrayError(None, 'the storage array has no target ports')

    def create(self, volume):
        """A LUN of the volume's size; the model update for Cinder."""
        record = self.client.create_lun(volume['size'],
                                        'volume-%s' % volume['id'])
        return {'provider_location': '%s%d' % (LOCATION_PREFIX,
                                               record['lun'])}

    def delete(self, volume):
        """Delete the LUN; a volume that never got one is already gone."""
        try:
            lun = lun_of(volume)
        except ArrayError:
            return
        try:
            self.client.delete_lun(lun)
        except ArrayError as exc:
            if exc.status != 404:
                raise

    def extend(self, volume, new_size):
        self.client.extend_lun(lun_of(volume), new_size)

    def connect(self, volume, connector):
        """Map the LUN to the connector's WWPNs; ``fibre_channel`` info."""
        initiators = _initiators(connector)
        if not initiators:
            raise ArrayError(None, 'the connector of host %s has no WWPNs: '
                             'an FCP volume cannot be mapped to it'
                             % (connector or {}).get('host'))
        lun = lun_of(volume)
        targets = self.client.array()['target_ports']
        for initiator in initiators:
            for target in targets:
                self.client.map_lun(lun, initiator, target)
        return {'driver_volume_type': 'fibre_channel', 'data': {
            'target_discovered': False,
            'target_lun': lun,
            'target_wwn': list(targets),
            'initiator_target_map': {i: list(targets) for i in initiators},
            'volume_id': volume['id'],
            'discard': False}}

    def disconnect(self, volume, connector):
        """Unmap the LUN from the connector's WWPNs (all: no connector)."""
        lun = lun_of(volume)
        initiators = _initiators(connector)
        if connector is None:
            self.client.unmap_lun(lun)
        for initiator in initiators:
            self.client.unmap_lun(lun, initiator)
        targets = self.client.array()['target_ports']
        return {'driver_volume_type': 'fibre_channel', 'data': {
            'target_wwn': list(targets),
            'initiator_target_map': {i: list(targets) for i in initiators}}}

    def stats(self):
        """What Cinder's scheduler needs (one pool, the whole array)."""
        capacity = self.client.array()['capacity']
        return {'volume_backend_name': self.backend_name,
                'vendor_name': 'nova-dpm mini-cloud',
                'driver_version': '1.0', 'storage_protocol': 'FC',
                'total_capacity_gb': capacity['total_gib'],
                'free_capacity_gb': capacity['free_gib'],
                'reserved_percentage': 0, 'QoS_support': False,
                'thin_provisioning_support': False,
                'thick_provisioning_support': True,
                'multiattach': False}
