# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""nova-dpm-hmc-simulator: run a simulated HMC until SIGINT/SIGTERM.

Bad input (unreadable inventory, port in use, unusable options) ends the
program with exit code 1 and one line on stderr, never a traceback.
"""

import argparse
import ipaddress
import logging
import os
import signal
import sys
import threading

from nova_dpm.simulator import inventory
from nova_dpm.simulator import simulator
from nova_dpm.simulator import storage_volumes

PROG = 'nova-dpm-hmc-simulator'
DEFAULT_PORT = 6794


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('%r is not a number' % text)
    if value < 0:
        raise argparse.ArgumentTypeError('%r must not be negative' % text)
    return value


def _port(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('%r is not a port number' % text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            '%r is not a port number (0-65535)' % text)
    return value


def _address(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            '%r is not an IP address (use e.g. 127.0.0.1)' % text)
    return text


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus the error; one line is asked for."""

    def error(self, message):
        self.exit(2, '%s: error: %s\n' % (self.prog, message))


def build_parser():
    parser = _OneLineParser(
        prog=PROG, description='Run a simulated IBM Z HMC (DPM) over '
        'HTTPS, with a JSON control API for fault injection.')
    parser.add_argument('--listen', action='append', type=_address,
                        metavar='ADDR', help='listen address (repeatable; '
                        'every address serves the same HMC; default '
                        '127.0.0.1)')
    parser.add_argument('--port', type=_port, default=DEFAULT_PORT,
                        help='HTTPS port (default %(default)s; 0: any)')
    parser.add_argument('--inventory', metavar='NAME|FILE',
                        help='built-in inventory (%s; default %s) or an '
                        "HMC definition in zhmcclient's YAML format" % (
                            ', '.join(inventory.INVENTORIES),
                            inventory.DEFAULT_INVENTORY))
    parser.add_argument('--state-dir', metavar='DIR',
                        help='keep the CA, the password and simulator.json '
                        'here, so a nova.conf made for this simulator works '
                        'after a restart (default: a temporary directory, '
                        'deleted when the simulator stops)')
    parser.add_argument('--userid', default='nova')
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument('--password', help='HMC password (default: the one '
                        'kept in <state-dir>/password, else random; written '
                        'there)')
    secret.add_argument('--password-file', metavar='FILE',
                        help='read the password from the first line of FILE')
    parser.add_argument('--job-duration', type=_non_negative_float,
                        default=2.0, metavar='SECONDS',
                        help='duration of asynchronous jobs (default '
                        '%(default)s)')
    parser.add_argument('--control-port', type=_port, default=0,
                        help='loopback port of the control API (default: '
                        'any free port)')
    parser.add_argument('--notification-port', type=_port, default=0,
                        help='port of the STOMP-over-TLS notification '
                        'endpoint on the first address (a real HMC: 61612; '
                        'default: any free port)')
    parser.add_argument('--latency', type=_non_negative_float, default=0.0,
                        metavar='SECONDS', help='extra latency per request')
    parser.add_argument('--fulfillment-delay', type=_non_negative_float,
                        default=storage_volumes.DEFAULT_FULFILMENT_DELAY,
                        metavar='SECONDS', help='how long a fulfilled FCP '
                        'storage volume stays pending (default '
                        '%(default)s)')
    parser.add_argument('--san', action='store_true',
                        help='put an FCP storage array behind the HMC: a '
                        'LUN is found only when created and mapped through '
                        'the control API (/san)')
    parser.add_argument('--debug', action='store_true',
                        help='log every request')
    return parser


def _read_password(path):
    try:
        password = simulator.read_password(path)
    except OSError as exc:
        raise simulator.SimulatorError(
            'cannot read password file %s: %s' % (path, exc.strerror or exc))
    if not password:
        raise simulator.SimulatorError('password file %s is empty' % path)
    return password


def _stop_on_signal():
    """An Event set by SIGINT/SIGTERM, installed before anything starts.

    A signal that arrives while the simulator starts or prints its
    settings then still stops it cleanly (temporary directory removed).
    """
    stop = threading.Event()

    def handler(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format='%(asctime)s %(levelname)s %(message)s')
    hosts = args.listen or ['127.0.0.1']
    stop = _stop_on_signal()
    try:
        password = args.password
        if args.password_file:
            password = _read_password(args.password_file)
        if args.inventory and args.inventory not in inventory.MACHINES \
                and not os.path.isfile(args.inventory):
            raise simulator.SimulatorError(
                'inventory %s is neither a built-in inventory (%s) nor an '
                'existing file' % (args.inventory,
                                   ', '.join(inventory.INVENTORIES)))
        sim = simulator.HMCSimulator(
            hosts=hosts, port=args.port, state_dir=args.state_dir,
            inventory=args.inventory, userid=args.userid, password=password,
            job_duration=args.job_duration, control_port=args.control_port,
            san=args.san, notification_port=args.notification_port)
        sim.start()
    except simulator.SimulatorError as exc:
        sys.stderr.write('%s: error: %s\n' % (PROG, exc))
        return 1
    try:
        sim.set_latency(args.latency)
        sim.set_fulfillment_delay(args.fulfillment_delay)
        for host in sim.hosts:
            print('HMC simulator listening on https://%s:%d' %
                  (host, sim.port))
        print('CA certificate: %s' % sim.ca_file)
        print('Control API: %s' % sim.control_url)
        print('Notifications (STOMP over TLS): %s:%d' % (
            sim.host, sim.notification_port))
        print('Inventory: %s' % sim.info()['inventory'])
        if sim.array is not None:
            print('Storage array: target ports %s (control API /san)' %
                  ', '.join(sim.array.target_ports()))
        print('Default CPC object-id: %s' % sim.cpc_object_id)
        print('Userid: %s (password in %s)' % (
            sim.userid, sim.info()['password_file']))
        print('State: %s' % os.path.join(sim.state_dir,
                                         simulator.STATE_FILE))
        if sim.state_is_temporary:
            print('Everything above is temporary: the CA file, password '
                  'and state are deleted when the simulator stops, and the '
                  'next start makes new ones. Use --state-dir DIR to keep '
                  'them across restarts.')
        else:
            print('Kept in %s: restarted with the same --state-dir, '
                  '--listen and --port it serves the same CA, password and '
                  'object-ids, so a nova.conf made from the lines above '
                  'keeps working.' % sim.state_dir)
        sys.stdout.flush()
        while not stop.wait(1):
            pass
    finally:
        temporary = sim.state_is_temporary and sim.state_dir
        sim.stop()
    if temporary:
        print('Stopped; deleted the temporary state directory %s (CA file, '
              'password, state).' % temporary)
    return 0


if __name__ == '__main__':
    sys.exit(main())
