"""Let tests import the fixture builders (tests/histories.py) as a plain module."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
