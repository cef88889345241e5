"""A DPMDriver configured through ``[dpm]`` against the HTTPS simulator.

Each test gets its own simulator (short jobs), a temporary state_path and
a driver whose ``init_host`` built a real HMCSupervisor with TLS verified.
"""

import uuid

import fixtures
from nova.compute import vm_states
from nova import objects
from nova.tests.unit import fake_instance
from oslo_config import fixture as config_fixture
import testtools

import nova_dpm.conf
from nova_dpm.simulator import HMCSimulator
from nova_dpm.simulator import inventory
from nova_dpm.virt.dpm import driver as driver_mod

CONF = nova_dpm.conf.CONF
JOB_SECONDS = 0.1
TARGET = '500507680b214ac1'

objects.register_all()


def boot_bdi(volume_id='vol-1'):
    return {'block_device_mapping': [{
        'boot_index': 0, 'connection_info': {
            'driver_volume_type': 'fibre_channel', 'serial': volume_id,
            'data': {'target_wwn': [TARGET], 'target_lun': 1}}}]}


def vifs(count):
    from nova.network import model as network_model
    return network_model.NetworkInfo([network_model.VIF(
        id=str(uuid.UUID(int=index)), type='dpm_vswitch',
        address='fa:16:3e:00:00:%02x' % index,
        details={'object_id': inventory.OSA_ADAPTER_OID, 'port': 0},
        network=network_model.Network(id='net'))
        for index in range(1, count + 1)])


class DriverTestCase(testtools.TestCase):
    """On the default CPC, which has dpm-storage-management.

    Subclasses with ``storage_management = False`` run on a CPC without it
    (boot volumes reached through HBAs instead of a storage group).
    """

    host = 'compute-1'
    storage_management = True

    def setUp(self):
        super().setUp()
        # Logs go with the test result (shown when it fails), not to the
        # runner's console.
        self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.sim = HMCSimulator(job_duration=JOB_SECONDS)
        self.sim.start()
        self.addCleanup(self.sim.stop)
        if not self.storage_management:
            # A z13-era CPC: FCP access through HBAs.
            self.sim.update_cpc({'available-features-list': [
                {'name': 'dpm-storage-management', 'state': False,
                 'description': ''}]})
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.configure(self.host)
        self.driver = self.make_driver()

    def configure(self, host):
        self.conf.config(host=host, state_path=self.state_path)
        self.conf.config(
            group='dpm', hmc=[self.sim.host], hmc_port=self.sim.port,
            hmc_username=self.sim.userid, hmc_password=self.sim.password,
            hmc_ca_file=self.sim.ca_file, cpc_object_id=self.sim.cpc_object_id,
            max_processors=8, max_memory=65536,
            physical_storage_adapter_mappings=[
                '%s:0' % oid for oid in inventory.FCP_ADAPTER_OIDS],
            connect_timeout=5, read_timeout=3, connect_retries=2,
            startup_connect_retries=0, read_retries=1, retries_number=2,
            retry_after=0, max_retry_interval=1, hmc_session_pool_size=2,
            status_timeout=10, operation_timeout=30)

    def make_driver(self, init=True):
        driver = driver_mod.DPMDriver(virtapi=None)
        if init:
            driver.init_host(CONF.host)
            self.addCleanup(driver.cleanup_host, CONF.host)
        return driver

    def instance(self, vcpus=1, memory_mb=1024):
        instance = fake_instance.fake_instance_obj(
            None, uuid=str(uuid.uuid4()))
        instance.flavor.vcpus = vcpus
        instance.flavor.memory_mb = memory_mb
        instance.vm_state = vm_states.BUILDING
        instance.task_state = None
        refresh = self.useFixture(fixtures.MockPatchObject(
            instance, 'refresh')).mock
        instance.refresh_mock = refresh
        return instance

    def spawn(self, instance, network_info=None, bdi=None, power_on=True):
        self.driver.spawn(None, instance, None, [], None, {},
                          network_info=network_info,
                          block_device_info=bdi if bdi is not None
                          else boot_bdi(), power_on=power_on)

    def assertNothingLeft(self):
        resources = self.sim.resources()
        self.assertEqual([], resources['partitions'])
        self.assertEqual(0, resources['nics'])
        self.assertEqual(0, resources['hbas'])
        self.assertEqual(0, resources['storage_group_attachments'])
        self.assertEqual([], resources['storage_groups'])
        self.assertEqual(0, resources['virtual_storage_resources'])
        self.assertEqual(0, resources['iso_mounts'])
