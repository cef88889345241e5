"""Interfaces of one server attached and detached at the same time.

Nova serializes ``attach_interface``/``detach_interface`` per server *and
port* only (compute manager lock ``interface-<instance>-<port>``; the API
checks but sets no task state), so nova-compute runs changes of two ports
of one server at once. The partition's MAC list
(``boot-os-specific-parameters``) must still name every NIC afterwards.
Real threads, real HTTPS to the simulator; a little latency per request
keeps the threads' HMC requests interleaved.
"""

import threading

import fixtures
from nova import exception
from nova.network import model as network_model

from nova_dpm.hmc import errors
from tests.functional.virt import driver_base
from tests.functional.virt import test_port_binding as port_binding

dpm_vif = port_binding.dpm_vif
mac = port_binding.mac

#: Seconds the simulator adds to every request while the threads run.
LATENCY = 0.05
#: Seconds a test waits for its threads at most.
JOIN_SECONDS = 60


@driver_base.on_every_kind
class TestConcurrentInterfaces(port_binding.PortBindingCase):
    """Two interface changes of one server at once keep the MAC list."""

    def concurrently(self, *calls):
        """Run ``calls`` (callables) in threads started together.

        Returns what each raised (None when it returned).
        """
        start = threading.Barrier(len(calls))
        raised = [None] * len(calls)

        def run(index, call):
            start.wait()
            try:
                call()
            except Exception as exc:
                raised[index] = exc

        threads = [threading.Thread(target=run, args=(index, call))
                   for index, call in enumerate(calls)]
        self.sim.set_latency(LATENCY)
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(JOIN_SECONDS)
        finally:
            self.sim.set_latency(0)
        self.assertFalse(any(t.is_alive() for t in threads))
        return raised

    def attach(self, instance, vif):
        return lambda: self.driver.attach_interface(None, instance, None, vif)

    def detach(self, instance, vif):
        return lambda: self.driver.detach_interface(None, instance, vif)

    def assertMacListNamesEveryNic(self, instance, indexes):
        """NICs of exactly ``indexes``, each with its MAC entry."""
        nics = self.nics(instance)
        macs = self.macs(instance)
        self.assertEqual({self.nic_name(i) for i in indexes}, set(nics))
        self.assertEqual({mac(i) for i in indexes}, set(macs))
        for index in indexes:
            self.assertEqual(
                nics[self.nic_name(index)]['device-number'].lower(),
                macs[mac(index)])

    def test_two_ports_attached_at_once_both_get_their_mac_entry(self):
        instance = self.instance()
        self.spawn(instance)
        raised = self.concurrently(
            self.attach(instance, dpm_vif(1, 'flat-net')),
            self.attach(instance, dpm_vif(2, 'vlan-net', port_binding.VLAN)))
        self.assertEqual([None, None], raised)
        self.assertMacListNamesEveryNic(instance, [1, 2])
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()

    def test_attach_and_detach_at_once_leave_only_the_attached_entry(self):
        instance = self.instance()
        self.spawn(instance, network_info=network_model.NetworkInfo(
            [dpm_vif(1, 'flat-net')]))
        raised = self.concurrently(
            self.detach(instance, dpm_vif(1, 'flat-net')),
            self.attach(instance, dpm_vif(2, 'flat-net')))
        self.assertEqual([None, None], raised)
        self.assertMacListNamesEveryNic(instance, [2])

    def test_a_stale_mac_list_written_last_is_repaired(self):
        # The worst order, forced: the first attach has read the NICs
        # (only its own) and is about to write their MAC list when a
        # second attach runs from start to end; then the first writes its
        # list without the second's NIC. It must read again and repair it.
        instance = self.instance()
        self.spawn(instance)
        facade = self.driver._ready.networking._nics
        real_write = facade.set_boot_parameters
        second_done = threading.Event()
        test_thread = threading.current_thread()
        held = []

        def write(partition_uri, parameters, failure):
            if threading.current_thread() is not test_thread and not held:
                held.append(parameters)
                second_done.wait(JOIN_SECONDS)
            return real_write(partition_uri, parameters, failure)

        self.useFixture(fixtures.MockPatchObject(
            facade, 'set_boot_parameters', side_effect=write))
        first = threading.Thread(target=self.attach(
            instance, dpm_vif(1, 'flat-net')))
        first.start()
        # Cleanups run in reverse: release the first attach, then join it.
        self.addCleanup(first.join, JOIN_SECONDS)
        self.addCleanup(second_done.set)
        while not held and first.is_alive():
            first.join(0.01)
        self.attach(instance, dpm_vif(2, 'vlan-net', port_binding.VLAN))()
        self.assertMacListNamesEveryNic(instance, [1, 2])
        second_done.set()
        first.join(JOIN_SECONDS)
        self.assertFalse(first.is_alive())
        # What the first attach wrote lacked the second's NIC: its list was
        # stale, and the first attach repaired it.
        self.assertEqual([mac(1)], [e.split(',')[2].rstrip(';')
                                    for e in held[0].split(';') if e])
        self.assertMacListNamesEveryNic(instance, [1, 2])

    def test_more_nics_than_fit_attached_at_once_are_refused_cleanly(self):
        # Eleven NICs: each of two concurrent attaches sees room for one
        # more; together they would make 13, more than the MAC list holds.
        instance = self.instance()
        self.spawn(instance, network_info=network_model.NetworkInfo(
            [dpm_vif(i, 'flat-net') for i in range(1, 12)]))
        raised = self.concurrently(
            self.attach(instance, dpm_vif(12, 'flat-net')),
            self.attach(instance, dpm_vif(13, 'flat-net')))
        refused = [exc for exc in raised if exc is not None]
        self.assertNotEqual([], refused)
        for exc in refused:
            # Refused before creating its NIC when the other attach was
            # done, else when writing the list (and its NIC removed).
            self.assertIsInstance(exc, (exception.InvalidInput,
                                        errors.HMCOperationFailed))
            self.assertIn('; detach', str(exc))
        attached = [12 + i for i, exc in enumerate(raised) if exc is None]
        self.assertMacListNamesEveryNic(instance,
                                        list(range(1, 12)) + attached)
        self.driver.destroy(None, instance, None)
        self.assertNothingLeft()
