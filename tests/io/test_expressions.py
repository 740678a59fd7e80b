"""``derive:`` expressions (``salesops.io.expressions``): a whitelist, evaluated element by element.

Before the whitelist, ``pandas.eval(engine="python")`` ran whatever a mapping file held: the first test wrote
``x.csv`` and ``salesops.load`` reported no problem."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import salesops
from salesops.io import LoadError
from salesops.io.coerce import coerce
from salesops.io.expressions import MAX_LENGTH, ExpressionError, compile_expression, evaluate
from salesops.io.parts import _derive

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2024-06-30"


def _export(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sales.csv").write_text("cust,day,qty,base_salary\n1,2024-01-05,2,10\n2,2024-01-06,3,20\n",
                                      encoding="utf-8")
    return folder


def _mapping(folder: Path, expression: str) -> Path:
    path = folder / "my_mapping.yaml"
    doc = {"tables": {"transactions": {"from": "sales", "columns": {"customer_id": "cust", "date": "day"},
                                       "derive": {"amount": expression}}}}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_the_issue_case_is_refused_and_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mapping = _mapping(tmp_path, "(base_salary).to_csv('x.csv')")
    with pytest.raises(LoadError) as err:
        salesops.load(_export(tmp_path / "src"), mapping=mapping, as_of=AS_OF)
    message = str(err.value)
    assert str(mapping) in message  # the mapping file
    assert "cannot compute amount = \"(base_salary).to_csv('x.csv')\"" in message  # target column and expression
    assert "attribute access ('.to_csv')" in message and "'(base_salary).to_csv'" in message  # the offending part
    assert list(tmp_path.rglob("x.csv")) == []


@pytest.mark.parametrize(("expression", "pointer"), [
    ("__import__('os')", "the name '__import__'"),
    ("__import__('os').system('touch pwned')", "attribute access ('.system')"),
    ("qty.__class__", "attribute access ('.__class__')"),
    ("qty.__class__.__mro__", "attribute access ('.__mro__')"),
    ("__builtins__", "the name '__builtins__'"),
    ("(lambda: 1)() + qty", "lambda"),
    ("qty[0]", "a subscript"),
    ("open('/etc/passwd')", "calling 'open'"),
    ("eval('1')", "calling 'eval'"),
    ("getattr(qty, 'sum')", "calling 'getattr'"),
    ("[x for x in qty]", "a comprehension"),
    ("max(qty, *[1, 2])", "unpacking"),
    ("max(x for x in qty)", "a comprehension"),
    ("qty ** qty", "'**' with an exponent that is not a literal number"),
    ("max(qty, 1, key=abs)", "a keyword argument"),
    ("'a' * 10", "text outside a comparison"),
    ("qty if qty else 1", "use where(c, a, b)"),
    ("qty(1)", "calling a column"),
    ("(x := qty)", "assignment"),
])
def test_refused_syntax_names_the_offending_part(expression, pointer):
    with pytest.raises(ExpressionError) as err:
        compile_expression(expression, ["qty", "price"])
    assert pointer in err.value.reason
    assert "is not allowed, in '" in err.value.reason or "is not allowed, in \"" in err.value.reason


def test_refusal_comes_before_any_data_is_read():
    # a refused expression is refused whatever the frame holds, and the evaluator is never reached
    for columns in ([], ["qty"], ["a b", "c.d"]):
        with pytest.raises(ExpressionError, match="attribute access"):
            compile_expression("(qty).to_csv('x.csv')", columns)


def test_unknown_names_length_and_syntax():
    with pytest.raises(ExpressionError, match="'UnitPrice' is not a column") as err:
        compile_expression("qty * UnitPrice", ["qty"])
    assert err.value.unknown == ("UnitPrice",)
    with pytest.raises(ExpressionError, match="1,001 characters is longer than the 1,000"):
        compile_expression("1" + "+1" * 500, ["qty"])
    at_cap = "max(" + ", ".join(["qty"] * 199) + ")"
    assert len(at_cap) == MAX_LENGTH - 2 and len(compile_expression(at_cap, ["qty"]).tree.body.args) == 199
    with pytest.raises(ExpressionError, match="not a valid expression"):
        compile_expression("qty +", ["qty"])
    with pytest.raises(ExpressionError, match="not a valid expression"):
        compile_expression("qty = 1", ["qty"])
    for deep in ("-" * 990 + "qty", "1" + "+1" * 499, "not " * 240 + "qty"):  # no RecursionError
        with pytest.raises(ExpressionError, match="nested more than 100 levels deep"):
            compile_expression(deep, ["qty"])
    assert compile_expression("-" * 90 + "qty", ["qty"]).columns == ("qty",)
    with pytest.raises(ExpressionError, match=r"min\(\) with 1 argument"):
        compile_expression("min(qty)", ["qty"])
    with pytest.raises(ExpressionError, match="round"):
        compile_expression("round(qty, qty)", ["qty"])


FRAME = pd.DataFrame({
    "qty": ["2", "x", "3", "4", None],
    "Unit Price": ["$1,000.50", "2", None, "-1.5", "7"],
    "metadata.durationMilliseconds": [1500, 2000, None, 0, 250],
    "Stage": ["Won", "Lost", None, " Won ", "Won"],
})


@pytest.mark.parametrize(("expression", "expected"), [
    ("qty * Unit Price", [2001.0, np.nan, np.nan, -6.0, np.nan]),
    ("metadata.durationMilliseconds / 1000", [1.5, 2.0, np.nan, 0.0, 0.25]),
    ("qty / 0", [np.nan] * 5),  # infinite is missing
    ("-qty + 10 // 3 - 7 % 4", [-2.0, np.nan, -3.0, -4.0, np.nan]),
    ("qty ** 2 + qty ** -1", [4.5, np.nan, 9 + 1 / 3, 16.25, np.nan]),
    ("abs(Unit Price)", [1000.5, 2.0, np.nan, 1.5, 7.0]),
    ("round(Unit Price / 3, 1)", [333.5, 0.7, np.nan, -0.5, 2.3]),
    ("round(2.5) + round(3.5)", [6.0] * 5),  # halves to even, as Python and pandas
    ("floor(Unit Price) + ceil(0.2)", [1001.0, 3.0, np.nan, -1.0, 8.0]),
    ("min(qty, Unit Price, 3)", [2.0, np.nan, np.nan, -1.5, np.nan]),
    ("max(qty, Unit Price)", [1000.5, np.nan, np.nan, 4.0, np.nan]),
    ("coalesce(qty, Unit Price, 0)", [2.0, 2.0, 3.0, 4.0, 7.0]),
    ("where(Stage == 'Won', qty, 0)", [2.0, 0.0, np.nan, 4.0, np.nan]),
    ("Stage != 'Won'", [0.0, 1.0, np.nan, 0.0, 0.0]),
    ("qty > 2", [0.0, np.nan, 1.0, 1.0, np.nan]),
    ("1 < qty <= 3", [1.0, np.nan, 1.0, 0.0, np.nan]),
    ("qty >= 3 and Unit Price < 0", [0.0, np.nan, np.nan, 1.0, np.nan]),
    ("qty >= 3 or Unit Price < 0", [0.0, np.nan, np.nan, 1.0, np.nan]),
    ("not qty == 2", [0.0, np.nan, 1.0, 1.0, np.nan]),
    ("True + 1.5e1", [16.0] * 5),
])
def test_allowed_expressions_compute_element_by_element(expression, expected):
    compiled = compile_expression(expression, list(FRAME.columns))
    out = evaluate(compiled, FRAME, number=lambda s: coerce(s, "float")[0])
    assert out.index.equals(FRAME.index) and out.dtype == float
    np.testing.assert_allclose(out.to_numpy(), expected, equal_nan=True)


def test_column_names_are_not_renamed_inside_quotes_or_as_function_names():
    frame = pd.DataFrame({"Won": [5.0, 6.0], "Stage": ["Won", "x"], "max": [1.0, 9.0]})
    out = evaluate(compile_expression("where(Stage == 'Won', Won, max(max, 2))", list(frame.columns)), frame)
    assert out.tolist() == [5.0, 9.0]


def _reference(frame: pd.DataFrame, expression: str) -> pd.Series:
    """The loader's evaluation before the whitelist: text substitution and ``pandas.eval`` (trusted strings)."""
    names = {c: f"c{i}" for i, c in enumerate(frame.columns)}
    env, text = {}, expression
    for column, alias in sorted(names.items(), key=lambda kv: -len(str(kv[0]))):
        pattern = rf"(?<![\w.]){re.escape(str(column))}(?![\w.])"
        if re.search(pattern, text):
            text = re.sub(pattern, alias, text)
            env[alias] = coerce(frame[column], "float")[0]
    return pd.Series(pd.eval(text, local_dict=env, engine="python"), index=frame.index, dtype=float)


