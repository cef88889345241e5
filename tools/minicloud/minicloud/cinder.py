"""Cinder in the mini-cloud: block storage on the HMC simulator's array.

cinder-api runs under gunicorn like the other APIs (``cloud.WSGI_APPS``);
cinder-scheduler and cinder-volume are services of the process table
(tracked by PID, one log each). cinder-volume's one back end is
``minicloud.cinder_driver.SimulatedSanDriver``: every Cinder volume is a
LUN of the simulator's FCP storage array (``nova-dpm-hmc-simulator
--san``), mapped to the partition's WWPNs on attach, so Nova's volume
flows meet real Cinder and the HMC finds only what Cinder mapped.
"""

import os
import time

from minicloud import configs
from nova_dpm.simulator import inventory

BACKEND = 'hmc-simulator-san'
DRIVER = 'minicloud.cinder_driver.SimulatedSanDriver'
# The query filters cinder-api allows per resource, as Cinder ships them:
# without the file (its default path is /etc/cinder/) every filtered list
# is refused, Nova's attachment list by instance_id among them (HTTP 400).
FILTERS_FILE = 'resource_filters.json'
# The directory that holds the ``minicloud`` package: cinder-volume loads
# its driver from there.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def storage_adapter_mapping(inventory_name):
    """``[dpm] physical_storage_adapter_mappings``: the first FCP adapter.

    Needed where the CPC kind has no storage management (z13: one HBA per
    partition on it); with storage groups it only sets their connectivity.
    One entry: the option is a MultiOpt, and an ini file written from a
    dict holds one line per option.
    """
    return '%s:0' % inventory.MACHINES[inventory_name].fcp_adapter_oids[0]


def config(db_url, endpoints, password, transport_url, state_dir,
           paste_file, filters_file, control_url):
    """cinder.conf: one back end, the simulator's array."""
    return {
        'DEFAULT': {
            'use_stderr': True,
            'debug': True,
            'transport_url': transport_url,
            'auth_strategy': 'keystone',
            'state_path': state_dir,
            'my_ip': '127.0.0.1',
            'api_paste_config': paste_file,
            'resource_query_filters_file': filters_file,
            'glance_api_servers': endpoints.url('glance'),
            'enabled_backends': BACKEND,
        },
        'database': {'connection': db_url},
        'keystone_authtoken': configs._authtoken(endpoints, 'cinder',
                                                 password),
        # Cinder tells Nova about extended volumes (external events).
        'nova': configs._auth(endpoints, 'cinder', password),
        'oslo_concurrency': {'lock_path': os.path.join(state_dir, 'locks')},
        'oslo_messaging_notifications': {'driver': 'noop'},
        BACKEND: {
            'volume_driver': DRIVER,
            'volume_backend_name': BACKEND,
            'hmc_simulator_control_url': control_url,
        },
    }


class Cinder(object):
    """cinder.conf, its schema, and the two daemons besides the API."""

    DAEMONS = ('cinder-scheduler', 'cinder-volume')

    def __init__(self, table, bin_dir, etc_dir, state_dir):
        self.table = table
        self.bin_dir = bin_dir
        self.conf = os.path.join(etc_dir, 'cinder', 'cinder.conf')
        self.state_dir = state_dir

    def write_config(self, db_url, endpoints, password, transport_url,
                     paste_file, filters_file, control_url):
        configs.write_ini(self.conf, config(
            db_url, endpoints, password, transport_url, self.state_dir,
            paste_file, filters_file, control_url))

    def setup_steps(self):
        """The schema (one argv per step, as cloud._sync_databases runs)."""
        return [[os.path.join(self.bin_dir, 'cinder-manage'),
                 '--config-file', self.conf, 'db', 'sync']]

    def start_daemons(self):
        for binary in self.DAEMONS:
            env = {'PYTHONPATH': PACKAGE_PARENT} if (
                binary == 'cinder-volume') else None
            self.table.start(binary, [os.path.join(self.bin_dir, binary),
                                      '--config-file', self.conf], env=env)

    def wait_for_backend(self, conn, timeout=180):
        """Until the scheduler knows the array's pool (volumes can go).

        cinder-volume reports its pool once its driver set up; a driver
        that cannot reach the array never does, and its log says why.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.table.check_alive()
            pools = conn.block_storage.get(
                '/scheduler-stats/get_pools').json().get('pools') or []
            if any(p['name'].endswith('#' + BACKEND) for p in pools):
                return
            time.sleep(2)
        raise RuntimeError(
            'cinder-volume reported no pool of back end %s within %d s; '
            'see %s' % (BACKEND, timeout, self.table.log_path(
                'cinder-volume')))
