"""HMCSettings from nova.conf, and the translation table."""

from unittest import mock

import fixtures
from nova import exception
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools
import zhmcclient

from nova_dpm.conf import dpm as dpm_conf
from nova_dpm.hmc import errors
from nova_dpm.hmc import settings as settings_mod
from tests.unit.hmc import fakes


class SettingsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        conf = cfg.ConfigOpts()
        dpm_conf.register_opts(conf)
        self.conf = self.useFixture(config_fixture.Config(conf))
        self.conf.config(group='dpm', hmc=['10.0.0.5'], hmc_username='nova',
                         hmc_password=fakes.PASSWORD,
                         cpc_object_id=fakes.CPC_OID.upper(),
                         max_processors=4, max_memory=4096,
                         physical_storage_adapter_mappings=[
                             fakes.FCP_OID + ':1'])
        self.group = conf.dpm

    def test_from_conf(self):
        s = settings_mod.HMCSettings.from_conf(self.group)
        self.assertEqual(('10.0.0.5',), s.hosts)
        self.assertEqual(fakes.CPC_OID, s.cpc_object_id)
        self.assertEqual(((fakes.FCP_OID, 1),), s.storage_adapter_mappings)
        self.assertEqual(4, s.pool_size)
        self.assertIs(True, s.verify_cert)
        self.assertIn(503, s.retry_http_statuses)
        self.assertNotIn(fakes.PASSWORD, repr(s))

    def test_verify_cert_variants(self):
        ca_file = self.useFixture(fixtures.TempDir()).join('hmc-ca.pem')
        with open(ca_file, 'w') as f:
            f.write('PEM\n')
        self.conf.config(group='dpm', hmc_ca_file=ca_file)
        s = settings_mod.HMCSettings.from_conf(self.group)
        self.assertEqual(ca_file, s.verify_cert)
        self.conf.config(group='dpm', hmc_verify_cert=False)
        s = settings_mod.HMCSettings.from_conf(self.group)
        self.assertIs(False, s.verify_cert)

    def test_unreadable_ca_file_is_a_config_error(self):
        missing = self.useFixture(fixtures.TempDir()).join('no-ca.pem')
        self.conf.config(group='dpm', hmc_ca_file=missing)
        exc = self.assertRaises(errors.HMCConfigError,
                                settings_mod.HMCSettings.from_conf,
                                self.group)
        self.assertEqual('[dpm] hmc_ca_file names %s, which is not a '
                         'readable file; set it to the PEM file of the CA '
                         'that signed the HMC certificate' % missing,
                         str(exc))
        # nova-dpm-status without --probe still shows what it can.
        s = settings_mod.HMCSettings.from_conf(self.group, validate=False)
        self.assertEqual(missing, s.verify_cert)

    def test_missing_option_is_named(self):
        for option in settings_mod.REQUIRED_OPTIONS:
            value = [] if option == 'hmc' else None
            self.conf.config(group='dpm', **{option: value})
            exc = self.assertRaises(errors.HMCConfigError,
                                    settings_mod.HMCSettings.from_conf,
                                    self.group)
            self.assertIn('[dpm] %s is not set' % option, str(exc))
            self.conf.config(group='dpm', **{option: None})
            self.conf.conf.clear_override(option, group='dpm')
            break


class TableTest(testtools.TestCase):

    def kind(self, exc):
        return errors.classify(exc, frozenset((503,)))

    def test_every_row(self):
        K = errors.Kind
        self.assertEqual(K.READ_TIMEOUT, self.kind(
            zhmcclient.ReadTimeout('slow', None, 1, 0)))
        self.assertEqual(K.UNREACHABLE, self.kind(fakes.connection_error()))
        self.assertEqual(K.UNREACHABLE, self.kind(
            zhmcclient.ConnectTimeout('slow', None, 1, 0)))
        self.assertEqual(K.SESSION_EXPIRED,
                         self.kind(fakes.http_error(403, 5)))
        self.assertEqual(K.SESSION_EXPIRED, self.kind(
            zhmcclient.ServerAuthError('x', fakes.http_error(403, 4))))
        self.assertEqual(K.AUTH, self.kind(
            zhmcclient.ServerAuthError('x', fakes.http_error(403, 0))))
        self.assertEqual(K.AUTH, self.kind(zhmcclient.ClientAuthError('x')))
        self.assertEqual(K.NOT_FOUND, self.kind(zhmcclient.NotFound(
            {'name': 'p1'}, mock.MagicMock(resource_class=dict))))
        self.assertEqual(K.NOT_FOUND, self.kind(
            zhmcclient.CeasedExistence('/api/partitions/1')))
        self.assertEqual(K.NOT_FOUND, self.kind(fakes.http_error(404, 1)))
        self.assertEqual(K.WRONG_STATE, self.kind(fakes.http_error(409, 1)))
        self.assertEqual(K.RETRY_STATUS,
                         self.kind(fakes.http_error(503, 0)))
        self.assertEqual(K.FAILURE, self.kind(fakes.http_error(500, 0)))
        self.assertEqual(K.FAILURE, self.kind(
            zhmcclient.OperationTimeout('slow', 10)))
        self.assertEqual(K.FAILURE, self.kind(
            zhmcclient.StatusTimeout('slow', 'starting', ['active'], 10)))

    def test_translate(self):
        exc = errors.translate(fakes.http_error(404, 1), errors.Kind.NOT_FOUND,
                               'get p1', instance_uuid='u-1')
        self.assertIsInstance(exc, exception.InstanceNotFound)
        exc = errors.translate(
            fakes.http_error(404, 1), errors.Kind.NOT_FOUND, 'get p1',
            failure=exception.InstanceDeployFailure)
        self.assertIsInstance(exc, exception.InstanceDeployFailure)
        exc = errors.translate(
            zhmcclient.OperationTimeout('job took too long', 10),
            errors.Kind.FAILURE, 'start p1',
            failure=exception.InstancePowerOnFailure)
        self.assertIsInstance(exc, exception.InstancePowerOnFailure)
        self.assertIn('start p1: job took too long', str(exc))
        exc = errors.translate(fakes.connection_error(),
                               errors.Kind.UNREACHABLE, 'list', where='h:1')
        self.assertIsInstance(exc, exception.HypervisorUnavailable)
        self.assertIn('HMC h:1 unreachable (connection refused)', str(exc))

    def test_password_is_redacted(self):
        exc = errors.translate(
            fakes.http_error(400, 1, message='bad ' + fakes.PASSWORD),
            errors.Kind.FAILURE, 'x', secret=fakes.PASSWORD)
        self.assertNotIn(fakes.PASSWORD, str(exc))
