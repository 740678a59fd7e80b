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


def config_file(name: str, given: str | os.PathLike[str] | None = None,
                data_path: str | os.PathLike[str] | None = None) -> Path:
    """The settings file a page reads (``routing.yaml``, ``territories.yaml``).

    In order: ``given`` when set; else the file ``name`` in the data folder, when the data are a folder that holds
    one (a data set carrying settings that name its own reps, as ``salesops sample --size 10x`` writes); else
    ``templates/<name>``.

    Parameters
    ----------
    name : str
        File name, e.g. ``"routing.yaml"``.
    given : str or path-like, optional
        The file the user named (a notebook parameter); empty or None: not named.
    data_path : str or path-like, optional
        The page's data source; only a folder is looked in (a URL or a DuckDB file is not).
    """
    if given:
        return Path(given)
    if data_path and "://" not in str(data_path):
        beside = Path(data_path) / name
        if Path(data_path).is_dir() and beside.is_file():
            return beside
    return templates_dir() / name
