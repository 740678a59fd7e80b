"""``python -m salesops.sample --out DIR [--seed N] [--size S]``: generate and write a sample CRM."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .crm import generate
from .writer import write


def _size(text: str) -> str | float:
    if text in ("sample", "large"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'sample' or a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad arguments)."""
    parser = argparse.ArgumentParser(
        prog="python -m salesops.sample",
        description="Generate the synthetic sample CRM (with truth.json) into a folder.",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder to write (created if missing)")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    parser.add_argument(
        "--size", type=_size, default="sample", help="'sample' (default) or a float scaling the row counts"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        crm = generate(seed=args.seed, size=args.size)
    except ValueError as exc:
        parser.error(str(exc))
    generated = time.perf_counter()
    paths = write(crm, args.out)
    written = time.perf_counter()
    total = sum(p.stat().st_size for p in paths)
    for name, df in crm.tables.items():
        print(f"{name:<22}{len(df):>10,} rows")
    print(
        f"wrote {len(paths)} files ({total / 1e6:.1f} MB) to {args.out} "
        f"in {generated - start:.1f} s + {written - generated:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
