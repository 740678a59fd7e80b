"""Library warnings turned into sentences, so that no warning text (with its internal file path) reaches a page.

>>> with caught_warnings() as caught:                # doctest: +SKIP
...     panel = build()
>>> panel.missing += caught.sentences("the CLV figures")

Each distinct kind of warning gives one plain sentence naming what happened in words a reader of the report
understands ("a number overflowed"), and what it may affect; the original messages stay available in
``caught.messages`` for a developer.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["CaughtWarnings", "caught_warnings"]

#: Fragments of common numerical warnings and what they mean, in words.
_MEANINGS = (
    ("overflow", "a number grew too large to represent (overflow)"),
    ("underflow", "a number became too small to represent (underflow)"),
    ("divide by zero", "a division by zero"),
    ("invalid value", "an undefined result such as 0/0"),
    ("mean of empty slice", "an average over no values"),
    ("degrees of freedom", "too few values for a spread"),
    ("converge", "an optimiser that did not converge"),
    ("singular", "a matrix that could not be inverted"),
)


@dataclass
class CaughtWarnings:
    """Warnings recorded inside :func:`caught_warnings`.

    Attributes
    ----------
    messages : list of str
        ``Category: message`` of each distinct warning, for developers (not for pages).
    """

    messages: list[str] = field(default_factory=list)
    _meanings: list[str] = field(default_factory=list)

    def add(self, record: warnings.WarningMessage) -> None:
        """Record one warning (duplicates are kept once)."""
        text = str(record.message)
        message = f"{record.category.__name__}: {text}"
        if message in self.messages:
            return
        self.messages.append(message)
        low = f"{record.category.__name__} {text}".lower()
        meaning = next((m for key, m in _MEANINGS if key in low), None)
        if meaning is None:
            meaning = "a numerical warning" if issubclass(record.category, RuntimeWarning) else \
                "a warning from a library"
        if meaning not in self._meanings:
            self._meanings.append(meaning)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def sentences(self, what: str = "the figures of this section") -> list[str]:
        """One sentence for everything caught (empty list when nothing was)."""
        if not self._meanings:
            return []
        found = self._meanings[0] if len(self._meanings) == 1 else \
            ", ".join(self._meanings[:-1]) + " and " + self._meanings[-1]
        return [f"While computing {what} the calculation met {found}; treat these figures with care."]


#: Warnings about the libraries' own API, not about the figures: never said on a page.
_NOT_ABOUT_THE_FIGURES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


@contextmanager
def caught_warnings() -> Iterator[CaughtWarnings]:
    """Record every warning about the figures raised inside the block instead of printing it (deprecation and
    future warnings, which concern the code rather than the numbers, are ignored)."""
    out = CaughtWarnings()
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        for category in _NOT_ABOUT_THE_FIGURES:
            warnings.simplefilter("ignore", category)
        try:
            yield out
        finally:
            for record in records:
                out.add(record)
