"""Many evaluations of one table at once: what a batch (the portfolio) needs of each, and nothing more.

A batch does not read an award's trace, steps or payments' labels: it needs the amount, whether it
is eligible, the failed checks (as notes naming their codes), the basis (the limit that bound), the
payment shares and statuses and how many checks were assumed. ``evaluate_keys`` gives that
``Outcome`` for each key (clause, year, the clause's accepted names, the row's cells), computed with
``policies.engine.evaluate`` so that the amounts and checks are the core's own; the notes are made
once per distinct text (a table of 100,000 rows has a few hundred), so that a large table's outcomes
share them instead of holding one copy a row.

Chunks of keys go to an executor when one is given (``addin.executors``: a process pool or a Dask
cluster): the work is this module's functions on plain, picklable data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import NamedTuple

from .award import Award, Note
from .engine import evaluate
from .errors import GreenAwardError
from .inputs import is_blank
from .parameters import Reform
from .render import binding_line, check_line

#: A key: (clause, year, the clause's names present in the table, the row's cells under those names).
Key = tuple[str, int, tuple[str, ...], tuple]


class Outcome(NamedTuple):
    """One evaluation as a batch needs it; ``amount`` None and ``error`` set when the input is bad."""

    amount: Decimal | None
    eligible: bool
    error: str | None
    failed: tuple[Note, ...]  # each failed check, ``about`` its code
    basis: Note | None  # the limit that bound (or the article), for a granted claim's note
    stages: tuple[tuple[Decimal, str], ...]  # (share, due|pending) of each payment stage
    assumed: int  # how many checks were taken as met


_NOTES: dict[tuple, Note] = {}


def _note(code: str, text: str, cites: str, about: str) -> Note:
    """One Note per distinct content, shared by every outcome that says it."""
    key = (code, text, cites, about)
    found = _NOTES.get(key)
    if found is None:
        if len(_NOTES) > 100_000:  # a bound: distinct bases are few, but a reform may vary them by value
            _NOTES.clear()
        found = _NOTES[key] = Note(code, text, cites=cites, about=about)
    return found


def outcome_of(award: Award) -> Outcome:
    """The batch's part of an award."""
    failed = tuple(_note("ineligible", check_line(c), c.cites, c.code) for c in award.failed)
    basis = _note("basis", binding_line(award) or f"〔{award.article}〕", award.article, award.binding or "")
    assumed = sum(1 for c in award.checks if c.status == "assumed")
    stages = tuple((p.share, p.status) for p in award.payments)
    return Outcome(award.amount, award.eligible, None, failed, basis, stages, assumed)


def inputs_of(names: Sequence[str], values: Sequence[object]) -> dict[str, object]:
    """A row's inputs: its non-empty cells by name (a NaN stays: the core reports it as a bad number)."""
    return {n: v for n, v in zip(names, values) if not (v == "" or is_blank(v))}


def evaluate_key(key: Key, reform: Reform | None = None) -> Outcome:
    clause_id, year, names, values = key
    try:
        award = evaluate(clause_id, on=year, reform=reform, **inputs_of(names, values))
    except GreenAwardError as exc:
        return Outcome(None, False, str(exc), (), None, (), 0)
    return outcome_of(award)


def evaluate_chunk(keys: Sequence[Key], reform: Reform | None = None) -> list[Outcome]:
    """Each key's outcome, in order (the unit of work an executor runs)."""
    return [evaluate_key(key, reform) for key in keys]


Progress = Callable[[int, int], None]
