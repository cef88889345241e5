"""Bring the mini-cloud up and down.

Order: MariaDB and RabbitMQ; the HMC simulator; database schemas (in
parallel, one log each); keystone and the service catalog; placement,
glance, neutron's API, nova-api and cinder-api under gunicorn;
nova-conductor, nova-scheduler, nova-compute, cinder-scheduler and
cinder-volume (minicloud.cinder); host discovery; flavors and the ISO
image; Cinder's back end ready. ``down()`` stops every process by PID,
newest first, and may be called at any point (also from a signal
handler's finally block).
"""

import concurrent.futures
import grp
import os
import pwd
import secrets
import shutil
import sys

from minicloud import cinder
from minicloud import configs
from minicloud import hmc
from minicloud import identity
from minicloud import iso
from minicloud import leaks
from minicloud import mariadb
from minicloud import networks
from minicloud import port_nics
from minicloud import ports
from minicloud import processes
from minicloud import rabbitmq

# WSGI services: name -> (module with ``application``, gunicorn workers,
# config files when not the service's default ones). Each app finds its
# files in OS_<NAME>_CONFIG_DIR, i.e. etc/<name>.
WSGI_APPS = {
    'keystone': ('keystone.wsgi.api', 2, 'keystone.conf'),
    'placement': ('placement.wsgi.api', 1, None),
    'glance': ('glance.wsgi.api', 1, None),
    'neutron': ('neutron.wsgi.api', 1, 'neutron.conf;ml2_conf.ini'),
    'nova': ('nova.wsgi.osapi_compute', 2, None),
    'cinder': ('cinder.wsgi.api', 1, None),
}
# Apps that read no OS_<NAME>_CONFIG_DIR: their file is given on argv.
CONFIG_ON_ARGV = ('cinder',)

SHIM = '''"""gunicorn entry point: oslo.config must not see gunicorn's argv."""
import sys
sys.argv = sys.argv[:1] + %r
from %s import application  # noqa
'''


