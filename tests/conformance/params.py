"""The conformance tests' parameters: one per case, slow cases marked ``slow``."""

from __future__ import annotations

import pytest
from corpus import all_cases

PARAMS = [pytest.param(case, id=case.name, marks=[pytest.mark.slow] if case.slow else [])
          for case in all_cases()]