def _repo_derive_expressions() -> list[tuple[str, str]]:
    found = []
    for path in sorted([*ROOT.glob("templates/**/*.yaml"), *ROOT.glob("tests/**/*.yaml")]):
        text = path.read_text(encoding="utf-8")
        if "derive:" not in text:
            continue
        doc = yaml.safe_load(text)
        tables = doc.get("tables") if isinstance(doc, dict) else None
        for spec in (tables or {}).values():
            for block in spec if isinstance(spec, list) else [spec]:
                for expression in ((block or {}).get("derive") or {}).values():
                    if not re.search(r"\{[^{}]+\}", expression):
                        found.append((str(path.relative_to(ROOT)), expression))
    for path in [ROOT / "docs" / "mappings.md", ROOT / "salesops" / "io" / "mapping.py"]:
        for expression in re.findall(r"amount: \"([^\"{}]+)\"", path.read_text(encoding="utf-8")):
            found.append((str(path.relative_to(ROOT)), expression))
    return found


def test_the_repo_has_derive_expressions_to_check():
    files = {f for f, _ in _repo_derive_expressions()}
    assert {"templates/mappings/salesforce.yaml", "templates/mappings/hubspot.yaml",
            "tests/io/fixtures/mappings/online_retail.yaml"} <= files


@pytest.mark.parametrize(("origin", "expression"), _repo_derive_expressions())
def test_every_derive_expression_in_the_repo_computes_as_before(origin, expression):
    names = sorted(set(re.findall(r"[A-Za-z_][\w.]*", expression)))
    values = [["12", "$1,000.50", None, "x", "0", "-3", "7.25"], ["3", "2", "5", None, "4", "-2", "0"]]
    frame = pd.DataFrame({n: values[i % 2] for i, n in enumerate(names)})
    got = _derive(frame, expression, origin, "target")
    pd.testing.assert_series_equal(got, _reference(frame, expression), check_names=False)


def test_loader_errors_name_source_mapping_column_and_expression(tmp_path):
    mapping = _mapping(tmp_path, "qty * UnitPrice")
    with pytest.raises(LoadError, match=r"sales.csv: cannot compute amount = 'qty \* UnitPrice' \(mapping file "
                                        rf"{re.escape(str(mapping))}, derive: amount\): it names none|'UnitPrice' is not"):
        salesops.load(_export(tmp_path / "src"), mapping=mapping, as_of=AS_OF)
    data = salesops.load(_export(tmp_path / "src"), mapping=_mapping(tmp_path, "where(qty > 2, base_salary, qty * 2)"),
                         as_of=AS_OF)
    assert data.transactions["amount"].tolist() == [4.0, 20.0]
