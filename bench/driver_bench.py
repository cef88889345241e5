"""Driver-level benchmarks: HMC round trips, spawn overhead, concurrency.

DPMDriver (with its real supervisor, default connection settings) and the
naive baseline (bench/naive.py) run against the same HTTPS simulator with
50 ms added per request and realistic job durations, in the same run, on
a CPC without storage management (z13: HBAs). The spawn metrics are
measured again on the storage-management kinds (z16, z17: a storage group
whose boot volume is fulfilled before the start), named ``<metric>_<kind>``
(no naive baseline: it knows only HBAs). Every kind reports
``rule_violations_<kind>``: requests the simulated HMC refused by its rules
(target 0).
"""

import concurrent.futures
import tempfile
import time
from unittest import mock
import uuid

from nova import objects
from nova.tests.unit import fake_instance

from bench import naive
import nova_dpm.conf
from nova_dpm.hmc import polling
from nova_dpm.simulator import HMCSimulator
from nova_dpm.simulator import inventory
from nova_dpm.virt.dpm import driver as driver_mod

CONF = nova_dpm.conf.CONF
LATENCY = 0.05
START_JOB = 2.0
STOP_JOB = 1.0
TARGET_WWPN = '500507680b214ac1'
# Seconds the simulated HMC keeps a fulfilled volume pending (its default).
FULFILMENT_DELAY = 0.5
#: Requests one round of Nova's periodic tasks may cost a driver.
CYCLE_TARGET = 3
#: Seconds spawn may take beyond the start job on the HBA path: the
#: driver's own work, its few requests and the job's poll lateness.
SPAWN_TARGET = 0.5
#: Requests the storage-group path adds to spawn (list the group's
#: volumes, modify it, list and read the 2 virtual storage resources,
#: fulfil the boot volume).
STORAGE_GROUP_ROUND_TRIPS = 6
#: The storage-group kinds' spawn target: the HBA path's budget, plus what
#: the HMC makes them wait for: the fulfilment delay, the poll that sees it
#: up to one poll interval late, and the extra round trips.
STORAGE_GROUP_SPAWN_TARGET = round(
    SPAWN_TARGET + FULFILMENT_DELAY + polling.MIN_INTERVAL +
    STORAGE_GROUP_ROUND_TRIPS * LATENCY, 3)


def _metric(value, baseline, target, unit, **extra):
    return dict(value=value, baseline=baseline, target=target, unit=unit,
                **extra)


#: The CPC kind of the full run (with the naive baseline), and the others.
HBA_KIND = 'z13'
STORAGE_GROUP_KINDS = ('z16', 'z17')


def _configure(sim, state_path, kind, host='bench-compute'):
    CONF([], project='nova', default_config_files=[])
    CONF.set_override('host', host)
    CONF.set_override('state_path', state_path)
    for name, value in dict(
            hmc=[sim.host], hmc_port=sim.port, hmc_username=sim.userid,
            hmc_password=sim.password, hmc_ca_file=sim.ca_file,
            cpc_object_id=sim.cpc_object_id, max_processors=40,
            max_memory=1024 * 1024,
            physical_storage_adapter_mappings=[
                '%s:0' % oid
                for oid in inventory.MACHINES[kind].fcp_adapter_oids],
            hmc_session_pool_size=4).items():
        CONF.set_override(name, value, group='dpm')
    if 'hmc_notification_port' in CONF.dpm:
        CONF.set_override('hmc_notification_port', sim.notification_port,
                          group='dpm')


def _instance():
    instance = fake_instance.fake_instance_obj(None, uuid=str(uuid.uuid4()))
    instance.vm_state = 'building'
    instance.flavor.vcpus = 1
    instance.flavor.memory_mb = 1024
    instance.task_state = None
    instance.refresh = mock.Mock()
    return instance


def _bdi():
    return {'block_device_mapping': [{
        'boot_index': 0, 'connection_info': {
            'driver_volume_type': 'fibre_channel', 'serial': 'vol',
            'data': {'target_wwn': [TARGET_WWPN], 'target_lun': 1}}}]}


