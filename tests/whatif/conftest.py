from __future__ import annotations

import pytest
from comp.conftest import tiny_crm  # the module pytest imported: one load per process


@pytest.fixture
def tiny():
    return tiny_crm()
