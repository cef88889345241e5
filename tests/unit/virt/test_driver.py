"""DPMDriver construction and capabilities (no HMC needed)."""

from unittest import mock

from nova import exception
from oslo_config import fixture as config_fixture
import testtools

from nova_dpm import hmc
from nova_dpm.virt.dpm import driver


class DriverConstructionTest(testtools.TestCase):

    def test_constructing_needs_no_configuration_and_no_hmc(self):
        with mock.patch.object(driver, 'HMCSupervisor') as supervisor:
            dpm = driver.DPMDriver(virtapi=None)
        supervisor.assert_not_called()
        self.assertRaises(exception.VirtDriverNotReady,
                          dpm.list_instances)
        dpm.cleanup_host('host')   # init_host never ran: nothing to do

    def test_capabilities_are_truthful(self):
        caps = driver.DPMDriver.capabilities
        self.assertFalse(caps['has_imagecache'])
        self.assertTrue(caps['supports_attach_interface'])
        self.assertFalse(caps['supports_multiattach'])
        self.assertTrue(caps['supports_image_type_iso'])
        self.assertFalse(caps['supports_image_type_qcow2'])

    def test_shim_loads_the_driver(self):
        from nova.virt import dpm
        self.assertIs(driver.DPMDriver, dpm.DPMDriver)


class DriverConfigurationErrorTest(testtools.TestCase):
    """A bad [dpm] section ends nova-compute's start with one clear line."""

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(driver.CONF))
        self.conf.config(group='dpm', hmc=['10.0.0.5'], hmc_username='nova',
                         hmc_password='Secret-Pw-1',
                         cpc_object_id='3931a0f0-5e16-11ef-9c1a-00106f0d0001',
                         max_processors=4, max_memory=4096)

    def test_missing_option_is_named_in_one_line(self):
        self.conf.config(group='dpm', max_memory=None)
        dpm = driver.DPMDriver(virtapi=None)
        with mock.patch.object(driver, 'HMCSupervisor') as supervisor:
            exc = self.assertRaises(hmc.HMCConfigError, dpm.init_host,
                                    'host')
        supervisor.assert_not_called()
        self.assertEqual('[dpm] max_memory is not set; set it in the [dpm] '
                         'section of nova.conf', str(exc))
        self.assertIsInstance(exc, exception.NovaException)

    def test_unusable_value_keeps_its_message(self):
        dpm = driver.DPMDriver(virtapi=None)
        with mock.patch.object(driver.HMCSettings, 'from_conf',
                               side_effect=ValueError('hmc_port is bad')):
            exc = self.assertRaises(exception.InvalidConfiguration,
                                    dpm.init_host, 'host')
        self.assertEqual('[dpm] hmc_port is bad', str(exc))
        self.assertNotIn('Secret-Pw-1', str(exc))
