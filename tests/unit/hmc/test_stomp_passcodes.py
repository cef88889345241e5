"""STOMP passcodes never reach a log handler (stomp.py, coilmq)."""

import logging

import fixtures
import testtools

from nova_dpm import stomp_passcodes

SECRET = "Wom,b'at-Pw\"7"


class PasscodeFilterTest(testtools.TestCase):

    def test_frames_as_stomp_py_and_coilmq_log_them(self):
        log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        stomp_passcodes.hide_passcodes('stomp.py', 'stomp.py')
        logger = logging.getLogger('stomp.py')
        self.assertEqual(1, sum(isinstance(f, stomp_passcodes.PasscodeFilter)
                                for f in logger.filters))
        lines = [b'STOMP\n', b'login:nova\n', b'passcode:%s\n' % (
            SECRET.encode())]
        logger.debug('sending frame: %s', str(lines))
        logger.debug('RECV: %r', b''.join(lines))
        logger.debug('Processing frame: %s', [('login', 'nova'),
                                              ('passcode', SECRET)])
        self.assertNotIn('Pw', log.output)
        self.assertEqual(3, log.output.count('passcode'))
        self.assertIn('nova', log.output)
