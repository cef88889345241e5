# tools/minicloud is not an installed package: make ``import minicloud``
# find it. tests/unit/__init__.py (Nova's setup) has already run.
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
MINICLOUD_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(_HERE))),
    'tools', 'minicloud')
if MINICLOUD_DIR not in sys.path:
    sys.path.insert(0, MINICLOUD_DIR)
