"""A private RabbitMQ node with its own epmd, ports and data directory.

Debian's ``/usr/sbin/rabbitmq-server`` switches to the rabbitmq user and
uses the system node; the script under ``/usr/lib/rabbitmq/bin`` runs a
node as the calling user, configured entirely by environment variables.
epmd is started here in the foreground on its own port, so that it is one
of this run's tracked processes and a leftover epmd cannot interfere.
"""

import os

RABBIT_BIN = '/usr/lib/rabbitmq/bin/rabbitmq-server'


class RabbitMQ(object):

    def __init__(self, table, base_dir, amqp_port, dist_port, epmd_port):
        self.table = table
        self.base_dir = base_dir
        self.amqp_port = amqp_port
        self.dist_port = dist_port
        self.epmd_port = epmd_port

    @property
    def transport_url(self):
        # guest may log in over loopback only, which is all we need.
        return 'rabbit://guest:guest@127.0.0.1:%d/' % self.amqp_port

    def start(self):
        home = os.path.join(self.base_dir, 'home')
        os.makedirs(home, exist_ok=True)
        plugins = os.path.join(self.base_dir, 'enabled_plugins')
        with open(plugins, 'w') as f:
            f.write('[].\n')
        epmd = self.table.start('epmd', [
            'epmd', '-port', str(self.epmd_port), '-address', '127.0.0.1'])
        self.table.wait_for_port(epmd, self.epmd_port, timeout=30)
        env = {
            'HOME': home,
            'ERL_EPMD_PORT': str(self.epmd_port),
            'RABBITMQ_NODENAME': 'minicloud%d@localhost' % self.amqp_port,
            'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
            'RABBITMQ_NODE_PORT': str(self.amqp_port),
            'RABBITMQ_DIST_PORT': str(self.dist_port),
            'RABBITMQ_MNESIA_BASE': os.path.join(self.base_dir, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(self.table.log_dir,
                                              'rabbitmq'),
            'RABBITMQ_CONFIG_FILE': os.path.join(self.base_dir, 'none'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': plugins,
        }
        rabbit = self.table.start('rabbitmq', [RABBIT_BIN], env=env,
                                  cwd=self.base_dir)
        # The AMQP listener opens at the end of the boot.
        self.table.wait_for_port(rabbit, self.amqp_port, timeout=120)
