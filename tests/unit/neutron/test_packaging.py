"""The Neutron side is found by Neutron and never loaded by nova-compute."""

import ast
import importlib.metadata
import os
import subprocess
import sys

import testtools

import nova_dpm
from nova_dpm.neutron import config
from nova_dpm.neutron import mech_dpm

NEUTRON_MODULES = ('nova_dpm.neutron', 'neutron_lib', 'neutron')
# Everything nova-compute loads, directly or lazily.
NOVA_COMPUTE_PACKAGES = ('virt', 'hmc', 'conf', 'image', 'cmd')


def _imported_names(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from ('%s.%s' % (node.module, alias.name)
                        for alias in node.names)


def _is_neutron(name):
    return any(name == m or name.startswith(m + '.')
               for m in NEUTRON_MODULES)


class TestNovaComputeDoesNotLoadNeutron(testtools.TestCase):

    def test_importing_the_driver_loads_no_neutron_module(self):
        out = subprocess.run(
            [sys.executable, '-c',
             'import sys, nova_dpm.virt.dpm.driver, nova.virt.dpm; '
             'print(" ".join(sorted(sys.modules)))'],
            capture_output=True, text=True, check=True).stdout.split()
        self.assertIn('nova_dpm.virt.dpm.driver', out)
        self.assertEqual([], [m for m in out if _is_neutron(m)])

    def test_no_nova_compute_module_imports_neutron(self):
        root = os.path.dirname(nova_dpm.__file__)
        offenders = []
        for package in NOVA_COMPUTE_PACKAGES:
            for folder, _, files in os.walk(os.path.join(root, package)):
                for name in files:
                    if name.endswith('.py'):
                        path = os.path.join(folder, name)
                        offenders += ['%s: %s' % (path, n)
                                      for n in _imported_names(path)
                                      if _is_neutron(n)]
        self.assertEqual([], offenders)


class TestEntryPoints(testtools.TestCase):

    def _entry_point(self, group, name):
        found = [ep for ep in importlib.metadata.entry_points(group=group)
                 if ep.name == name]
        self.assertEqual(1, len(found), (group, name))
        return found[0].load()

    def test_neutron_finds_the_mechanism_driver(self):
        self.assertIs(mech_dpm.DpmMechanismDriver, self._entry_point(
            'neutron.ml2.mechanism_drivers', 'dpm'))

    def test_the_config_generator_finds_the_options(self):
        self.assertIs(config.list_opts, self._entry_point(
            'oslo.config.opts', 'nova_dpm.neutron'))

    def test_the_neutron_extra_requires_neutron_lib(self):
        requires = importlib.metadata.requires('nova-dpm') or []
        self.assertTrue(
            [r for r in requires
             if r.startswith('neutron-lib') and 'extra == "neutron"' in r],
            requires)
