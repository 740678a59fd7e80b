"""``--param`` values are checked against one table of kinds and ranges before any kernel starts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from salesops.execution.parameters import (
    PARAMETER_RULES,
    RESERVED,
    ParameterError,
    check_extra_parameters,
    declared_parameters,
)

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_shipped_parameter_is_in_the_table_with_its_declared_kind():
    import papermill as pm

    seen = set()
    for notebook in NOTEBOOKS:
        for name, info in pm.inspect_notebook(str(notebook)).items():
            if name in RESERVED:
                continue
            seen.add(name)
            assert name in PARAMETER_RULES, f"{notebook.name}: parameter {name} has no rule in PARAMETER_RULES"
            assert info["inferred_type_name"] == PARAMETER_RULES[name].kind, (notebook.name, name)
            # the notebook's own default passes its rule
            default = {"int": int, "float": float}.get(info["inferred_type_name"], str)(eval(info["default"]))  # noqa: S307
            check_extra_parameters({name: str(default)}, [notebook])
    assert seen == set(PARAMETER_RULES), "rules without a notebook parameter"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("n_runs", "0", "--param n_runs=0: expected a whole number in [1, 1000000]"),
        ("stale_days", "-5", "--param stale_days=-5: expected a whole number in [0, 3650]"),
        ("n_runs", "many", "--param n_runs=many: expected a whole number in [1, 1000000]"),
        ("n_runs", "2.5", "--param n_runs=2.5: expected a whole number"),
        ("gross_margin", "0", "--param gross_margin=0: expected a number in (0, 1]"),
        ("gross_margin", "nan", "--param gross_margin=nan: expected a number in (0, 1]"),
        ("gross_margin", "inf", "--param gross_margin=inf: expected a number in (0, 1]"),
        ("tolerance", "1", "--param tolerance=1: expected a number in (0, 1)"),
        ("backtest_point", "week 3", "--param backtest_point=week 3: expected one of 'day 1', 'week 4', 'week 8'"),
    ],
)
def test_out_of_range_and_non_numbers_are_refused_naming_parameter_value_and_range(name, value, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        check_extra_parameters({name: value}, NOTEBOOKS)


def test_values_in_range_reach_only_the_notebooks_that_declare_them():
    split = check_extra_parameters({"n_runs": "1", "stale_days": "0", "gross_margin": "1"}, NOTEBOOKS)
    assert split["06_comp_whatif"] == {"n_runs": 1}
    assert split["03_pipeline_and_funnel"] == {"stale_days": 0}
    assert split["02_kpis"] == {"gross_margin": 1.0} and split["09_process_evaluation"] == {"gross_margin": 1.0}
    assert split["01_data_quality"] == {}


def test_unknown_parameter_lists_the_accepted_ones():
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\): n_run; accepted: .*n_runs"):
        check_extra_parameters({"n_run": "5"}, NOTEBOOKS)


def test_declared_parameters_reads_the_cell():
    assert declared_parameters(NOTEBOOKS[6])["n_runs"] == "int"
