"""Small files nova-dpm keeps on disk: one durability rule, no trust.

Written durably: a temporary file in the same directory, fsync, rename
over the old one, fsync of the directory.  A reader sees the old or the
new content, never half of it, and after a crash the rename has survived.
The image cache publishes its downloads with the same :func:`replace`.

Read without trust: a state file can only inform, never stop a service.
A file that cannot be decoded or does not have the expected layout is
renamed aside (``<name>.damaged-<UTC time>``) with one warning naming
both paths, and the caller rebuilds it; nothing is deleted, so an
operator can still look at what was there.
"""

import contextlib
import datetime
import fcntl
import json
import os
import tempfile

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class Damaged(ValueError):
    """The file exists but cannot be used; the message says why."""


def fsync_directory(directory):
    """Make a rename (or a new file) in ``directory`` survive a crash."""
    fd = os.open(directory or '.', os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(source, target):
    """Rename ``source`` over ``target`` atomically and durably."""
    os.replace(source, target)
    fsync_directory(os.path.dirname(target))


def write_json(path, data):
    """Write ``data`` as JSON to ``path`` (mode 0600), atomically.

    :raises OSError: the directory or the file cannot be written
    """
    write_text(path, json.dumps(data, indent=1, sort_keys=True))


def write_text(path, text):
    """Write ``text`` to ``path`` (mode 0600), atomically and durably.

    :raises OSError: the directory or the file cannot be written
    """
    directory = os.path.dirname(path) or '.'
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory,
                               prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_json(path, valid):
    """The decoded content of ``path``, or None when there is no file.

    :param valid: ``valid(data) -> bool``: the layout the caller expects
    :raises Damaged: not UTF-8, not JSON, or ``valid`` said no
    :raises OSError: the file exists but cannot be read
    """
    try:
        with open(path, 'rb') as stream:
            raw = stream.read()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw.decode('utf-8'))
    except UnicodeDecodeError as exc:
        raise Damaged('not UTF-8 text (%s)' % exc.reason) from exc
    except ValueError as exc:
        raise Damaged('not JSON (%s)' % exc) from exc
    except RecursionError as exc:
        raise Damaged('not JSON (nested too deeply)') from exc
    if not valid(data):
        raise Damaged('not the layout nova-dpm writes')
    return data


def set_aside(path, reason, what, then='a new one is started'):
    """Rename a damaged file out of the way; log one warning naming it.

    :param what: what the file is, for the warning ("HMC connection
        status file")
    :param then: what happens next, for the warning
    :returns: the new name, or None when the rename failed too
    """
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y%m%dT%H%M%SZ')
    aside = '%s.damaged-%s' % (path, stamp)
    suffix = 1
    while os.path.exists(aside):
        suffix += 1
        aside = '%s.damaged-%s-%d' % (path, stamp, suffix)
    try:
        os.rename(path, aside)
    except OSError as exc:
        LOG.warning('The %s %s cannot be used (%s) and could not be set '
                    'aside (%s)', what, path, reason, exc)
        return None
    LOG.warning('The %s %s cannot be used (%s); it was renamed to %s, '
                'which keeps its content, and %s', what, path, reason, aside,
                then)
    return aside


def load_or_set_aside(path, valid, what, then='a new one is started'):
    """:func:`load_json`, with a damaged file set aside (then None)."""
    try:
        return load_json(path, valid)
    except Damaged as exc:
        set_aside(path, exc, what, then)
        return None


@contextlib.contextmanager
def locked(path):
    """Hold ``<path>.lock`` exclusively (processes sharing the file).

    Closing the descriptor releases the lock, also when the process dies.

    :raises OSError: the lock file cannot be created
    """
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    fd = os.open(path + '.lock', os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
