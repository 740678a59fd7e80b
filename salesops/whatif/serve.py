"""Serve the what-if app as a web page with Voilà (``salesops whatif``).

The page is rendered with the package's own Voilà template (``jupyter/voila/templates/salesops``: Voilà's
"lab" template without its Font Awesome stylesheets from a CDN), so opening the app requests nothing but the
server it came from. Tracebacks are not sent to the browser: Voilà logs errors while the page is built to its
own standard error, and the app logs errors in a lever's callback to the kernel's original standard error
(both end up in the terminal or log of whoever runs ``salesops whatif``). The server binds 127.0.0.1 unless a
host is given; it has no authentication of its own (see README, "The what-if app").
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["APP_NOTEBOOK", "ENV_DATA", "ENV_PERIOD", "ENV_PLAN", "IDLE_TIMEOUT", "JUPYTER_DIR", "TEMPLATE", "VoilaServer", "free_port",
           "voila_command", "voila_env"]

#: The Voilà notebook (shipped inside the package).
APP_NOTEBOOK = Path(__file__).with_name("app.ipynb")
#: A Jupyter data folder holding the Voilà template :data:`TEMPLATE` (put first on ``JUPYTER_PATH``).
JUPYTER_DIR = Path(__file__).with_name("jupyter")
TEMPLATE = "salesops"
ENV_DATA, ENV_PLAN, ENV_PERIOD = "SALESOPS_WHATIF_DATA", "SALESOPS_WHATIF_PLAN", "SALESOPS_WHATIF_PERIOD"


#: Seconds a visit's kernel may stay idle with no browser connected before it is shut down (default).
IDLE_TIMEOUT = 900


def voila_command(port: int = 8866, ip: str = "127.0.0.1", open_browser: bool = False,
                  idle_timeout: int = IDLE_TIMEOUT) -> list[str]:
    """The command line that serves :data:`APP_NOTEBOOK` with Voilà on ``ip:port`` with the template
    :data:`TEMPLATE` and tracebacks kept from the browser.

    Each visit starts a kernel (about 0.6 GB on the sample); one idle for ``idle_timeout`` seconds with no page
    connected is shut down (Jupyter's kernel culler, checked every ``min(60, idle_timeout / 2)`` seconds);
    0 keeps kernels until the server stops."""
    cmd = [sys.executable, "-m", "voila", str(APP_NOTEBOOK), f"--port={port}", f"--Voila.ip={ip}",
           "--theme=light", f"--template={TEMPLATE}", "--show_tracebacks=False"]
    if idle_timeout < 0:
        raise ValueError(f"idle_timeout must be 0 (never) or a number of seconds, got {idle_timeout}")
    if idle_timeout:
        cmd += [f"--MappingKernelManager.cull_idle_timeout={idle_timeout}",
                f"--MappingKernelManager.cull_interval={max(1, min(60, idle_timeout // 2))}"]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def voila_env(data: str | Path, plan: str = "ae_standard", period: str | None = None) -> dict[str, str]:
    """Environment for the served notebook: the data source, plan and period travel as variables (never as
    notebook parameters, so a database URL is not written into the page)."""
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(x for x in (str(JUPYTER_DIR), env.get("JUPYTER_PATH", "")) if x)
    env[ENV_DATA] = str(Path(data).resolve()) if Path(str(data)).exists() else str(data)
    env[ENV_PLAN] = plan
    if period:
        env[ENV_PERIOD] = period
    else:
        env.pop(ENV_PERIOD, None)
    return env


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VoilaServer:
    """The app served by Voilà on a free port of 127.0.0.1, in the background, for a ``with`` block.

    >>> with VoilaServer("data/sample") as server:   # doctest: +SKIP
    ...     print(server.url)
    """

    def __init__(self, data: str | Path, plan: str = "ae_standard", period: str | None = None,
                 port: int | None = None, startup_timeout: float = 60.0, env: dict[str, str] | None = None,
                 idle_timeout: int = IDLE_TIMEOUT):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.cmd = voila_command(self.port, idle_timeout=idle_timeout)
        self.env = {**voila_env(data, plan, period), **(env or {})}
        self.startup_timeout = startup_timeout
        self.log_path = Path(tempfile.gettempdir()) / f"salesops-voila-{self.port}.log"

    def __enter__(self) -> VoilaServer:
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.close()
                raise RuntimeError(f"voila exited with {self.proc.returncode}; see {self.log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"voila did not answer on {self.url} within {self.startup_timeout:g} s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()
