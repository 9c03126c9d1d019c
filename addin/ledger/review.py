"""``green-award review DIR --ledger L``: record each reviewed submission and check it against the grants on record.

The review itself is unchanged (``addin.review``: each file, then the rules within the batch); this
records the batch in one transaction (``repository.record``: idempotent on each file's sha256) and
brings back what the rules across the record say: a duplicate of a grant on record, 从优 or a
conflict with an earlier grant, tongzhou:8's years, and the room the caps leave. Each submission's
``granted_yuan`` becomes what remains after them, its findings cite the earlier claims, and it
carries its ledger id. The same file reviewed again records nothing new and reports the outcome
on record (including any reviewer's decision since).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from policies.uscc import validate_uscc

from . import LEDGER_MARK, target_of


def open_for_review(target: str | None):
    """The ledger named by ``--ledger`` or ``GREEN_AWARD_LEDGER``, opened before the review starts; None when none
    (then SQLAlchemy is not even imported)."""
    if target_of(target) is None:
        return None
    from .db import open_ledger

    return open_ledger(target)


def record_review(ledger, subs: Sequence, *, recorded_by: str | None = None, files: Sequence | None = None) -> None:
    """Record ``subs`` (``addin.review.Submission``) and apply the ledger's outcome to each, in place.

    ``files``: each submission's file on disk, where ``sub.file`` is a name shown instead (an upload)."""
    from .repository import record

    items, recorded = [], []
    for sub, path in zip(subs, files if files is not None else [s.file for s in subs]):
        item = _item(sub, path)
        if item is None:
            sub.warning(
                "ledger_not_recorded",
                LEDGER_MARK + "not recorded: it needs a readable file with a valid credit code, "
                "project, clause and year / 未记录：缺少有效的信用代码、项目、条款或年度",
            )
            continue
        items.append(item)
        recorded.append(sub)
    if not items:
        return
    outcomes = record(ledger, items, recorded_by=recorded_by if recorded_by is not None else os.environ.get("USER", ""))
    for sub, outcome in zip(recorded, outcomes):
        sub.ledger_id = outcome.submission
        codes = outcome.codes if len(outcome.codes) == len(outcome.problems) else ["ledger"] * len(outcome.problems)
        for code, text in zip(codes, outcome.problems):
            sub.problem(code, LEDGER_MARK + text, refers_to=outcome.refers_to)
        for text in outcome.warnings:
            sub.warning("ledger", LEDGER_MARK + text, refers_to=outcome.refers_to)
        if not outcome.new:
            sub.warning(
                "ledger_on_record",
                f"{LEDGER_MARK}the same file is on record as #{outcome.submission}; nothing new "
                "recorded / 同一文件已记录",
            )
        sub.ok = sub.ok and outcome.passed
        sub.granted_yuan = outcome.granted if sub.ok else (Decimal("0.00") if sub.clause else sub.granted_yuan)


def _item(sub, path):
    from .repository import Item, sha256_of

    if sub.refused or not (sub.clause and sub.project and sub.year and sub.uscc):
        return None
    try:
        uscc = validate_uscc(sub.uscc)
        sha256 = sub.sha256 or sha256_of(Path(path).read_bytes())  # the review's, of the bytes it read
    except (ValueError, OSError):
        return None
    return Item(
        file=sub.file,
        sha256=sha256,
        uscc=uscc,
        enterprise=sub.enterprise or "",
        project=sub.project,
        clause=sub.clause,
        year=sub.year,
        inputs=dict(sub.inputs),
        declared=sub.declared_yuan,
        recomputed=sub.recomputed_yuan,
        passed=sub.ok,
        granted=sub.granted_yuan,
        problems=list(sub.problems),
        warnings=list(sub.warnings),
    )
