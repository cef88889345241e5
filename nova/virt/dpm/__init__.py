"""Loading shim: nova-compute imports drivers from ``nova.virt`` only.

``compute_driver = dpm.DPMDriver`` makes Nova import this module; the
driver itself lives in :mod:`nova_dpm.virt.dpm.driver`.
"""

from nova_dpm.virt.dpm.driver import DPMDriver

__all__ = ['DPMDriver']