def _spawn(driver, instance, power_on=True):
    driver.spawn(None, instance, None, [], None, {}, network_info=None,
                 block_device_info=_bdi(), power_on=power_on)


def _build(driver, instance):
    """Build a server from a volume the way nova-compute does.

    First the volume connector (for Cinder's attach, in
    _prep_block_device), then spawn. Returns (seconds of the connector
    call, seconds of spawn).
    """
    connector = _timed(driver.get_volume_connector, instance)
    return connector, _timed(_spawn, driver, instance)


def _less(value, minus):
    return None if value is None else round(value - minus, 3)


def _timed(fn, *args):
    t0 = time.monotonic()
    fn(*args)
    return time.monotonic() - t0


def _concurrently(count, fn):
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        t0 = time.monotonic()
        for future in [pool.submit(fn) for _ in range(count)]:
            future.result()
        return time.monotonic() - t0


def _requests(sim, fn):
    sim.reset_stats()
    fn()
    return sim.stats()['total']


def _cycle(driver, instances):
    """update_available_resource + _sync_power_states, as Nova runs them."""
    def run():
        driver.get_available_resource('bench-compute')
        driver.get_num_instances()
        for instance in instances:
            driver.get_info(instance, use_cache=True)
    return run


def _naive_stopped(nv, count):
    with nv.lock:
        cpc = nv._cpc()
        for _ in range(count):
            cpc.partitions.create({
                'name': nv.prefix + str(uuid.uuid4()),
                'initial-memory': 1024, 'maximum-memory': 1024,
                'ifl-processors': 1})


def _driver_on(sim, state_path, kind):
    sim.set_job_duration(START_JOB, operation='start')
    sim.set_job_duration(STOP_JOB, operation='stop')
    return started_driver(sim, state_path, kind)


def notifications_option():
    """True when ``[dpm] hmc_notifications`` exists (issue 19, slice 3)."""
    return 'hmc_notifications' in CONF.dpm


def started_driver(sim, state_path, kind, host='bench-compute',
                   notifications=None):
    """A DPMDriver for CPC subset ``host`` of ``sim``, after init_host.

    :param notifications: ``[dpm] hmc_notifications`` (None: its default;
        ignored where the option does not exist)
    """
    _configure(sim, state_path, kind, host)
    if notifications is not None and notifications_option():
        CONF.set_override('hmc_notifications', notifications, group='dpm')
    driver = driver_mod.DPMDriver(virtapi=None)
    driver.init_host(host)
    return driver


def run(instances=50):
    """Measure every driver metric; returns {name: metric dict}."""
    objects.register_all()
    results = {}
    with HMCSimulator(job_duration=START_JOB, inventory=HBA_KIND) as sim, \
            tempfile.TemporaryDirectory() as state_path:
        driver = _driver_on(sim, state_path, HBA_KIND)
        nv = naive.NaiveDriver(sim)
        try:
            sim.set_latency(LATENCY)
            results.update(_requests_metrics(sim, driver, nv, instances))
            results.update(_spawn_metrics(sim, driver, nv))
        finally:
            sim.set_latency(0)
            nv.close()
            driver.cleanup_host('bench-compute')
        results['sessions_left_after_cleanup_driver'] = _metric(
            sim.stats()['sessions_active'], None, 0, 'sessions')
    for kind in STORAGE_GROUP_KINDS:
        results.update(_storage_group_metrics(kind))
    return results


