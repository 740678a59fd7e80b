"""Random streams and balanced uniforms.

Every part of the generator draws from its own child generator, derived from the seed and the part's name,
so that adding draws to one part never shifts the numbers of another.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the child generator of ``seed`` for the part called ``name``.

    Parameters
    ----------
    seed : int
        The sample's seed.
    name : str
        A stable name for one part of the generator (``"leads.funnel"``).

    Returns
    -------
    numpy.random.Generator
        ``default_rng`` over a ``SeedSequence(seed)`` child whose spawn key is the CRC-32 of ``name``.
    """
    seq = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode("utf-8")),))
    return np.random.default_rng(seq)


def stratified_uniform(rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
    """Uniform numbers that are spread evenly inside each group of ``keys``.

    Each value is marginally U(0, 1), but in a group of ``n`` values exactly one falls in each interval
    ``[k/n, (k+1)/n)`` (in random order). Bernoulli draws made with them (``u < p``) then hit their expected
    count within about one in every group, so planted rates show up in the realised data with little noise.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    keys : numpy.ndarray
        Integer group key per value.

    Returns
    -------
    numpy.ndarray
        One float per key.
    """
    keys = np.asarray(keys, dtype=np.int64)
    n = len(keys)
    if n == 0:
        return np.empty(0)
    order = np.lexsort((rng.random(n), keys))
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    sizes = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(len(starts)), sizes)
    rank = np.arange(n) - starts[group]
    out = np.empty(n)
    out[order] = (rank + rng.random(n)) / sizes[group]
    return out


def lognormal(rng: np.random.Generator, median: float | np.ndarray, sigma: float, size: int) -> np.ndarray:
    """Log-normal draws given their median (not their mean)."""
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(size))


def choice_codes(rng: np.random.Generator, probs: np.ndarray | list[float], size: int) -> np.ndarray:
    """Draw integer codes ``0..len(probs)-1`` with the given probabilities (normalised)."""
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """Median of ``x`` with non-negative weights ``w``."""
    if len(x) == 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cw, 0.5 * cw[-1])])
