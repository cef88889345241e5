"""A private MariaDB server: own data directory, port and socket.

SQLite locks under tempest's concurrency (see MINICLOUD.md), so every
service gets a MariaDB database. Nothing of the system's MariaDB (its
configuration, data or service) is used or touched.
"""

import os
import subprocess
import tempfile

DB_USER = 'stack'
DATABASES = ('keystone', 'placement', 'glance', 'neutron', 'nova_api',
             'nova_cell0', 'nova_cell1', 'cinder')


class MariaDB(object):

    def __init__(self, table, base_dir, port, password):
        self.table = table
        self.data_dir = os.path.join(base_dir, 'data')
        self.port = port
        self.password = password
        # A socket path must stay short (108 bytes), whatever the run dir.
        self.socket = os.path.join(tempfile.mkdtemp(prefix='mc-db-'),
                                   'mysqld.sock')
        self.process = None

    def url(self, database):
        return 'mysql+pymysql://%s:%s@127.0.0.1:%d/%s?charset=utf8' % (
            DB_USER, self.password, self.port, database)

    def start(self):
        user = ['--user=root'] if os.geteuid() == 0 else []
        self.table.run('mariadb-install-db', [
            'mariadb-install-db', '--no-defaults', '--datadir=' +
            self.data_dir, '--auth-root-authentication-method=normal',
            '--skip-test-db'] + user)
        self.process = self.table.start('mariadb', [
            'mariadbd', '--no-defaults', '--datadir=' + self.data_dir,
            '--port=%d' % self.port, '--bind-address=127.0.0.1',
            '--socket=' + self.socket, '--skip-log-bin',
            '--skip-name-resolve', '--max-connections=2000',
            '--innodb-flush-log-at-trx-commit=0',
            '--innodb-buffer-pool-size=256M'] + user)
        self.table.wait_for_port(self.process, self.port, timeout=60)
        statements = ["CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'" % (
            DB_USER, self.password)]
        for name in DATABASES:
            statements.append('CREATE DATABASE %s CHARACTER SET utf8' % name)
            statements.append("GRANT ALL ON %s.* TO '%s'@'127.0.0.1'" % (
                name, DB_USER))
        subprocess.run(['mariadb', '--no-defaults', '-uroot',
                        '--socket=' + self.socket, '-e',
                        ';\n'.join(statements)], check=True,
                       capture_output=True)