def _storage_group_metrics(kind):
    """Spawn metrics of a storage-management kind, named ``*_<kind>``."""
    results = {}
    with HMCSimulator(job_duration=START_JOB, inventory=kind) as sim, \
            tempfile.TemporaryDirectory() as state_path:
        driver = _driver_on(sim, state_path, kind)
        try:
            sim.set_latency(LATENCY)
            for name, metric in _spawn_metrics(
                    sim, driver, None,
                    spawn_target=STORAGE_GROUP_SPAWN_TARGET).items():
                metric['note'] = (
                    '%s (%s: storage group, boot volume fulfilled in %.1f '
                    's)' % (metric.get('note', name), kind, FULFILMENT_DELAY))
                results['%s_%s' % (name, kind)] = metric
            results['spawn_overhead_s_%s' % kind]['note'] += (
                '. Target: the HBA path\'s %.1f s plus what the storage '
                'group makes spawn wait for on the HMC: the %.1f s '
                'fulfilment, the poll that sees it (up to %.2f s late) and '
                '%d more round trips of %.2f s' % (
                    SPAWN_TARGET, FULFILMENT_DELAY, polling.MIN_INTERVAL,
                    STORAGE_GROUP_ROUND_TRIPS, LATENCY))
        finally:
            sim.set_latency(0)
            driver.cleanup_host('bench-compute')
        results['rule_violations_%s' % kind] = _metric(
            sim.stats()['rule_violations'], None, 0, 'requests',
            note='requests the simulated HMC refused by its rules')
    return results


def _requests_metrics(sim, driver, nv, count):
    few = [_instance() for _ in range(10)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: _spawn(driver, i, power_on=False), few))
    _naive_stopped(nv, 10)
    cycle_10 = max(_requests(sim, _cycle(driver, few)) for _ in range(2))
    naive_10 = _requests(sim, nv.periodic_cycle)

    more = [_instance() for _ in range(count - len(few))]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: _spawn(driver, i, power_on=False), more))
    _naive_stopped(nv, count - 10)
    everyone = few + more
    time.sleep(6)   # let the partition snapshot expire: a fresh cycle
    cycle_n = _requests(sim, _cycle(driver, everyone))
    naive_n = _requests(sim, nv.periodic_cycle)
    probe = everyone[0]
    naive_uuid = nv.list_instance_uuids()[0]
    return {
        'requests_list_instance_uuids': _metric(
            _requests(sim, driver.list_instance_uuids),
            _requests(sim, nv.list_instance_uuids), 1, 'requests'),
        'requests_get_info': _metric(
            _requests(sim, lambda: driver.get_info(probe, use_cache=False)),
            _requests(sim, lambda: nv.get_info(naive_uuid)), 1, 'requests'),
        'requests_periodic_cycle_%d' % count: _metric(
            cycle_n, naive_n, CYCLE_TARGET, 'requests'),
        'requests_periodic_cycle_growth_10_to_%d' % count: _metric(
            cycle_n - cycle_10, naive_n - naive_10, 0, 'requests',
            note='extra requests per cycle with %d instead of 10 '
                 'instances' % count),
    }


def _spawn_metrics(sim, driver, nv, spawn_target=SPAWN_TARGET):
    """Spawn metrics; ``nv`` None: no naive baseline (baselines None)."""
    sim.set_fulfillment_delay(FULFILMENT_DELAY)
    connector, spawn = _build(driver, _instance())
    one = connector + spawn
    ten = _concurrently(10, lambda: _build(driver, _instance()))
    if nv is None:
        naive_one = naive_ten = None
    else:
        naive_one = _timed(nv.spawn, str(uuid.uuid4()))
        naive_ten = _concurrently(10, lambda: nv.spawn(str(uuid.uuid4())))
    return {
        'spawn_overhead_s': _metric(
            round(spawn - START_JOB, 3), _less(naive_one, START_JOB),
            spawn_target, 's',
            note='driver.spawn wall time minus the %.1f s start job; the '
                 'volume connector call Nova makes before spawn is in '
                 'build_overhead_s' % START_JOB),
        'build_overhead_s': _metric(
            round(one - START_JOB, 3), _less(naive_one, START_JOB),
            None, 's',
            note='get_volume_connector (creates the partition and its '
                 'storage) plus spawn, minus the start job'),
        'concurrent10_ratio': _metric(
            round(ten / one, 3),
            None if nv is None else round(naive_ten / naive_one, 3), 1.5,
            'ratio', note='10 concurrent builds (connector + spawn) / one '
                          'build, wall time'),
    }
