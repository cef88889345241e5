# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The ``dpm`` ML2 mechanism driver: binds ports of DPM compute hosts.

A DPM partition's NIC is created by nova-compute on the HMC; no agent runs
on a DPM host and nothing else in Neutron would bind its ports. This driver
binds them without an agent: ``vnic_type normal`` ports of the hosts in
``[ml2_dpm] hosts``, on the first flat or VLAN segment whose physical
network is in ``[ml2_dpm] physical_networks``, with vif type ``dpm`` and
details naming only the physical network and VLAN (the contract in
:mod:`nova_dpm.port_binding`, specs/dpm-port-binding.rst). The port is set
ACTIVE at once because no agent will ever report it up.
"""

from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api
from oslo_config import cfg
from oslo_log import log as logging

from nova_dpm.neutron import config
from nova_dpm import port_binding

LOG = logging.getLogger(__name__)

NETWORK_TYPES = (constants.TYPE_FLAT, constants.TYPE_VLAN)


class DpmMechanismDriver(api.MechanismDriver):
    """Agentless binder for nova-compute hosts running nova-dpm."""

    def __init__(self, conf=None):
        super().__init__()
        self._conf = cfg.CONF if conf is None else conf
        self._selection = None

    def initialize(self):
        """Read [ml2_dpm]; a bad value stops neutron-server (ConfigError)."""
        config.register_opts(self._conf)
        self._selection = config.load(self._conf)
        LOG.info('dpm mechanism driver binds ports of hosts %s on flat and '
                 'vlan segments of physical networks %s',
                 ', '.join(self._selection.hosts),
                 ', '.join(self._selection.physical_networks))

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        port = context.current
        vnic_type = port.get(portbindings.VNIC_TYPE, portbindings.VNIC_NORMAL)
        if (vnic_type != portbindings.VNIC_NORMAL
                or not self._selection.serves_host(context.host)):
            return
        for segment in context.segments_to_bind:
            if self._can_bind(segment):
                context.set_binding(segment[api.ID],
                                    port_binding.VIF_TYPE_DPM,
                                    vif_details(segment),
                                    status=constants.PORT_STATUS_ACTIVE)
                LOG.debug('Bound port %(port)s on host %(host)s to segment '
                          '%(segment)s', {'port': port['id'],
                                          'host': context.host,
                                          'segment': segment[api.ID]})
                return
        LOG.warning(
            'Port %(port)s on DPM host %(host)s not bound: none of its '
            'segments (%(segments)s) is flat or vlan on a physical network '
            'in [ml2_dpm] physical_networks (%(physnets)s)',
            {'port': port['id'], 'host': context.host,
             'segments': ', '.join(describe(s)
                                   for s in context.segments_to_bind),
             'physnets': ', '.join(self._selection.physical_networks)})

    def filter_hosts_with_segment_access(
            self, context, segments, candidate_hosts, agent_getter):
        """The DPM hosts among candidate_hosts, if a segment is bindable."""
        if not any(self._can_bind(s) for s in segments):
            return set()
        return {h for h in candidate_hosts if self._selection.serves_host(h)}

    def _can_bind(self, segment):
        return (segment[api.NETWORK_TYPE] in NETWORK_TYPES
                and self._selection.serves_physical_network(
                    segment.get(api.PHYSICAL_NETWORK)))


def vif_details(segment):
    """The binding details nova-compute needs to place the NIC."""
    details = {
        port_binding.DETAIL_PORT_FILTER: False,
        port_binding.DETAIL_PHYSICAL_NETWORK: segment[api.PHYSICAL_NETWORK],
    }
    if segment[api.NETWORK_TYPE] == constants.TYPE_VLAN:
        details[port_binding.DETAIL_VLAN] = int(segment[api.SEGMENTATION_ID])
    return details


def describe(segment):
    """``type/physnet/segmentation-id`` of a segment, for log lines."""
    return '/'.join(str(segment.get(key)) for key in (
        api.NETWORK_TYPE, api.PHYSICAL_NETWORK, api.SEGMENTATION_ID))
