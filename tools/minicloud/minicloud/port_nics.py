"""NICs on the HMC against Neutron's ports, during and after tempest.

Every NIC nova-dpm creates is named ``OpenStack_Port_<port id>``
(nova_dpm/virt/dpm/network.py). While tempest runs, a sampler compares the
simulator's NICs with the ports Neutron has bound to the compute host:

* a NIC whose port is gone or belongs to another server is left behind;
* a port of a settled server (ACTIVE or SHUTOFF, no task running) without
  its NIC is missing;
* a NIC must carry its port's MAC: as its ``mac-address`` where the CPC
  takes one (SE 2.14.0 on), and in every kind in the partition's
  ``boot-os-specific-parameters`` entry of its device number.

Servers and NICs change while tempest runs, so a finding counts only when
two samples in a row show it. A sample that cannot be read (a busy service,
an error) finds nothing, so it is counted: when more than half of the
samples failed (all of them, say), the check did not happen and says so.
After tempest no NIC and no compute port may be left at all.
"""

import threading

from oslo_utils import versionutils

from nova_dpm.simulator import inventory

NIC_PREFIX = 'OpenStack_Port_'
SETTLED = ('ACTIVE', 'SHUTOFF')
_UUID_LENGTH = 36


def _mac(address):
    return (address or '').replace(':', '').replace('-', '').lower()


def nic_takes_mac(inventory_name):
    """Whether this CPC kind's NICs are created with the port's MAC."""
    se = inventory.MACHINES[inventory_name].se_version
    return (versionutils.convert_version_to_int(se) >=
            versionutils.convert_version_to_int('2.14.0'))


def _boot_mac(nic):
    """The MAC the partition's boot parameters give the NIC's device."""
    devno = (nic.get('device_number') or '').lower()
    for entry in (nic.get('boot_parameters') or '').split(';'):
        fields = [f.strip().lower() for f in entry.split(',')]
        if len(fields) == 3 and fields[0] == devno:
            return fields[2]
    return None


def compare(nics, ports, servers, host, takes_mac):
    """Lines naming each mismatch; empty when NICs and ports agree.

    ``nics``: the simulator's ``nic_list``; ``ports``: dicts with id,
    mac_address, device_id, device_owner, binding_host_id; ``servers``:
    {id: (status, task_state)}.
    """
    problems = []
    by_id = {p['id']: p for p in ports}
    seen = set()
    for nic in nics:
        name = nic['name']
        if not name.startswith(NIC_PREFIX):
            continue
        port = by_id.get(name[len(NIC_PREFIX):])
        server_id = nic['partition'][-_UUID_LENGTH:]
        if port is None or port['device_id'] != server_id:
            problems.append('NIC %s of partition %s: no port of server %s '
                            '(NIC left behind)' % (name, nic['partition'],
                                                   server_id))
            continue
        seen.add(port['id'])
        want = _mac(port['mac_address'])
        if takes_mac and _mac(nic.get('mac_address')) != want:
            problems.append('NIC %s has MAC %s, its port %s' % (
                name, nic.get('mac_address'), port['mac_address']))
        if _boot_mac(nic) != want:
            problems.append('partition %s gives device %s MAC %s, its port '
                            '%s' % (nic['partition'], nic.get(
                                'device_number'), _boot_mac(nic),
                                port['mac_address']))
    for port in ports:
        if (port['id'] in seen or port['binding_host_id'] != host
                or not (port['device_owner'] or '').startswith('compute:')):
            continue
        status, task_state = servers.get(port['device_id'], (None, None))
        if status in SETTLED and task_state is None:
            problems.append('port %s of %s server %s has no NIC on the HMC' % (
                port['id'], status, port['device_id']))
    return problems


def left_after(nics, ports):
    """Lines naming NICs and compute ports still there after tempest."""
    problems = ['NIC %s of partition %s left' % (n['name'], n['partition'])
                for n in nics if n['name'].startswith(NIC_PREFIX)]
    problems += ['port %s of server %s left' % (p['id'], p['device_id'])
                 for p in ports
                 if (p['device_owner'] or '').startswith('compute:')]
    return problems


class Sampler(object):
    """Compares NICs and ports every ``interval`` seconds in a thread."""

    def __init__(self, conn, client, host, takes_mac, interval=20.0):
        self._conn = conn
        self._client = client
        self._host = host
        self._takes_mac = takes_mac
        self._interval = interval
        self._stop = threading.Event()
        self._thread = None
        self.good = 0           # samples read and compared
        self.failed = 0         # samples that could not be read
        self.last_error = None
        self.problems = []      # findings seen twice in a row

    def read(self):
        """(nics, ports, servers) as ``compare`` takes them."""
        servers = {s.id: (s.status, s.task_state) for s in
                   self._conn.compute.servers(all_projects=True)}
        ports = [{'id': p.id, 'mac_address': p.mac_address,
                  'device_id': p.device_id, 'device_owner': p.device_owner,
                  'binding_host_id': p.binding_host_id}
                 for p in self._conn.network.ports()]
        nics = self._client.resources()['nic_list']
        return nics, ports, servers

    def sample(self, previous):
        nics, ports, servers = self.read()
        found = set(compare(nics, ports, servers, self._host,
                            self._takes_mac))
        self.good += 1
        for line in sorted(found & previous):
            if line not in self.problems:
                self.problems.append(line)
        return found

    def take(self, previous):
        """One sample; one that cannot be read is counted as failed.

        A failed sample breaks the pairing: a finding needs two samples
        read in a row.
        """
        try:
            return self.sample(previous)
        except Exception as exc:    # a busy service, an error
            self.failed += 1
            self.last_error = ('%s: %s' % (type(exc).__name__, exc)
                               ).splitlines()[0][:200]
            return set()

    def unread(self):
        """A line when more than half of the samples failed to read.

        Then the check did not happen, whatever it found. None otherwise
        (also when tempest ended before the first sample).
        """
        total = self.good + self.failed
        if self.failed * 2 <= total:
            return None
        return ('NICs against ports not checked: %d of %d samples failed to '
                'read (more than half); last error: %s' % (
                    self.failed, total, self.last_error))

    def summary(self):
        return 'NICs against ports: %d samples read, %d failed to read, ' \
            '%d mismatches' % (self.good, self.failed, len(self.problems))

    def _loop(self):
        previous = set()
        while not self._stop.wait(self._interval):
            previous = self.take(previous)

    def start(self):
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name='port-nic-sampler')
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
