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

"""Plain-HTTP JSON control API of the simulator (loopback only).

Lets shell scripts, the demo and the devstack plugin switch faults and read
counters of a simulator running in another process. See README.rst.
"""

import http.server
import json
import logging
import socketserver
import threading

from nova_dpm.simulator import san

LOG = logging.getLogger(__name__)

_MAX_BODY = 64 * 1024


def _count(body):
    return body.get('count', 1)


def _post_routes(sim):
    """Map POST paths to functions of the parsed JSON body."""
    return {
        '/faults/down': lambda b: sim.down(b.get('host')),
        '/faults/up': lambda b: sim.up(b.get('host')),
        '/faults/latency': lambda b: sim.set_latency(b['seconds']),
        '/faults/mute': lambda b: sim.mute(b.get('shape', 'after-tls'),
                                           b.get('host')),
        '/faults/unmute': lambda b: sim.unmute(b.get('host')),
        '/faults/fail': lambda b: sim.fail_next(
            _count(b), b['status'], b['reason'], b.get('retry_after'),
            b.get('method'), b.get('uri'), b.get('message')),
        '/faults/drop': lambda b: sim.drop_next(
            _count(b), b.get('method'), b.get('uri')),
        '/faults/lose-response': lambda b: sim.lose_response_next(
            _count(b), b.get('method'), b.get('uri')),
        '/faults/expire-sessions': lambda b: sim.expire_sessions(),
        '/faults/fail-job': lambda b: sim.fail_job_next(
            _count(b), b.get('status', 500), b.get('reason', 263),
            b.get('message'), b.get('operation')),
        '/faults/job-duration': lambda b: sim.set_job_duration(
            b['seconds'], b.get('operation')),
        '/faults/clear': lambda b: sim.clear_faults(),
        '/stats/reset': lambda b: sim.reset_stats(),
        '/storage/fulfillment-delay': lambda b: sim.set_fulfillment_delay(
            b['seconds']),
        '/inventory/cpc': lambda b: sim.update_cpc(b['properties']),
        '/san/luns': lambda b: sim.san().create_lun(b['size'],
                                                    b.get('name', '')),
        '/san/luns/extend': lambda b: sim.san().extend_lun(b['lun'],
                                                           b['size']),
        '/san/luns/delete': lambda b: sim.san().delete_lun(b['lun']),
        '/san/map': lambda b: sim.san().map_lun(
            b['lun'], b['initiator'], b['target_port']),
        '/san/unmap': lambda b: {'unmapped': sim.san().unmap_lun(
            b['lun'], b.get('initiator'), b.get('target_port'))},
    }


def _get_routes(sim):
    return {
        '/stats': sim.stats,
        '/resources': sim.resources,
        '/faults': sim.faults,
        '/info': sim.info,
        '/san': lambda: sim.san().snapshot(),
    }


class _ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'nova-dpm-hmc-simulator-control'
    sys_version = ''
    wbufsize = 64 * 1024    # one write per answer (see server.py)

    def log_message(self, fmt, *args):
        LOG.debug('control: %s', fmt % args)

    def _reply(self, status, body):
        payload = json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        route = _get_routes(self.server.simulator).get(self.path)
        if route is None:
            self._reply(404, {'error': 'unknown control URI %s' % self.path})
            return
        try:
            self._reply(200, route())
        except san.ArrayError as exc:
            self._reply(exc.status, {'error': str(exc)})

    def do_POST(self):
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY:
            self.close_connection = True
            self._reply(400, {'error': 'invalid Content-Length'})
            return
        raw = self.rfile.read(length) if length else b''
        route = _post_routes(self.server.simulator).get(self.path)
        if route is None:
            self._reply(404, {'error': 'unknown control URI %s' % self.path})
            return
        try:
            body = json.loads(raw.decode('utf-8')) if raw else {}
            if not isinstance(body, dict):
                raise ValueError('the request body must be a JSON object')
            result = route(body)
        except san.ArrayError as exc:
            self._reply(exc.status, {'error': str(exc)})
            return
        except KeyError as exc:
            self._reply(400, {'error': 'missing field %s' % exc})
            return
        except (ValueError, TypeError) as exc:
            self._reply(400, {'error': str(exc)})
            return
        self._reply(200, result if isinstance(result, dict) else
                    {'ok': True})


class ControlServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """The control API on 127.0.0.1:<port> (0: any free port)."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, simulator, port):
        self.simulator = simulator
        self._thread = None
        super(ControlServer, self).__init__(('127.0.0.1', port),
                                            _ControlHandler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server_address[1]

    def start(self):
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={'poll_interval': 0.05},
            name='hmc-simulator-control', daemon=True)
        self._thread.start()

    def close(self):
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(5)
