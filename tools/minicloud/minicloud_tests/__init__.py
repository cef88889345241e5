"""Tests of the mini-cloud's Cinder side, in a process of their own.

Cinder and Nova both register ``state_path`` (and more) on oslo.config's
global CONF, so importing both in one process fails (DuplicateOptError).
Everything under tests/unit imports Nova first (tests/unit/__init__.py),
so the tests that import Cinder live here, import neither Nova nor
``tests``, and run where Cinder is installed: ``tox -e tempest`` (and
tempest-faults, tempest-full) runs them before it brings up the cloud.
``base`` holds what the Nova-side tests (tests/unit/minicloud) share with
them; it imports neither Cinder nor Nova.
"""

import warnings

# Cinder imports eventlet, which warns on import that it is deprecated:
# not this project's to fix, and a green run prints nothing but its result.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
