"""Which of the Debian packages the cloud needs are missing."""

from unittest import mock

import testtools

from minicloud import system_packages


class MissingTest(testtools.TestCase):

    def test_only_the_missing_package_is_listed(self):
        with mock.patch.object(system_packages, 'PACKAGES', {
                'shell-package': 'sh',
                'absent-server': '/nonexistent/minicloud/absent-server',
                'absent-tool': 'no-such-program-minicloud'}):
            self.assertEqual(['absent-server', 'absent-tool'],
                             system_packages.missing())

    def test_nothing_missing(self):
        with mock.patch.object(system_packages, 'PACKAGES',
                               {'shell-package': '/bin/sh'}):
            self.assertEqual([], system_packages.missing())

    def test_ensure_installs_nothing_when_nothing_is_missing(self):
        with mock.patch.object(system_packages, 'PACKAGES',
                               {'shell-package': 'sh'}), \
                mock.patch.object(system_packages.subprocess,
                                  'call') as call:
            self.assertEqual([], system_packages.ensure('/nonexistent/log'))
        call.assert_not_called()
