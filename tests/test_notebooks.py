"""Every notebook in notebooks/ is stored clean, starts with a proper parameters cell and holds no secrets."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
REQUIRED_PARAMETERS = {"data_path", "quarter", "as_of"}


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"
    assert all(re.match(r"^\d{2}_[a-z0-9_]+\.ipynb$", p.name) for p in NOTEBOOKS), IDS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} has outputs; clear them before committing"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"
    assert "widgets" not in nb.metadata, f"{path.name} carries widget state"


def _parameters_cell(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    return code[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_holds_typed_commented_parameters(path):
    cell = _parameters_cell(path)
    assert "parameters" in cell.metadata.get("tags", []), f"{path.name}: first code cell is not tagged 'parameters'"
    tree = ast.parse(cell.source)
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None, (
            f"{path.name}: the parameters cell may only hold `name: type = value  # help` lines, found "
            f"{ast.unparse(node)!r}"
        )
        assert isinstance(node.value, ast.Constant), f"{path.name}: {node.target.id} must default to a literal"
        names.add(node.target.id)
    assert REQUIRED_PARAMETERS <= names, f"{path.name} lacks parameters {REQUIRED_PARAMETERS - names}"
    comments = {
        tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(cell.source).readline) if tok.type == tokenize.COMMENT
    }
    for node in tree.body:
        assert node.lineno in comments, f"{path.name}: parameter {node.target.id} has no help comment"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_truth_and_no_credentials(path):
    text = path.read_text()
    assert "truth.json" not in text, f"{path.name} reads the planted truths"
    assert not re.search(r"://[^/\s\"':@]+:[^$/\s\"'@{][^/\s\"'@]*@", text), f"{path.name} holds a password in a URL"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_kernel_is_python3(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
