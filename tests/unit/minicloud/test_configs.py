"""Service configuration files as data, and writing them to disk."""

import configparser
import os
import stat

import fixtures
from nova.policies import base as nova_base_policies
from nova.policies import servers as nova_server_policies
import testtools

from minicloud import configs

DPM_OPTIONS = {'hmc': '127.0.0.1', 'hmc_port': 6794,
               'hmc_username': 'ensadmin', 'hmc_password': 'Hmc-Secret-42',
               'cpc_object_id': 'cpc-1'}


def _endpoints():
    return configs.Endpoints(keystone=5000, placement=8778, glance=9292,
                             neutron=9696, nova=8774, cinder=8776)


def _read(path):
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    parser.read(path)
    return parser


class WriteIniTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def test_written_file_is_private_and_reads_back(self):
        path = os.path.join(self.tmp, 'etc', 'nova', 'nova.conf')

        configs.write_ini(path, {
            'DEFAULT': {'debug': True, 'my_ip': '127.0.0.1'},
            'dpm': {'hmc_port': 6794, 'CamelCase_Option': 'x'},
            'empty': {},
        })

        self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        parser = _read(path)
        self.assertEqual('True', parser.defaults()['debug'])
        self.assertEqual(['dpm', 'empty'], parser.sections())
        self.assertEqual('6794', parser.get('dpm', 'hmc_port'))
        self.assertEqual('x', parser.get('dpm', 'CamelCase_Option'))

    def test_rewriting_replaces_the_content(self):
        path = os.path.join(self.tmp, 'a.conf')
        configs.write_ini(path, {'old': {'stale': 'yes'}})

        configs.write_ini(path, {'new': {'fresh': 'yes'}})

        self.assertEqual(['new'], _read(path).sections())


class CopyShippedTest(testtools.TestCase):

    def test_a_file_pip_installed_under_the_prefix_is_copied(self):
        prefix = self.useFixture(fixtures.TempDir()).path
        etc = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(prefix, 'etc', 'cinder'))
        with open(os.path.join(prefix, 'etc', 'cinder', 'f.json'), 'w') as f:
            f.write('{"attachment": ["instance_id"]}')
        self.useFixture(fixtures.MonkeyPatch('sys.prefix', prefix))

        path = configs.copy_shipped('cinder', 'f.json', etc)

        self.assertEqual(os.path.join(etc, 'cinder', 'f.json'), path)
        with open(path) as f:
            self.assertEqual('{"attachment": ["instance_id"]}', f.read())


class EndpointsTest(testtools.TestCase):

    def test_urls(self):
        endpoints = _endpoints()

        self.assertEqual('http://127.0.0.1:9292', endpoints.url('glance'))
        self.assertEqual('http://127.0.0.1:5000/v3', endpoints.identity)
        self.assertEqual('http://127.0.0.1:8774/v2.1', endpoints.compute)


class TempestConfTest(testtools.TestCase):

    def feature_file(self, text):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'tempest-dpm.conf')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_feature_file_is_merged_over_the_base(self):
        feature = self.feature_file(
            '# comment\n'
            '[compute-feature-enabled]\nresize = False\nPause = False\n'
            '[compute]\nbuild_timeout = 600\n'
            '[validation]\nrun_validation = False\n')

        conf = configs.tempest(_endpoints(), 'admin-pw',
                               ['image-1', 'image-2'],
                               ['flavor-1', 'flavor-2'], feature, '/locks')

        self.assertEqual({'resize': 'False', 'Pause': 'False'},
                         conf['compute-feature-enabled'])
        self.assertEqual({'run_validation': 'False'}, conf['validation'])
        self.assertEqual('600', conf['compute']['build_timeout'])
        self.assertEqual('image-1', conf['compute']['image_ref'])
        self.assertEqual('image-2', conf['compute']['image_ref_alt'])
        self.assertEqual('flavor-1', conf['compute']['flavor_ref'])
        self.assertEqual('flavor-2', conf['compute']['flavor_ref_alt'])
        self.assertEqual('http://127.0.0.1:5000/v3',
                         conf['identity']['uri_v3'])
        self.assertEqual('admin-pw', conf['auth']['admin_password'])
        self.assertEqual('/locks', conf['oslo_concurrency']['lock_path'])
        # Cinder runs, without cinder-backup.
        self.assertTrue(conf['service_available']['cinder'])
        self.assertFalse(conf['volume-feature-enabled']['backup'])

    def test_project_feature_file_is_readable(self):
        here = os.path.dirname(os.path.abspath(__file__))
        feature = os.path.join(here, '..', '..', '..', 'doc', 'tempest',
                               'tempest-dpm.conf')

        conf = configs.tempest(_endpoints(), 'pw', ['img', 'img2'],
                               ['f1', 'f2'], feature, '/locks')

        self.assertEqual('False',
                         conf['compute-feature-enabled']['resize'])
        self.assertEqual('False', conf['validation']['run_validation'])
        self.assertEqual('img', conf['compute']['image_ref'])


class NovaConfTest(testtools.TestCase):

    def nova(self):
        return configs.nova('mysql://api', 'mysql://cell', _endpoints(),
                            'service-pw', 'rabbit://mq', '/state',
                            '/etc/nova/api-paste.ini',
                            '/etc/nova/policy.yaml', dict(DPM_OPTIONS))

    def test_compute_driver_and_dpm_options(self):
        conf = self.nova()

        self.assertEqual('dpm.DPMDriver', conf['DEFAULT']['compute_driver'])
        self.assertEqual(DPM_OPTIONS, conf['dpm'])
        self.assertEqual('mysql://api', conf['api_database']['connection'])
        self.assertEqual('mysql://cell', conf['database']['connection'])
        self.assertEqual('/etc/nova/policy.yaml',
                         conf['oslo_policy']['policy_file'])

    def test_hmc_password_only_in_the_dpm_section(self):
        conf = self.nova()

        holders = [section for section, options in conf.items()
                   if DPM_OPTIONS['hmc_password'] in
                   [str(value) for value in options.values()]]
        self.assertEqual(['dpm'], holders)

    def test_hmc_password_only_in_the_dpm_section_on_disk(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'nova.conf')
        configs.write_ini(path, self.nova())

        parser = _read(path)
        self.assertEqual(DPM_OPTIONS['hmc_password'],
                         parser.get('dpm', 'hmc_password'))
        for section in parser.sections():
            if section != 'dpm':
                self.assertNotIn(DPM_OPTIONS['hmc_password'],
                                 dict(parser.items(section)).values(),
                                 section)

    def test_service_users_authenticate_against_keystone(self):
        conf = self.nova()

        for section in ('keystone_authtoken', 'service_user', 'placement',
                        'neutron'):
            self.assertEqual('http://127.0.0.1:5000',
                             conf[section]['auth_url'], section)
            self.assertEqual('service-pw', conf[section]['password'])
        self.assertEqual('http://127.0.0.1:9292',
                         conf['glance']['api_servers'])


class NovaPolicyTest(testtools.TestCase):

    def test_members_may_boot_zero_disk_flavors(self):
        policy = configs.nova_policy()

        rule = 'os_compute_api:servers:create:zero_disk_flavor'
        self.assertEqual({rule: 'rule:project_member_api'}, policy)
        self.assertIn(rule, [r.name for r in
                             nova_server_policies.list_rules()])
        self.assertIn('project_member_api', [
            r.name for r in nova_base_policies.list_rules()])
