"""What each page shows, read from the ledger (and the policy catalog): plain data for the templates and the API.

What a submission stands at, the room under the caps and what the rules allow now are the ledger's
own (``repository.standing``, ``repository.show``, ``repository.allowed``): the web app re-decides
nothing. A submission's findings come from the batch report that recorded it (the entries of
``review --json``: structured ``findings`` when the review gives them, else ``problems`` with their
``codes`` and ``warnings``), or from the ledger's ``findings`` rows for a submission recorded
elsewhere (``green-award review --ledger``, an import).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import selectinload

from policies import catalog
from policies.engine import find_clause
from policies.ledger_rules import EVENT_CAPS, event_key
from policies.registry import policies

from ..ledger.db import Ledger, LedgerError
from ..ledger.models import Batch, Decision, Enterprise, Finding, Submission
from ..ledger.repository import allowed, show, standing
from .auth import utc

#: What a submission stands at, as reviewers read it: state -> (中文, English).
STATES = {
    "passed": ("待决定", "passed review, to decide"),
    "failed": ("未通过", "failed review"),
    "granted": ("已批准", "granted"),
    "reduced": ("已核减", "reduced"),
    "rejected": ("已驳回", "rejected"),
    "void": ("已作废", "void: resubmitted"),
}
ACTIONS = {
    "granted": ("批准", "granted"),
    "reduced": ("核减", "reduced"),
    "rejected": ("驳回", "rejected"),
    "void": ("作废", "void"),
}
#: Each policy's short name in both languages, from its policy file (a new district's needs no code).
POLICY_NAMES = {p.id: (p.label.zh, p.label.en) for p in policies().values()}
SORTS = ("id", "recorded_at", "enterprise", "clause", "year", "declared", "recomputed", "granted", "state")
_CITED = re.compile(r"ledger #(\d+)")
ZERO = Decimal("0.00")


class NotFound(LookupError):
    pass


# --- the inbox ---------------------------------------------------------------------------------------


def batch_ledger_ids(ledger: Ledger, batch_id: int) -> list[int]:
    with ledger.read() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise NotFound(f"no batch #{batch_id}")
        return [e["ledger_id"] for e in batch.report or [] if isinstance(e, dict) and e.get("ledger_id")]


def inbox(
    ledger: Ledger,
    *,
    state: str = "",
    policy: str = "",
    q: str = "",
    year: int | None = None,
    batch: int | None = None,
    flagged: bool = False,
    sort: str = "id",
    order: str = "desc",
    page: int = 1,
    per_page: int = 100,
) -> dict:
    """The submissions on record, filtered and sorted (what they stand at is derived, so filtered here)."""
    ids = batch_ledger_ids(ledger, batch) if batch else None
    with ledger.read() as session:
        query = (
            select(Submission)
            .join(Enterprise, Submission.enterprise_id == Enterprise.id)
            .options(
                selectinload(Submission.decisions),
                selectinload(Submission.enterprise),
                selectinload(Submission.project),
            )
        )
        if ids is not None:
            query = query.where(Submission.id.in_(ids or [-1]))
        if policy:
            query = query.where(Submission.clause.like(policy.replace("%", "") + ":%"))
        if year:
            query = query.where(Submission.year == year)
        text = q.strip()
        if text:
            like = f"%{text.replace('%', '').replace('_', '')}%"
            query = query.where(
                or_(
                    Enterprise.name.ilike(like),
                    Enterprise.uscc.ilike(like),
                    Submission.file.ilike(like),
                    Submission.clause.ilike(like),
                )
            )
        subs = list(session.scalars(query))
        counts: dict[int, dict[str, int]] = defaultdict(dict)
        if subs:
            for sid, kind, n in session.execute(
                select(Finding.submission_id, Finding.kind, func.count())
                .where(Finding.submission_id.in_([s.id for s in subs]))
                .group_by(Finding.submission_id, Finding.kind)
            ):
                counts[sid][kind] = n
        years = sorted({y for (y,) in session.execute(select(Submission.year).distinct())})
        rows: list[dict[str, Any]] = []
        for sub in subs:
            stand = standing(sub)
            if state and stand.state != state:
                continue
            problems, warnings = counts[sub.id].get("problem", 0), counts[sub.id].get("warning", 0)
            if flagged and not (problems or warnings):
                continue
            rows.append(
                {
                    "id": sub.id,
                    "file": sub.file,
                    "enterprise": sub.enterprise.name,
                    "uscc": sub.enterprise.uscc,
                    "project": sub.project.code,
                    "clause": sub.clause,
                    "policy": sub.clause.split(":")[0],
                    "year": sub.year,
                    "declared": sub.declared_yuan,
                    "recomputed": sub.recomputed_yuan,
                    "granted": stand.amount,
                    "state": stand.state,
                    "recorded_at": utc(sub.recorded_at),
                    "problems": problems,
                    "warnings": warnings,
                }
            )
    key = {
        "id": lambda r: r["id"],
        "recorded_at": lambda r: (r["recorded_at"], r["id"]),
        "enterprise": lambda r: (r["enterprise"], r["id"]),
        "clause": lambda r: (_clause_key(r["clause"]), r["id"]),
        "year": lambda r: (r["year"], r["id"]),
        "declared": lambda r: (r["declared"] or ZERO, r["id"]),
        "recomputed": lambda r: (r["recomputed"] or ZERO, r["id"]),
        "granted": lambda r: (r["granted"], r["id"]),
        "state": lambda r: (r["state"], r["id"]),
    }[sort if sort in SORTS else "id"]
    rows.sort(key=key, reverse=order != "asc")
    total = len(rows)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    return {
        "rows": rows[(page - 1) * per_page : page * per_page],
        "total": total,
        "page": page,
        "pages": pages,
        "years": years,
        "totals": {k: sum((r[k] or ZERO for r in rows), ZERO) for k in ("declared", "recomputed", "granted")},
    }


def _clause_key(clause: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", clause)]


# --- one submission ----------------------------------------------------------------------------------


def _as_list(value) -> list[str]:  # noqa: ANN001
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]


def finding(f) -> dict:  # noqa: ANN001
    """One finding of a review entry as the page shows it, whatever shape the review gives it."""
    if not isinstance(f, dict):
        return {
            "severity": "problem",
            "code": "",
            "zh": "",
            "en": "",
            "text": str(f),
            "cites": [],
            "cells": [],
            "refers_to": [],
        }
    message = f.get("message")
    zh = f.get("zh") or (message.get("zh") if isinstance(message, dict) else "") or ""
    en = f.get("en") or (message.get("en") if isinstance(message, dict) else "") or ""
    text = f.get("text") or (message if isinstance(message, str) else "") or ""
    severity = str(f.get("severity") or f.get("kind") or "problem")
    return {
        "severity": severity,
        "code": str(f.get("code") or ""),
        "zh": str(zh),
        "en": str(en),
        "text": str(text),
        "cites": _as_list(f.get("cites") or f.get("article")),
        "cells": _as_list(f.get("cells")),
        "refers_to": _as_list(f.get("refers_to")),
        "source": str(f.get("source") or ""),
    }


def findings_of(entry: dict | None, rows: Iterable[Finding]) -> list[dict]:
    """The review entry's findings (structured when it has them), else the ledger's rows."""
    if entry is not None and isinstance(entry.get("findings"), list):
        return [finding(f) for f in entry["findings"]]
    if entry is not None:
        codes = entry.get("codes") or []
        out = [
            finding({"severity": "problem", "code": codes[i] if i < len(codes) else "", "text": text})
            for i, text in enumerate(entry.get("problems") or [])
        ]
        return out + [finding({"severity": "warning", "text": text}) for text in entry.get("warnings") or []]
    return [finding({"severity": r.kind, "text": r.text, "source": r.source}) for r in rows]


def from_ledger(f: dict) -> bool:
    """Whether a finding came from the ledger (the rules against the record), not from the file: its
    ``source`` (the ledger's rows), its code (``ledger…``: ``addin.ledger.review``) or the grants on record
    it refers to (``ledger #N``)."""
    return f["source"] == "ledger" or f["code"].startswith("ledger") or any(_CITED.match(r) for r in f["refers_to"])


def said(entry: dict) -> list[str]:
    """What a batch report entry found, as lines: its findings when it has them, else its problems and warnings."""
    if isinstance(entry.get("findings"), list):
        out = []
        for f in map(finding, entry["findings"]):
            out.append(" / ".join(x for x in (f["zh"], f["en"]) if x) or f["text"])
        return out
    return [*(entry.get("problems") or []), *(entry.get("warnings") or [])]


def entry_for(ledger: Ledger, submission_id: int, sha256: str) -> tuple[int, dict] | tuple[None, None]:
    """The latest batch report entry of this submission (by its ledger id and its file's hash)."""
    with ledger.read() as session:
        for batch in session.scalars(select(Batch).where(Batch.status == "done").order_by(Batch.id.desc())):
            for entry in batch.report or []:
                if (
                    isinstance(entry, dict)
                    and entry.get("ledger_id") == submission_id
                    and entry.get("sha256") in (None, sha256)
                ):
                    return batch.id, entry
    return None, None


def require_submission(ledger: Ledger, submission_id: int) -> None:
    with ledger.read() as session:
        if session.get(Submission, submission_id) is None:
            raise NotFound(f"no submission #{submission_id} in the ledger / 账本中无此申报")


def submission(ledger: Ledger, submission_id: int) -> dict:
    with ledger.read() as session:
        sub = session.get(
            Submission,
            submission_id,
            options=[
                selectinload(Submission.decisions),
                selectinload(Submission.findings),
                selectinload(Submission.payments),
                selectinload(Submission.enterprise),
                selectinload(Submission.project),
            ],
        )
        if sub is None:
            raise NotFound(f"no submission #{submission_id} in the ledger / 账本中无此申报")
        stand = standing(sub)
        voided = {d.voids_id for d in sub.decisions if d.action == "void"}
        try:
            room, why = allowed(session, sub) if stand.state != "void" else (ZERO, [])
        except Exception as exc:  # noqa: BLE001 - the page still shows; deciding will say why
            room, why = None, [f"{type(exc).__name__}: {exc}"]
        rows = list(sub.findings)
        cited = sorted({int(n) for f in rows for n in _CITED.findall(f.text)} - {sub.id})
        event = event_key(sub.event) if sub.clause in EVENT_CAPS else ""
        others = session.scalars(
            select(Submission)
            .options(
                selectinload(Submission.decisions),
                selectinload(Submission.enterprise),
                selectinload(Submission.project),
            )
            .where(
                or_(
                    Submission.enterprise_id == sub.enterprise_id,
                    Submission.id.in_(cited or [-1]),
                    (Submission.clause == sub.clause) & (Submission.event == sub.event) if event else false(),
                )
            )
            .where(Submission.id != sub.id)
            .order_by(Submission.year, Submission.id)
        )
        earlier = []
        for other in others:
            st = standing(other)
            earlier.append(
                {
                    "id": other.id,
                    "file": other.file,
                    "enterprise": other.enterprise.name,
                    "uscc": other.enterprise.uscc,
                    "project": other.project.code,
                    "clause": other.clause,
                    "year": other.year,
                    "state": st.state,
                    "granted": st.amount,
                    "cited": other.id in cited,
                    "same_project": other.project_id == sub.project_id,
                }
            )
        data: dict[str, Any] = {
            "id": sub.id,
            "file": sub.file,
            "sha256": sub.sha256,
            "enterprise": sub.enterprise.name,
            "uscc": sub.enterprise.uscc,
            "project": sub.project.code,
            "project_name": sub.project.name or "",
            "clause": sub.clause,
            "year": sub.year,
            "event": sub.event,
            "inputs": sub.inputs,
            "declared": sub.declared_yuan,
            "recomputed": sub.recomputed_yuan,
            "reviewed": sub.reviewed_yuan,
            "passed": sub.passed,
            "source": sub.source,
            "recorded_at": utc(sub.recorded_at),
            "recorded_by": sub.recorded_by,
            "replaces": sub.replaces_id,
            "state": stand.state,
            "granted": stand.amount,
            "allowed": room,
            "allowed_why": why,
            "decisions": [
                {
                    "id": d.id,
                    "action": d.action,
                    "amount": d.amount,
                    "reviewer": d.reviewer,
                    "reason": d.reason,
                    "time": utc(d.decided_at),
                    "voids": d.voids_id,
                    "voidable": d.action != "void" and d.id not in voided,  # as ``repository.void`` allows
                }
                for d in sub.decisions
            ],
            "payments": [
                {
                    "stage": p.stage,
                    "due_year": p.due_year,
                    "amount": p.amount,
                    "status": p.status,
                    "paid": p.paid,
                    "decision": p.decision_id,
                }
                for p in _standing_payments(sub, stand)
            ],
            "earlier": earlier,
            "ledger_findings": rows,
        }
        replaced_by = session.scalar(select(Submission.id).where(Submission.replaces_id == sub.id))
    data["replaced_by"] = replaced_by
    batch_id, entry = entry_for(ledger, submission_id, data["sha256"])
    data["batch"] = batch_id
    data["entry"] = entry
    data["findings"] = findings_of(entry, data.pop("ledger_findings"))
    for f in data["findings"]:
        f["links"] = sorted({int(n) for part in (f["text"], f["en"], *f["refers_to"]) for n in _CITED.findall(part)})
        f["ledger"] = from_ledger(f)
    data["clause_info"] = clause_summary(data["clause"])
    return data


def _standing_payments(sub: Submission, stand) -> list:  # noqa: ANN001
    """The payment stages of what the submission stands at (those of its standing decision, or of the review's grant)."""
    if stand.amount <= 0:
        return []
    if stand.decision is not None:
        return [p for p in sub.payments if p.decision_id == stand.decision.id]
    return [p for p in sub.payments if p.decision_id is None]


def decision_data(decision: Decision) -> dict:
    return {
        "id": decision.id,
        "submission": decision.submission_id,
        "action": decision.action,
        "amount": None if decision.amount is None else float(decision.amount),
        "reviewer": decision.reviewer,
        "reason": decision.reason,
        "time": utc(decision.decided_at).isoformat(),
        "voids": decision.voids_id,
    }


def submission_of(ledger: Ledger, decision_id: int) -> int:
    """The submission a decision is on."""
    with ledger.read() as session:
        decision = session.get(Decision, decision_id)
        if decision is None:
            raise NotFound(f"no decision #{decision_id} in the ledger / 账本中无此决定")
        return decision.submission_id


# --- enterprises -------------------------------------------------------------------------------------


def enterprise(ledger: Ledger, uscc: str) -> dict:
    """``repository.show`` (claims by year, the room under each cap), with what is still payable by year."""
    try:
        info = show(ledger, uscc)
    except LedgerError as exc:
        raise NotFound(str(exc)) from None
    with ledger.read() as session:
        subs = session.scalars(
            select(Submission)
            .join(Enterprise, Submission.enterprise_id == Enterprise.id)
            .where(Enterprise.uscc == info["uscc"])
            .options(selectinload(Submission.decisions), selectinload(Submission.payments))
        )
        payable: dict[int, dict[str, Decimal]] = {}
        for sub in subs:
            for p in _standing_payments(sub, standing(sub)):
                if not p.paid:
                    row = payable.setdefault(p.due_year, {"due": ZERO, "pending": ZERO})
                    row[p.status if p.status in row else "due"] += p.amount
    info["payable"] = [
        {"year": y, **payable[y], "total": payable[y]["due"] + payable[y]["pending"]} for y in sorted(payable)
    ]
    info["granted_total"] = sum((s["granted_yuan"] for y in info["years"] for s in y["submissions"]), ZERO)
    return info


# --- batches -----------------------------------------------------------------------------------------


def batch_summary(report: list) -> dict:
    counts = {"pass": 0, "fail": 0, "skipped": 0}
    granted = ZERO
    for entry in report or []:
        counts[entry.get("status", "fail") if entry.get("status") in counts else "fail"] += 1
        granted += Decimal(str(entry.get("granted_yuan") or 0))
    return {**counts, "granted": granted}


def batches(ledger: Ledger, limit: int = 50) -> list[dict]:
    with ledger.read() as session:
        return [
            {
                "id": b.id,
                "created_by": b.created_by,
                "created_at": utc(b.created_at),
                "status": b.status,
                "files": b.files,
                "summary": batch_summary(b.report),
                "error": b.error,
            }
            for b in session.scalars(select(Batch).order_by(Batch.id.desc()).limit(limit))
        ]


def batch(ledger: Ledger, batch_id: int) -> dict:
    with ledger.read() as session:
        b = session.get(Batch, batch_id)
        if b is None:
            raise NotFound(f"no batch #{batch_id} / 无此批次")
        return {
            "id": b.id,
            "created_by": b.created_by,
            "created_at": utc(b.created_at),
            "finished_at": utc(b.finished_at) if b.finished_at else None,
            "status": b.status,
            "files": b.files,
            "error": b.error,
            "report": list(b.report or []),
            "summary": batch_summary(b.report),
        }


def batch_workbook(ledger: Ledger, batch_id: int) -> bytes | None:
    """The batch's review workbook (written when its review was done); None while it is not."""
    with ledger.read() as session:
        b = session.get(Batch, batch_id)
        if b is None:
            raise NotFound(f"no batch #{batch_id} / 无此批次")
        return b.report_xlsx if b.status == "done" else None


# --- the policy catalog ------------------------------------------------------------------------------


def clause_summary(clause_id: str) -> dict | None:
    try:
        policy, clause = find_clause(clause_id)
    except Exception:  # noqa: BLE001 - a clause an older catalog had
        return None
    return {
        "id": clause.id,
        "policy": policy.id,
        "article": clause.article,
        "title_zh": clause.title.zh,
        "title_en": clause.title.en,
        "source": clause.source,
    }


def policy_catalog() -> list[dict]:
    out = []
    for policy in policies().values():
        out.append(
            {
                "id": policy.id,
                "title_zh": policy.title.zh,
                "title_en": policy.title.en,
                "number": policy.number or "",
                "clauses": [row for row in catalog(policy.id)],
            }
        )
    return out


def clause_page(clause_id: str) -> dict:
    """One clause in full, as ``green-award clauses CLAUSE`` shows it (``addin.clause_view``)."""
    from ..clause_view import clause_details

    return clause_details(clause_id)
