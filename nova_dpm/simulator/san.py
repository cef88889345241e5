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

"""The FCP storage array a DPM cloud's LUNs live on.

Without an array the simulated HMC finds every LUN it is told about
(``storage_volumes.EveryLunExists``). With one, a LUN is reachable from a
partition only as a real SAN allows: the LUN exists, it is mapped (LUN
masking) to an initiator WWPN of the partition's virtual storage resources,
and through a target port the array has. Cinder's volume driver for the
mini-cloud creates, extends, maps and deletes LUNs here through the control
API (another process); the HMC side asks :meth:`StorageArray.reach`.

The array has its own lock: the control API calls it without the HMC
backend's lock, and the backend calls it while holding that lock (the
order is always backend, then array; the array never calls back).
"""

import collections
import re
import threading

#: Target ports of the built-in array (IBM storage-style WWPNs).
DEFAULT_TARGET_PORTS = ('500507680b215660', '500507680b225660')
DEFAULT_CAPACITY_GIB = 10240
_UUID_PREFIX = '6005076810810'      # 13 of the 32 hex digits of a SCSI id
_WWPN = re.compile(r'^(0x)?[0-9a-fA-F]{16}$')

#: What the HMC finds behind a fulfilment: the LUN's SCSI id, its size
#: (GiB, None: unknown) and the initiator WWPNs that see it.
Reached = collections.namedtuple('Reached', ['uuid', 'size', 'initiators'])


class ArrayError(Exception):
    """The array refuses a request (``status`` as the control API's)."""

    def __init__(self, status, message):
        super(ArrayError, self).__init__(message)
        self.status = status


def normalize_wwpn(wwpn, what='WWPN'):
    """16 lower-case hex digits; ArrayError(400) for anything else."""
    text = str(wwpn)
    if not _WWPN.match(text):
        raise ArrayError(400, '%s must be 16 hexadecimal digits, got %r'
                         % (what, wwpn))
    return text[-16:].lower()


def _positive_gib(size):
    if isinstance(size, bool) or not isinstance(size, (int, float)) or \
            size <= 0:
        raise ArrayError(400, 'size must be a positive number of GiB, got '
                         '%r' % (size,))
    return size


class StorageArray(object):
    """LUNs, target ports and the host mapping of one FCP array."""

    def __init__(self, target_ports=DEFAULT_TARGET_PORTS,
                 capacity_gib=DEFAULT_CAPACITY_GIB):
        self._lock = threading.Lock()
        self._targets = tuple(normalize_wwpn(t, 'target port')
                              for t in target_ports)
        if not self._targets:
            raise ArrayError(400, 'an array needs at least one target port')
        self.capacity_gib = _positive_gib(capacity_gib)
        self._luns = {}         # LUN number -> {'lun', 'uuid', 'size', ...}
        self._mappings = set()  # (LUN number, initiator WWPN, target port)
        self._next_lun = 1      # numbers are never reused (stale info)

    # --- the storage administrator's side (Cinder's driver) ---

    def target_ports(self):
        return list(self._targets)

    def create_lun(self, size, name=''):
        """A new LUN of ``size`` GiB; its record (number, uuid, size)."""
        _positive_gib(size)
        with self._lock:
            if self._used() + size > self.capacity_gib:
                raise ArrayError(409, 'not enough free capacity for %s GiB '
                                 '(%s of %s GiB free)' % (
                                     size, self.capacity_gib - self._used(),
                                     self.capacity_gib))
            number = self._next_lun
            self._next_lun += 1
            record = {'lun': number, 'size': float(size), 'name': str(name),
                      'uuid': '%s%019X' % (_UUID_PREFIX, number)}
            self._luns[number] = record
            return dict(record)

    def extend_lun(self, lun, size):
        """Grow a LUN (also while mapped); shrinking is refused."""
        _positive_gib(size)
        with self._lock:
            record = self._lun(lun)
            if size < record['size']:
                raise ArrayError(409, 'LUN %s has %s GiB; a LUN cannot '
                                 'shrink to %s GiB' % (lun, record['size'],
                                                       size))
            if self._used() - record['size'] + size > self.capacity_gib:
                raise ArrayError(409, 'not enough free capacity to extend '
                                 'LUN %s to %s GiB' % (lun, size))
            record['size'] = float(size)
            return dict(record)

    def delete_lun(self, lun):
        """Delete an unmapped LUN (refused while mapped, as arrays do)."""
        with self._lock:
            self._lun(lun)
            mapped = sorted(i for n, i, _ in self._mappings if n == lun)
            if mapped:
                raise ArrayError(409, 'LUN %s is still mapped to %s; unmap '
                                 'it first' % (lun, ', '.join(mapped)))
            del self._luns[lun]

    def map_lun(self, lun, initiator, target_port):
        """Let ``initiator`` see ``lun`` through ``target_port``."""
        initiator = normalize_wwpn(initiator, 'initiator WWPN')
        target_port = normalize_wwpn(target_port, 'target port')
        with self._lock:
            self._lun(lun)
            if target_port not in self._targets:
                raise ArrayError(404, 'the array has no target port %s (it '
                                 'has %s)' % (target_port,
                                              ', '.join(self._targets)))
            self._mappings.add((lun, initiator, target_port))

    def unmap_lun(self, lun, initiator=None, target_port=None):
        """Remove mappings of ``lun`` (all of them when None is given).

        Unmapping what is not mapped is no error: Cinder repeats
        terminate_connection. Returns how many mappings went.
        """
        initiator = initiator and normalize_wwpn(initiator, 'initiator WWPN')
        target_port = target_port and normalize_wwpn(target_port,
                                                     'target port')
        with self._lock:
            gone = {m for m in self._mappings if m[0] == lun and
                    initiator in (None, m[1]) and
                    target_port in (None, m[2])}
            self._mappings -= gone
            return len(gone)

    def luns(self):
        with self._lock:
            return [dict(self._luns[n]) for n in sorted(self._luns)]

    def mappings(self):
        with self._lock:
            return [{'lun': n, 'initiator': i, 'target_port': t}
                    for n, i, t in sorted(self._mappings)]

    def capacity(self):
        with self._lock:
            return {'total_gib': self.capacity_gib,
                    'free_gib': self.capacity_gib - self._used()}

    def snapshot(self):
        """Everything, for leak checks (control ``GET /san``)."""
        return {'target_ports': self.target_ports(), 'luns': self.luns(),
                'mappings': self.mappings(), 'capacity': self.capacity()}

    # --- the HMC's side ---

    def reach(self, target, initiators):
        """What the HMC finds behind a fulfilment, or None.

        :param target: ``storage_volumes.FcpTarget`` (target WWPN and
            16-hex-digit LUN named by Fulfill FCP Storage Volume)
        :param initiators: WWPNs of the virtual storage resources on the
            host port the fulfilment named
        """
        try:
            number = int(str(target.lun), 16)
        except ValueError:
            return None
        wwpn = str(target.wwpn).lower()
        with self._lock:
            record = self._luns.get(number)
            if record is None or wwpn not in self._targets:
                return None
            seeing = sorted({i for n, i, t in self._mappings
                             if n == number and t == wwpn} &
                            {str(i).lower() for i in initiators})
            if not seeing:
                return None
            return Reached(record['uuid'], record['size'], seeing)

    # --- helpers (the lock is held) ---

    def _lun(self, lun):
        record = self._luns.get(lun) if isinstance(lun, int) and \
            not isinstance(lun, bool) else None
        if record is None:
            raise ArrayError(404, 'the array has no LUN %r' % (lun,))
        return record

    def _used(self):
        return sum(r['size'] for r in self._luns.values())
