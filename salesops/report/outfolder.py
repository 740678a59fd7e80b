"""The review's output folder: the review owns only the files it wrote, listed in a manifest there.

``DIR/.salesops-manifest.json`` holds ``{"salesops": <version>, "files": [<relative paths>]}``. A rerun into
``DIR`` removes exactly the files listed there, and only when a listed name is one the review writes
(``index.html``, ``metrics.json``, ``comparison.html|json``, ``NN_*.html``, ``notebooks/NN_*.ipynb``,
``quarantine/*.csv``), lies inside ``DIR`` and is a file: a ``notes.txt`` or ``02_custom.html`` the user put
there is never touched. The rules, checked before anything runs:

- ``DIR`` missing or empty: used.
- ``DIR`` with a manifest: the listed files are removed; a file the new review would write that is not
  listed (someone else's) is refused unless ``force``.
- ``DIR`` not empty and without a readable manifest: refused unless ``force``; with ``force`` the review
  writes into it and removes nothing.
- ``DIR`` equal to or containing the notebooks folder or the data, or lying inside the data folder: refused,
  ``force`` or not.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

__all__ = ["MANIFEST", "OutputFolder", "OutputFolderError", "check_placement", "is_review_file", "read_manifest"]

MANIFEST = ".salesops-manifest.json"

#: The names a review writes; nothing else is ever removed, whatever a manifest lists.
_REVIEW_FILE = re.compile(
    r"^(index\.html|metrics\.json|comparison\.html|comparison\.json|\d{2}_[A-Za-z0-9_]+\.html"
    r"|notebooks/\d{2}_[A-Za-z0-9_]+\.ipynb|quarantine/[A-Za-z0-9_]+\.csv)$"
)
_FORCE_HINT = "choose a new or empty folder, or pass --force to write into it (files no manifest lists are kept)"


class OutputFolderError(ValueError):
    """The output folder cannot be used (nothing was written or removed)."""


def is_review_file(relative: str) -> bool:
    """True when ``relative`` (a POSIX path inside the folder) is a name the review writes."""
    return bool(_REVIEW_FILE.match(relative)) and ".." not in PurePosixPath(relative).parts


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_placement(out: str | os.PathLike[str], notebooks_dir: str | os.PathLike[str], data: str | None) -> None:
    """Refuse an output folder that equals or contains the notebooks folder or the data, or lies in the data folder.

    Parameters
    ----------
    out : path-like
        The output folder (need not exist).
    notebooks_dir : path-like
        The folder the notebooks are read from.
    data : str or None
        The data folder or file; None (or a database URL, passed as None) skips the data checks.

    Raises
    ------
    OutputFolderError
        Naming the output folder and what it would hold or lie in. ``--force`` does not lift this.
    """
    target = Path(out).resolve()
    notebooks = Path(notebooks_dir).resolve()
    if _inside(notebooks, target):
        what = "is" if notebooks == target else "contains"
        raise OutputFolderError(f"output folder {out} {what} the notebooks folder {notebooks_dir}; "
                                "choose another --out (--force does not lift this)")
    if data is None:
        return
    source = Path(data).resolve()
    if _inside(source, target):
        what = "is" if source == target else "contains"
        raise OutputFolderError(f"output folder {out} {what} the data {data}; "
                                "choose another --out (--force does not lift this)")
    if source.is_dir() and _inside(target, source):
        raise OutputFolderError(f"output folder {out} lies inside the data folder {data}; "
                                "choose another --out (--force does not lift this)")


def read_manifest(out: str | os.PathLike[str]) -> list[str] | None:
    """The files an earlier review listed in ``out``; None when there is no manifest.

    Raises
    ------
    OutputFolderError
        When the manifest exists but is not a review manifest (not JSON, no ``files`` list of strings).
    """
    path = Path(out) / MANIFEST
    if not path.exists() and not path.is_symlink():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        files = document["files"]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise TypeError("'files' is not a list of paths")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OutputFolderError(f"output folder {out}: {MANIFEST} cannot be read ({type(exc).__name__}: {exc}); "
                                f"{_FORCE_HINT}") from None
    return files


def _write_manifest(folder: Path, files: Iterable[str]) -> Path:
    from salesops import __version__

    document = {"salesops": __version__, "files": sorted(set(files))}
    path = folder / MANIFEST
    temporary = folder / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


@dataclass
class OutputFolder:
    """An output folder checked for a review: what it will remove and what it claims.

    Use :meth:`check` before anything runs, :meth:`clear` when the review starts writing, :meth:`claim` before
    writing a file not planned at first, :meth:`finish` at the end (the manifest then lists what exists).
    """

    path: Path
    previous: list[str] = field(default_factory=list)
    files: set[str] = field(default_factory=set)

    @classmethod
    def check(cls, out: str | os.PathLike[str], planned: Iterable[str], *, force: bool = False) -> OutputFolder:
        """Check ``out`` for a review that will write ``planned`` (relative POSIX paths); nothing is touched.

        Raises
        ------
        OutputFolderError
            ``out`` is not a folder; it is not empty and has no readable manifest (unless ``force``); or a
            planned file exists there that no manifest lists (unless ``force``).
        """
        folder = Path(out)
        planned = set(planned)
        if folder.exists() and not folder.is_dir():
            raise OutputFolderError(f"output {out} exists and is not a folder")
        if not folder.exists() or not any(folder.iterdir()):
            return cls(folder, [], planned)
        try:
            listed = read_manifest(folder)
        except OutputFolderError:
            if not force:
                raise
            listed = None  # forced past an unreadable manifest: it lists nothing we may remove
        if listed is None:
            if not force:
                hint = _FORCE_HINT
                if (folder / "index.html").is_file() and (folder / "metrics.json").is_file():
                    hint = f"it looks like a review by an older salesops, which kept no manifest: remove it, or {hint}"
                raise OutputFolderError(f"output folder {out} is not empty and has no {MANIFEST}, so no salesops "
                                        f"review recorded its files there; {hint}")
            return cls(folder, [], planned)
        previous = [f for f in listed if is_review_file(f)]
        foreign = sorted(f for f in planned if f not in previous and ((folder / f).exists() or (folder / f).is_symlink()))
        if foreign and not force:
            raise OutputFolderError(f"output folder {out} holds {', '.join(foreign)}, which the review would "
                                    f"overwrite but no manifest lists; {_FORCE_HINT}")
        return cls(folder, previous, planned)

    def clear(self) -> list[Path]:
        """Create the folder, remove the files the earlier manifest listed, and list the planned files.

        Only regular files and symbolic links (never followed) whose real parent folder lies inside the output
        folder are removed; folders ``notebooks/`` and ``quarantine/`` are removed when that leaves them empty.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        root = self.path.resolve()
        removed = []
        for relative in self.previous:
            path = self.path / relative
            if not _inside(path.parent.resolve(), root):
                continue
            if path.is_symlink() or path.is_file():
                path.unlink()
                removed.append(path)
        for sub in {PurePosixPath(r).parts[0] for r in self.previous if "/" in r}:
            folder = self.path / sub
            if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                folder.rmdir()
        _write_manifest(self.path, self.files)
        return removed

    def claim(self, relatives: Iterable[str]) -> None:
        """Add files to the manifest before writing them."""
        self.files |= set(relatives)
        _write_manifest(self.path, self.files)

    def finish(self) -> Path:
        """Rewrite the manifest with the claimed files that exist; returns its path."""
        present = {f for f in self.files if (self.path / f).exists()}
        return _write_manifest(self.path, present)
