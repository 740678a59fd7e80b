"""The quarterly review: check the parameters, run every area notebook with Papermill, write the report.

Public face::

    from salesops.review import run_review, latest_complete_quarter
    result = run_review("data/sample", "2025Q4", "review/")
    result.exit_code  # 0 all well, 1 some page failed

``run_review`` is what ``salesops review`` calls. It writes::

    DIR/index.html            every page with its status, the data headline, links
    DIR/NN_area.html          one page per notebook, without code
    DIR/notebooks/*.ipynb     the executed notebooks (a failed one keeps the error)
    DIR/metrics.json          what the notebooks recorded, merged, sorted, byte-stable
    DIR/quarantine/           rejected rows per table and the list of problems, when rows were rejected
    DIR/comparison.html|json  with ``compare=``: every metric against an earlier review's metrics.json

``progress`` (a callable) hears ``("started" | "done" | "failed", notebook, seconds, message)`` per notebook.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue as queue_module
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from salesops.execution.notebook import NotebookOutcome, NotebookTask, run_notebook, set_progress_queue
from salesops.execution.parameters import ParameterError, check_extra_parameters
from salesops.io.urls import redact_url
from salesops.paths import project_root
from salesops.periods import Quarter, QuarterError, parse_as_of, parse_quarter
from salesops.periods import latest_complete_quarter as _latest_complete
from salesops.report.compare import read_metrics_document, write_comparison
from salesops.report.metrics import merge_records, metrics_document, read_records, write_metrics
from salesops.report.pages import PageEntry, QualityHeadline, notebook_title, render_index
from salesops.span import (
    DataSpan,
    cheap_span,
    data_span,
    is_database_url,
    latest_complete_quarter,
    loaded_span,
)

__all__ = [
    "DataSpan",
    "NotebookOutcome",
    "Progress",
    "ReviewParameterError",
    "ReviewResult",
    "area_of",
    "data_span",
    "default_notebooks_dir",
    "latest_complete_quarter",
    "list_notebooks",
    "looks_like_path",
    "run_review",
]

NOTEBOOK_RE = re.compile(r"^(\d{2})_([A-Za-z0-9_]+)\.ipynb$")
DEFAULT_TIMEOUT_S = 1800

#: ``progress(event, notebook, seconds, message)``: event is ``started``, ``done`` or ``failed``.
Progress = Callable[[str, str, float, str | None], None]


class ReviewParameterError(ValueError):
    """A parameter of the review is wrong (quarter, data path, areas, jobs); nothing was run."""


@dataclass
class ReviewResult:
    """What a review produced.

    Attributes
    ----------
    out : pathlib.Path
        The output folder.
    quarter : Quarter
        Quarter reviewed.
    pages : list of NotebookOutcome
        One per notebook, in reading order.
    index, metrics : pathlib.Path
        ``index.html`` and ``metrics.json``.
    quarantine : pathlib.Path or None
        The quarantine folder when rows were rejected.
    comparison : pathlib.Path or None
        ``comparison.html`` when the review was compared with an earlier one.
    seconds : float
        Wall time of the whole review.
    load_error : str or None
        The loader's message when the data could not be loaded for the headline and quarantine.
    problems : list of str
        Other failures (metrics that could not be merged).
    """

    out: Path
    quarter: Quarter
    pages: list[NotebookOutcome]
    index: Path
    metrics: Path
    quarantine: Path | None = None
    load_error: str | None = None
    problems: list[str] = field(default_factory=list)
    comparison: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every page ran and everything was written."""
        return all(p.ok for p in self.pages) and self.load_error is None and not self.problems

    @property
    def failed(self) -> list[NotebookOutcome]:
        return [p for p in self.pages if not p.ok]

    @property
    def exit_code(self) -> int:
        """0 when all is well, 1 when some part failed."""
        return 0 if self.ok else 1


def default_notebooks_dir() -> Path:
    """``notebooks/`` of the checkout (``SALESOPS_NOTEBOOKS`` overrides it)."""
    return Path(os.environ.get("SALESOPS_NOTEBOOKS", project_root() / "notebooks"))


def area_of(notebook: Path) -> str:
    """``01_data_quality.ipynb`` -> ``data_quality``."""
    m = NOTEBOOK_RE.match(notebook.name)
    return m.group(2) if m else notebook.stem


def list_notebooks(notebooks_dir: str | os.PathLike[str]) -> list[Path]:
    """The area notebooks ``NN_name.ipynb`` of a folder, in reading order."""
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise ReviewParameterError(f"notebooks folder {folder} does not exist")
    return sorted(p for p in folder.iterdir() if p.is_file() and NOTEBOOK_RE.match(p.name))


