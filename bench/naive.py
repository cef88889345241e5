"""The naive baseline: what a straightforward DPM driver does with zhmcclient.

Plain zhmcclient with default settings, as the retired nova-dpm and most
first attempts use it: look the CPC up by listing, find partitions by
listing, ``pull_full_properties`` per instance, ``start(wait_for_completion=
True)``, one shared session serialised by a lock. The benchmarks measure
nova-dpm side by side with this, in the same run, against the same simulator.
(Benchmarks may import zhmcclient: the baseline *is* plain zhmcclient.)
"""

import threading

import zhmcclient


class NaiveDriver(object):

    def __init__(self, sim, prefix='naive-'):
        self.session = zhmcclient.Session(
            sim.host, sim.userid, sim.password, port=sim.port,
            verify_cert=sim.ca_file)
        self.client = zhmcclient.Client(self.session)
        self.cpc_object_id = sim.cpc_object_id
        self.prefix = prefix
        # A zhmcclient session is not thread-safe; a naive driver shares one.
        self.lock = threading.Lock()

    def close(self):
        self.session.logoff()

    def _cpc(self):
        return self.client.cpcs.find(**{'object-id': self.cpc_object_id})

    def _partitions(self):
        return [p for p in self._cpc().partitions.list()
                if p.name.startswith(self.prefix)]

    def list_instance_uuids(self):
        with self.lock:
            return [p.name[len(self.prefix):] for p in self._partitions()]

    def get_info(self, uuid):
        with self.lock:
            part = self._cpc().partitions.find(name=self.prefix + uuid)
            part.pull_full_properties()
            return part.properties['status']

    def get_available_resource(self):
        with self.lock:
            used = 0
            for part in self._partitions():
                part.pull_full_properties()
                used += part.properties['initial-memory']
            return used

    def periodic_cycle(self):
        """update_available_resource, then the power-state sync."""
        self.get_available_resource()
        for uuid in self.list_instance_uuids():
            self.get_info(uuid)

    def spawn(self, uuid, memory=1024, processors=1):
        with self.lock:
            part = self._cpc().partitions.create({
                'name': self.prefix + uuid, 'initial-memory': memory,
                'maximum-memory': memory, 'ifl-processors': processors})
            part.start(wait_for_completion=True)

    def destroy(self, uuid):
        with self.lock:
            part = self._cpc().partitions.find(name=self.prefix + uuid)
            part.pull_full_properties()
            if part.properties['status'] != 'stopped':
                part.stop(wait_for_completion=True)
            part.delete()
