"""Run tempest against the mini-cloud and read its totals."""

import os
import re

from minicloud import configs

# doc/tempest/README.rst explains the lists and the settings.
SELECTIONS = {
    # every compute smoke test and the server tests that apply
    'smoke': ['--include-list', '{doc}/include-list.txt'],
    # the whole compute API package
    'full': ['--regex', r'^tempest\.api\.compute\.'],
}

# What the driver cannot pass, then what this cloud does not provide.
EXCLUDE_LISTS = ('exclude-list.txt', 'exclude-list-minicloud.txt')

_TOTAL = re.compile(r'^\s*-\s*(Passed|Skipped|Failed|Expected Fail|'
                    r'Unexpected Success):\s*(\d+)\s*$')
_RAN = re.compile(r'^Ran:\s*(\d+) tests? in ([\d.]+) sec')


class Totals(object):
    """What tempest's summary said (None until it said it)."""

    def __init__(self):
        self.counts = {}
        self.ran = None
        self.seconds = None

    def feed(self, line):
        match = _TOTAL.match(line)
        if match:
            self.counts[match.group(1).lower()] = int(match.group(2))
        match = _RAN.match(line.strip())
        if match:
            self.ran = int(match.group(1))
            self.seconds = float(match.group(2))

    def get(self, key):
        return self.counts.get(key, 0)

    @property
    def complete(self):
        return self.ran is not None and 'failed' in self.counts

    def line(self):
        if not self.complete:
            return 'tempest printed no summary'
        return ('ran %d: passed %d, skipped %d, failed %d' % (
            self.ran, self.get('passed'), self.get('skipped'),
            self.get('failed') + self.get('unexpected success')))


class Tempest(object):

    def __init__(self, table, cloud, doc_dir, workspace):
        self.table = table
        self.cloud = cloud
        self.doc_dir = doc_dir
        self.workspace = workspace

    def configure(self):
        """A tempest workspace of this run's own.

        ``tempest init`` would also register the workspace in
        ~/.tempest/workspace.yaml, which outlives the run; tempest needs no
        more than what is written here (tempest reads etc/tempest.conf in
        its working directory).
        """
        import tempest  # only the tempest environment installs it

        package = os.path.dirname(os.path.abspath(tempest.__file__))
        os.makedirs(os.path.join(self.workspace, 'etc'), exist_ok=True)
        with open(os.path.join(self.workspace, '.stestr.conf'), 'w') as f:
            f.write('[DEFAULT]\ntest_path=%s\ntop_dir=%s\n'
                    'group_regex=([^\\.]*\\.)*\n' % (
                        os.path.join(package, 'test_discover'), package))
        configs.write_ini(
            os.path.join(self.workspace, 'etc', 'tempest.conf'),
            configs.tempest(self.cloud.endpoints, self.cloud.password,
                            self.cloud.image_ids, self.cloud.flavor_ids,
                            os.path.join(self.doc_dir, 'tempest-dpm.conf'),
                            os.path.join(self.workspace, 'locks')))

    def exclude_list(self):
        """doc/tempest's exclusions plus the mini-cloud's, as one file."""
        path = os.path.join(self.workspace, 'exclude-list.txt')
        with open(path, 'w') as out:
            for name in EXCLUDE_LISTS:
                with open(os.path.join(self.doc_dir, name)) as f:
                    out.write(f.read())
        return path

    def argv(self, selection, concurrency):
        args = [a.format(doc=self.doc_dir) for a in SELECTIONS[selection]]
        return [os.path.join(self.cloud.bin_dir, 'tempest'), 'run'] + args + [
            '--exclude-list', self.exclude_list(),
            '--concurrency', str(concurrency)]

    def run(self, selection, concurrency, console):
        totals = Totals()

        def relay(line):
            totals.feed(line)
            console(line)

        process = self.table.start('tempest', self.argv(
            selection, concurrency), cwd=self.workspace, console=relay)
        rc = process.wait()
        self.table.forget(process)
        return rc, totals
