"""cinder.conf of the mini-cloud and the Cinder parts of nova.conf."""

import testtools

from minicloud import cinder
from minicloud import configs
from tests.unit.minicloud import test_configs


class CinderConfigTest(testtools.TestCase):

    def test_one_back_end_on_the_simulators_array(self):
        conf = cinder.config('mysql+pymysql://db/cinder',
                             test_configs._endpoints(), 'pw', 'rabbit://',
                             '/state', '/etc/cinder/api-paste.ini',
                             '/etc/cinder/resource_filters.json',
                             'http://127.0.0.1:4711')

        self.assertEqual(cinder.BACKEND,
                         conf['DEFAULT']['enabled_backends'])
        self.assertEqual({
            'volume_driver': 'minicloud.cinder_driver.SimulatedSanDriver',
            'volume_backend_name': cinder.BACKEND,
            'hmc_simulator_control_url': 'http://127.0.0.1:4711'},
            conf[cinder.BACKEND])
        # Nova lists attachments by instance_id: only the filters file
        # Cinder ships allows that query.
        self.assertEqual('/etc/cinder/resource_filters.json',
                         conf['DEFAULT']['resource_query_filters_file'])
        self.assertEqual('resource_filters.json', cinder.FILTERS_FILE)
        self.assertEqual('http://127.0.0.1:9292',
                         conf['DEFAULT']['glance_api_servers'])
        self.assertEqual(('cinder', 'pw'),
                         (conf['keystone_authtoken']['username'],
                          conf['keystone_authtoken']['password']))
        self.assertEqual('cinder', conf['nova']['username'])
        self.assertEqual('/state/locks',
                         conf['oslo_concurrency']['lock_path'])

    def test_nova_finds_cinder_in_the_catalog_as_its_service_user(self):
        endpoints = test_configs._endpoints()
        conf = configs.nova('api-db', 'cell-db', endpoints, 'pw',
                            'rabbit://', '/state', '/paste', '/policy',
                            {'hmc': 'h'})

        self.assertEqual(('nova', configs.REGION, 'block-storage::publicURL'),
                         (conf['cinder']['username'],
                          conf['cinder']['os_region_name'],
                          conf['cinder']['catalog_info']))
        self.assertEqual('http://127.0.0.1:8776/v3/%(project_id)s',
                         endpoints.block_storage)

    def test_cinder_volume_can_import_the_driver_package(self):
        import os
        self.assertTrue(os.path.isfile(os.path.join(
            cinder.PACKAGE_PARENT, 'minicloud', 'cinder_driver.py')))

    def test_partitions_reach_volumes_through_the_first_fcp_adapter(self):
        from nova_dpm.simulator import inventory
        for kind in ('z13', 'z16', 'z17'):
            self.assertEqual(
                inventory.MACHINES[kind].fcp_adapter_oids[0] + ':0',
                cinder.storage_adapter_mapping(kind))
