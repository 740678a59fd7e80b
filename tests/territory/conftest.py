"""Fixtures of the territory tests: the committed sample (loaded once) and its planted truths."""

from __future__ import annotations

