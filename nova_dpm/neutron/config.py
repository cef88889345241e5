# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The ``[ml2_dpm]`` options of neutron-server and what they select.

Neutron cannot ask a host whether it runs the DPM driver without an agent,
so the operator names the DPM hosts (and optionally the physical networks
they serve). Bad values stop neutron-server at start with one line naming
the option, instead of failing port bindings later.
"""

import dataclasses
import fnmatch
import re

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'ml2_dpm',
    title='ML2 mechanism driver for IBM Z DPM',
    help='Which ports the "dpm" mechanism driver binds: those of the '
         'nova-compute hosts running nova-dpm, on flat and VLAN segments '
         'of the physical networks these hosts serve.')

OPTS = [
    cfg.ListOpt(
        'hosts', default=[],
        help='nova-compute hosts that run the DPM driver: their [DEFAULT] '
             'host as Nova reports it (the port\'s binding:host_id), or '
             'shell-style patterns such as "dpm-*" or "cpc1-subset?". '
             'Ports of other hosts are left to the other mechanism '
             'drivers. Required when the dpm mechanism driver is enabled.'),
    cfg.ListOpt(
        'physical_networks', default=['*'],
        help='Physical networks the DPM hosts serve, by name or '
             'shell-style pattern. Only flat and VLAN segments on these '
             'are bound; each must have an entry in nova-compute\'s [dpm] '
             'physical_network_adapter_mappings. Default: all.'),
]

# A host name or physical network (or pattern): no separators or spaces.
_NAME = re.compile(r'^[^\s,:]+$')


class ConfigError(ValueError):
    """An [ml2_dpm] option has a value the driver cannot work with."""


@dataclasses.dataclass(frozen=True)
class Selection(object):
    """The hosts and physical networks the driver binds ports for."""

    hosts: tuple
    physical_networks: tuple

    def serves_host(self, host):
        return bool(host) and _matches(host, self.hosts)

    def serves_physical_network(self, physical_network):
        return (bool(physical_network)
                and _matches(physical_network, self.physical_networks))


def _matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _patterns(conf, name, what, example, colon_hint=''):
    values = tuple(getattr(conf.ml2_dpm, name))
    if not values:
        raise ConfigError(
            '[ml2_dpm] %s is empty: list the %s (names or shell-style '
            'patterns such as %s), or remove "dpm" from [ml2] '
            'mechanism_drivers' % (name, what, example))
    for value in values:
        if not _NAME.match(value):
            raise ConfigError(
                '[ml2_dpm] %s has the invalid entry %r: give the %s by name '
                'or shell-style pattern (such as %s), without spaces or '
                'colons%s' % (name, value, what, example,
                              colon_hint if ':' in value else ''))
    return values


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def load(conf):
    """The checked :class:`Selection` of ``conf``; raises ConfigError."""
    return Selection(
        hosts=_patterns(conf, 'hosts', 'nova-compute hosts running the DPM '
                        'driver', 'dpm-*'),
        physical_networks=_patterns(
            conf, 'physical_networks', 'physical networks the DPM hosts '
            'serve', 'physnet1', colon_hint='; the adapter of a physical '
            'network is mapped in nova.conf [dpm] '
            'physical_network_adapter_mappings'))


def list_opts():
    """Entry point of oslo-config-generator --namespace nova_dpm.neutron."""
    return [(GROUP, OPTS)]
