"""nova-dpm configuration: the ``[dpm]`` group, registered on Nova's CONF."""

import nova.conf

from nova_dpm.conf import dpm

CONF = nova.conf.CONF
dpm.register_opts(CONF)


def list_opts():
    """Entry point of ``oslo-config-generator --namespace nova_dpm``."""
    return [(group, opts) for group, opts in dpm.list_opts().items()]
