"""The ``salesops`` command line.

::

    salesops review   --data PATH --quarter YYYYQn --out DIR [--only AREAS] [--jobs N] [--compare DIR]
                      [--param KEY=VALUE ...] [--force] [--quiet]
    salesops validate --data PATH [--mapping M] [--strict] [--as-of DATE]
    salesops sample   --out DIR [--seed N] [--size sample|N|1x|10x|100x|large]
    salesops whatif   [--data PATH] [--plan PLAN] [--period YEAR] [--host ADDRESS] [--port N] [--idle-minutes N]
    salesops map suggest PATH [--out FILE]

Exit codes: 0 all well, 1 some part failed (a notebook, the data), 2 bad arguments, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _UsageError(Exception):
    """Bad arguments found after parsing; exit code 2."""


def _err(message: str) -> None:
    print(f"salesops: error: {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the command line)."""
    parser = argparse.ArgumentParser(
        prog="salesops",
        description="Sales-operations analysis kit: validate CRM exports, run the quarterly review.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    review = sub.add_parser("review", help="run every area notebook for a quarter and write an HTML report",
                            description="Run every notebooks/NN_area.ipynb for one quarter with Papermill and "
                                        "write DIR/index.html, one page per area, DIR/metrics.json, the "
                                        "executed notebooks and, when rows were rejected, DIR/quarantine/.")
    review.add_argument("--data", default="data/sample", metavar="PATH",
                        help="folder of exports, DuckDB file or database URL (default: data/sample)")
    review.add_argument("--quarter", default="latest", metavar="YYYYQn",
                        help="quarter under review, e.g. 2025Q4; 'latest' (default): the latest complete quarter")
    review.add_argument("--out", default="review", metavar="DIR", help="output folder (default: review)")
    review.add_argument("--only", action="append", metavar="AREAS",
                        help="run only these areas, comma-separated (e.g. data_quality,kpi)")
    review.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="notebooks run in parallel (default: number of cores)")
    review.add_argument("--mapping", default=None, metavar="M",
                        help="mapping preset (salesforce, hubspot, maven_crm) or mapping file")
    review.add_argument("--as-of", default=None, metavar="DATE", help="the data's as-of day (default: the loader's)")
    review.add_argument("--compare", default=None, metavar="PREVIOUS_DIR",
                        help="an earlier review's folder: write comparison.html and comparison.json")
    review.add_argument("--param", action="append", default=None, metavar="KEY=VALUE",
                        help="a further notebook parameter, declared in some notebook's parameters cell "
                             "(repeatable); unknown names are refused with the list of accepted ones")
    review.add_argument("--force", action="store_true",
                        help="write into a non-empty --out that no review's manifest covers (files the "
                             "manifest does not list are never deleted)")
    review.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    review.add_argument("--notebooks", default=None, metavar="DIR", help=argparse.SUPPRESS)

    validate = sub.add_parser("validate", help="load a source and print its data-quality summary",
                              description="Load a source, check every row against the data model and print "
                                          "what was read, accepted and rejected.")
    validate.add_argument("--data", required=True, metavar="PATH",
                          help="folder of exports, DuckDB file or database URL")
    validate.add_argument("--mapping", default=None, metavar="M",
                          help="mapping preset (salesforce, hubspot, maven_crm) or mapping file")
    validate.add_argument("--strict", action="store_true", help="exit 1 when any row is rejected")
    validate.add_argument("--as-of", default=None, metavar="DATE",
                          help="the data's as-of day; records dated after it are rejected")

    sample = sub.add_parser("sample", help="write the synthetic sample CRM",
                            description="Generate the synthetic CRM with its planted effects and write it.")
    sample.add_argument("--out", required=True, metavar="DIR", help="output folder")
    sample.add_argument("--seed", type=int, default=2025, help="random seed (default: 2025)")
    sample.add_argument("--size", default="sample",
                        help="'sample' (default) or a number scaling it: the sample CRM with its planted effects; "
                             "'large' (1M opportunities, 8M history rows, 50M activities, 5M leads), '1x', "
                             "'10x' or '100x' (the sample's row counts times 1, 10, 100): big synthetic Parquet "
                             "without planted effects, for benchmarks, with every table the review reads and "
                             "routing/territory settings naming its own reps")

    whatif = sub.add_parser("whatif", help="serve the comp-plan what-if app as a web page (Voila)",
                            description="Serve the what-if app (quota, rates, cap and SPIF levers over a comp "
                                        "plan) with Voila on 127.0.0.1, for a sales leader without Jupyter. The "
                                        "server has no authentication: to share it, keep it on 127.0.0.1 behind "
                                        "a reverse proxy that authenticates (README, 'The what-if app').")
    whatif.add_argument("--data", default="data/sample", metavar="PATH",
                        help="folder of exports, DuckDB file or database URL (default: data/sample)")
    whatif.add_argument("--plan", default="ae_standard", metavar="PLAN",
                        help="template name (templates/comp_plans) or plan YAML file (default: ae_standard)")
    whatif.add_argument("--period", default=None, metavar="YEAR", help="year or period to model (default: latest year)")
    whatif.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                        help="address to bind (default: 127.0.0.1, this machine only; another address exposes "
                             "the app, which has no authentication, to the network)")
    whatif.add_argument("--port", type=int, default=8866, help="port (default: 8866)")
    whatif.add_argument("--idle-minutes", type=float, default=15, metavar="N",
                        help="shut down a visit's kernel (about 0.6 GB) after N minutes idle with no page open "
                             "(default: 15; 0: keep every kernel until the server stops)")
    whatif.add_argument("--open", action="store_true", help="open a browser")

    mapping = sub.add_parser("map", help="help write a mapping file", description="Help write a mapping file.")
    map_sub = mapping.add_subparsers(dest="map_command", required=True, metavar="ACTION")
    suggest = map_sub.add_parser("suggest", help="print a draft mapping guessed from an export's headers and values",
                                 description="Read the headers and a sample of values of every file of PATH and "
                                             "print a draft mapping YAML: the canonical table and column guessed "
                                             "for each, with the confidence and the alternatives as comments, "
                                             "date conventions detected, unmatched required columns as TODO.")
    suggest.add_argument("path", metavar="PATH", help="folder of exports or one file")
    suggest.add_argument("--out", default=None, metavar="FILE", help="write the YAML here instead of stdout")
    return parser


