"""The [dpm] options as an operator meets them: generator output, errors."""

import os
import subprocess
import sys
import tempfile

from oslo_config import cfg
import testtools

from nova_dpm.conf import dpm
from nova_dpm.hmc import settings

EXPECTED_OPTIONS = {
    'hmc', 'hmc_port', 'hmc_username', 'hmc_password', 'hmc_verify_cert',
    'hmc_ca_file', 'cpc_object_id', 'max_processors', 'max_memory',
    'processor_type', 'physical_storage_adapter_mappings',
    'physical_network_adapter_mappings',
    'target_wwpn_ignore_list', 'connect_timeout', 'connect_retries',
    'startup_connect_retries', 'read_timeout', 'read_retries',
    'operation_timeout', 'status_timeout', 'retry_http_statuses',
    'retries_number', 'retry_after', 'max_retry_interval',
    'hmc_session_pool_size', 'call_deadline', 'startup_deadline',
    'hmc_notifications', 'hmc_notification_port',
    'image_cache_dir', 'image_stall_timeout',
    'image_download_retries', 'default_ins_file',
}

OID = '1a2b3c4d-0000-1111-2222-333344445555'


def _load(text):
    """Parse a nova.conf snippet into a fresh ConfigOpts, as nova does.

    The file is removed once parsed (oslo.config keeps the values), so no
    test leaves it in $TMPDIR; the returned path names where it was.
    """
    conf = cfg.ConfigOpts()
    dpm.register_opts(conf)
    fd, path = tempfile.mkstemp(suffix='.conf')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write('[dpm]\n' + text + '\n')
        conf(['--config-file', path], project='nova',
             default_config_files=[])
    finally:
        os.unlink(path)
    return conf, path


class TestGenerator(testtools.TestCase):

    def test_generator_lists_every_option_with_help(self):
        out = subprocess.run(
            [sys.executable, '-m', 'oslo_config.generator',
             '--namespace', 'nova_dpm'],
            capture_output=True, text=True, check=True).stdout
        self.assertIn('[dpm]', out)
        for name in EXPECTED_OPTIONS:
            self.assertIn('\n#%s =' % name, out)
        self.assertNotIn('#hmc_password = <None>\n#hmc', out.replace(
            ' ', ''))

    def test_list_opts_has_exactly_the_documented_options(self):
        from nova_dpm import conf
        (group, opts), = conf.list_opts()
        self.assertEqual('dpm', group.name)
        self.assertEqual(EXPECTED_OPTIONS, {o.name for o in opts})
        for opt in opts:
            self.assertTrue(opt.help, opt.name)


