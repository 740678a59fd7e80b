"""Running notebooks: one notebook executed with Papermill on this interpreter's ipykernel, then rendered.

:func:`salesops.execution.notebook.run_notebook` is what each worker of :func:`salesops.review.run_review`
runs; :mod:`salesops.execution.kernel` makes sure the kernel is the review's own Python.
"""

from __future__ import annotations

from salesops.execution.kernel import KERNEL_NAME, ThisPythonKernelManager, ThisPythonKernelSpecManager
from salesops.execution.notebook import (
    NotebookOutcome,
    NotebookTask,
    init_worker,
    run_notebook,
    set_progress_queue,
)

__all__ = [
    "KERNEL_NAME",
    "NotebookOutcome",
    "NotebookTask",
    "ThisPythonKernelManager",
    "ThisPythonKernelSpecManager",
    "init_worker",
    "run_notebook",
    "set_progress_queue",
]
