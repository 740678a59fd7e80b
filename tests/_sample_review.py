"""One review of the committed sample for the whole test session, shared by the tests that only read it
(tests/test_review.py: documented metrics; tests/test_browser.py: every page in Chromium).

Test modules import :func:`sample_review` from here (the tests folder is on ``sys.path`` under pytest's default
import mode) and call it from a session fixture; the module-level cache makes the review run once even though
each module has its own fixture.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
_CACHE: dict[str, object] = {}


def sample_review(tmp_path_factory: pytest.TempPathFactory):
    """``(ReviewResult, output folder)`` of ``run_review(data/sample, "2025Q4")`` with every notebook."""
    if "review" not in _CACHE:
        if not any(SAMPLE.glob("opportunities.*")):
            pytest.skip(f"no sample CRM in {SAMPLE} (write it with `salesops sample --out data/sample`)")
        from salesops.review import run_review

        out = tmp_path_factory.mktemp("sample_review") / "out"
        _CACHE["review"] = (run_review(SAMPLE, "2025Q4", out), out)
    return _CACHE["review"]
