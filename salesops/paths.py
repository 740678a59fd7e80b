"""Where the kit's own files live (templates beside the package in a source checkout)."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout that holds ``salesops/``, ``templates/`` and ``notebooks/``."""
    return Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    """``templates/``; ``SALESOPS_TEMPLATES`` overrides it for an installed (non-editable) package."""
    return Path(os.environ.get("SALESOPS_TEMPLATES", project_root() / "templates"))
