"""Adapter ports, shared by the NIC and the FCP storage facades."""

import threading

from nova_dpm.hmc import errors


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


class PortDirectory(object):
    """Adapter port URIs, each read from the HMC once.

    Adapters and their ports do not change while nova-compute runs, so a
    spawn does not pay a lookup per NIC or HBA. A missing port is not
    remembered: it raises every time, with the caller's advice.
    """

    def __init__(self, supervisor, cpc_object_id):
        self._sup = supervisor
        self._cpc_oid = cpc_object_id
        self._uris = {}
        self._lock = threading.Lock()

    def uri(self, adapter_oid, index, what, failure, missing):
        """URI of port ``index`` of the adapter.

        :param what: the lookup, for logs and errors
        :param missing: reason of ``failure`` when there is no such port
        """
        key = (adapter_oid, index)
        with self._lock:
            if key in self._uris:
                return self._uris[key]
        uri = self._sup.call(
            lambda client: port_uri(client, self._cpc_oid, adapter_oid,
                                    index),
            what=what, failure=failure)
        if uri is None:
            raise (failure or errors.HMCOperationFailed)(reason=missing)
        with self._lock:
            return self._uris.setdefault(key, uri)
