"""Adapter ports, shared by the NIC and the FCP storage facades."""


def port_uri(client, cpc_object_id, adapter_oid, index):
    """URI of the port with ``index`` of an adapter, or None (one request).

    Runs inside a supervised action, with the borrowed client.
    """
    cpc = client.cpcs.resource_object('/api/cpcs/' + cpc_object_id)
    adapter = cpc.adapters.resource_object('/api/adapters/' + adapter_oid)
    for candidate in adapter.ports.list(full_properties=True):
        if int(candidate.get_property('index')) == index:
            return candidate.uri
    return None
