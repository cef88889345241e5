"""A PortContext standing in for Neutron's ML2 plugin during bind_port.

It implements neutron-lib's abstract ``api.PortContext`` (instantiating it
fails if the interface grows an abstract member it lacks) and records what
the driver sets. neutron-lib ships no such helper; Neutron's own lives in
Neutron's test tree.
"""

from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api

PORT_ID = 'c0ffee00-0000-4000-8000-000000000001'
NETWORK_ID = 'c0ffee00-0000-4000-8000-0000000000aa'


def segment(network_type, physical_network=None, segmentation_id=None,
            segment_id=None):
    return {api.ID: segment_id or 'seg-%s-%s' % (network_type,
                                                 physical_network),
            api.NETWORK_TYPE: network_type,
            api.PHYSICAL_NETWORK: physical_network,
            api.SEGMENTATION_ID: segmentation_id,
            api.MTU: 1500,
            api.NETWORK_ID: NETWORK_ID}


class FakeNetworkContext(api.NetworkContext):

    def __init__(self, segments):
        self._segments = segments

    @property
    def current(self):
        return {'id': NETWORK_ID}

    @property
    def original(self):
        return None

    @property
    def network_segments(self):
        return self._segments


class FakePortContext(api.PortContext):
    """An unbound port of ``host`` on a network with ``segments``."""

    def __init__(self, host, segments, vnic_type=portbindings.VNIC_NORMAL):
        self._host = host
        self._segments = segments
        self._port = {'id': PORT_ID, 'network_id': NETWORK_ID,
                      'mac_address': 'fa:16:3e:01:02:03',
                      'status': 'DOWN',
                      portbindings.HOST_ID: host,
                      portbindings.VNIC_TYPE: vnic_type,
                      portbindings.PROFILE: {},
                      portbindings.VIF_TYPE: portbindings.VIF_TYPE_UNBOUND,
                      portbindings.VIF_DETAILS: {}}
        self.bindings = []

    @property
    def current(self):
        return self._port

    @property
    def original(self):
        return None

    @property
    def status(self):
        return self._port['status']

    @property
    def original_status(self):
        return None

    @property
    def network(self):
        return FakeNetworkContext(self._segments)

    @property
    def binding_levels(self):
        return None

    @property
    def original_binding_levels(self):
        return None

    @property
    def top_bound_segment(self):
        return None

    @property
    def original_top_bound_segment(self):
        return None

    @property
    def bottom_bound_segment(self):
        return None

    @property
    def original_bottom_bound_segment(self):
        return None

    @property
    def host(self):
        return self._host

    @property
    def original_host(self):
        return None

    @property
    def vif_type(self):
        return self._port[portbindings.VIF_TYPE]

    @property
    def original_vif_type(self):
        return None

    @property
    def vif_details(self):
        return self._port[portbindings.VIF_DETAILS]

    @property
    def original_vif_details(self):
        return None

    @property
    def segments_to_bind(self):
        return self._segments

    def host_agents(self, agent_type):
        raise AssertionError('the dpm driver must not look for agents')

    def set_binding(self, segment_id, vif_type, vif_details, status=None):
        if segment_id not in [s[api.ID] for s in self._segments]:
            raise AssertionError('segment %s is not among the segments to '
                                 'bind' % segment_id)
        self.bindings.append((segment_id, vif_type, vif_details, status))
        self._port[portbindings.VIF_TYPE] = vif_type
        self._port[portbindings.VIF_DETAILS] = vif_details
        if status:
            self._port['status'] = status

    def continue_binding(self, segment_id, next_segments_to_bind):
        raise AssertionError('the dpm driver binds in one level')

    def allocate_dynamic_segment(self, segment):
        raise AssertionError('the dpm driver allocates no segments')

    def release_dynamic_segment(self, segment_id):
        raise AssertionError('the dpm driver allocates no segments')