class Cloud(object):

    def __init__(self, run_dir, say, job_duration=1.0, inventory='z16'):
        self.run_dir = run_dir
        self.say = say
        self.job_duration = job_duration
        self.bin_dir = os.path.dirname(sys.executable)
        self.etc = os.path.join(run_dir, 'etc')
        self.data = os.path.join(run_dir, 'data')
        self.log_dir = os.path.join(run_dir, 'logs')
        env = dict(os.environ)
        env['PATH'] = os.pathsep.join([self.bin_dir, env.get('PATH', ''),
                                       '/usr/sbin', '/sbin'])
        env.pop('PYTHONPATH', None)
        self.table = processes.ProcessTable(
            self.log_dir, os.path.join(run_dir, 'pids'), env)
        self.password = secrets.token_hex(12)
        (db, amqp, dist, epmd, hmc_port, keystone, placement, glance,
         neutron, nova, cinder_port) = ports.free_ports(11)
        self.endpoints = configs.Endpoints(keystone, placement, glance,
                                           neutron, nova, cinder=cinder_port)
        self.db = mariadb.MariaDB(self.table, os.path.join(
            self.data, 'mariadb'), db, self.password)
        self.rabbit = rabbitmq.RabbitMQ(self.table, os.path.join(
            self.data, 'rabbitmq'), amqp, dist, epmd)
        self.simulator = hmc.HMCSimulatorService(
            self.table, self.bin_dir, os.path.join(self.data, 'hmc'),
            hmc_port, job_duration, inventory)
        self.cinder = cinder.Cinder(self.table, self.bin_dir, self.etc,
                                    os.path.join(self.data, 'cinder'))
        self.conn = None
        self.baseline = None
        self.image_ids = None
        self.flavor_ids = None
        self.network_id = None

    # --- helpers ---

    def _conf(self, service, name=None):
        return os.path.join(self.etc, service, name or service + '.conf')

    def _bin(self, program):
        return os.path.join(self.bin_dir, program)

    def _copy_shipped(self, service, name):
        return configs.copy_shipped(service, name, self.etc)

    # --- bring-up ---

    def up(self):
        for d in (self.etc, self.data):
            os.makedirs(d, exist_ok=True)
        self.say('MariaDB and RabbitMQ')
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(self.db.start),
                           pool.submit(self.rabbit.start)]:
                future.result()
        self.say('HMC simulator')
        self.simulator.start()
        # What the HMC holds before any OpenStack service touched it.
        self.baseline = leaks.snapshot(self.simulator.client)
        self.say('configuration and database schemas')
        self._write_configs()
        self._sync_databases()
        self.say('keystone and the service catalog')
        self._start_wsgi('keystone')
        self.conn = identity.connect(self.endpoints, self.password)
        identity.register_services(self.conn, self.endpoints, self.password)
        # A new token: the first one's catalog had only keystone.
        self.conn = identity.connect(self.endpoints, self.password)
        self.say('placement, glance, neutron, nova-api, cinder-api')
        for name in ('placement', 'glance', 'neutron', 'nova', 'cinder'):
            self._start_wsgi(name)
        self.network_id = networks.create_shared_network(self.conn)
        self.say('nova-conductor, nova-scheduler, nova-compute '
                 '(compute_driver = dpm.DPMDriver)')
        for binary in ('nova-conductor', 'nova-scheduler', 'nova-compute'):
            self.table.start(binary, [self._bin(binary), '--config-file',
                                      self._conf('nova')])
        self.say('cinder-scheduler, cinder-volume (the simulator\'s array)')
        self.cinder.start_daemons()
        identity.wait_for_services(
            self.conn, ('nova-conductor', 'nova-scheduler'))
        self._discover_compute_host()
        self.say('flavors and the s390x ISO image')
        self.flavor_ids = identity.create_flavors(self.conn)
        image = iso.build(os.path.join(self.data, 's390x-test.iso'))
        # Two images: tempest's image filters need distinct ones.
        self.image_ids = [identity.upload_iso(self.conn, image, name)
                          for name in ('s390x-iso', 's390x-iso-alt')]
        self.cinder.wait_for_backend(self.conn)

    def _write_configs(self):
        ep, pw = self.endpoints, self.password
        db = self.db.url
        configs.write_ini(self._conf('keystone'), configs.keystone(
            db('keystone'), os.path.join(self.data, 'keystone')))
        configs.write_ini(self._conf('placement'), configs.placement(
            db('placement'), ep, pw))
        configs.write_ini(self._conf('glance', 'glance-api.conf'),
                          configs.glance(
                              db('glance'), ep, pw,
                              os.path.join(self.data, 'glance'),
                              self._copy_shipped(
                                  'glance', 'glance-api-paste.ini')))
        configs.write_ini(self._conf('neutron'), configs.neutron(
            db('neutron'), ep, pw, self.rabbit.transport_url,
            os.path.join(self.data, 'neutron'),
            self._copy_shipped('neutron', 'api-paste.ini'),
            os.path.join(self.data, 'neutron', 'locks')))
        configs.write_ini(os.path.join(self.etc, 'neutron', 'ml2_conf.ini'),
                          configs.ml2())
        configs.write_ini(self._conf('nova'), configs.nova(
            db('nova_api'), db('nova_cell1'), ep, pw,
            self.rabbit.transport_url, os.path.join(self.data, 'nova'),
            self._copy_shipped('nova', 'api-paste.ini'),
            self._write_policy('nova', configs.nova_policy()),
            self._dpm_options()))
        self.cinder.write_config(
            db('cinder'), ep, pw, self.rabbit.transport_url,
            self._copy_shipped('cinder', 'api-paste.ini'),
            self._copy_shipped('cinder', cinder.FILTERS_FILE),
            self.simulator.info['control_url'])

    def _dpm_options(self):
        return dict(self.simulator.dpm_options(),
                    physical_storage_adapter_mappings=(
                        cinder.storage_adapter_mapping(
                            self.simulator.inventory)))

    def _write_policy(self, service, rules):
        path = os.path.join(self.etc, service, 'policy.yaml')
        with open(path, 'w') as f:
            for rule, check in sorted(rules.items()):
                f.write('"%s": "%s"\n' % (rule, check))
        return path

    def _sync_databases(self):
        ks = [self._bin('keystone-manage'), '--config-file',
              self._conf('keystone')]
        nova = [self._bin('nova-manage'), '--config-file', self._conf('nova')]
        user = ['--keystone-user', _user(), '--keystone-group', _group()]
        steps = {
            'keystone': [
                ks + ['db_sync'],
                ks + ['fernet_setup'] + user,
                ks + ['credential_setup'] + user,
                ks + [
                    'bootstrap', '--bootstrap-password', self.password,
                    '--bootstrap-region-id', configs.REGION] +
                self._bootstrap_urls()],
            'placement': [[self._bin('placement-manage'), '--config-file',
                           self._conf('placement'), 'db', 'sync']],
            'glance': [[self._bin('glance-manage'), '--config-file',
                        self._conf('glance', 'glance-api.conf'), 'db_sync']],
            'neutron': [[self._bin('neutron-db-manage'), '--config-file',
                         self._conf('neutron'), '--config-file',
                         os.path.join(self.etc, 'neutron', 'ml2_conf.ini'),
                         'upgrade', 'heads']],
            'nova': [
                nova + ['api_db', 'sync'],
                nova + ['cell_v2', 'map_cell0', '--database_connection',
                        self.db.url('nova_cell0')],
                nova + ['cell_v2', 'create_cell', '--name', 'cell1'],
                nova + ['db', 'sync'],
            ],
            'cinder': self.cinder.setup_steps(),
        }

        def run_steps(service):
            for number, argv in enumerate(steps[service], 1):
                self.table.run('setup-%s-%d' % (service, number), argv)

        with concurrent.futures.ThreadPoolExecutor(len(steps)) as pool:
            futures = [pool.submit(run_steps, s) for s in steps]
            for future in futures:
                future.result()

    def _bootstrap_urls(self):
        urls = []
        for interface in ('admin', 'internal', 'public'):
            urls += ['--bootstrap-%s-url' % interface,
                     self.endpoints.identity]
        return urls

    def _start_wsgi(self, name):
        module, workers, config_files = WSGI_APPS[name]
        shim_dir = os.path.join(self.run_dir, 'shim')
        os.makedirs(shim_dir, exist_ok=True)
        shim = 'mc_%s' % name
        with open(os.path.join(shim_dir, shim + '.py'), 'w') as f:
            f.write(SHIM % (['--config-file', self._conf(name)] if (
                name in CONFIG_ON_ARGV) else [], module))
        prefix = 'OS_%s_CONFIG_' % name.upper()
        env = {prefix + 'DIR': os.path.join(self.etc, name)}
        if config_files:
            env[prefix + 'FILES'] = config_files
        port = self.endpoints.ports[name]
        process = self.table.start(name + '-api', [
            self._bin('gunicorn'), '--no-control-socket', '--pythonpath',
            shim_dir, '-w', str(workers), '-b', '127.0.0.1:%d' % port,
            '--timeout', '300', '--graceful-timeout', '10',
            '%s:application' % shim], env=env)
        self.table.wait_for_port(process, port, timeout=120)

    def _discover_compute_host(self):
        node, inventory = identity.wait_for_compute(self.conn)
        self.say('compute node %s: %d VCPU, %d MB' % (
            node, inventory['VCPU']['total'],
            inventory['MEMORY_MB']['total']))
        self.table.run('setup-nova-discover-hosts', [
            self._bin('nova-manage'), '--config-file', self._conf('nova'),
            'cell_v2', 'discover_hosts', '--verbose'])

    def port_nic_sampler(self):
        """Compares the HMC's NICs with Neutron's ports (port_nics.py)."""
        return port_nics.Sampler(
            self.conn, self.simulator.client, networks.COMPUTE_HOST,
            port_nics.nic_takes_mac(self.simulator.inventory))

    # --- teardown ---

    def stop_compute(self):
        """Stop nova-compute alone: it logs off its HMC sessions."""
        self.table.stop('nova-compute', grace=60)

    def down(self):
        self.table.stop_all()
        shutil.rmtree(os.path.dirname(self.db.socket), ignore_errors=True)


def _user():
    return pwd.getpwuid(os.geteuid()).pw_name


def _group():
    return grp.getgrgid(os.getegid()).gr_name
