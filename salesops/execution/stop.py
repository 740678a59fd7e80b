"""Stopping a review on Ctrl-C: no queued notebook starts, the workers and every kernel they started die.

The terminal sends SIGINT to the review and its workers (one process group); the workers ignore it
(:func:`salesops.execution.notebook.init_worker`) and the review's main process stops everything:

1. :func:`stop_pool` kills the pool's workers (SIGKILL), so no worker takes another notebook, cancels the
   queued notebooks and shuts the pool down;
2. it then kills each kernel written in the registry folder (its whole process group, SIGKILL) and removes
   the kernel's connection file and socket files;
3. on Linux it also kills any remaining process whose environment carries the registry marker (a kernel
   whose worker died before registering it, a process a notebook started).

Kernels run in sessions of their own (jupyter_client), so the terminal's Ctrl-C never reached them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

__all__ = ["ignoring_sigint", "kill_marked_processes", "kill_registered_kernels", "sigint_held", "stop_pool"]

_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Hold SIGINT back (blocked, not lost) while worker processes are spawned.

    A spawned worker starts with the parent's signal mask, so it cannot die of a Ctrl-C (with a traceback)
    before its initializer ignores SIGINT; a Ctrl-C pressed meanwhile reaches this process when the block ends.
    """
    if not (hasattr(signal, "pthread_sigmask") and _in_main_thread()):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def ignoring_sigint() -> Iterator[None]:
    """Ignore further Ctrl-Cs (while stopping), then restore the handler."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _remove(path: str | None) -> None:
    if path:
        with contextlib.suppress(OSError):
            os.remove(path)


def kill_registered_kernels(registry: str | os.PathLike[str]) -> int:
    """Kill every kernel registered in ``registry`` with its process group; remove its files. Returns the count."""
    killed = 0
    for entry in sorted(Path(registry).glob("kernel-*.json")):
        try:
            record = json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        pid, pgid = record.get("pid"), record.get("pgid")
        with contextlib.suppress(OSError):
            if pgid and hasattr(os, "killpg"):
                os.killpg(int(pgid), _KILL)
            elif pid:
                os.kill(int(pid), _KILL)
            killed += 1
        for path in [record.get("connection_file"), *record.get("sockets", [])]:
            _remove(path)
        entry.unlink(missing_ok=True)
    return killed


def kill_marked_processes(registry: str | os.PathLike[str]) -> int:
    """Kill the processes (not this one) whose environment has ``SALESOPS_KERNEL_REGISTRY=<registry>``.

    Reads ``/proc/<pid>/environ``, so it works on Linux and finds nothing elsewhere. Returns the count.
    """
    from salesops.execution.kernel import REGISTRY_ENV  # here: the kernel module imports jupyter_client

    proc = Path("/proc")
    if not proc.is_dir():
        return 0
    marker = f"{REGISTRY_ENV}={os.fspath(registry)}".encode()
    killed = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), _KILL)
                killed += 1
    return killed


def stop_pool(pool: ProcessPoolExecutor, registry: str | os.PathLike[str]) -> None:
    """Kill the pool's workers, cancel what is queued, then kill the kernels the workers started."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            worker.kill()
    for worker in workers:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            worker.join(timeout=5)
    kill_registered_kernels(registry)
    kill_marked_processes(registry)
    pool.shutdown(wait=True, cancel_futures=True)
