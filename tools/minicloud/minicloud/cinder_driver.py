"""A Cinder volume driver for the mini-cloud: LUNs on the simulator's array.

Not shipped in nova_dpm: a real DPM cloud uses its storage vendor's
driver. This one gives Nova's volume flows real Cinder with real
``fibre_channel`` connection info, on the FCP storage array of the HMC
simulator (``nova-dpm-hmc-simulator --san``), so that a partition reaches
exactly the LUNs Cinder mapped to its WWPNs. Everything that talks to the
array is in ``minicloud.san`` (tested without Cinder); this class only
adapts it to Cinder's driver interface. cinder.conf backend section::

    volume_driver = minicloud.cinder_driver.SimulatedSanDriver
    hmc_simulator_control_url = http://127.0.0.1:<control port>
"""

import io

from cinder import exception
from cinder.volume import driver
from oslo_config import cfg
from oslo_log import log as logging

from minicloud import san

LOG = logging.getLogger(__name__)

OPTS = [
    cfg.StrOpt('hmc_simulator_control_url',
               help='Control API of the HMC simulator whose storage array '
                    'holds the LUNs (its simulator.json names it).'),
]


def _backend_error(exc):
    return exception.VolumeBackendAPIException(data=str(exc))


class SimulatedSanDriver(driver.VolumeDriver):
    """Volumes as LUNs of the HMC simulator's FCP storage array."""

    VERSION = '1.0'

    def __init__(self, *args, **kwargs):
        super(SimulatedSanDriver, self).__init__(*args, **kwargs)
        self.configuration.append_config_values(OPTS)
        self._volumes = None

    def do_setup(self, context):
        url = self.configuration.safe_get('hmc_simulator_control_url')
        if not url:
            raise exception.InvalidInput(
                reason='hmc_simulator_control_url is not set: give the HMC '
                       'simulator\'s control URL (simulator.json)')
        self._volumes = san.ArrayVolumes(
            san.ArrayClient(url),
            self.configuration.safe_get('volume_backend_name') or
            'hmc-simulator-san')

    def _call(self, method, *args):
        try:
            return method(*args)
        except san.ArrayError as exc:
            raise _backend_error(exc)

    def check_for_setup_error(self):
        self._call(self._volumes.check)

    def create_volume(self, volume):
        return self._call(self._volumes.create, volume)

    def delete_volume(self, volume):
        self._call(self._volumes.delete, volume)

    def extend_volume(self, volume, new_size):
        self._call(self._volumes.extend, volume, new_size)

    # Mapping is done per connection: there is nothing to export.
    def create_export(self, context, volume, connector):
        pass

    def ensure_export(self, context, volume):
        pass

    def remove_export(self, context, volume):
        pass

    def validate_connector(self, connector):
        """FCP needs the initiator WWPNs (nova-dpm sends no WWNNs)."""
        if not (connector or {}).get('wwpns'):
            raise exception.InvalidConnectorException(missing='wwpns')

    def initialize_connection(self, volume, connector, **kwargs):
        self.validate_connector(connector)
        return self._call(self._volumes.connect, volume, connector)

    def terminate_connection(self, volume, connector, **kwargs):
        return self._call(self._volumes.disconnect, volume, connector)

    # Stand-ins for data copies: no guest ever reads these LUNs, so a copy
    # is a new LUN of the right size (Cinder's own copies would attach the
    # LUN to this host through os-brick, and there is no FCP here).

    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        """An image "copied" to a volume: a new LUN of the volume's size.

        The image must exist (Glance answers for it), as for a real copy.
        """
        image_service.show(context, image_meta['id'])
        LOG.debug('Image %s stands copied to volume %s', image_meta['id'],
                  volume['id'])
        return self.create_volume(volume), True

    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        image_service.show(context, image_id)

    def copy_volume_to_image(self, context, volume, image_service,
                             image_meta):
        """Upload a stand-in: a line naming the volume, not its data."""
        lun = self._call(san.lun_of, volume)
        image_service.update(context, image_meta['id'], {}, io.BytesIO(
            ('stand-in for the data of volume %s (LUN %d of the HMC '
             'simulator\'s array)\n' % (volume['id'], lun)).encode()))

    def create_cloned_volume(self, volume, src_vref):
        self._call(san.lun_of, src_vref)
        return self.create_volume(volume)

    def create_snapshot(self, snapshot):
        """A snapshot is a LUN of its volume's size (capacity, leaks)."""
        return self._call(self._volumes.create, {
            'id': snapshot['id'], 'size': snapshot['volume_size']})

    def delete_snapshot(self, snapshot):
        self._call(self._volumes.delete, snapshot)

    def create_volume_from_snapshot(self, volume, snapshot):
        self._call(san.lun_of, snapshot)
        return self.create_volume(volume)

    def _update_volume_stats(self):
        self._stats = self._call(self._volumes.stats)