def _select(notebooks: Sequence[Path], only: Iterable[str] | None) -> list[Path]:
    if not only:
        return list(notebooks)
    wanted = [a.strip() for item in only for a in str(item).split(",") if a.strip()]
    chosen: list[Path] = []
    unknown = []
    for area in wanted:
        hits = [nb for nb in notebooks if area in (area_of(nb), nb.stem, nb.stem[:2])]
        if not hits:
            unknown.append(area)
        chosen.extend(h for h in hits if h not in chosen)
    if unknown:
        known = ", ".join(area_of(nb) for nb in notebooks) or "(none)"
        raise ReviewParameterError(f"unknown area(s): {', '.join(unknown)}; known areas: {known}")
    return sorted(chosen)


def _check_source(data: str | os.PathLike[str]) -> str:
    text = os.fspath(data)
    if is_database_url(text):
        from sqlalchemy.engine import make_url

        from salesops.io.urls import SecretInUrlError, check_url_secrets

        try:
            check_url_secrets(text)
        except SecretInUrlError as exc:
            raise ReviewParameterError(str(exc)) from None
        try:
            make_url(text)
        except Exception as exc:  # noqa: BLE001
            raise ReviewParameterError(f"data URL {redact_url(text)} cannot be parsed ({type(exc).__name__})") from None
        return text
    path = Path(text)
    if not path.exists():
        raise ReviewParameterError(f"data folder {path} does not exist")
    return str(path.resolve())


def looks_like_path(mapping: str) -> bool:
    """A mapping given as a file (``my_crm.yaml``, ``maps/crm``) rather than a preset name (``salesforce``)."""
    return "/" in mapping or os.sep in mapping or mapping.lower().endswith((".yaml", ".yml"))


def _check_mapping(mapping: str | os.PathLike[str] | None) -> str | None:
    if not mapping:
        return None
    text = os.fspath(mapping)
    if not looks_like_path(text):
        return text  # a preset name; the loader says so when it does not know it
    if not Path(text).is_file():
        raise ReviewParameterError(f"mapping file {text} does not exist")
    return str(Path(text).resolve())


def _display_source(source: str) -> str:
    return redact_url(source) if is_database_url(source) else source


def _resolve_quarter(quarter: str | Quarter | None, span: DataSpan) -> Quarter:
    if quarter is None or (isinstance(quarter, str) and quarter.strip().lower() in ("", "latest")):
        return _latest_complete(span.end)
    q = quarter if isinstance(quarter, Quarter) else parse_quarter(quarter)
    if not span.covers(q):
        first, last = span.quarters
        raise ReviewParameterError(
            f"quarter {q} is not covered by the data, which runs from {span.start:%Y-%m-%d} to "
            f"{span.end:%Y-%m-%d} ({first} to {last}; from {span.basis})"
        )
    return q


def _clear_previous(out: Path) -> None:
    """Remove what an earlier review wrote here (and only that)."""
    for name in ("index.html", "metrics.json", "comparison.html", "comparison.json"):
        (out / name).unlink(missing_ok=True)
    for page in out.glob("[0-9][0-9]_*.html"):
        page.unlink()
    for folder in ("notebooks", "quarantine"):
        if (out / folder).is_dir():
            shutil.rmtree(out / folder)


def _write_quarantine(quality: Any, out: Path) -> Path | None:
    rejected = getattr(quality, "rejected", None)
    if rejected is None or rejected.empty:
        return None
    folder = out / "quarantine"
    quality.write_quarantine(folder)  # the loader's one quarantine writer
    return folder


def _headline(quality: Any, quarantine: Path | None) -> QualityHeadline | None:
    counts = getattr(quality, "counts", None)
    if counts is None:
        return None
    return QualityHeadline(
        read=int(counts["read"].sum()),
        accepted=int(counts["accepted"].sum()),
        rejected=int(counts["rejected"].sum()),
        quarantine_href="quarantine/" if quarantine is not None else None,
    )


