"""The shared load result the review hands to its notebooks: served only for the same load."""

from __future__ import annotations

from pathlib import Path

import salesops as so
from salesops.io.cache import CACHE_ENV, cache_key, read_cache, write_cache

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_crm"


def test_same_load_is_served_from_the_cache(tmp_path, monkeypatch):
    data = so.load(MINI)
    data.tables["marker"] = data.reps  # something a fresh load would not have
    path = write_cache(data, cache_key(MINI, None, None), tmp_path / "salesdata.pickle")
    monkeypatch.setenv(CACHE_ENV, str(path))
    served = so.load(str(MINI))  # str or Path, the same folder
    assert "marker" in served.tables
    assert served.quality.counts.equals(data.quality.counts)


def test_other_arguments_load_afresh(tmp_path, monkeypatch):
    data = so.load(MINI)
    data.tables["marker"] = data.reps
    monkeypatch.setenv(CACHE_ENV, str(write_cache(data, cache_key(MINI, None, None), tmp_path / "c.pickle")))
    assert "marker" not in so.load(MINI, as_of="2030-01-01").tables
    assert read_cache(cache_key(MINI, "salesforce", None)) is None
    assert read_cache(None) is None


def test_no_cache_without_the_variable(monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert read_cache(cache_key(MINI, None, None)) is None
