"""The command line: its options and the password leak check."""

import io
import os

import fixtures
import testtools

from minicloud import cli


def _write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(content)


class PasswordLeaksTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def test_finds_the_file_with_the_password_in_a_nested_dir(self):
        logs = os.path.join(self.tmp, 'logs')
        leaky = os.path.join(logs, 'nova', 'deep', 'nova-compute.log')
        _write(os.path.join(logs, 'keystone.log'), b'password=***\n')
        _write(leaky, b'\x00binary\xff connect hmc pw=S3cret-pw!\n')
        _write(os.path.join(logs, 'nova', 'nova-api.log'), b'S3cret-p\n')

        self.assertEqual([leaky], cli.password_leaks('S3cret-pw!', [logs]))

    def test_searches_every_root_and_ignores_missing_ones(self):
        first = os.path.join(self.tmp, 'logs', 'a.log')
        second = os.path.join(self.tmp, 'tempest', 'etc', 'tempest.log')
        _write(first, b'pw S3cret\n')
        _write(second, b'pw S3cret\n')

        found = cli.password_leaks('S3cret', [
            os.path.join(self.tmp, 'logs'), os.path.join(self.tmp, 'gone'),
            os.path.join(self.tmp, 'tempest')])

        self.assertEqual([first, second], found)

    def test_clean_tree_has_no_leaks(self):
        _write(os.path.join(self.tmp, 'logs', 'a.log'), b'nothing here\n')

        self.assertEqual([], cli.password_leaks('S3cret', [self.tmp]))


class ParserTest(testtools.TestCase):

    def test_defaults(self):
        args = cli.build_parser().parse_args([])

        self.assertEqual('smoke', args.selection)
        self.assertFalse(args.faults)
        self.assertEqual(2, args.concurrency)
        self.assertEqual('.minicloud', args.runs_dir)
        self.assertFalse(args.keep_data)
        self.assertEqual(1.0, args.job_duration)
        self.assertEqual('z16', args.inventory)

    def test_options(self):
        args = cli.build_parser().parse_args([
            '--selection', 'full', '--faults', '--concurrency', '4',
            '--runs-dir', '/tmp/runs', '--keep-data',
            '--job-duration', '0.5', '--inventory', 'z13'])

        self.assertEqual('full', args.selection)
        self.assertTrue(args.faults)
        self.assertEqual(4, args.concurrency)
        self.assertEqual('/tmp/runs', args.runs_dir)
        self.assertTrue(args.keep_data)
        self.assertEqual(0.5, args.job_duration)
        self.assertEqual('z13', args.inventory)

    def test_unknown_selection_is_refused(self):
        stderr = self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                      io.StringIO())).new_value

        self.assertRaises(SystemExit, cli.build_parser().parse_args,
                          ['--selection', 'everything'])
        self.assertIn("invalid choice: 'everything'", stderr.getvalue())
