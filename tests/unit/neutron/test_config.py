"""The [ml2_dpm] options as an operator meets them: generator, errors."""

import io

from oslo_config import cfg
from oslo_config import generator
import testtools

from nova_dpm.neutron import config
from tests.unit.neutron import base


class TestOptions(testtools.TestCase):

    def test_generator_lists_the_options_with_help(self):
        """What oslo-config-generator --namespace nova_dpm.neutron prints."""
        conf = cfg.ConfigOpts()
        generator.register_cli_opts(conf)
        conf(['--namespace', 'nova_dpm.neutron'], project='neutron',
             default_config_files=[])
        sample = io.StringIO()
        generator.generate(conf, output_file=sample)
        out = sample.getvalue()
        self.assertIn('[ml2_dpm]', out)
        self.assertIn('\n#hosts =\n', out)
        self.assertIn('\n#physical_networks = *\n', out)

    def test_list_opts(self):
        (group, opts), = config.list_opts()
        self.assertEqual('ml2_dpm', group.name)
        self.assertEqual({'hosts', 'physical_networks'},
                         {o.name for o in opts})
        for opt in opts:
            self.assertTrue(opt.help, opt.name)


class TestSelection(base.DriverTestCase):

    def test_defaults_serve_every_physical_network(self):
        selection = self.driver('hosts = a')._selection
        self.assertEqual(('a',), selection.hosts)
        self.assertEqual(('*',), selection.physical_networks)
        self.assertTrue(selection.serves_physical_network('anything'))
        self.assertFalse(selection.serves_physical_network(None))

    def test_host_patterns_are_case_sensitive_shell_patterns(self):
        selection = self.driver('hosts = dpm-?, cpc[12]-*')._selection
        for host in ('dpm-1', 'cpc1-subset', 'cpc2-x'):
            self.assertTrue(selection.serves_host(host), host)
        for host in ('dpm-10', 'DPM-1', 'cpc3-x', '', None):
            self.assertFalse(selection.serves_host(host), host)


class TestBadValues(base.DriverTestCase):
    """neutron-server stops at start with one line naming the option."""

    BAD = [
        ('', '[ml2_dpm] hosts is empty: list the nova-compute hosts running '
             'the DPM driver (names or shell-style patterns such as dpm-*),'
             ' or remove "dpm" from [ml2] mechanism_drivers'),
        ('hosts =', '[ml2_dpm] hosts is empty'),
        ('hosts = a,,b', "[ml2_dpm] hosts has the invalid entry ''"),
        ('hosts = a\nphysical_networks =',
         '[ml2_dpm] physical_networks is empty: list the physical networks'
         ' the DPM hosts serve'),
        ('hosts = a\nphysical_networks = physnet1:'
         '1a2b3c4d-0000-1111-2222-333344445555:0',
         "[ml2_dpm] physical_networks has the invalid entry 'physnet1:"
         "1a2b3c4d-0000-1111-2222-333344445555:0': give the physical "
         "networks the DPM hosts serve by name or shell-style pattern (such"
         " as physnet1), without spaces or colons; the adapter of a "
         "physical network is mapped in nova.conf [dpm] "
         "physical_network_adapter_mappings"),
        ('hosts = a b', "[ml2_dpm] hosts has the invalid entry 'a b'"),
    ]

    def test_each_bad_value_is_one_clear_line(self):
        for ml2_dpm, expected in self.BAD:
            exc = self.assertRaises(config.ConfigError, self.driver, ml2_dpm)
            message = str(exc)
            self.assertTrue(message.startswith(expected), message)
            self.assertNotIn('\n', message)