def _outcome(future: Future[NotebookOutcome], task: NotebookTask) -> NotebookOutcome:
    """The worker's outcome; a worker that died (killed, out of memory) fails its page instead of the review."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001
        executed = task.executed if Path(task.executed).exists() else None
        return NotebookOutcome(task.name, task.title, "failed", f"worker died: {type(exc).__name__}: {exc}",
                               executed, None, task.metrics_file)


def _default_jobs() -> int:
    """The cores this process may use (CPU affinity where the system tells it, else the core count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _ProgressRelay:
    """Carries the workers' ``started`` events (a multiprocessing queue) to ``progress`` on a thread."""

    def __init__(self, progress: Progress | None, context: Any) -> None:
        self.progress = progress
        self.queue = context.Queue() if progress is not None else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True) if progress is not None else None

    def __enter__(self) -> _ProgressRelay:
        if self._thread is not None:
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set() or not self.queue.empty():
            try:
                event, name, seconds = self.queue.get(timeout=0.1)
            except (queue_module.Empty, EOFError, OSError):
                continue
            if event == "started":
                self.progress("started", name, seconds, None)

    def __exit__(self, *exc: Any) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self.queue.close()


@contextlib.contextmanager
def _shared_load(loaded: Any, source: str, mapping: str | None, as_of: str | None, folder: Path) -> Iterator[None]:
    """While the notebooks run, let their ``salesops.load`` calls read this process's result back.

    Only the same (source, mapping, as-of) is served, so a notebook that loads something else loads it.
    """
    from salesops.io.cache import CACHE_ENV, cache_key, write_cache

    key = cache_key(source, mapping, as_of or None)
    if loaded is None or key is None:
        yield
        return
    saved = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(write_cache(loaded, key, folder / "salesdata.pickle"))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(CACHE_ENV, None)
        else:
            os.environ[CACHE_ENV] = saved


def _load(source: str, mapping: str | None, as_of: str | None) -> Any:
    import salesops

    return salesops.load(source, mapping=mapping, as_of=as_of or None)


