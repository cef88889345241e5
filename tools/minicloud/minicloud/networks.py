"""The mini-cloud's networks: what Neutron binds and where the NICs go.

Neutron loads the ``dpm`` mechanism driver (nova_dpm/neutron/mech_dpm.py)
for the one compute host; nova-compute maps the physical network to the
simulated CPC's network adapter (port 0 of the OSA adapter through its
virtual switch on z16 and z13, the Network Express adapter port on z17).
Tempest's servers boot on a shared flat provider network; project
networks tempest creates itself are VLANs of the same physical network,
bound by the same driver. There is no DHCP agent and no L3: subnets have
DHCP off, and nothing routes.
"""

from nova_dpm.simulator import inventory

#: nova-compute's ``[DEFAULT] host``, the one host ``[ml2_dpm] hosts`` binds.
COMPUTE_HOST = 'dpm-minicloud'
PHYSICAL_NETWORK = 'dpm-physnet'
#: Project (tenant) networks: VLANs of the physical network.
VLAN_RANGE = (1000, 1999)
#: tempest's ``[compute] fixed_network_name``.
SHARED_NETWORK = 'dpm-shared'
SHARED_CIDR = '10.64.0.0/18'


def adapter_mapping(inventory_name):
    """``[dpm] physical_network_adapter_mappings`` for a built-in CPC kind.

    The adapter for ordinary NICs of the simulator's inventory, port 0
    (nova_dpm/simulator/inventory.py names it per kind).
    """
    machine = inventory.MACHINES[inventory_name]
    return '%s:%s:0' % (PHYSICAL_NETWORK, machine.nic_adapter_oid)


def ml2_options():
    """ml2_conf.ini: the ``dpm`` driver binds flat and VLAN ports."""
    return {
        'ml2': {'type_drivers': 'flat,vlan', 'tenant_network_types': 'vlan',
                'mechanism_drivers': 'dpm',
                'extension_drivers': 'port_security'},
        'ml2_type_flat': {'flat_networks': PHYSICAL_NETWORK},
        'ml2_type_vlan': {'network_vlan_ranges': '%s:%d:%d' % (
            (PHYSICAL_NETWORK,) + VLAN_RANGE)},
        'ml2_dpm': {'hosts': COMPUTE_HOST,
                    'physical_networks': PHYSICAL_NETWORK},
    }


def create_shared_network(conn):
    """The shared provider network (and subnet) tempest's servers use.

    Returns the network's id.
    """
    network = conn.network.create_network(
        name=SHARED_NETWORK, shared=True, provider_network_type='flat',
        provider_physical_network=PHYSICAL_NETWORK)
    conn.network.create_subnet(
        network_id=network.id, name=SHARED_NETWORK + '-v4', ip_version=4,
        cidr=SHARED_CIDR, enable_dhcp=False)
    return network.id