class TestDefaults(testtools.TestCase):

    def test_documented_defaults(self):
        conf, _ = _load('')
        d = conf.dpm
        self.assertEqual(6794, d.hmc_port)
        self.assertTrue(d.hmc_verify_cert)
        self.assertIsNone(d.hmc_ca_file)
        self.assertEqual('ifl', d.processor_type)
        self.assertEqual([408, 413, 429, 500, 502, 503, 504],
                         d.retry_http_statuses)
        self.assertEqual((30, 120, 3, 300, 3, 3600, 60, 5, 10, 30, 4),
                         (d.connect_timeout, d.connect_retries,
                          d.startup_connect_retries, d.read_timeout,
                          d.read_retries, d.operation_timeout,
                          d.status_timeout, d.retries_number,
                          d.retry_after, d.max_retry_interval,
                          d.hmc_session_pool_size))
        self.assertFalse(d.physical_storage_adapter_mappings)
        self.assertTrue(d.hmc_notifications)
        self.assertEqual(61612, d.hmc_notification_port)

    def test_notifications_reach_the_settings(self):
        conf, _ = _load('hmc_notifications = false\n'
                        'hmc_notification_port = 61613\n')
        values = settings.HMCSettings.from_conf(conf.dpm, validate=False)
        self.assertEqual((False, 61613), (values.notifications,
                                          values.notification_port))
        conf, _ = _load('')
        self.assertTrue(settings.HMCSettings.from_conf(
            conf.dpm, validate=False).notifications)

    def test_valid_values_are_parsed(self):
        conf, _ = _load(
            'hmc = 10.0.0.5, 10.0.0.6\n'
            'cpc_object_id = %s\n'
            'physical_storage_adapter_mappings = %s:0\n'
            'physical_storage_adapter_mappings = %s:1\n'
            'target_wwpn_ignore_list = 500507680b214ac1\n'
            'max_memory = 2048\n' % (OID, OID, OID))
        self.assertEqual(['10.0.0.5', '10.0.0.6'], conf.dpm.hmc)
        self.assertEqual(['%s:0' % OID, '%s:1' % OID],
                         conf.dpm.physical_storage_adapter_mappings)

    def test_network_mappings_with_and_without_port(self):
        conf, _ = _load(
            'physical_network_adapter_mappings = physnet1:%s\n'
            'physical_network_adapter_mappings = provider-vlan:%s:1\n'
            % (OID, OID.upper()))
        self.assertEqual(['physnet1:%s' % OID, 'provider-vlan:%s:1'
                          % OID.upper()],
                         conf.dpm.physical_network_adapter_mappings)
        self.assertEqual(
            (('physnet1', OID, 0), ('provider-vlan', OID, 1)),
            settings.network_mappings(
                conf.dpm.physical_network_adapter_mappings))

    def test_a_physical_network_mapped_twice_is_one_line(self):
        exc = self.assertRaises(ValueError, settings.network_mappings,
                                ['physnet1:%s' % OID, 'physnet1:%s:1' % OID])
        self.assertEqual(
            "physical_network_adapter_mappings maps physical network "
            "'physnet1' twice (physnet1:%s:0 and physnet1:%s:1); keep one "
            "entry per physical network" % (OID, OID), str(exc))

    def test_password_is_secret(self):
        opt = [o for o in dpm.ALL_OPTS if o.name == 'hmc_password'][0]
        self.assertTrue(opt.secret)


class TestBadValues(testtools.TestCase):
    """A wrong value names the option and says what is expected."""

    BAD = [
        ('cpc_object_id', 'my-cpc', 'HMC object-id'),
        ('physical_storage_adapter_mappings', OID, 'adapter-object-id'),
        ('physical_storage_adapter_mappings', 'abc:1', 'adapter-object-id'),
        ('physical_network_adapter_mappings', 'physnet1',
         "'physnet1' is not a valid <physical-network>:<adapter-object-id>"
         '[:<port>]'),
        ('physical_network_adapter_mappings', OID + ':0',
         '<physical-network>:'),
        ('physical_network_adapter_mappings', 'phys net:' + OID,
         '<physical-network>:'),
        ('physical_network_adapter_mappings', 'physnet1:%s:12' % OID,
         'port index 0-9'),
        ('target_wwpn_ignore_list', '5005', 'WWPN'),
        ('max_memory', '256', 'greater than or equal to 512'),
        ('max_processors', 'two', 'invalid literal'),
        ('processor_type', 'ziip', 'Valid values are'),
        ('hmc_port', '70000', 'less than or equal to 65535'),
        ('hmc_verify_cert', 'maybe', 'Unexpected boolean'),
        ('retry_http_statuses', '503,abc', 'invalid literal'),
        ('connect_timeout', '0', 'greater than or equal to 1'),
        ('hmc_session_pool_size', '0', 'greater than or equal'),
    ]

    def test_each_bad_value_names_the_option(self):
        for name, value, hint in self.BAD:
            conf, _ = _load('%s = %s' % (name, value))
            exc = self.assertRaises(cfg.ConfigFileValueError,
                                    getattr, conf.dpm, name)
            self.assertIn('option %s' % name, str(exc), name)
            self.assertIn(hint, str(exc), name)
