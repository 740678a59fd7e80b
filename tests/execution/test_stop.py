"""Ctrl-C during a review: no queued notebook starts, the kernels die, one line, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from salesops.execution.stop import kill_marked_processes, kill_registered_kernels

ROOT = Path(__file__).resolve().parents[2]
MINI_CRM = ROOT / "tests" / "fixtures" / "mini_crm"

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir() or not hasattr(os, "killpg"),
                                reason="the test finds processes through /proc and signals a process group")


def _notebook(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('data_path: str = ""\nquarter: str = "2025Q4"\nas_of: str = ""')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), parameters, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _marked(marker: str) -> list[int]:
    """Live processes whose environment holds ``marker`` (zombies have an empty environ)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_ctrl_c_drops_the_queue_kills_the_kernels_and_exits_130(tmp_path):
    notebooks, out, runtime = (tmp_path / n for n in ("notebooks", "out", "runtime"))
    for folder in (notebooks, runtime):
        folder.mkdir()
    # a short temporary folder: the kernels' Unix socket paths must stay under ~100 characters
    temp = Path(tempfile.mkdtemp(prefix="so-"))
    started, queued = tmp_path / "slow-started", tmp_path / "queued-started"
    _notebook(notebooks / "01_slow.ipynb",
              f"import pathlib, time\npathlib.Path({str(started)!r}).write_text('x')\ntime.sleep(300)")
    _notebook(notebooks / "02_queued.ipynb", f"import pathlib\npathlib.Path({str(queued)!r}).write_text('x')")
    marker = f"SALESOPS_TEST_MARKER={uuid.uuid4().hex}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTER_RUNTIME_DIR": str(runtime), "TMPDIR": str(temp),
           marker.split("=")[0]: marker.split("=")[1]}
    review = subprocess.Popen(
        [sys.executable, "-m", "salesops", "review", "--data", str(MINI_CRM), "--quarter", "2025Q4",
         "--out", str(out), "--notebooks", str(notebooks), "--jobs", "1", "--quiet"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not started.exists():  # the first kernel is running the first notebook
            assert review.poll() is None, review.communicate()
            assert time.monotonic() < deadline, "the first notebook never started"
            time.sleep(0.2)
        assert len(_marked(marker)) >= 3  # the review, its worker and the kernel
        os.killpg(review.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
        stdout, stderr = review.communicate(timeout=60)
    finally:
        if review.poll() is None:
            os.killpg(review.pid, signal.SIGKILL)
    assert review.returncode == 130, stderr
    assert stderr.splitlines() == ["salesops: review interrupted; 0 pages done, 2 not run"], stderr
    assert "Traceback" not in stdout + stderr
    assert not queued.exists(), "the queued notebook started after Ctrl-C"
    assert not (out / "02_queued.html").exists() and not (out / "notebooks" / "02_queued.ipynb").exists()
    deadline = time.monotonic() + 10  # SIGKILL was sent before the review exited; allow the kernel to be reaped
    while _marked(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked(marker) == [], "processes of the review are still running"
    assert list(runtime.iterdir()) == [], "kernel connection files were left behind"
    assert [p.name for p in temp.iterdir() if p.name.startswith("salesops-kernel-")] == [], "kernel sockets left"
    temp.rmdir()


def test_registered_and_marked_processes_are_killed(tmp_path):
    registry = tmp_path / "kernels"
    registry.mkdir()
    env = {**os.environ, "SALESOPS_KERNEL_REGISTRY": str(registry)}
    sleeper = [sys.executable, "-c", "import time; time.sleep(300)"]
    registered = subprocess.Popen(sleeper, start_new_session=True)
    marked = subprocess.Popen(sleeper, env=env)
    bystander = subprocess.Popen(sleeper)
    connection = tmp_path / "kernel-x.json"
    connection.write_text("{}")
    (registry / f"kernel-{registered.pid}.json").write_text(
        f'{{"pid": {registered.pid}, "pgid": {registered.pid}, "connection_file": "{connection}", "sockets": []}}')
    try:
        assert kill_registered_kernels(registry) == 1
        assert registered.wait(timeout=10) == -signal.SIGKILL
        assert not connection.exists() and list(registry.iterdir()) == []
        assert kill_marked_processes(registry) == 1
        assert marked.wait(timeout=10) == -signal.SIGKILL
        assert bystander.poll() is None
    finally:
        for process in (registered, marked, bystander):
            process.kill()
            process.wait()
