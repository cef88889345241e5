"""The built-in HMC simulator as a service, and a client of its control API.

The simulator runs as its own process (``nova-dpm-hmc-simulator``), as it
would in devstack; this module starts it, reads ``simulator.json`` and
talks to the plain-HTTP control API on loopback for faults, statistics and
the resources used by the leak check.
"""

import json
import os
import time
import urllib.request

from minicloud import networks
from minicloud import processes


# The control API is on loopback: never through an http_proxy of the
# environment (tox passes proxy variables on).
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SimulatorClient(object):
    """The control API (see nova_dpm/simulator/README.rst)."""

    def __init__(self, url):
        self.url = url.rstrip('/')

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={'Content-Type': 'application/json'})
        with _OPENER.open(request, timeout=30) as response:
            return json.loads(response.read().decode() or 'null')

    def resources(self):
        return self._call('GET', '/resources')

    def stats(self):
        return self._call('GET', '/stats')

    def faults(self):
        return self._call('GET', '/faults')

    def array(self):
        """The storage array (``--san``): ports, LUNs, mappings, capacity."""
        return self._call('GET', '/san')

    def fault(self, kind, **body):
        """POST /faults/<kind>, e.g. fault('fail', status=503, reason=0)."""
        return self._call('POST', '/faults/' + kind, body)


class HMCSimulatorService(object):

    def __init__(self, table, bin_dir, state_dir, port, job_duration,
                 inventory):
        self.table = table
        self.bin_dir = bin_dir
        self.state_dir = state_dir
        self.port = port
        self.job_duration = job_duration
        self.inventory = inventory
        self.info = None
        self.client = None

    def start(self, timeout=60):
        info_file = os.path.join(self.state_dir, 'simulator.json')
        process = self.table.start('hmc-simulator', [
            os.path.join(self.bin_dir, 'nova-dpm-hmc-simulator'),
            '--port', str(self.port), '--state-dir', self.state_dir,
            '--job-duration', str(self.job_duration),
            '--notification-port', '0',
            '--inventory', self.inventory,
            # the FCP storage array Cinder's LUNs live on (minicloud.san)
            '--san'])
        deadline = time.monotonic() + timeout
        while not os.path.exists(info_file):
            if not process.alive():
                raise processes.ServiceFailed(
                    'the HMC simulator exited: see %s:\n%s' % (
                        process.log_path, process.log_tail()))
            if time.monotonic() > deadline:
                raise processes.ServiceFailed(
                    'the HMC simulator wrote no %s within %d s; see %s' % (
                        info_file, timeout, process.log_path))
            time.sleep(0.1)
        with open(info_file) as f:
            self.info = json.load(f)
        self.client = SimulatorClient(self.info['control_url'])

    def password(self):
        with open(self.info['password_file']) as f:
            return f.readline().strip()

    def dpm_options(self):
        """nova.conf's [dpm] section for this simulator (TLS verified)."""
        return {
            'hmc': self.info['host'],
            'hmc_port': self.info['port'],
            'hmc_username': self.info['userid'],
            'hmc_password': self.password(),
            'hmc_verify_cert': 'True',
            'hmc_ca_file': self.info['ca_file'],
            'hmc_notifications': 'True',
            'hmc_notification_port': self.info['notification_port'],
            'cpc_object_id': self.info['cpc_object_id'],
            'max_processors': '16',
            'max_memory': '65536',
            'physical_network_adapter_mappings': networks.adapter_mapping(
                self.inventory),
        }
