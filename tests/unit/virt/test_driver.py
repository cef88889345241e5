"""DPMDriver construction and capabilities (no HMC needed)."""

from unittest import mock

from nova import exception
import testtools

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
        self.assertFalse(caps['supports_attach_interface'])
        self.assertFalse(caps['supports_multiattach'])
        self.assertEqual(driver._has_module('image'),
                         caps['supports_image_type_iso'])

    def test_shim_loads_the_driver(self):
        from nova.virt import dpm
        self.assertIs(driver.DPMDriver, dpm.DPMDriver)

    def test_optional_module_absent_is_none(self):
        self.assertIsNone(driver._optional_module('no_such_feature'))
        self.assertIsNotNone(driver._optional_module('partition'))
