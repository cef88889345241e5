"""Service users, catalog, flavors and the ISO image, through openstacksdk.

One SDK connection as the bootstrap admin does in seconds what the
openstack CLI does in a minute (MINICLOUD.md).
"""

import time

from minicloud import configs

SERVICE_USERS = ('nova', 'placement', 'glance', 'neutron', 'cinder')
# (service type, name, endpoints key or property)
CATALOG = (
    ('compute', 'nova', 'compute'),
    ('placement', 'placement', 'placement'),
    ('image', 'glance', 'glance'),
    ('network', 'neutron', 'neutron'),
    # tempest 47 looks for this type; Nova's [cinder] catalog_info names it
    ('block-storage', 'cinder', 'block_storage'),
)
# Flavors with disk 0: partitions have no local disk. Ids as devstack's.
FLAVORS = (
    ('42', 'dpm.small', 1, 1024),
    ('84', 'dpm.medium', 2, 2048),
)


def connect(endpoints, admin_password):
    import openstack  # only the tempest environment installs it

    return openstack.connect(
        auth_url=endpoints.identity, username='admin',
        password=admin_password, project_name='admin',
        user_domain_name='Default', project_domain_name='Default',
        region_name=configs.REGION, interface='public')


def _role(conn, name):
    return conn.identity.find_role(name) or conn.identity.create_role(
        name=name)


def register_services(conn, endpoints, service_password):
    identity = conn.identity
    project = identity.create_project(name='service', domain_id='default')
    roles = [_role(conn, 'admin'), _role(conn, 'service')]
    for name in SERVICE_USERS:
        user = identity.create_user(name=name, password=service_password,
                                    domain_id='default',
                                    default_project_id=project.id)
        for role in roles:
            identity.assign_project_role_to_user(project, user, role)
    for service_type, name, key in CATALOG:
        service = identity.create_service(name=name, type=service_type)
        url = getattr(endpoints, key) if key in (
            'compute', 'block_storage') else endpoints.url(key)
        for interface in ('public', 'internal', 'admin'):
            identity.create_endpoint(service_id=service.id, url=url,
                                     interface=interface,
                                     region_id=configs.REGION)


def create_flavors(conn):
    for flavor_id, name, vcpus, ram in FLAVORS:
        conn.compute.create_flavor(id=flavor_id, name=name, vcpus=vcpus,
                                   ram=ram, disk=0)
    return [flavor_id for flavor_id, _, _, _ in FLAVORS]


def upload_iso(conn, path, name, timeout=120):
    image = conn.image.create_image(
        name=name, filename=path, disk_format='iso',
        container_format='bare', visibility='public',
        architecture='s390x', wait=True, timeout=timeout)
    # create_image may return the record as it was before the upload.
    deadline = time.monotonic() + timeout
    while image.status != 'active':
        if image.status in ('killed', 'deleted') or (
                time.monotonic() > deadline):
            raise RuntimeError('the ISO image is %s, not active' %
                               image.status)
        time.sleep(0.5)
        image = conn.image.get_image(image.id)
    return image.id


def wait_for_compute(conn, timeout=180):
    """Until the compute service is up and placement has its inventory."""
    deadline = time.monotonic() + timeout
    last = 'no nova-compute service yet'
    while time.monotonic() < deadline:
        services = {s.binary: s for s in conn.compute.services()}
        compute = services.get('nova-compute')
        if compute is not None and compute.state == 'up':
            providers = conn.placement.get('/resource_providers').json()
            for provider in providers['resource_providers']:
                inventory = conn.placement.get(
                    '/resource_providers/%s/inventories' %
                    provider['uuid']).json()['inventories']
                if 'VCPU' in inventory and 'MEMORY_MB' in inventory:
                    return provider['name'], inventory
            last = 'nova-compute is up but placement has no inventory'
        elif compute is not None:
            last = 'nova-compute is %s' % compute.state
        time.sleep(2)
    raise RuntimeError('the compute node was not ready within %d s: %s' % (
        timeout, last))


def wait_for_services(conn, binaries, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        up = {s.binary for s in conn.compute.services() if s.state == 'up'}
        if set(binaries) <= up:
            return
        time.sleep(1)
    raise RuntimeError('nova services not up within %d s: %s' % (
        timeout, ', '.join(sorted(set(binaries) - up))))
