"""The kernel that runs review notebooks: always an ipykernel on the interpreter running the review.

``kernel_name="python3"`` normally resolves through the kernel specs installed on the machine, and a
user-level spec (``~/.local/share/jupyter/kernels/python3``) may point at another Python without this
package or its pinned dependencies. :class:`ThisPythonKernelManager` resolves ``python3`` to
``sys.executable -m ipykernel_launcher`` instead, so the notebooks run in the same environment as the review.

In a review worker (:func:`set_kernel_registry`), every kernel started is also written down in the review's
registry folder (``kernel-<pid>.json``: pid, process group, connection file, socket files) until it is shut
down, so that the review can kill its kernels when it is interrupted (:mod:`salesops.execution.stop`).
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import default

__all__ = ["KERNEL_NAME", "REGISTRY_ENV", "ThisPythonKernelSpecManager", "ThisPythonKernelManager",
           "kernel_registry", "set_kernel_registry"]

KERNEL_NAME = NATIVE_KERNEL_NAME  # "python3"

#: Environment variable naming the registry folder in the kernels' environment (a marker of the review's kernels).
REGISTRY_ENV = "SALESOPS_KERNEL_REGISTRY"

_REGISTRY: str | None = None


def set_kernel_registry(folder: str | os.PathLike[str] | None) -> None:
    """Register the kernels this process starts from now on in ``folder`` (None: stop registering)."""
    global _REGISTRY
    _REGISTRY = os.fspath(folder) if folder is not None else None


def kernel_registry() -> str | None:
    """The registry folder of this process, if any."""
    return _REGISTRY


class ThisPythonKernelSpecManager(KernelSpecManager):
    """Kernel specs as usual, except ``python3``, which is ipykernel on ``sys.executable``."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == NATIVE_KERNEL_NAME:
            from ipykernel.kernelspec import RESOURCES, get_kernel_dict

            return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())
        return super().get_kernel_spec(kernel_name)


class ThisPythonKernelManager(AsyncKernelManager):
    """nbclient's default kernel manager, resolving kernel names with :class:`ThisPythonKernelSpecManager`
    and encrypting the kernel's local traffic (CurveZMQ) when pyzmq supports it.

    On POSIX the kernel talks over Unix sockets (``transport="ipc"``, named after its unique connection
    file) rather than TCP: with TCP, kernels started at the same moment by parallel review workers could be
    handed the same free port, and the loser died with "Address already in use". Each kernel's sockets get
    a path prefix of their own in the temporary folder, removed when the kernel shuts down.
    """

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc" if os.name == "posix" else "tcp"

    @default("ip")
    def _ip_default(self) -> str:
        if self.transport == "ipc":  # a socket-path prefix of this kernel's own, never shared with another
            return os.path.join(tempfile.gettempdir(), f"salesops-kernel-{uuid.uuid4().hex}")
        return super()._ip_default()

    @default("transport_encryption")
    def _transport_encryption_default(self) -> str:
        import zmq

        return "auto" if zmq.has("curve") else "disabled"

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self) -> KernelSpecManager:
        return ThisPythonKernelSpecManager(data_dir=self.data_dir)

    def _registry_file(self) -> Path | None:
        pid = getattr(self.provisioner, "pid", None)
        if _REGISTRY is None or pid is None:
            return None
        return Path(_REGISTRY) / f"kernel-{pid}.json"

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        await super()._async_launch_kernel(kernel_cmd, **kw)
        entry = self._registry_file()
        if entry is not None:
            sockets = [f"{self.ip}-{port}" for port in self.ports] if self.transport == "ipc" else []
            record = {"pid": self.provisioner.pid, "pgid": getattr(self.provisioner, "pgid", None),
                      "connection_file": self.connection_file, "sockets": sockets}
            entry.write_text(json.dumps(record), encoding="utf-8")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        entry = self._registry_file()
        await super()._async_cleanup_resources(restart=restart)
        if entry is not None and not restart:
            entry.unlink(missing_ok=True)
