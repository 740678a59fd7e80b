"""The sample is a pure function of its seed and size, and data/sample is exactly generate() written out."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pandas as pd
import pytest

from salesops.sample import generate, write


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_committed_sample_regenerates_byte_identical(full, sample_dir, tmp_path):
    assert sample_dir.is_dir(), "data/sample is missing: run `python -m salesops.sample --out data/sample`"
    written = write(full, tmp_path)
    committed = sorted(p.name for p in sample_dir.iterdir() if p.is_file())
    assert sorted(p.name for p in written) == committed
    changed = [p.name for p in written if _sha(p) != _sha(sample_dir / p.name)]
    assert not changed, f"regenerated files differ from data/sample: {changed}"


def test_write_twice_gives_identical_bytes(small, tmp_path):
    a = write(small, tmp_path / "a")
    b = write(small, tmp_path / "b")
    assert [_sha(p) for p in a] == [_sha(p) for p in b]


def test_same_seed_same_frames(small):
    again = generate(size=0.1)
    assert list(again.tables) == list(small.tables)
    for name, df in small.tables.items():
        pd.testing.assert_frame_equal(again.tables[name], df, check_exact=True, obj=name)
    for name, df in small.hidden.items():
        pd.testing.assert_frame_equal(again.hidden[name], df, check_exact=True, obj=name)
    assert again.truth == small.truth


def test_different_seed_different_frames(small):
    other = generate(seed=2026, size=0.1)
    for name in ("leads", "opportunities", "activities", "reps"):
        assert not other.tables[name].equals(small.tables[name]), name


def test_no_global_random_state_used():
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking the legacy global state is untouched
    py_state = random.getstate()
    generate(seed=3, size=0.05)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert random.getstate() == py_state


@pytest.mark.parametrize("bad", ["large", "huge", 0, -1.0, float("nan")])
def test_bad_sizes_are_refused(bad):
    with pytest.raises(ValueError):
        generate(size=bad)


def test_write_replaces_other_formats_of_a_table(small, tmp_path):
    (tmp_path / "leads.csv").write_text("stale\n")
    (tmp_path / "opportunities.parquet").write_bytes(b"stale")
    paths = write(small, tmp_path)
    assert not (tmp_path / "leads.csv").exists() and not (tmp_path / "opportunities.parquet").exists()
    assert (tmp_path / "leads.parquet") in paths and (tmp_path / "opportunities.csv.gz") in paths
