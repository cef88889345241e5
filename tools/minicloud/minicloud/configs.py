"""The configuration files of every OpenStack service, as plain data.

Each function returns ``{section: {option: value}}``; ``write_ini`` puts it
on disk. Services log to stderr, which the process table captures into
``logs/<service>.log``.
"""

import configparser
import os
import shutil
import sys

from minicloud import networks

REGION = 'RegionOne'


class Endpoints(object):
    """Ports and URLs of one run (all on 127.0.0.1)."""

    def __init__(self, keystone, placement, glance, neutron, nova,
                 cinder=None):
        self.ports = dict(keystone=keystone, placement=placement,
                          glance=glance, neutron=neutron, nova=nova,
                          cinder=cinder)

    def url(self, service):
        return 'http://127.0.0.1:%d' % self.ports[service]

    @property
    def identity(self):
        return self.url('keystone') + '/v3'

    @property
    def compute(self):
        return self.url('nova') + '/v2.1'

    @property
    def block_storage(self):
        return self.url('cinder') + '/v3/%(project_id)s'


def copy_shipped(service, name, etc_dir):
    """Copy a file the service's pip install ships into ``etc_dir``.

    pip puts a package's ``data_files`` (paste pipelines, Cinder's query
    filters) under the environment's ``etc/``, not ``/etc/`` where the
    services look by default: the run's configuration names its copy.
    Returns the copy's path (``etc_dir/<service>/<name>``).
    """
    target = os.path.join(etc_dir, service, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy(os.path.join(sys.prefix, 'etc', service, name), target)
    return target


def write_ini(path, sections):
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    for section, options in sections.items():
        if section != 'DEFAULT':
            parser.add_section(section)
        for key, value in options.items():
            parser.set(section, key, str(value))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file existed
    with os.fdopen(fd, 'w') as f:
        parser.write(f)


def _auth(endpoints, username, password):
    """A password auth section for a service user of project service."""
    return {
        'auth_type': 'password',
        'auth_url': endpoints.url('keystone'),
        'project_domain_name': 'Default',
        'user_domain_name': 'Default',
        'project_name': 'service',
        'username': username,
        'password': password,
        'region_name': REGION,
    }


def _authtoken(endpoints, username, password):
    section = _auth(endpoints, username, password)
    section['www_authenticate_uri'] = endpoints.url('keystone')
    return section


def keystone(db_url, key_dir):
    return {
        'DEFAULT': {'use_stderr': True},
        'database': {'connection': db_url},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': os.path.join(key_dir, 'fernet')},
        'fernet_receipts': {
            'key_repository': os.path.join(key_dir, 'fernet')},
        'credential': {
            'key_repository': os.path.join(key_dir, 'credential')},
    }


def placement(db_url, endpoints, password):
    return {
        'DEFAULT': {'use_stderr': True},
        'placement_database': {'connection': db_url},
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': _authtoken(endpoints, 'placement', password),
    }


def glance(db_url, endpoints, password, data_dir, paste_file):
    def store(name):
        return {'filesystem_store_datadir': os.path.join(data_dir, name)}
    return {
        'DEFAULT': {'use_stderr': True, 'enabled_backends': 'fs:file'},
        'database': {'connection': db_url},
        'keystone_authtoken': _authtoken(endpoints, 'glance', password),
        'paste_deploy': {'flavor': 'keystone', 'config_file': paste_file},
        'glance_store': {'default_backend': 'fs'},
        'fs': store('images'),
        'os_glance_staging_store': store('staging'),
        'os_glance_tasks_store': store('tasks'),
    }


def neutron(db_url, endpoints, password, transport_url, state_dir,
            paste_file, lock_dir):
    return {
        'DEFAULT': {
            'use_stderr': True,
            'core_plugin': 'ml2',
            'service_plugins': '',
            'auth_strategy': 'keystone',
            'transport_url': transport_url,
            'api_paste_config': paste_file,
            'state_path': state_dir,
            # Tell nova when a port goes ACTIVE (network-vif-plugged: the
            # dpm mechanism driver binds it ACTIVE; nova-dpm waits for
            # none, see nova_dpm/virt/dpm/network.py) or changes
            # (network-changed refreshes nova's network info cache).
            'notify_nova_on_port_status_changes': True,
            'notify_nova_on_port_data_changes': True,
        },
        'database': {'connection': db_url},
        'keystone_authtoken': _authtoken(endpoints, 'neutron', password),
        'nova': _auth(endpoints, 'nova', password),
        'oslo_concurrency': {'lock_path': lock_dir},
    }


def ml2():
    # The dpm mechanism driver binds the compute host's ports (networks.py).
    return networks.ml2_options()


def nova(api_db_url, cell_db_url, endpoints, password, transport_url,
         state_dir, paste_file, policy_file, dpm_options):
    return {
        'DEFAULT': {
            'use_stderr': True,
            'debug': True,
            'transport_url': transport_url,
            'compute_driver': 'dpm.DPMDriver',
            'state_path': state_dir,
            'my_ip': '127.0.0.1',
            # The host [ml2_dpm] hosts names (networks.py).
            'host': networks.COMPUTE_HOST,
            # The simulated CPC is the only compute node.
            'allow_resize_to_same_host': True,
        },
        'api_database': {'connection': api_db_url},
        'database': {'connection': cell_db_url},
        'wsgi': {'api_paste_config': paste_file},
        'oslo_policy': {'policy_file': policy_file},
        'keystone_authtoken': _authtoken(endpoints, 'nova', password),
        'service_user': dict(_auth(endpoints, 'nova', password),
                             send_service_user_token=True),
        'placement': _auth(endpoints, 'placement', password),
        'neutron': _auth(endpoints, 'neutron', password),
        'cinder': dict(_auth(endpoints, 'nova', password),
                       os_region_name=REGION,
                       catalog_info='block-storage::publicURL'),
        'glance': {'api_servers': endpoints.url('glance')},
        'vnc': {'enabled': False},
        'oslo_concurrency': {'lock_path': os.path.join(state_dir, 'locks')},
        'oslo_messaging_notifications': {'driver': 'noop'},
        # One host: a reschedule cannot help, and the fault shows the
        # driver's own reason.
        'scheduler': {'max_attempts': 1},
        'dpm': dpm_options,
    }


def nova_policy():
    """Let members boot images with disk-0 flavors, as a DPM cloud must.

    Partitions have no local disk, so every flavor has disk 0; Nova allows
    booting an image with one to admins only by default
    (doc/configuration.rst).
    """
    return {'os_compute_api:servers:create:zero_disk_flavor':
            'rule:project_member_api'}


def tempest(endpoints, admin_password, image_ids, flavor_ids, feature_file,
            lock_dir):
    """tempest.conf: the cloud's endpoints plus doc/tempest's settings."""
    sections = {
        'DEFAULT': {'log_file': 'tempest.log'},
        'oslo_concurrency': {'lock_path': lock_dir},
        'auth': {
            'admin_username': 'admin',
            'admin_password': admin_password,
            'admin_project_name': 'admin',
            'admin_domain_name': 'Default',
            'use_dynamic_credentials': True,
            # Servers boot on the shared network (networks.py): isolated
            # networks would need routers, and neutron runs without L3.
            'create_isolated_networks': False,
            'tempest_roles': 'member',
        },
        'identity': {'uri_v3': endpoints.identity, 'auth_version': 'v3',
                     'region': REGION},
        'identity-feature-enabled': {'api_v2': False},
        'compute': {
            'image_ref': image_ids[0],
            'image_ref_alt': image_ids[1],
            'flavor_ref': flavor_ids[0],
            'flavor_ref_alt': flavor_ids[1],
            'max_microversion': 'latest',
            'min_compute_nodes': 1,
            'region': REGION,
            'fixed_network_name': networks.SHARED_NETWORK,
        },
        # Project networks tempest creates are VLANs of the dpm physical
        # network; nothing routes them.
        'network': {'project_networks_reachable': False,
                    'project_network_cidr': '10.128.0.0/16',
                    'project_network_mask_bits': 28},
        # Cinder's one back end: the simulator's FCP array; no
        # cinder-backup runs.
        'volume': {'region': REGION, 'vendor_name': 'nova-dpm mini-cloud'},
        'volume-feature-enabled': {'backup': False},
        'service_available': {'nova': True, 'glance': True,
                              'neutron': True, 'cinder': True,
                              'swift': False, 'placement': True},
    }
    # A [DEFAULT] of the file must stay its own section, not be copied into
    # every other one.
    parser = configparser.RawConfigParser(default_section='no such section')
    parser.optionxform = str
    with open(feature_file) as f:
        parser.read_file(f)
    for section in parser.sections():
        sections.setdefault(section, {}).update(parser.items(section))
    return sections
