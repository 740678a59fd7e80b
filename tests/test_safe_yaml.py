"""YAML with limits (``salesops.safe_yaml``) and every reader of a user's YAML file going through it.

Before the limits, a 687-byte alias bomb in a mapping's ``stages:`` ran for tens of seconds and ended in an
uncaught ``MemoryError``; the bomb test runs in a subprocess under a 2 GB address-space limit so that a
regression fails the test instead of taking the machine down."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from salesops.calendars import CalendarError, load_calendar
from salesops.comp.plan import PlanError, load_plan
from salesops.experiments.benchmarks import load_benchmarks
from salesops.io import LoadError, resolve_mapping
from salesops.leads.routing import RoutingRuleError, load_rules
from salesops.safe_yaml import YamlLimitError, YamlLimits, load_yaml, load_yaml_text
from salesops.territory.buckets import RuleError
from salesops.territory.config import load_settings

ROOT = Path(__file__).resolve().parents[1]


def _bomb(levels: int = 9, key: str = "stages") -> str:
    """The "billion laughs": ``levels`` lists of nine aliases of the one before, 9**levels strings in all."""
    lines = [f"{key}:", '  - &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _mapping_with_bomb() -> str:
    """A mapping whose second stage is named by the ninth level: 9**9 strings once anything reads it as text."""
    levels = ["&a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"&{b} [" + ",".join([f"*{a}"] * 9) + "]" for a, b in zip("abcdefgh", "bcdefghi")]
    return ("tables: {reps: {from: users}}\nstages:\n"
            "- {stage: Won, order: 1, probability: 1, is_closed: true, is_won: true, x: [" + ", ".join(levels) + "]}\n"
            "- {stage: *i, order: 2, probability: 0, is_closed: false, is_won: false}\n")


def test_the_bomb_is_small():
    assert len(_mapping_with_bomb().encode()) < 700


def test_bomb_in_a_mapping_is_a_clear_error_quickly_under_a_memory_limit(tmp_path):
    mapping = tmp_path / "bomb.yaml"
    mapping.write_text(_mapping_with_bomb(), encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "users.csv").write_text("rep_id,name,role\nR1,Ana,AE\n", encoding="utf-8")
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
        import salesops
        from salesops.io import LoadError
        try:
            salesops.load({str(tmp_path / "src")!r}, mapping={str(mapping)!r})
        except LoadError as exc:
            print("LoadError:", exc)
            sys.exit(0)
        print("loaded")
        sys.exit(3)
    """)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-500:]
    assert f"mapping file {mapping}" in done.stdout
    assert "alias bomb" in done.stdout and "line" in done.stdout
    assert "MemoryError" not in done.stderr
    assert seconds < 60  # imports included; the refusal itself takes milliseconds (next test)


def test_bomb_refused_without_expanding():
    start = time.monotonic()
    with pytest.raises(YamlLimitError, match=r"bomb.yaml: expands to more than 100,000 values.*alias bomb"):
        load_yaml_text(_bomb(), "bomb.yaml")
    assert time.monotonic() - start < 2


def test_alias_count_depth_size_and_recursion(tmp_path):
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n"
    with pytest.raises(YamlLimitError, match="more than 100 aliases"):
        load_yaml_text(many, "many.yaml")
    deep = "[" * 100_000 + "]" * 100_000
    start = time.monotonic()
    with pytest.raises(YamlLimitError, match="nested more than 50 levels deep"):
        load_yaml_text(deep, "deep.yaml")
    assert time.monotonic() - start < 10
    big = tmp_path / "big.yaml"
    big.write_text("x: " + "a" * 1_000_001 + "\n", encoding="utf-8")
    with pytest.raises(YamlLimitError, match=r"big.yaml: 1,000,005 bytes is more than the 1,000,000"):
        load_yaml(big)
    with pytest.raises(YamlLimitError, match="recursive alias"):
        load_yaml_text("a: &a [1, *a]\n", "loop.yaml")


def test_ordinary_documents_and_raised_limits():
    assert load_yaml_text("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}
    assert load_yaml_text("") is None
    nested = "[" * 60 + "]" * 60
    assert load_yaml_text(nested, limits=YamlLimits(max_depth=100)) is not None
    with pytest.raises(yaml.YAMLError):
        load_yaml_text("a: [1, 2\n")


def test_every_template_reads_under_the_limits():
    files = sorted(ROOT.glob("templates/**/*.yaml"))
    assert len(files) >= 5
    for path in files:
        assert load_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize(("reader", "error", "name"), [
    (resolve_mapping, LoadError, "mapping file"),
    (load_rules, RoutingRuleError, "routing rules file"),
    (load_plan, PlanError, "comp plan"),
    (load_benchmarks, ValueError, "benchmarks file"),
    (load_calendar, CalendarError, "calendar file"),
    (load_settings, RuleError, "territory settings file"),
])
@pytest.mark.parametrize("case", ["bomb", "deep", "big"])
def test_each_reader_raises_its_own_error_naming_the_file(tmp_path, reader, error, name, case):
    path = tmp_path / "user.yaml"
    text = {"bomb": _bomb(key="x"), "deep": "x: " + "[" * 200 + "]" * 200 + "\n",
            "big": "x: " + "a" * 1_100_000 + "\n"}[case]
    path.write_text(text, encoding="utf-8")
    with pytest.raises(error) as err:
        reader(path)
    assert not isinstance(err.value, YamlLimitError)  # the reader's own error type
    assert f"{name} {path}" in str(err.value)
    assert {"bomb": "alias bomb", "deep": "levels deep", "big": "bytes is more than"}[case] in str(err.value)
