"""NICs on the HMC against Neutron's ports (the port/NIC leak check)."""

import time

import testtools

from minicloud import port_nics

HOST = 'dpm-minicloud'
SERVER = '11111111-2222-3333-4444-555555555555'
PARTITION = 'OpenStack-' + HOST + '-' + SERVER
PORT = 'aaaaaaaa-0000-0000-0000-000000000001'


def _port(port_id=PORT, mac='fa:16:3e:00:00:01', device_id=SERVER,
          owner='compute:nova', host=HOST):
    return {'id': port_id, 'mac_address': mac, 'device_id': device_id,
            'device_owner': owner, 'binding_host_id': host}


def _nic(port_id=PORT, mac='fa:16:3e:00:00:01', devno='0100',
         boot='0100,0,fa163e000001;', partition=PARTITION):
    return {'partition': partition, 'name': 'OpenStack_Port_' + port_id,
            'mac_address': mac, 'device_number': devno,
            'boot_parameters': boot}


ACTIVE = {SERVER: ('ACTIVE', None)}


class CompareTest(testtools.TestCase):

    def compare(self, nics, ports, servers=ACTIVE, takes_mac=True):
        return port_nics.compare(nics, ports, servers, HOST, takes_mac)

    def test_nic_with_its_ports_mac_is_clean(self):
        self.assertEqual([], self.compare([_nic()], [_port()]))

    def test_nic_without_its_port_is_left_behind(self):
        problems = self.compare([_nic()], [])

        self.assertEqual(1, len(problems))
        self.assertIn('NIC left behind', problems[0])

    def test_nic_of_a_port_of_another_server_is_left_behind(self):
        problems = self.compare([_nic()], [_port(device_id='other')])

        self.assertIn('NIC left behind', problems[0])

    def test_settled_servers_port_without_nic_is_missing(self):
        for status in ('ACTIVE', 'SHUTOFF'):
            problems = self.compare([], [_port()], {SERVER: (status, None)})

            self.assertEqual(['port %s of %s server %s has no NIC on the HMC'
                              % (PORT, status, SERVER)], problems)

    def test_ports_of_busy_servers_and_other_hosts_are_not_checked(self):
        self.assertEqual([], self.compare([], [_port()],
                                          {SERVER: ('BUILD', 'spawning')}))
        self.assertEqual([], self.compare([], [_port()],
                                          {SERVER: ('ACTIVE', 'rebooting')}))
        self.assertEqual([], self.compare([], [_port(host='other')]))
        self.assertEqual([], self.compare([], [_port(owner='network:dhcp')]))

    def test_nic_mac_must_be_the_ports_where_the_cpc_takes_one(self):
        nic = _nic(mac='02:00:00:00:00:07')

        self.assertEqual(['NIC OpenStack_Port_%s has MAC 02:00:00:00:00:07, '
                          'its port fa:16:3e:00:00:01' % PORT],
                         self.compare([nic], [_port()]))
        self.assertEqual([], self.compare([nic], [_port()], takes_mac=False))

    def test_boot_parameters_must_give_the_nics_device_the_ports_mac(self):
        for boot in ('', '0100,0,fa163e0000ff;', '0200,0,fa163e000001;'):
            problems = self.compare([_nic(boot=boot)], [_port()],
                                    takes_mac=False)

            self.assertEqual(1, len(problems), boot)
            self.assertIn('gives device 0100 MAC', problems[0])

    def test_nics_not_made_for_ports_are_ignored(self):
        nic = dict(_nic(), name='operator-nic')

        self.assertEqual([], self.compare([nic], []))


class LeftAfterTest(testtools.TestCase):

    def test_nothing_left_is_clean(self):
        self.assertEqual([], port_nics.left_after(
            [dict(_nic(), name='operator-nic')], [_port(owner='')]))

    def test_nics_and_compute_ports_left_are_named(self):
        self.assertEqual(
            ['NIC OpenStack_Port_%s of partition %s left' % (PORT, PARTITION),
             'port %s of server %s left' % (PORT, SERVER)],
            port_nics.left_after([_nic()], [_port()]))


class NicTakesMacTest(testtools.TestCase):

    def test_from_se_2_14_on(self):
        self.assertEqual((True, True, False), tuple(
            port_nics.nic_takes_mac(kind) for kind in ('z16', 'z17', 'z13')))


