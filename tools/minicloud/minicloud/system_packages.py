"""MariaDB and RabbitMQ from Debian's archive, installed when missing."""

import os
import shutil
import subprocess

# Debian package -> a program it installs.
PACKAGES = {
    'mariadb-server': 'mariadbd',
    'rabbitmq-server': '/usr/lib/rabbitmq/bin/rabbitmq-server',
}


class MissingPackages(Exception):
    pass


def _installed(program):
    if os.path.isabs(program):
        return os.access(program, os.X_OK)
    return shutil.which(program, path=os.environ.get('PATH', '') +
                        ':/usr/sbin:/sbin') is not None


def missing():
    return sorted(pkg for pkg, prog in PACKAGES.items()
                  if not _installed(prog))


def ensure(log):
    """Install what is missing with apt-get (as root, or through sudo)."""
    needed = missing()
    if not needed:
        return []
    if os.geteuid() == 0:
        prefix = []
    elif shutil.which('sudo'):
        prefix = ['sudo', '-n']
    else:
        raise MissingPackages(
            '%s not installed and this user cannot install them: run '
            '"apt-get install -y %s" as root, then run again'
            % (', '.join(needed), ' '.join(needed)))
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    with open(log, 'ab') as out:
        for argv in (['apt-get', 'update', '-q'],
                     ['apt-get', 'install', '-y', '-q',
                      '--no-install-recommends'] + needed):
            rc = subprocess.call(prefix + argv, stdout=out,
                                 stderr=subprocess.STDOUT, env=env)
            if rc != 0:
                raise MissingPackages('%s failed (exit %d); see %s' % (
                    ' '.join(argv), rc, log))
    still = missing()
    if still:
        raise MissingPackages('apt-get installed %s but %s is still missing;'
                              ' see %s' % (' '.join(needed),
                                           ', '.join(still), log))
    return needed