def _check_as_of(text: str | None) -> None:
    from salesops.periods import parse_as_of

    try:
        parse_as_of(text)
    except ValueError as exc:
        raise _UsageError(f"--{exc}") from exc


def _check_source(data: str) -> None:
    from salesops.io.urls import SecretInUrlError, check_url_secrets
    from salesops.span import is_database_url

    if is_database_url(data):
        try:
            check_url_secrets(data)
        except SecretInUrlError as exc:
            raise _UsageError(str(exc)) from None
    elif not Path(data).exists():
        raise _UsageError(f"data folder {data} does not exist")


_PROGRESS_LOCK = threading.Lock()


def _print_progress(event: str, name: str, seconds: float, message: str | None) -> None:
    """One line per notebook event on stderr: started / done in N s / failed in N s: message."""
    if event == "started":
        line = f"[review] {name}: started"
    elif event == "done":
        line = f"[review] {name}: done in {seconds:.1f} s"
    else:
        line = f"[review] {name}: failed in {seconds:.1f} s" + (f": {message}" if message else "")
    with _PROGRESS_LOCK:  # events arrive from two threads; one write per line keeps lines whole
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _cmd_review(args: argparse.Namespace) -> int:
    from salesops.execution.parameters import ParameterError, parse_assignments
    from salesops.io import LoadError
    from salesops.review import ReviewInterrupted, ReviewParameterError, run_review

    _check_source(args.data)
    _check_as_of(args.as_of)
    try:
        params = parse_assignments(args.param)
    except ParameterError as exc:
        raise _UsageError(str(exc)) from exc
    try:
        result = run_review(args.data, args.quarter, args.out, only=args.only, jobs=args.jobs,
                            notebooks_dir=args.notebooks, mapping=args.mapping, as_of=args.as_of,
                            params=params, compare=args.compare, force=args.force,
                            progress=None if args.quiet else _print_progress)
    except ReviewParameterError as exc:
        raise _UsageError(str(exc)) from exc
    except ReviewInterrupted as exc:  # Ctrl-C: the queue was dropped, the workers and kernels killed
        print(f"salesops: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except LoadError as exc:
        _err(f"the data cannot be loaded: {exc}")
        return EXIT_FAILED
    for page in result.pages:
        line = f"  {page.status.replace('_', ' '):<6} {page.name}"
        print(line + (f": {page.message}" if page.message else ""))
    if result.load_error:
        _err(f"the data cannot be loaded: {result.load_error}")
    for problem in result.problems:
        _err(problem)
    if result.quarantine is not None:
        print(f"rejected rows: {result.quarantine}")
    not_applicable = sum(p.status == "not_applicable" for p in result.pages)
    ok_pages = len(result.pages) - len(result.failed) - not_applicable
    print(f"review {result.quarter}: {ok_pages} of {len(result.pages)} pages ok"
          + (f", {not_applicable} not applicable to these data" if not_applicable else ""))
    print(f"index: {result.index}")
    if result.comparison is not None:
        print(f"comparison: {result.comparison}")
    if not result.ok:
        _err(f"{len(result.failed)} page(s) failed; see {result.index}")
    return result.exit_code


def _cmd_validate(args: argparse.Namespace) -> int:
    import salesops
    from salesops.io import LoadError, ValidationError

    _check_source(args.data)
    from salesops.review import looks_like_path

    _check_as_of(args.as_of)
    if args.mapping and looks_like_path(args.mapping) and not Path(args.mapping).is_file():
        raise _UsageError(f"mapping file {args.mapping} does not exist")
    try:
        data = salesops.load(args.data, mapping=args.mapping, strict=args.strict, as_of=args.as_of)
    except ValidationError as exc:
        print(exc.report.summary())
        _err(f"the load is not clean (--strict): {exc}")
        return EXIT_FAILED
    except LoadError as exc:
        _err(str(exc))
        return EXIT_FAILED
    print(data.quality.summary())
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace) -> int:
    from salesops import sample
    from salesops.sample.large import LARGE_PRESETS, write_large

    if args.size in LARGE_PRESETS:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise _UsageError(f"--out {args.out}: exists and is not a folder")
        rows = write_large(out, size=args.size, seed=args.seed, progress=sys.stderr.isatty())
        for table, n in rows.items():
            print(f"{table:<22}{n:>14,} rows")
        print("routing.yaml, territories.yaml: the review's settings, naming only these reps")
        print(f"large synthetic CRM (seed {args.seed}, size {args.size}, Parquet) written to {out.resolve()}")
        return EXIT_OK
    try:
        crm = sample.generate(seed=args.seed, size=args.size)
    except ValueError as exc:  # e.g. an unknown size preset
        raise _UsageError(str(exc)) from exc
    written = sample.write(crm, args.out)
    print(f"sample CRM (seed {args.seed}, size {args.size}) written to {Path(args.out).resolve()}")
    if isinstance(written, list | tuple):
        print(f"{len(written)} files")
    return EXIT_OK


