"""``salesops whatif``: arguments checked before Voilà starts; the command it runs is the one the browser
test serves."""

from __future__ import annotations

import os
import sys

from salesops.cli import build_parser
from salesops.whatif.serve import (
    APP_NOTEBOOK,
    ENV_DATA,
    ENV_PERIOD,
    ENV_PLAN,
    JUPYTER_DIR,
    TEMPLATE,
    voila_command,
    voila_env,
)
from tests.conftest import run_cli


def test_parser_knows_whatif():
    args = build_parser().parse_args(["whatif", "--data", "data/sample", "--port", "9000"])
    assert (args.command, args.plan, args.port, args.period) == ("whatif", "ae_standard", 9000, None)
    assert args.host == "127.0.0.1"


def test_bad_arguments_exit_2(tmp_path):
    run = run_cli("whatif", "--data", tmp_path / "nowhere")
    assert run.code == 2 and "does not exist" in run.stderr
    run = run_cli("whatif", "--data", tmp_path, "--plan", "no_such_plan")
    assert run.code == 2 and "--plan" in run.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrole: AE\nkind: quota\npay: {ote: 1, base_share: 0.5}\nmeasures: [{name: b}]\n"
                   "tiers: [{from: 0, rate: 1}]\n")
    run = run_cli("whatif", "--data", tmp_path, "--plan", bad)
    assert run.code == 2 and "measures[0].name" in run.stderr
    run = run_cli("whatif", "--data", tmp_path, "--port", "70000")
    assert run.code == 2 and "--port" in run.stderr
    run = run_cli("whatif", "--data", tmp_path, "--idle-minutes", "-1")
    assert run.code == 2 and "--idle-minutes" in run.stderr
    run = run_cli("whatif", "--data", tmp_path, "--host", "user@example.com")
    assert run.code == 2 and "--host" in run.stderr


def test_voila_command_and_environment(tmp_path):
    cmd = voila_command(8123)
    assert cmd[:3] == [sys.executable, "-m", "voila"] and str(APP_NOTEBOOK) in cmd
    assert "--port=8123" in cmd and "--Voila.ip=127.0.0.1" in cmd and "--no-browser" in cmd
    assert "--show_tracebacks=False" in cmd and f"--template={TEMPLATE}" in cmd
    assert "--Voila.ip=0.0.0.0" in voila_command(8123, ip="0.0.0.0")
    assert "--MappingKernelManager.cull_idle_timeout=900" in cmd and "--MappingKernelManager.cull_interval=60" in cmd
    short = voila_command(8123, idle_timeout=4)
    assert "--MappingKernelManager.cull_idle_timeout=4" in short and "--MappingKernelManager.cull_interval=2" in short
    assert not any("cull" in c for c in voila_command(8123, idle_timeout=0))
    assert APP_NOTEBOOK.exists()
    template = JUPYTER_DIR / "voila" / "templates" / TEMPLATE
    assert (template / "index.html.j2").exists() and (template / "conf.json").exists()
    env = voila_env(tmp_path, "sdr_sql", "2025")
    assert env["JUPYTER_PATH"].split(os.pathsep)[0] == str(JUPYTER_DIR)
    assert (env[ENV_DATA], env[ENV_PLAN], env[ENV_PERIOD]) == (str(tmp_path.resolve()), "sdr_sql", "2025")
