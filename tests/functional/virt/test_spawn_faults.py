"""Spawn steps x HMC faults: the right outcome and nothing left behind.

Each row names a spawn step by the HMC request that carries it; each
column injects one kind of fault into that request.  Rows are data: add a
step by adding a line to STEPS.
"""

from nova.compute import task_states
from nova import exception

from tests.functional.virt import driver_base

# step name (as InstanceDeployFailure names it), HTTP method, URI pattern,
# the CPC storage the row applies to (None: both; HBA: no
# dpm-storage-management; SG: storage groups)
HBA = 'hba'
SG = 'storage-group'
STEPS = [
    ('create the partition', 'POST', r'^/api/cpcs/[^/]+/partitions$', None),
    ('create the NICs', 'POST', r'^/api/partitions/[^/]+/nics$', None),
    ('prepare booting from the volume', 'POST',
     r'^/api/partitions/[^/]+/hbas$', HBA),
    ('prepare booting from the volume', 'POST', r'^/api/storage-groups$',
     SG),
    ('prepare booting from the volume', 'POST',
     r'^/api/partitions/[^/]+/operations/attach-storage-group$', SG),
    # The boot storage volume: created, fulfilled, then named for boot.
    ('prepare booting from the volume', 'POST',
     r'^/api/storage-groups/[^/]+/operations/modify$', SG),
    ('prepare booting from the volume', 'POST',
     r'/operations/fulfill-fcp-storage-volume$', SG),
    ('prepare booting from the volume', 'POST',
     r'^/api/partitions/[^/]+$', None),
    ('start the partition', 'POST', r'/operations/start$', None),
]

# What destroy (and every rollback) sends, by the same columns.
DESTROY_STEPS = [
    ('POST', r'/operations/stop$', None),
    ('POST', r'/operations/detach-storage-group$', SG),
    ('POST', r'^/api/storage-groups/[^/]+/operations/delete$', SG),
    ('DELETE', r'^/api/partitions/[^/]+/hbas/[^/]+$', HBA),
    ('DELETE', r'^/api/partitions/[^/]+$', None),
]


