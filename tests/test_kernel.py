"""The review's kernel manager: this interpreter's ipykernel, over Unix sockets on POSIX."""

from __future__ import annotations

import os
import sys

import pytest

from salesops.execution.kernel import KERNEL_NAME, ThisPythonKernelManager


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets are a POSIX transport")
def test_kernels_use_unix_sockets_so_parallel_starts_cannot_collide_on_a_port():
    first, second = ThisPythonKernelManager(kernel_name=KERNEL_NAME), ThisPythonKernelManager(kernel_name=KERNEL_NAME)
    assert first.transport == second.transport == "ipc"
    assert first.ip != second.ip  # each named after its own connection file


def test_python3_resolves_to_this_interpreter():
    spec = ThisPythonKernelManager(kernel_name=KERNEL_NAME).kernel_spec
    assert spec.argv[0] == sys.executable