def _cmd_whatif(args: argparse.Namespace) -> int:
    import subprocess

    from salesops.comp.plan import PlanError, load_plan
    from salesops.whatif.serve import voila_command, voila_env

    _check_source(args.data)
    try:
        load_plan(args.plan)
    except (PlanError, FileNotFoundError) as exc:
        raise _UsageError(f"--plan: {exc}") from exc
    if not 0 < args.port < 65536:
        raise _UsageError(f"--port must be between 1 and 65535, got {args.port}")
    if not args.idle_minutes >= 0:
        raise _UsageError(f"--idle-minutes must be 0 or more, got {args.idle_minutes}")
    host = args.host.strip()
    if not host or any(c.isspace() or c in "/?#@" for c in host):
        raise _UsageError(f"--host must be an address or host name such as 127.0.0.1, got {args.host!r}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: --host {host}: the what-if app has no authentication; anyone who can reach "
              f"{host}:{args.port} sees the comp data. Prefer 127.0.0.1 behind an authenticating reverse proxy.",
              file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(f"what-if app on http://{shown}:{args.port}/ (Ctrl-C stops it; errors are logged here)")
    idle = max(1, round(args.idle_minutes * 60)) if args.idle_minutes else 0
    return subprocess.call(voila_command(args.port, ip=host, open_browser=args.open, idle_timeout=idle),
                           env=voila_env(args.data, args.plan, args.period))


def _cmd_map(args: argparse.Namespace) -> int:
    from salesops.io import LoadError
    from salesops.io.suggest import render, suggest

    path = Path(args.path)
    if not path.exists():
        raise _UsageError(f"{args.path} does not exist; expected a folder of exports or one file")
    try:
        text = render(suggest(path), name=path.stem if path.is_file() else path.resolve().name)
    except LoadError as exc:
        _err(str(exc))
        return EXIT_FAILED
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise _UsageError(f"--out {args.out}: is a folder; expected a file name")
    out.write_text(text, encoding="utf-8")
    print(f"draft mapping written to {out}; check every TODO, then: salesops validate --data {args.path} "
          f"--mapping {out}", file=sys.stderr)
    return EXIT_OK


_COMMANDS = {"review": _cmd_review, "validate": _cmd_validate, "sample": _cmd_sample, "whatif": _cmd_whatif,
             "map": _cmd_map}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 all well, 1 some part failed, 2 bad arguments, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    if getattr(args, "jobs", None) is not None and args.jobs < 1:
        _err(f"--jobs must be at least 1, got {args.jobs}")
        return EXIT_USAGE
    try:
        return _COMMANDS[args.command](args)
    except _UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("salesops: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
