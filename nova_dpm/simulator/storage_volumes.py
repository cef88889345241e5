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

"""FCP storage volumes as the HMC models them, and their fulfilment.

A volume is created and deleted through Modify Storage Group Properties.
It has ``usage``, ``size``/``active-size`` (GiB), ``fulfillment-state``,
``uuid`` (the LUN's SCSI id, once known) and ``paths`` (one per virtual
storage resource of an attached partition: ``partition-uri``,
``device-number``, ``target-world-wide-port-name``,
``logical-unit-number``). Fulfill FCP Storage Volume names the LUN behind a
volume; the volume shows ``pending`` for ``delay`` seconds and then
``complete`` (Start FCP Storage Discovery completes it at once). The
group's ``fulfillment-state`` follows its volumes.

Which LUNs exist is the seam for a SAN model: ``EveryLunExists`` answers
without an array; ``san.StorageArray`` answers None for a LUN it does not
have, or does not map to an initiator WWPN of the group on the named host
port through the named target port, and the volume stays ``pending`` until
a later Start FCP Storage Discovery finds it mapped.

Like the job table, fulfilments complete lazily when the backend (under
its lock) calls ``advance()``; no thread is needed.
"""

import collections
import hashlib
import time

from nova_dpm.simulator import san

COMPLETE = 'complete'
PENDING = 'pending'
DEFAULT_FULFILMENT_DELAY = 0.5

FcpTarget = collections.namedtuple('FcpTarget', ['wwpn', 'lun', 'port_uri'])


class EveryLunExists(object):
    """The LUN directory without a SAN: every (WWPN, LUN) is a volume."""

    @staticmethod
    def reach(target, initiators):
        """What is behind ``target`` for ``initiators``, or None if nothing.

        Here: a LUN of unknown size that every initiator sees.
        """
        digest = hashlib.sha256(('%s|%s' % (target.wwpn, target.lun))
                                .encode('utf-8')).hexdigest()
        return san.Reached(('6005076' + digest[:25]).upper(), None, None)


class Fulfilments(object):
    """Fulfilment of the FCP volumes of one HMC (the backend lock guards)."""

    def __init__(self, hmc, luns=None, clock=time.monotonic):
        self._hmc = hmc
        self._luns = luns or EveryLunExists()
        self._clock = clock
        self.delay = DEFAULT_FULFILMENT_DELAY
        self._targets = {}     # volume URI -> FcpTarget
        self._due = {}         # volume URI -> when it becomes complete

    def use_array(self, array):
        """Find LUNs on ``array`` (a ``san.StorageArray``) from now on."""
        self._luns = array

    def set_delay(self, seconds):
        if isinstance(seconds, bool) or \
                not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError('fulfilment delay must be a non-negative '
                             'number of seconds, got %r' % (seconds,))
        self.delay = float(seconds)

    # --- volumes ---

    def create(self, group, request):
        """Add a volume from a ``create`` request; return it."""
        props = {k: v for k, v in request.items() if k != 'operation'}
        props.setdefault('usage', 'data')
        props.setdefault('description', '')
        props.setdefault('name', 'volume-%d' % (
            len(group.storage_volumes.list()) + 1))
        props['size'] = float(props['size'])
        props.update({'active-size': props['size'], 'type': 'fcp',
                      'fulfillment-state': PENDING, 'uuid': None,
                      'paths': []})
        volume = group.storage_volumes.add(props)
        _set_uris(group)
        update_group_state(group)
        return volume

    def modify(self, group, volume, request):
        props = {k: v for k, v in request.items()
                 if k not in ('operation', 'element-uri')}
        if 'size' in props:
            props['size'] = props['active-size'] = float(props['size'])
        volume.update(props)

    def delete(self, group, volume):
        group.storage_volumes.remove(volume.oid)
        self.forget(volume.uri)
        _set_uris(group)
        update_group_state(group)

    def forget(self, volume_uri):
        self._targets.pop(volume_uri, None)
        self._due.pop(volume_uri, None)

    def forget_group(self, group):
        for volume in group.storage_volumes.list():
            self.forget(volume.uri)

    # --- fulfilment ---

    def fulfil(self, group, volume, target):
        """Fulfill FCP Storage Volume: complete after the delay."""
        self._targets[volume.uri] = target
        volume.properties['fulfillment-state'] = PENDING
        self._due[volume.uri] = self._clock() + self.delay
        update_group_state(group)
        self.advance()

    def discover(self, group):
        """Start FCP Storage Discovery: pending fulfilments are checked now.

        A fulfilled volume whose LUN was not reachable is looked for again.
        """
        for volume in group.storage_volumes.list():
            if volume.uri in self._targets and \
                    volume.properties['fulfillment-state'] != COMPLETE:
                self._due[volume.uri] = self._clock()
        self.advance()

    def advance(self):
        """Complete every fulfilment whose time has come."""
        now = self._clock()
        for volume_uri, due in list(self._due.items()):
            if due > now:
                continue
            del self._due[volume_uri]
            volume = self._hmc.all_resources.get(volume_uri)
            if volume is None:
                continue
            group = volume.manager.parent
            target = self._targets[volume_uri]
            reached = self._luns.reach(target, [
                vsr.properties.get('world-wide-port-name')
                for vsr in group.virtual_storage_resources.list()
                if vsr.properties.get('adapter-port-uri') == target.port_uri])
            if reached is None or (reached.size is not None and
                                   reached.size < volume.properties['size']):
                continue     # no such LUN for the group: stays pending
            volume.properties['uuid'] = reached.uuid
            if reached.size is not None:
                volume.properties['active-size'] = reached.size
            volume.properties['fulfillment-state'] = COMPLETE
            self.refresh_paths(group)
            update_group_state(group)

    def refresh_paths(self, group):
        """Paths of the group's fulfilled volumes: one per resource."""
        resources = [vsr.properties for vsr in
                     group.virtual_storage_resources.list()]
        for volume in group.storage_volumes.list():
            target = self._targets.get(volume.uri)
            if target is None or \
                    volume.properties['fulfillment-state'] != COMPLETE:
                continue
            reached = self._luns.reach(target, [
                vsr.get('world-wide-port-name') for vsr in resources])
            seeing = (reached.initiators if reached is not None else ())
            volume.properties['paths'] = [{
                'partition-uri': vsr.get('partition-uri'),
                'device-number': vsr.get('device-number'),
                'target-world-wide-port-name': target.wwpn,
                'logical-unit-number': target.lun,
            } for vsr in resources if seeing is None or
                str(vsr.get('world-wide-port-name')).lower() in seeing]


def update_group_state(group):
    """A group is complete when it has volumes and all are complete."""
    volumes = group.storage_volumes.list()
    done = volumes and all(v.properties.get('fulfillment-state') == COMPLETE
                           for v in volumes)
    group.properties['fulfillment-state'] = COMPLETE if done else PENDING


def _set_uris(group):
    group.properties['storage-volume-uris'] = [
        v.uri for v in group.storage_volumes.list()]