class FakeClient(object):

    def __init__(self, nics):
        self.nics = nics

    def resources(self):
        return {'nic_list': self.nics}


class Obj(object):

    def __init__(self, **kw):
        self.__dict__.update(kw)


class FakeConn(object):
    """Neutron and Nova; ``busy`` reads of the ports fail first."""

    def __init__(self, ports, servers, busy=0):
        self.busy = busy
        self.network = Obj(ports=lambda: self._ports(ports))
        self.compute = Obj(servers=lambda all_projects: [
            Obj(id=i, status=s, task_state=t)
            for i, (s, t) in servers.items()])

    def _ports(self, ports):
        if self.busy:
            self.busy -= 1
            raise RuntimeError('HttpException: 503: Service Unavailable\n'
                               'more text')
        return [Obj(**p) for p in ports]


class SamplerTest(testtools.TestCase):

    def sampler(self, nics, ports, servers=ACTIVE, busy=0):
        return port_nics.Sampler(FakeConn(ports, servers, busy),
                                 FakeClient(nics), HOST, True, interval=0)

    def taken(self, sampler, count):
        previous = set()
        for _ in range(count):
            previous = sampler.take(previous)
        return sampler

    def test_a_finding_counts_when_two_samples_in_a_row_show_it(self):
        sampler = self.sampler([], [_port()])

        first = sampler.sample(set())
        self.assertEqual([], sampler.problems)
        sampler.sample(first)
        self.assertEqual(1, len(sampler.problems))
        self.assertEqual((2, 0), (sampler.good, sampler.failed))

    def test_a_finding_gone_in_the_next_sample_does_not_count(self):
        sampler = self.sampler([_nic()], [_port()])

        sampler.sample({'port x of ACTIVE server y has no NIC on the HMC'})
        self.assertEqual([], sampler.problems)

    def test_a_failed_read_is_counted_and_breaks_the_pairing(self):
        conn = FakeConn([_port()], ACTIVE)
        sampler = port_nics.Sampler(conn, FakeClient([]), HOST, True)

        found = sampler.take(set())
        conn.busy = 1
        self.assertEqual(set(), sampler.take(found))
        sampler.take(set())
        self.assertEqual([], sampler.problems)  # never two reads in a row
        self.assertEqual((2, 1), (sampler.good, sampler.failed))
        sampler.take(found)
        self.assertEqual(1, len(sampler.problems))

    def test_a_run_whose_samples_all_failed_is_not_checked(self):
        sampler = self.taken(self.sampler([], [_port()], busy=5), 5)

        self.assertEqual(
            'NICs against ports not checked: 5 of 5 samples failed to read '
            '(more than half); last error: RuntimeError: HttpException: 503: '
            'Service Unavailable', sampler.unread())
        self.assertEqual('NICs against ports: 0 samples read, 5 failed to '
                         'read, 0 mismatches', sampler.summary())

    def test_more_than_half_failed_is_not_checked_half_is(self):
        self.assertIn('3 of 5 samples failed to read', self.taken(
            self.sampler([_nic()], [_port()], busy=3), 5).unread())
        half = self.taken(self.sampler([_nic()], [_port()], busy=2), 4)
        self.assertIsNone(half.unread())
        self.assertEqual('NICs against ports: 2 samples read, 2 failed to '
                         'read, 0 mismatches', half.summary())

    def test_no_sample_taken_is_no_verdict(self):
        sampler = self.sampler([_nic()], [_port()])

        self.assertIsNone(sampler.unread())
        self.assertIsNone(self.taken(sampler, 1).unread())

    def test_the_sampling_thread_counts_failed_reads(self):
        sampler = port_nics.Sampler(FakeConn([_port()], ACTIVE, busy=10**6),
                                    FakeClient([_nic()]), HOST, True,
                                    interval=0.001)
        sampler.start()
        self.addCleanup(sampler.stop)
        for _ in range(1000):
            if sampler.failed >= 3:
                break
            time.sleep(0.01)
        sampler.stop()

        self.assertGreaterEqual(sampler.failed, 3)
        self.assertEqual(0, sampler.good)
        self.assertIsNotNone(sampler.unread())
