"""The review's output folder: a manifest of what it wrote, refusals, and nothing else ever removed."""

from __future__ import annotations

import json
import shutil

import pytest

from salesops import __version__
from salesops.report.outfolder import (
    MANIFEST,
    OutputFolder,
    OutputFolderError,
    check_placement,
    is_review_file,
)
from salesops.review import ReviewParameterError, run_review


def _write(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- refusals before anything runs (the old review ran and cleared the folder) ------------------------------


def test_a_non_empty_folder_without_a_manifest_is_refused_naming_it_and_force(mini_crm, fixture_notebooks, tmp_path,
                                                                               cli):
    out = tmp_path / "shared"
    _write(out / "02_custom.html", "mine")
    _write(out / "index.html", "my own index")
    run = cli("review", "--data", mini_crm, "--quarter", "2025Q4", "--out", out, "--notebooks", fixture_notebooks)
    assert run.code == 2
    assert str(out) in run.stderr and "--force" in run.stderr and MANIFEST in run.stderr
    assert (out / "index.html").read_text() == "my own index" and (out / "02_custom.html").read_text() == "mine"
    assert not (out / MANIFEST).exists()


def test_a_file_the_review_would_overwrite_that_no_manifest_lists_is_refused(mini_crm, fixture_notebooks, tmp_path):
    out = tmp_path / "out"
    _write(out / MANIFEST, json.dumps({"salesops": __version__, "files": ["index.html"]}))
    _write(out / "01_tiny.html", "someone else's page")
    with pytest.raises(ReviewParameterError, match=r"01_tiny\.html.*--force"):
        run_review(mini_crm, "2025Q4", out, only=["tiny"], notebooks_dir=fixture_notebooks)
    assert (out / "01_tiny.html").read_text() == "someone else's page"


def _inputs(tmp_path, mini_crm, fixture_notebooks):
    data = tmp_path / "project" / "data"
    notebooks = tmp_path / "project" / "notebooks"
    shutil.copytree(mini_crm, data)
    shutil.copytree(fixture_notebooks, notebooks)
    return data, notebooks


@pytest.mark.parametrize(("where", "says"), [
    ("project/notebooks", "is the notebooks folder"),
    ("project", "contains the notebooks folder"),
    ("project/data", "is the data"),
    ("project/data/review", "lies inside the data folder"),
])
@pytest.mark.parametrize("force", [False, True])
def test_an_out_holding_the_notebooks_or_the_data_is_refused_even_with_force(mini_crm, fixture_notebooks, tmp_path,
                                                                             where, says, force):
    data, notebooks = _inputs(tmp_path, mini_crm, fixture_notebooks)
    out = tmp_path / where
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(ReviewParameterError, match=says) as caught:
        run_review(data, "2025Q4", out, notebooks_dir=notebooks, force=force)
    assert "--force does not lift this" in str(caught.value)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written or removed


def test_an_out_containing_a_duckdb_file_is_refused(tmp_path, fixture_notebooks):
    database = _write(tmp_path / "exports" / "crm.duckdb")
    with pytest.raises(OutputFolderError, match="contains the data"):
        check_placement(tmp_path / "exports", fixture_notebooks, str(database))
    check_placement(tmp_path / "review", fixture_notebooks, str(database))  # a sibling folder is fine


# --- what a rerun removes --------------------------------------------------------------------------------------


def test_force_writes_into_a_foreign_folder_and_removes_nothing_unlisted(mini_crm, fixture_notebooks, tmp_path, cli):
    out = tmp_path / "shared"
    _write(out / "notes.txt", "mine")
    _write(out / "02_broken.html", "an old page nobody listed")
    _write(out / "notebooks" / "05_mine.ipynb", "{}")
    run = cli("review", "--data", mini_crm, "--quarter", "2025Q4", "--out", out, "--notebooks", fixture_notebooks,
              "--only", "tiny", "--force", "--quiet")
    assert run.code == 0, run.stderr
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "02_broken.html").read_text() == "an old page nobody listed"
    assert (out / "notebooks" / "05_mine.ipynb").exists()
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest == {"salesops": __version__,
                        "files": ["01_tiny.html", "index.html", "metrics.json", "notebooks/01_tiny.ipynb",
                                  "quarantine/opportunities.csv", "quarantine/problems.csv"]}


def test_only_listed_review_files_inside_the_folder_are_removed(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "elsewhere"
    for name in ("index.html", "01_a.html", "notes.txt", "notebooks/01_a.ipynb", "quarantine/problems.csv"):
        _write(out / name)
    _write(outside / "01_a.ipynb", "not in the folder")
    _write(tmp_path / "victim.html", "outside")
    listed = ["index.html", "01_a.html", "notes.txt", "../victim.html", str(tmp_path / "victim.html"),
              "notebooks/../../victim.html", "quarantine/problems.csv", "linked/01_a.ipynb"]
    (out / "linked").symlink_to(outside)  # a listed path through a symbolic link is not followed out
    _write(out / MANIFEST, json.dumps({"salesops": "0.0.1", "files": listed}))
    folder = OutputFolder.check(out, ["index.html"])
    folder.clear()
    left = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert left == [MANIFEST, "linked", "notebooks", "notebooks/01_a.ipynb", "notes.txt"]
    assert (tmp_path / "victim.html").read_text() == "outside"
    assert (outside / "01_a.ipynb").read_text() == "not in the folder"
    assert json.loads((out / MANIFEST).read_text())["files"] == ["index.html"]


def test_a_listed_symlinked_subfolder_is_not_followed(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "src"
    _write(outside / "01_a.ipynb", "a source notebook")
    out.mkdir()
    (out / "notebooks").symlink_to(outside)
    _write(out / MANIFEST, json.dumps({"salesops": __version__, "files": ["notebooks/01_a.ipynb"]}))
    OutputFolder.check(out, [], force=False).clear()
    assert (outside / "01_a.ipynb").read_text() == "a source notebook"


def test_an_unreadable_manifest_is_refused_and_force_removes_nothing(tmp_path):
    out = tmp_path / "out"
    _write(out / MANIFEST, "{not json")
    _write(out / "index.html", "kept")
    with pytest.raises(OutputFolderError, match=r"cannot be read.*--force"):
        OutputFolder.check(out, ["index.html"])
    OutputFolder.check(out, ["index.html"], force=True).clear()
    assert (out / "index.html").read_text() == "kept"


def test_review_file_names():
    assert all(map(is_review_file, ["index.html", "metrics.json", "comparison.json", "07_kpi.html",
                                    "notebooks/07_kpi.ipynb", "quarantine/opportunities.csv"]))
    assert not any(map(is_review_file, ["notes.txt", "notebooks/notes.ipynb", "../index.html", "/etc/passwd",
                                        "sub/01_a.html", "quarantine/../x.csv", "7_kpi.html", MANIFEST]))


def test_a_review_by_an_older_salesops_is_named_as_such(tmp_path):
    out = tmp_path / "review"
    _write(out / "index.html")
    _write(out / "metrics.json", "{}")
    with pytest.raises(OutputFolderError, match=r"older salesops, which kept no manifest.*--force"):
        OutputFolder.check(out, ["index.html"])