@driver_base.on_every_kind
class TestSpawnFaultMatrix(driver_base.DriverTestCase):
    """Every step of spawn, on every CPC kind."""

    @property
    def steps(self):
        mode = SG if self.storage_management else HBA
        return [(step, method, uri) for step, method, uri, storage in STEPS
                if storage in (None, mode)]

    def spawn_with(self, inject, step, method, uri):
        instance = self.instance()
        inject(self, step, method, uri, instance)
        return instance, lambda: self.spawn(
            instance, network_info=self.vifs(2))

    def expect_failure(self, inject):
        for step, method, uri in self.steps:
            instance, spawn = self.spawn_with(inject, step, method, uri)
            exc = self.assertRaises(exception.InstanceDeployFailure, spawn)
            self.assertIn(step, str(exc), step)
            self.assertNotIn(self.sim.password, str(exc))
            self.sim.clear_faults()
            self.assertNothingLeft()

    def expect_success(self, inject):
        for step, method, uri in self.steps:
            instance, spawn = self.spawn_with(inject, step, method, uri)
            spawn()
            resources = self.sim.resources()
            self.assertEqual(1, len(resources['partitions']), step)
            self.assertEqual(2, resources['nics'], step)
            self.driver.destroy(None, instance, None)
            self.sim.clear_faults()
            self.assertNothingLeft()

    def test_http_500_beyond_the_retry_budget(self):
        # retries_number=2: three answers of 500 exhaust it.
        self.expect_failure(lambda t, s, m, u, i: t.sim.fail_next(
            3, 500, 0, method=m, uri=u))

    def test_http_500_within_the_retry_budget_is_absorbed(self):
        self.expect_success(lambda t, s, m, u, i: t.sim.fail_next(
            1, 500, 0, method=m, uri=u))

    def test_connection_lost_once_is_absorbed(self):
        self.expect_success(lambda t, s, m, u, i: t.sim.drop_next(
            1, method=m, uri=u))

    def test_lost_response_never_duplicates(self):
        self.expect_success(lambda t, s, m, u, i: t.sim.lose_response_next(
            1, method=m, uri=u))

    def test_job_failure(self):
        instance = self.instance()
        self.sim.fail_job_next(1, operation='start')
        exc = self.assertRaises(
            exception.InstanceDeployFailure, self.spawn, instance,
            network_info=self.vifs(2))
        self.assertIn('start the partition', str(exc))
        self.assertNothingLeft()

    def test_instance_deleted_meanwhile_returns_quietly(self):
        for step, method, uri in self.steps:
            instance = self.instance()

            def deleting(instance=instance):
                instance.task_state = task_states.DELETING
            instance.refresh_mock.side_effect = deleting
            self.sim.fail_next(3, 500, 0, method=method, uri=uri)
            self.spawn(instance, network_info=self.vifs(2))
            self.sim.clear_faults()
            self.assertNothingLeft()

    def destroy_steps(self):
        mode = SG if self.storage_management else HBA
        return [(method, uri) for method, uri, storage in DESTROY_STEPS
                if storage in (None, mode)]

    def test_destroy_lost_response_is_absorbed(self):
        for method, uri in self.destroy_steps():
            instance = self.instance()
            self.spawn(instance, network_info=self.vifs(1))
            self.sim.lose_response_next(1, method=method, uri=uri)
            self.driver.destroy(None, instance, None)
            self.sim.clear_faults()
            self.assertNothingLeft()

    def test_destroy_failing_then_repeated_leaves_nothing(self):
        for method, uri in self.destroy_steps():
            instance = self.instance()
            self.spawn(instance, network_info=self.vifs(1))
            self.sim.fail_next(3, 500, 0, method=method, uri=uri)
            exc = self.assertRaises(exception.InstanceTerminationFailure,
                                    self.driver.destroy, None, instance,
                                    None)
            self.assertNotIn(self.sim.password, str(exc))
            self.sim.clear_faults()
            # Nova retries the delete.
            self.driver.destroy(None, instance, None)
            self.assertNothingLeft()

    def storage_groups_only(self):
        if not self.storage_management:
            self.skipTest('HBAs: no storage volume to fulfil')

    def test_pending_fulfilment_is_waited_for(self):
        self.storage_groups_only()
        self.sim.set_fulfillment_delay(1.5)
        instance = self.instance()
        self.spawn(instance, network_info=self.vifs(1))
        self.assertEqual('storage-volume',
                         self.boot_settings(instance)['boot-device'])

    def test_fulfilment_pending_beyond_the_budget_names_the_volume(self):
        self.storage_groups_only()
        self.conf.config(group='dpm', operation_timeout=2)
        self.driver = self.make_driver()
        self.sim.set_fulfillment_delay(600)
        exc = self.assertRaises(exception.InstanceDeployFailure, self.spawn,
                                self.instance(), network_info=self.vifs(1))
        self.assertIn('prepare booting from the volume', str(exc))
        self.assertRegex(str(exc), r'storage volume /api/storage-groups/'
                         r'[^/]+/storage-volumes/[^ ]+ is still not '
                         r'fulfilled after 2 s')
        self.assertNothingLeft()

    def test_lasting_outage_then_nova_destroy_leaves_nothing(self):
        instance = self.instance()
        self.sim.fail_job_next(1, operation='start')
        self.sim.set_job_duration(0.5, operation='start')
        self.sim.fail_next(50, 503, 0, method='DELETE')
        self.assertRaises(exception.InstanceDeployFailure, self.spawn,
                          instance, network_info=self.vifs(2))
        self.assertEqual(1, len(self.sim.resources()['partitions']))
        self.sim.clear_faults()
        # What Nova's build clean-up does after a failed spawn.
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()
