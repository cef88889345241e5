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

"""The port binding contract between Neutron and nova-compute.

Neutron's ``dpm`` mechanism driver (:mod:`nova_dpm.neutron`) writes these
names into a port's binding; nova-compute's DPM driver reads them
(specs/dpm-port-binding.rst). Plain constants without imports, so that each
side can use them without pulling in the other side's dependencies.
"""

# vif type of a port bound by the ``dpm`` mechanism driver. Its details
# name no HMC object: nova-compute maps the physical network to an adapter
# port with [dpm] physical_network_adapter_mappings.
VIF_TYPE_DPM = 'dpm'

# Keys of the binding's vif_details.
DETAIL_PHYSICAL_NETWORK = 'physical_network'
# Segmentation id of a VLAN segment (int); absent for flat segments.
DETAIL_VLAN = 'vlan'
# Always False: nothing filters traffic on a DPM NIC.
DETAIL_PORT_FILTER = 'port_filter'

# Bindings made by the retired networking-dpm: vif type ``dpm_vswitch``
# whose details name the virtual switch (or adapter) by ``object_id``.
# nova-compute keeps understanding them.
LEGACY_VIF_TYPE_VSWITCH = 'dpm_vswitch'
LEGACY_DETAIL_OBJECT_ID = 'object_id'
