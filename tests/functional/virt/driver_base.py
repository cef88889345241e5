"""A DPMDriver configured through ``[dpm]`` against the HTTPS simulator.

Each test gets its own simulator (short jobs) on one of the built-in CPC
kinds, a temporary state_path and a driver whose ``init_host`` built a
real HMCSupervisor with TLS verified. Every test ends by checking that the
simulated HMC refused nothing by its rules (``rule_violations == 0``).
"""

import sys
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


def vifs(count, adapter_oid=inventory.OSA_ADAPTER_OID):
    from nova.network import model as network_model
    return network_model.NetworkInfo([network_model.VIF(
        id=str(uuid.UUID(int=index)), type='dpm_vswitch',
        address='fa:16:3e:00:00:%02x' % index,
        details={'object_id': adapter_oid, 'port': 0},
        network=network_model.Network(id='net'))
        for index in range(1, count + 1)])


def boot_settings(supervisor, cpc_object_id, partition_name):
    """The partition's boot-* properties and ``volume``, its boot volume.

    ``volume`` holds the properties of the storage volume that
    ``boot-storage-volume`` names, when it is a volume of a group attached
    to the partition (else None). Read through ``supervisor``.
    """

    def read(client):
        cpc = client.cpcs.resource_object('/api/cpcs/' + cpc_object_id)
        partition = cpc.partitions.find(name=partition_name)
        partition.pull_full_properties()
        found = {k: v for k, v in partition.properties.items()
                 if k.startswith('boot-')}
        found['volume'] = None
        groups = client.consoles.console.storage_groups
        for sg_uri in partition.properties.get('storage-group-uris') or []:
            for volume in groups.resource_object(
                    sg_uri).storage_volumes.list():
                if volume.uri == found.get('boot-storage-volume'):
                    volume.pull_full_properties()
                    found['volume'] = dict(volume.properties)
        return found

    return supervisor.call(read, what='read boot settings of %s'
                           % partition_name)


def data_volume_states(supervisor):
    """{name: fulfillment-state} of the HMC's data storage volumes."""

    def read(client):
        return {v.name: v.properties['fulfillment-state']
                for g in client.consoles.console.storage_groups.list()
                for v in g.storage_volumes.list(full_properties=True)
                if v.properties['usage'] == 'data'}

    return supervisor.call(read, what='read the data storage volumes')


def partition_wwpns(supervisor, cpc_object_id, instance_uuid):
    """Sorted initiator WWPNs of the instance's partition.

    Those of its HBAs and of its virtual storage resources, as the HMC
    says them (lower case).
    """

    def read(client):
        cpc = client.cpcs.resource_object('/api/cpcs/' + cpc_object_id)
        [partition] = [p for p in cpc.partitions.list()
                       if instance_uuid in p.name]
        found = [h.get_property('wwpn')
                 for h in partition.hbas.list(full_properties=True)]
        for group in client.consoles.console.storage_groups.list():
            found.extend(
                v.get_property('world-wide-port-name')
                for v in group.virtual_storage_resources.list(
                    full_properties=True)
                if v.get_property('partition-uri') == partition.uri)
        return sorted(w.lower() for w in found)

    return supervisor.call(read, what='read the WWPNs of %s'
                           % instance_uuid)


def on_every_kind(cls):
    """Run a test case on every built-in CPC kind of the simulator.

    ``cls`` runs on its own ``inventory`` (the default: z16, storage
    groups); a subclass ``<name>_<kind>`` is added to its module for each
    other kind (z17: storage groups and NICs by adapter port; z13: HBAs).
    """
    module = sys.modules[cls.__module__]
    for kind in inventory.INVENTORIES:
        if kind == cls.inventory:
            continue
        name = '%s_%s' % (cls.__name__, kind)
        setattr(module, name, type(cls)(name, (cls,), {
            'inventory': kind, '__module__': cls.__module__,
            '__doc__': '%s On the %s CPC kind.' % (cls.__doc__ or '',
                                                   kind)}))
    return cls


class DriverTestCase(testtools.TestCase):
    """On the default CPC kind (z16: storage groups, virtual switches).

    Subclasses choose another built-in kind with ``inventory`` (see
    :func:`on_every_kind`).
    """

    host = 'compute-1'
    inventory = inventory.DEFAULT_INVENTORY
    #: Rule violations the test provokes on purpose (checked at the end).
    expected_rule_violations = 0
    #: An FCP storage array behind the HMC (LUNs must be mapped).
    san = False

    @property
    def machine(self):
        """The simulated CPC kind and the object-ids of its adapters."""
        return inventory.MACHINES[self.inventory]

    @property
    def storage_management(self):
        return self.machine.storage_management

    def setUp(self):
        super().setUp()
        # Logs go with the test result (shown when it fails), not to the
        # runner's console.
        self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.sim = HMCSimulator(job_duration=JOB_SECONDS,
                                inventory=self.inventory, san=self.san)
        self.sim.start()
        self.addCleanup(self.sim.stop)
        # Runs before the simulator stops (cleanups run in reverse).
        self.addCleanup(self.assertRuleViolations)
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.configure(self.host)
        self.driver = self.make_driver()

    def assertRuleViolations(self):
        """The HMC refused exactly what the test broke on purpose."""
        stats = self.sim.stats()
        self.assertEqual(
            self.expected_rule_violations, stats['rule_violations'],
            'requests the HMC refuses by its rules (simulator/RULES.rst): '
            '%s' % stats['rule_violations_by_rule'])

    def vifs(self, count):
        """``count`` ports on this CPC kind's NIC adapter."""
        return vifs(count, self.machine.nic_adapter_oid)

    def configure(self, host):
        self.conf.config(host=host, state_path=self.state_path)
        self.conf.config(
            group='dpm', hmc=[self.sim.host], hmc_port=self.sim.port,
            hmc_username=self.sim.userid, hmc_password=self.sim.password,
            hmc_ca_file=self.sim.ca_file, cpc_object_id=self.sim.cpc_object_id,
            hmc_notification_port=self.sim.notification_port,
            max_processors=8, max_memory=65536,
            physical_storage_adapter_mappings=[
                '%s:0' % oid for oid in self.machine.fcp_adapter_oids],
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
        """``driver.spawn`` from a boot volume (by default)."""
        self.driver.spawn(None, instance, None, [], None, {},
                          network_info=network_info,
                          block_device_info=bdi if bdi is not None
                          else boot_bdi(), power_on=power_on)

    def hmc(self, action, what='read the simulated HMC'):
        """``action(zhmcclient.Client)`` through the driver's supervisor."""
        return self.driver._ready.supervisor.call(action, what=what)

    def boot_settings(self, instance):
        """See :func:`boot_settings`."""
        return boot_settings(
            self.driver._ready.supervisor, self.sim.cpc_object_id,
            driver_mod.partition_mod.partition_name(self.host,
                                                    instance.uuid))

    def data_volume_states(self):
        """See :func:`data_volume_states`."""
        return data_volume_states(self.driver._ready.supervisor)

    def assertNothingLeft(self):
        resources = self.sim.resources()
        self.assertEqual([], resources['partitions'])
        self.assertEqual(0, resources['nics'])
        self.assertEqual(0, resources['hbas'])
        self.assertEqual(0, resources['storage_group_attachments'])
        self.assertEqual([], resources['storage_groups'])
        self.assertEqual(0, resources['storage_volumes'])
        self.assertEqual(0, resources['virtual_storage_resources'])
        self.assertEqual(0, resources['iso_mounts'])
