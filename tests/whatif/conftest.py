from __future__ import annotations

import pytest
from comp.conftest import load_sample, tiny_crm  # the module pytest imported: one load per process


@pytest.fixture(scope="session")
def sample():
    return load_sample()


@pytest.fixture
def tiny():
    return tiny_crm()
