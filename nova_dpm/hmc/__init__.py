"""The HMC session supervisor: the one way nova-dpm talks to the HMC.

See CONTRACT: :class:`HMCSettings`, :class:`HMCSupervisor` (``start``,
``stop``, ``call``, ``wait_for_job``, ``status``), the exceptions
:class:`HMCStartupError`, :class:`HMCConfigError`, :class:`WrongState`,
:class:`HMCOperationFailed`, and :class:`ConnectionManager`.
"""

from nova_dpm.hmc.connections import ConnectionManager  # noqa: F401
from nova_dpm.hmc.errors import HMCConfigError  # noqa: F401
from nova_dpm.hmc.errors import HMCOperationFailed  # noqa: F401
from nova_dpm.hmc.errors import HMCStartupError  # noqa: F401
from nova_dpm.hmc.errors import WrongState  # noqa: F401
from nova_dpm.hmc.settings import HMCSettings  # noqa: F401
from nova_dpm.hmc.supervisor import HMCSupervisor  # noqa: F401
