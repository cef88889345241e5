#!/usr/bin/env python3
"""Entry point of ``tox -e tempest``, ``tempest-faults`` and ``tempest-full``.

Run from the repository root; see ``minicloud/cli.py`` and
``doc/tempest/README.rst``.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from minicloud import cli  # noqa: E402

if __name__ == '__main__':
    sys.exit(cli.main(repo_dir=os.path.dirname(os.path.dirname(HERE))))
