"""Run one notebook of a review: execute it with Papermill, then render its page.

:func:`run_notebook` is what each worker process of the review runs. It never raises: a notebook that
fails keeps its executed copy (with the error in it), gets a page that shows the error, and comes back
with ``status="failed"`` and the error message.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesops.paths import project_root
from salesops.report.metrics import METRICS_ENV

__all__ = ["NotebookTask", "NotebookOutcome", "init_worker", "run_notebook", "set_progress_queue"]

#: Queue of progress events ``(event, name, seconds)`` of this worker process (set by the review's pool).
_PROGRESS: Any = None


def set_progress_queue(queue: Any) -> None:
    """Initializer of a review worker: report ``("started", name, 0.0)`` and ``("kernel", name, seconds)`` on
    ``queue`` (a multiprocessing queue) when a notebook starts and when its kernel is ready."""
    global _PROGRESS
    _PROGRESS = queue


def init_worker(queue: Any, registry: str | None) -> None:
    """Initializer of a review worker.

    Ctrl-C is the review's to handle (:mod:`salesops.execution.stop`), so this process ignores SIGINT (and
    unblocks it, the review holding it back while spawning workers); progress events go to ``queue`` (may be
    None); the kernels this worker starts are registered in ``registry``
    (:func:`salesops.execution.kernel.set_kernel_registry`).
    """
    from salesops.execution.kernel import set_kernel_registry

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    set_progress_queue(queue)
    set_kernel_registry(registry)


def _report(event: str, name: str, seconds: float) -> None:
    if _PROGRESS is not None:
        try:
            _PROGRESS.put((event, name, seconds))
        except Exception:  # noqa: BLE001 - progress display is never worth failing a notebook
            pass


@dataclass(frozen=True)
class NotebookTask:
    """Everything a worker needs to run one notebook (picklable).

    Attributes
    ----------
    name : str
        Notebook stem, ``01_data_quality``.
    title : str
        Page title.
    source : str
        The notebook to run.
    executed : str
        Where the executed notebook goes.
    html : str
        Where its page goes.
    metrics_file : str
        The file :func:`salesops.report.record` appends to during the run.
    parameters : dict
        Papermill parameters.
    review_title : str
        Text of the page's link back to the index.
    cwd : str
        Working directory of the kernel (the notebook's folder, as in JupyterLab).
    timeout : int or None
        Seconds a cell may run.
    """

    name: str
    title: str
    source: str
    executed: str
    html: str
    metrics_file: str
    parameters: dict[str, Any] = field(default_factory=dict)
    review_title: str = "Review"
    cwd: str = "."
    timeout: int | None = None


@dataclass(frozen=True)
class NotebookOutcome:
    """How one notebook went.

    Attributes
    ----------
    name, title : str
        As in the task.
    status : str
        ``ok``, ``failed``, or ``not_applicable`` (the page stopped itself: the data lack what it needs;
        not a failure).
    message : str or None
        The error, for a failed notebook; the reason, for one not applicable.
    executed, html : str or None
        Files written (None when not written).
    metrics_file : str
        The metrics the run recorded.
    seconds : float
        Wall time of the notebook: kernel start, execution and rendering.
    kernel_seconds : float or None
        Of which starting the kernel until it answered (set-up); None when it never started.
    """

    name: str
    title: str
    status: str
    message: str | None
    executed: str | None
    html: str | None
    metrics_file: str
    seconds: float = 0.0
    kernel_seconds: float | None = None

    @property
    def ok(self) -> bool:
        """True unless the notebook failed (a page not applicable to the data is not a failure)."""
        return self.status in ("ok", "not_applicable")


def _status_of(exc: BaseException) -> str:
    """``not_applicable`` when the notebook stopped itself (:func:`salesops.report.page_not_applicable`), else
    ``failed``."""
    from papermill.exceptions import PapermillExecutionError

    from salesops.report.applicable import NOT_APPLICABLE, PageNotApplicable

    if isinstance(exc, PapermillExecutionError) and exc.ename == PageNotApplicable.__name__:
        return NOT_APPLICABLE
    return "failed"


def _error_message(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        evalue = str(exc.evalue).strip()
        where = f" (cell {exc.exec_count})" if exc.exec_count else ""
        if exc.ename == "PageNotApplicable":
            return evalue
        return f"{exc.ename}: {evalue}{where}" if evalue else f"{exc.ename}{where}"
    return f"{type(exc).__name__}: {exc}"


def _kernel_environment(metrics_file: str) -> dict[str, str]:
    """Environment for the kernel: the metrics file, the registry marker of the review's kernels, and this
    checkout importable even if not installed."""
    from salesops.execution.kernel import REGISTRY_ENV, kernel_registry

    env = {METRICS_ENV: metrics_file}
    if kernel_registry() is not None:
        env[REGISTRY_ENV] = kernel_registry()
    root = str(project_root())
    current = os.environ.get("PYTHONPATH", "")
    if root not in current.split(os.pathsep):
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, current) if p)
    return env


def run_notebook(task: NotebookTask) -> NotebookOutcome:
    """Execute ``task.source`` into ``task.executed`` and render ``task.html``; never raises."""
    import papermill as pm

    from salesops.execution.kernel import KERNEL_NAME, REGISTRY_ENV, ThisPythonKernelManager
    from salesops.report.pages import render_notebook_html

    started = time.perf_counter()
    kernel_ready: list[float] = []

    def on_kernel_ready(**_: Any) -> None:
        kernel_ready.append(time.perf_counter() - started)
        _report("kernel", task.name, kernel_ready[0])

    _report("started", task.name, 0.0)
    Path(task.metrics_file).unlink(missing_ok=True)
    Path(task.executed).parent.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in (METRICS_ENV, "PYTHONPATH", REGISTRY_ENV)}
    os.environ.update(_kernel_environment(task.metrics_file))
    status, message = "ok", None
    try:
        pm.execute_notebook(
            task.source,
            task.executed,
            parameters=task.parameters,
            kernel_name=KERNEL_NAME,
            kernel_manager_class=ThisPythonKernelManager,
            progress_bar=False,
            log_output=False,
            cwd=task.cwd,
            start_timeout=120,
            execution_timeout=task.timeout,
            on_notebook_start=on_kernel_ready,
        )
    except Exception as exc:  # noqa: BLE001 - a failed notebook is reported, not raised
        status, message = _status_of(exc), _error_message(exc)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    executed = task.executed if Path(task.executed).exists() else None
    html = None
    if executed is not None:
        try:
            html = str(
                render_notebook_html(
                    executed, task.html, title=task.title, review_title=task.review_title, status=status
                )
            )
        except Exception as exc:  # noqa: BLE001
            status = "failed"
            message = (message + "; " if message else "") + f"page not rendered: {_error_message(exc)}"
    return NotebookOutcome(task.name, task.title, status, message, executed, html, task.metrics_file,
                           time.perf_counter() - started, kernel_ready[0] if kernel_ready else None)