def run_review(
    data: str | os.PathLike[str],
    quarter: str | Quarter | None,
    out: str | os.PathLike[str],
    only: Iterable[str] | None = None,
    jobs: int | None = None,
    *,
    notebooks_dir: str | os.PathLike[str] | None = None,
    mapping: str | os.PathLike[str] | None = None,
    as_of: str | None = None,
    timeout: int | None = DEFAULT_TIMEOUT_S,
    params: Mapping[str, Any] | None = None,
    compare: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> ReviewResult:
    """Run the quarterly review.

    Parameters
    ----------
    data : str or path-like
        Folder of exports, DuckDB file or database URL (credentials as ``${VARIABLE}``).
    quarter : str, Quarter or None
        ``YYYYQn``; None or ``"latest"`` for the latest quarter the data covers completely.
    out : str or path-like
        Output folder (created; what an earlier review wrote there is replaced).
    only : iterable of str, optional
        Areas to run (``data_quality``, ``01`` or ``01_data_quality``; comma-separated allowed).
    jobs : int, optional
        Notebooks run in parallel; default: the number of cores.
    notebooks_dir : path, optional
        Where the ``NN_area.ipynb`` notebooks are; default ``notebooks/`` of the checkout.
    mapping : path, optional
        Mapping file for an export in its own shape.
    as_of : str, optional
        The data's as-of moment (ISO date); default: the loader's.
    timeout : int or None
        Seconds a notebook cell may run.

    Returns
    -------
    ReviewResult
        ``result.exit_code`` is 0 when all is well, 1 when some part failed.

    Raises
    ------
    ReviewParameterError
        Before anything runs, for a malformed or uncovered quarter, a missing data folder, an unknown area,
        a bad ``jobs``, an unknown or mistyped notebook parameter, a ``compare`` folder without a
        ``metrics.json``, or a URL with a password in it.
    salesops.io.LoadError
        When the data cannot be loaded to find its span (sources other than a canonical folder).
    """
    source = _check_source(data)
    if isinstance(quarter, str) and quarter.strip().lower() not in ("", "latest"):
        try:
            parse_quarter(quarter)
        except QuarterError as exc:
            raise ReviewParameterError(str(exc)) from exc
    try:
        parse_as_of(as_of)
    except ValueError as exc:
        raise ReviewParameterError(str(exc)) from exc
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise ReviewParameterError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    notebooks = _select(list_notebooks(notebooks_dir or default_notebooks_dir()), only)
    if not notebooks:
        raise ReviewParameterError(f"no notebook NN_area.ipynb in {notebooks_dir or default_notebooks_dir()}")
    try:
        extra = check_extra_parameters(params, notebooks)
    except ParameterError as exc:
        raise ReviewParameterError(str(exc)) from exc
    previous_doc = None
    if compare is not None:
        try:
            previous_doc = read_metrics_document(compare)
        except (OSError, ValueError) as exc:
            raise ReviewParameterError(f"--compare: {exc}") from exc
    mapping_text = _check_mapping(mapping)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReviewParameterError(f"output {out} exists and is not a folder")

    started = time.perf_counter()
    loaded = None
    span = cheap_span(source, mapping_text)
    if span is None:
        loaded = _load(source, mapping_text, as_of)  # LoadError propagates: nothing can run without data
        span = loaded_span(loaded)
        if span is None:
            raise ReviewParameterError(f"{_display_source(source)}: the data holds no dated records")
    q = _resolve_quarter(quarter, span)

    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    _clear_previous(out)
    review_title = f"Quarterly review {q}"
    parameters = {"data_path": source, "quarter": str(q), "as_of": as_of or ""}
    if mapping_text:
        parameters["mapping"] = mapping_text

    with tempfile.TemporaryDirectory(prefix="salesops-metrics-") as metrics_tmp:
        tasks = []
        for nb in notebooks:
            title = notebook_title(nbformat.read(nb, as_version=4), area_of(nb).replace("_", " ").capitalize())
            tasks.append(
                NotebookTask(
                    name=nb.stem,
                    title=title,
                    source=str(nb.resolve()),
                    executed=str(out / "notebooks" / nb.name),
                    html=str(out / f"{nb.stem}.html"),
                    metrics_file=str(Path(metrics_tmp) / f"{nb.stem}.jsonl"),
                    parameters={**parameters, **extra.get(nb.stem, {})},
                    review_title=review_title,
                    cwd=str(nb.resolve().parent),
                    timeout=timeout,
                )
            )
        workers = min(jobs or _default_jobs(), len(tasks))
        load_error = None
        if loaded is None:  # load once here; every notebook reads this result back instead of loading again
            try:
                loaded = _load(source, mapping_text, as_of)
            except ValueError as exc:  # LoadError and its subclasses: the notebooks will say so themselves
                load_error = str(exc)
        context = multiprocessing.get_context("spawn")
        with _shared_load(loaded, source, mapping_text, as_of, Path(metrics_tmp)), _ProgressRelay(
            progress, context
        ) as relay, ProcessPoolExecutor(
            max_workers=workers, mp_context=context,
            initializer=set_progress_queue if relay.queue is not None else None,
            initargs=(relay.queue,) if relay.queue is not None else (),
        ) as pool:
            futures = [pool.submit(run_notebook, t) for t in tasks]
            by_future = dict(zip(futures, tasks, strict=True))
            done: dict[str, NotebookOutcome] = {}
            for future in as_completed(futures):
                outcome = _outcome(future, by_future[future])
                done[outcome.name] = outcome
                if progress is not None:
                    progress("done" if outcome.ok else "failed", outcome.name, outcome.seconds, outcome.message)
            outcomes = [done[t.name] for t in tasks]

        quarantine = headline = None
        if loaded is not None:
            quarantine = _write_quarantine(loaded.quality, out)
            headline = _headline(loaded.quality, quarantine)

        problems: list[str] = []
        try:
            merged = merge_records({o.name: read_records(o.metrics_file) for o in outcomes})
        except ValueError as exc:
            merged, problems = {}, [str(exc)]
    document = metrics_document(str(q), merged, {o.name: o.status for o in outcomes})
    metrics_path = write_metrics(out / "metrics.json", document)
    comparison = comparison_label = None
    if previous_doc is not None:
        comparison_label = f"{previous_doc.get('quarter')}, {Path(compare).name or compare}"
        comparison = write_comparison(out, document, previous_doc, previous_label=str(Path(compare)))[1]

    entries = [
        PageEntry(
            name=o.name,
            title=o.title,
            status=o.status,
            html_href=Path(o.html).name if o.html else None,
            notebook_href=f"notebooks/{Path(o.executed).name}" if o.executed else None,
            message=o.message,
        )
        for o in outcomes
    ]
    as_of_text = None
    if loaded is not None and getattr(loaded, "as_of", None) is not None:
        as_of_text = f"{loaded.as_of:%Y-%m-%d %H:%M} UTC"
    index_html = render_index(
        entries,
        quarter=str(q),
        source=_display_source(source),
        as_of=as_of_text,
        quality=headline,
        load_error=load_error,
        problems=problems,
        comparison_href="comparison.html" if comparison is not None else None,
        comparison_label=comparison_label,
    )
    index = out / "index.html"
    index.write_text(index_html, encoding="utf-8")
    return ReviewResult(out, q, outcomes, index, metrics_path, quarantine, load_error, problems, comparison,
                        time.perf_counter() - started)
