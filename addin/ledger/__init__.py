"""The claims ledger (issue 11): grants on record across years and review batches, in SQLite or PostgreSQL.

``db`` opens, creates and migrates a ledger; ``models`` are its tables; ``repository`` is what the
CLI (``cli``) and a later web app do with it; ``export`` writes it out. See docs/ledger.md.
Nothing here is imported until a ledger is named, so the other commands do not load SQLAlchemy.
"""

from __future__ import annotations

import os

ENV = "GREEN_AWARD_LEDGER"
#: The head of the review's messages that come from the ledger (the rules against the record), as the review
#: report shows them ("中文 English: …"). Data does not depend on it: the ledger stores ``findings.source``.
LEDGER_MARK = "账本 Ledger: "


def target_of(given: str | os.PathLike | None) -> str | None:
    """The ledger named by ``--ledger`` or else by ``GREEN_AWARD_LEDGER``; None when neither."""
    if given is not None and str(given).strip():
        return str(given).strip()
    env = os.environ.get(ENV, "").strip()
    return env or None


def grants_on_record(target: str | None):
    """The grants on record of the ledger named by ``target`` or ``GREEN_AWARD_LEDGER``; None when neither."""
    if target_of(target) is None:
        return None
    from .db import open_ledger
    from .repository import record_of

    ledger = open_ledger(target)
    try:
        return record_of(ledger)
    finally:
        ledger.close()
