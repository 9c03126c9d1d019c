"""What the ledger does, as functions the CLI and a later web app share; each one is one transaction.

The ledger stores facts and never re-decides them: a submission as reviewed, what the review and the
rules across the record found, and the reviewers' decisions (append-only). What a submission
*stands at* is derived (``standing``): a void of the whole submission (a resubmission replaced it)
makes it nothing; else its latest decision that is not voided; else the review's granted amount if
it passed; else nothing. Those amounts are the grants on record (``policies.ledger_rules.Record``)
that the rules across years, batches and enterprises deduct and cite.

Recording and deciding use the room under caps, so they run in ``Ledger.write()`` (serialised): the
record is read, the rules applied and the result written in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from policies import evaluate
from policies.errors import GreenAwardError
from policies.ledger_rules import EVENT_CAPS, FROM_RECORD, REPEATS, Grant, Record, event_key, parameter, room_left
from policies.numbers import round_yuan, to_decimal
from policies.payments import amounts
from policies.uscc import validate_uscc

from .db import Ledger, LedgerError, first_line
from .models import Decision, Enterprise, Finding, Payment, Project, Submission

RESUBMITTED = "resubmitted"
ZERO = Decimal("0.00")


# --- what is recorded, and what comes back --------------------------------------------------------------


@dataclass
class Item:
    """One submission to record: a reviewed declaration, or a row of a past season's table."""

    file: str
    sha256: str
    uscc: str
    enterprise: str
    project: str
    clause: str
    year: int
    inputs: dict
    declared: Decimal | None
    recomputed: Decimal | None
    passed: bool
    granted: Decimal | None = None  # the review's (within its batch); ``record`` applies the record's rules
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    project_name: str | None = None


@dataclass
class Outcome:
    """What the ledger says of an item: its id, whether it is new, and what it stands at."""

    submission: int
    new: bool
    passed: bool
    granted: Decimal
    problems: list[str] = field(default_factory=list)  # from the rules against the record
    warnings: list[str] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # each problem's rule (duplicate, superseded, conflict...)
    refers_to: list[str] = field(default_factory=list)  # the grants on record the rules name


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plain(value: object) -> object:
    """A JSON-safe input value (Decimal as its text, dates as ISO)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# --- standing: what each submission stands at -----------------------------------------------------------


@dataclass
class Standing:
    state: str  # granted | reduced | rejected | void | passed | failed
    amount: Decimal
    decision: Decision | None = None


def standing(sub: Submission) -> Standing:
    decisions = sub.decisions
    if any(d.action == "void" and d.voids_id is None for d in decisions):
        return Standing("void", ZERO)
    voided = {d.voids_id for d in decisions if d.action == "void"}
    live = [d for d in decisions if d.action != "void" and d.id not in voided]
    if live:
        last = max(live, key=lambda d: d.id)
        return Standing(last.action, last.amount or ZERO, last)
    if sub.passed:
        return Standing("passed", sub.reviewed_yuan or ZERO)
    return Standing("failed", ZERO)


def _cite(sub: Submission) -> str:
    return f"ledger #{sub.id} {sub.file}"


def _grant(sub: Submission, amount: Decimal) -> Grant:
    return Grant(sub.enterprise.uscc, sub.project.code, sub.clause, sub.year, amount, event=sub.event, cite=_cite(sub))


def load_submissions(session: Session, *where, everything: bool = False) -> list[Submission]:
    load = [selectinload(Submission.decisions), selectinload(Submission.enterprise), selectinload(Submission.project)]
    if everything:
        load += [selectinload(Submission.findings), selectinload(Submission.payments)]
    query = select(Submission).options(*load).order_by(Submission.id)
    if where:
        query = query.join(Enterprise, Submission.enterprise_id == Enterprise.id).where(*where)
    return list(session.scalars(query))


def _record_for(session: Session, usccs: Iterable[str], events: Iterable[tuple[str, str]]) -> list[Submission]:
    """The submissions whose grants can bear on claims of these enterprises and events."""
    usccs, events = sorted(set(usccs)), sorted(set(events))
    conditions = []
    for start in range(0, len(usccs), 500):
        conditions.append(Enterprise.uscc.in_(usccs[start : start + 500]))
    if events:
        conditions.append(tuple_(Submission.clause, Submission.event).in_(events))
    if not conditions:
        return []
    return load_submissions(session, or_(*conditions))


def _as_record(subs: Iterable[Submission], *, without: Collection[int] = frozenset()) -> Record:
    grants = []
    for sub in subs:
        if sub.id in without:
            continue
        amount = standing(sub).amount
        if amount > 0:
            grants.append(_grant(sub, amount))
    return Record(grants, complete=True)


def record_of(ledger: Ledger) -> Record:
    """Every grant on record (for ``green-award portfolio --ledger``: read only)."""
    with ledger.read() as session:
        return _as_record(load_submissions(session))


# --- recording ---------------------------------------------------------------------------------------


def record(ledger: Ledger, items: Sequence[Item], *, recorded_by: str = "", rules: bool = True) -> list[Outcome]:
    """Record ``items`` (idempotent on each file's sha256) in one transaction and say where each stands.

    A new item of the same enterprise, project, clause and year as a submission on record replaces it
    (that one is voided, "resubmitted"). With ``rules`` the items that passed are checked against the
    grants on record, together (``policies.stacking`` with the record): duplicates, 从优, conflicts,
    tongzhou:8's years, shared caps; what remains is their granted amount. Without (an import of a
    past season), each item's ``granted`` is recorded as it was decided.
    """
    try:
        with ledger.write() as session:
            return _record(session, items, recorded_by=recorded_by, rules=rules)
    except SQLAlchemyError as exc:
        raise LedgerError(
            f"ledger {ledger.name}: the batch was not recorded, nothing was written "
            f"({first_line(exc)}) / 未能记录，台账未改动"
        ) from None


def _record(session: Session, items: Sequence[Item], *, recorded_by: str, rules: bool) -> list[Outcome]:
    shas = sorted({i.sha256 for i in items})
    known: dict[str, Submission] = {}
    for start in range(0, len(shas), 500):
        for sub in session.scalars(select(Submission).where(Submission.sha256.in_(shas[start : start + 500]))):
            known[sub.sha256] = sub
    fresh: list[Item] = []
    seen: set[str] = set()
    for item in items:
        if item.sha256 not in known and item.sha256 not in seen:
            seen.add(item.sha256)
            fresh.append(item)
    events = {(i.clause, event_key(i.inputs.get(EVENT_CAPS[i.clause][0]))) for i in fresh if i.clause in EVENT_CAPS}
    on_record = _record_for(session, (i.uscc for i in fresh), (e for e in events if e[1]))
    identities = {(i.uscc, i.project, i.clause, i.year) for i in fresh}
    replaced = [
        s
        for s in on_record
        if (s.enterprise.uscc, s.project.code, s.clause, s.year) in identities and standing(s).state != "void"
    ]
    grants = _as_record(on_record, without={s.id for s in replaced})

    results: dict[str, Ruled] = {}
    if rules:
        results = apply_rules([i for i in fresh if i.passed], grants)
    enterprises, projects = _enterprises_and_projects(session, fresh)
    by_sha: dict[str, Submission] = {}
    new_notes: dict[str, tuple[Ruled, list[str], list[Submission]]] = {}
    with session.no_autoflush:
        for item in fresh:
            project = projects[(item.uscc, item.project)]
            ruled = results.get(item.sha256, Ruled(item.granted or ZERO))
            granted, problems, warnings = ruled.granted, ruled.problems, ruled.warnings
            passed = item.passed and not problems
            event = str(item.inputs.get(EVENT_CAPS[item.clause][0], "") or "") if item.clause in EVENT_CAPS else ""
            sub = Submission(
                enterprise=enterprises[item.uscc],
                project=project,
                clause=item.clause,
                year=item.year,
                event=event[:200],
                inputs={k: plain(v) for k, v in item.inputs.items()},
                declared_yuan=item.declared,
                recomputed_yuan=item.recomputed,
                reviewed_yuan=granted if passed else ZERO,
                passed=passed,
                file=item.file[:1000],
                sha256=item.sha256,
                source="review" if rules else "import",
                recorded_by=recorded_by[:200],
            )
            gone = [
                s
                for s in replaced
                if (s.enterprise.uscc, s.project.code, s.clause, s.year)
                == (item.uscc, item.project, item.clause, item.year)
            ]
            if gone:
                sub.replaces_id = max(s.id for s in gone)
                warnings = [
                    *warnings,
                    "取代 Replaces "
                    + ", ".join(f"{_cite(s)} ({standing(s).state} {standing(s).amount:,.2f} 元)" for s in gone)
                    + ": a corrected resubmission (same enterprise, project, clause and year) / 更正后重新申报",
                ]
            for kind, texts, source in (
                ("problem", item.problems, "review"),
                ("warning", item.warnings, "review"),
                ("problem", problems, "ledger"),  # the rules against the record: said again when the file comes again
                ("warning", warnings, "ledger"),
            ):
                sub.findings.extend(Finding(kind=kind, text=t, source=source) for t in texts)
            if passed and granted > 0:
                add_payments(sub, granted, None)
            session.add(sub)
            by_sha[item.sha256] = sub
            new_notes[item.sha256] = (ruled, warnings, gone)
    session.flush()
    for sha, (_, _, gone) in new_notes.items():
        for s in gone:
            session.add(
                Decision(
                    submission_id=s.id,
                    action="void",
                    amount=None,
                    reviewer=recorded_by or "green-award",
                    reason=f"{RESUBMITTED}: replaced by #{by_sha[sha].id} {by_sha[sha].file}",
                )
            )
    session.flush()
    if known:
        stored = session.scalars(
            select(Submission)
            .where(Submission.id.in_([s.id for s in known.values()]))
            .options(selectinload(Submission.findings), selectinload(Submission.decisions))
            .execution_options(populate_existing=True)
        )
        known = {sub.sha256: sub for sub in stored}

    outcomes = []
    for item in items:
        if item.sha256 in new_notes and item.sha256 in by_sha:
            sub = by_sha[item.sha256]
            ruled, warnings, gone = new_notes[item.sha256]
            new = sub.sha256 in seen
            seen.discard(sub.sha256)  # a file twice in one batch: the second is not new
            outcomes.append(
                Outcome(
                    sub.id,
                    new,
                    sub.passed,
                    sub.reviewed_yuan or ZERO,
                    ruled.problems,
                    warnings,
                    [s.id for s in gone],
                    ruled.codes,
                    ruled.refers_to + [_cite(s) for s in gone],
                )
            )
        else:
            sub = known[item.sha256]
            stand = standing(sub)
            problems = [f.text for f in sub.findings if f.kind == "problem" and f.source == "ledger"]
            warnings = [f.text for f in sub.findings if f.kind == "warning" and f.source == "ledger"]
            if stand.decision is not None or stand.state == "void":
                warnings.append(
                    f"已有决定 Decided on record: {stand.state} {stand.amount:,.2f} 元"
                    + (f" by {stand.decision.reviewer}: {stand.decision.reason}" if stand.decision else "")
                )
            outcomes.append(Outcome(sub.id, False, sub.passed, stand.amount, problems, warnings, []))
    return outcomes


def _enterprises_and_projects(session: Session, items: Sequence[Item]):
    """The enterprises (by credit code) and projects (by credit code and identifier) of ``items``, made where new."""
    usccs = sorted({i.uscc for i in items})
    enterprises: dict[str, Enterprise] = {}
    for start in range(0, len(usccs), 500):
        for e in session.scalars(select(Enterprise).where(Enterprise.uscc.in_(usccs[start : start + 500]))):
            enterprises[e.uscc] = e
    for item in items:
        if item.uscc not in enterprises:
            enterprises[item.uscc] = Enterprise(uscc=item.uscc, name=(item.enterprise or item.uscc)[:500])
            session.add(enterprises[item.uscc])
    session.flush()
    ids = sorted({e.id for e in enterprises.values()})
    by_id = {e.id: e.uscc for e in enterprises.values()}
    projects: dict[tuple[str, str], Project] = {}
    for start in range(0, len(ids), 500):
        for p in session.scalars(select(Project).where(Project.enterprise_id.in_(ids[start : start + 500]))):
            projects[(by_id[p.enterprise_id], p.code)] = p
    for item in items:
        key = (item.uscc, item.project)
        if key not in projects:
            projects[key] = Project(
                enterprise_id=enterprises[item.uscc].id, code=item.project[:200], name=item.project_name or None
            )
            session.add(projects[key])
    session.flush()
    return enterprises, projects


def _table(rows: Sequence[tuple[str, str, str, str, int, dict]]) -> tuple[list[str], list[list]]:
    """(uscc, enterprise, project, clause, year, inputs) rows as a portfolio table."""
    names: list[str] = []
    for *_, inputs in rows:
        for name in inputs:
            if name not in names:
                names.append(name)
    header = ["uscc", "enterprise", "project", "clause", "year", *names]
    return header, [[u, e, p, c, y, *(inputs.get(n, "") for n in names)] for u, e, p, c, y, inputs in rows]


RULE_PROBLEMS = ("duplicate", "superseded", "conflict", "ineligible", "invalid")
#: The notes the rules across claims add to a granted claim (after the clause's own basis).
RULE_NOTES = ("capped", "replaces", "on_record")


@dataclass
class Ruled:
    """What the rules with the record make of one item: its grant, problems, warnings, and the grants they name."""

    granted: Decimal
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # each problem's rule
    refers_to: list[str] = field(default_factory=list)


def apply_rules(items: Sequence[Item], record: Record) -> dict[str, Ruled]:
    """Each item's granted amount after the rules with the record, and the problems or warnings they give."""
    from policies.stacking import stack_rows

    if not items:
        return {}
    header, rows = _table([(i.uscc, i.enterprise, i.project, i.clause, i.year, i.inputs) for i in items])
    result = stack_rows(header, rows, record=record, cites=[f"this batch: {i.file}" for i in items], parallel=False)
    out = {}
    for item, status, granted, notes in zip(
        items, result.column("status"), result.column("granted_yuan"), result.notes
    ):
        amount = granted if granted is not None else ZERO
        if item.declared is not None:
            amount = min(amount, item.declared)
        ruled = Ruled(amount, refers_to=[r for n in notes for r in n.refers_to])
        if status in RULE_PROBLEMS:
            ruled.problems.append("; ".join(n.text for n in notes) or status)
            ruled.codes.append(notes[0].code if notes else status)
            ruled.granted = ZERO
        else:  # the clause's basis first; what the rules added follows
            first = next((k for k, n in enumerate(notes) if n.code in RULE_NOTES), None)
            if first is not None:
                ruled.warnings.append("; ".join(n.text for n in notes[first:]))
        out[item.sha256] = ruled
    return out


def add_payments(sub: Submission, amount: Decimal, decision: Decision | None) -> None:
    """The stages of a grant (the clause's schedule; each due in the claim's year, pending on its condition)."""
    stages: list[tuple[Decimal, str]] = [(Decimal(1), "due")]
    try:
        award = evaluate(sub.clause, **{k: v for k, v in sub.inputs.items()})
        if award.payments:
            stages = [(p.share, p.status) for p in award.payments]
    except GreenAwardError:
        pass  # an imported row without its inputs: one payment
    for n, ((_, status), part) in enumerate(zip(stages, amounts(amount, [share for share, _ in stages])), 1):
        sub.payments.append(
            Payment(
                decision_id=decision.id if decision else None, stage=n, due_year=sub.year, amount=part, status=status
            )
        )


# --- deciding ----------------------------------------------------------------------------------------


def allowed(session: Session, sub: Submission) -> tuple[Decimal, list[str]]:
    """What the rules let ``sub`` be granted now, given every other grant on record, and why."""
    event = [(sub.clause, event_key(sub.event))] if sub.clause in EVENT_CAPS and event_key(sub.event) else []
    on_record = _record_for(session, [sub.enterprise.uscc], event)
    record = _as_record(on_record, without={sub.id})
    item = Item(
        sub.file,
        sub.sha256,
        sub.enterprise.uscc,
        sub.enterprise.name,
        sub.project.code,
        sub.clause,
        sub.year,
        dict(sub.inputs),
        sub.declared_yuan,
        sub.recomputed_yuan,
        True,
    )
    ruled = apply_rules([item], record)[sub.sha256]
    return ruled.granted, ruled.problems + ruled.warnings


def decide(
    ledger: Ledger, submission: int, action: str, *, reviewer: str, reason: str, amount: Decimal | None = None
) -> Decision:
    """Append a decision: ``grant`` (what the rules allow now), ``reduce`` (to ``amount``, at most that) or ``reject``."""
    reviewer, reason = (reviewer or "").strip(), (reason or "").strip()
    if not reviewer:
        raise LedgerError("decide: --reviewer is required (who decides) / 须注明审核人")
    if not reason:
        raise LedgerError("decide: --reason is required (why) / 须注明理由")
    if action not in ("grant", "reduce", "reject"):
        raise LedgerError(
            f"decide: action must be grant, reduce or reject, got {action!r} / 决定须为grant、reduce或reject"
        )
    with ledger.write() as session:
        sub = _submission(session, submission)
        stand = standing(sub)
        if stand.state == "void":
            later = session.scalar(select(Submission.id).where(Submission.replaces_id == sub.id))
            raise LedgerError(
                f"submission #{sub.id} is void (resubmitted{f' as #{later}' if later else ''}); decide on the "
                "submission that replaced it / 该申报已作废"
            )
        room, why = allowed(session, sub)
        if action == "reject":
            stored, value = "rejected", ZERO
        elif action == "grant":
            if room <= 0:
                raise LedgerError(
                    f"decide: submission #{sub.id} can be granted nothing now: {'; '.join(why) or 'amount 0'} / 无可批准金额"
                )
            stored, value = "granted", room
        else:
            if amount is None:
                raise LedgerError("decide: reduce needs the AMOUNT / 须给出核减后的金额")
            value = round_yuan(to_decimal(amount))
            if value < 0:
                raise LedgerError(f"decide: amount must be ≥ 0, got {value} / 金额不能为负")
            if value > room:
                raise LedgerError(
                    f"decide: {value:,.2f} 元 is more than submission #{sub.id} may be granted now "
                    f"({room:,.2f} 元{': ' + '; '.join(why) if why else ''}) / 超出可批准金额"
                )
            stored = "reduced"
        decision = Decision(submission_id=sub.id, action=stored, amount=value, reviewer=reviewer[:200], reason=reason)
        session.add(decision)
        session.flush()
        if value > 0:
            add_payments(sub, value, decision)
        session.flush()
        session.expunge(decision)
        return decision


def void(ledger: Ledger, decision: int, *, reviewer: str, reason: str) -> list[Decision]:
    """Append a void of ``decision``: the submission falls back to its previous standing.

    Should that standing be more than the caps now leave it (the room was used meanwhile), a
    ``reduced`` decision to what they leave follows in the same transaction: no cap is broken.
    Returns the decisions appended.
    """
    reviewer, reason = (reviewer or "").strip(), (reason or "").strip()
    if not reviewer or not reason:
        raise LedgerError("void: --reviewer and --reason are required (who and why) / 须注明审核人和理由")
    with ledger.write() as session:
        target = session.get(Decision, decision)
        if target is None:
            raise LedgerError(f"void: no decision #{decision} / 无此决定")
        if target.action == "void":
            raise LedgerError(
                f"void: decision #{decision} is itself a void; decisions are corrected by new ones / 不能作废“作废”"
            )
        if session.scalar(select(Decision.id).where(Decision.voids_id == target.id)):
            raise LedgerError(f"void: decision #{decision} is already void / 该决定已作废")
        row = Decision(
            submission_id=target.submission_id,
            action="void",
            amount=None,
            reviewer=reviewer[:200],
            reason=reason,
            voids_id=target.id,
        )
        session.add(row)
        session.flush()
        made = [row]
        sub = _submission(session, target.submission_id)
        session.refresh(sub, ["decisions"])
        back = standing(sub)
        if back.amount > 0:
            room, why = allowed(session, sub)
            if back.amount > room:
                cut = Decision(
                    submission_id=sub.id,
                    action="reduced",
                    amount=room,
                    reviewer=reviewer[:200],
                    reason=f"after voiding #{target.id}, {back.state} {back.amount:,.2f} 元 is more than the "
                    f"caps leave now ({room:,.2f} 元: {'; '.join(why)}) / 作废后按剩余额度核减",
                )
                session.add(cut)
                made.append(cut)
        session.flush()
        for made_row in made:
            session.expunge(made_row)
        return made


def _submission(session: Session, submission: int) -> Submission:
    sub = session.get(Submission, submission)
    if sub is None:
        raise LedgerError(f"no submission #{submission} in the ledger / 账本中无此申报")
    return sub


# --- reading -----------------------------------------------------------------------------------------


def enterprises(ledger: Ledger) -> list[dict]:
    with ledger.read() as session:
        subs = load_submissions(session)
        rows: dict[str, dict] = {}
        for e in session.scalars(select(Enterprise).order_by(Enterprise.uscc)):
            rows[e.uscc] = {
                "uscc": e.uscc,
                "enterprise": e.name,
                "submissions": 0,
                "years": set(),
                "granted_yuan": ZERO,
            }
        for sub in subs:
            row = rows[sub.enterprise.uscc]
            row["submissions"] += 1
            row["years"].add(sub.year)
            row["granted_yuan"] += standing(sub).amount
        for row in rows.values():
            row["years"] = sorted(row["years"])
        return list(rows.values())


def show(ledger: Ledger, uscc: str) -> dict:
    """One enterprise's claims, grants and room left under each cap, by year."""
    code = (uscc or "").strip().upper()
    with ledger.read() as session:
        enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == code))
        if enterprise is None:
            raise LedgerError(f"no enterprise with credit code {code or '(empty)'} in the ledger / 账本中无此企业")
        own = load_submissions(session, Enterprise.uscc == code)
        events = {(s.clause, event_key(s.event)) for s in own if s.clause in EVENT_CAPS and event_key(s.event)}
        related = _record_for(session, [code], events)
        record = _as_record(related)
        years: dict[int, dict] = {}
        for sub in own:
            stand = standing(sub)
            entry = years.setdefault(
                sub.year, {"year": sub.year, "submissions": [], "caps": [], "events": [], "over_years": []}
            )
            entry["submissions"].append(
                {
                    "id": sub.id,
                    "file": sub.file,
                    "project": sub.project.code,
                    "clause": sub.clause,
                    "declared_yuan": sub.declared_yuan,
                    "recomputed_yuan": sub.recomputed_yuan,
                    "granted_yuan": stand.amount,
                    "state": stand.state,
                    "decisions": [(d.id, d.action, d.amount, d.reviewer, d.reason, d.voids_id) for d in sub.decisions],
                }
            )
        for year, info in years.items():
            for policy, cap, used, left in room_left(record, code, year):
                info["caps"].append(
                    {
                        "policy": policy,
                        "cap": cap.id,
                        "label": str(cap.label),
                        "cap_yuan": cap.cap,
                        "used_yuan": used,
                        "left_yuan": left,
                    }
                )
        for clause, name in sorted(events):
            event_cap = parameter(clause, EVENT_CAPS[clause][1]).value
            used = sum((g.granted for g in record.of_event(clause, name)), Decimal(0))
            year = min(s.year for s in own if s.clause == clause and event_key(s.event) == name)
            years[year]["events"].append(
                {
                    "clause": clause,
                    "event": name,
                    "cap_yuan": event_cap,
                    "used_yuan": used,
                    "left_yuan": max(Decimal(0), event_cap - used),
                }
            )
        for clause in (c for c in FROM_RECORD if c in REPEATS):  # tongzhou:8: 5,000,000 over its three years
            project_cap = parameter(clause, "cap").value
            for project in sorted({s.project.code for s in own if s.clause == clause}):
                grants = [g for g in record.of_project(code, project) if g.clause == clause]
                used = sum((g.granted for g in grants), Decimal(0))
                first = min((g.year for g in grants), default=None)
                year = first or min(s.year for s in own if s.clause == clause and s.project.code == project)
                years[year]["over_years"].append(
                    {
                        "clause": clause,
                        "project": project,
                        "first_year": first,
                        "cap_yuan": project_cap,
                        "used_yuan": used,
                        "left_yuan": max(Decimal(0), project_cap - used),
                    }
                )
        return {"uscc": enterprise.uscc, "enterprise": enterprise.name, "years": [years[y] for y in sorted(years)]}


def export(ledger: Ledger) -> dict:
    """Everything, as a JSON-able object: submissions (with findings), decisions and payments."""
    from .db import head

    def money(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    with ledger.read() as session:
        subs = load_submissions(session, everything=True)
        submissions: list[dict[str, Any]] = []
        decisions: list[dict[str, Any]] = []
        payments: list[dict[str, Any]] = []
        for sub in subs:
            stand = standing(sub)
            submissions.append(
                {
                    "id": sub.id,
                    "file": sub.file,
                    "sha256": sub.sha256,
                    "clause": sub.clause,
                    "uscc": sub.enterprise.uscc,
                    "enterprise": sub.enterprise.name,
                    "project": sub.project.code,
                    "project_name": sub.project.name,
                    "year": sub.year,
                    "event": sub.event,
                    "declared_yuan": money(sub.declared_yuan),
                    "recomputed_yuan": money(sub.recomputed_yuan),
                    "reviewed_yuan": money(sub.reviewed_yuan),
                    "granted_yuan": money(stand.amount),
                    "state": stand.state,
                    "passed": sub.passed,
                    "source": sub.source,
                    "recorded_at": sub.recorded_at.isoformat(),
                    "recorded_by": sub.recorded_by,
                    "replaces": sub.replaces_id,
                    "inputs": sub.inputs,
                    "findings": [{"kind": f.kind, "text": f.text, "source": f.source} for f in sub.findings],
                }
            )
            for d in sub.decisions:
                decisions.append(
                    {
                        "id": d.id,
                        "submission": sub.id,
                        "reviewer": d.reviewer,
                        "time": d.decided_at.isoformat(),
                        "action": d.action,
                        "amount": money(d.amount),
                        "reason": d.reason,
                        "voids": d.voids_id,
                    }
                )
            for p in sub.payments:
                payments.append(
                    {
                        "id": p.id,
                        "submission": sub.id,
                        "decision": p.decision_id,
                        "stage": p.stage,
                        "due_year": p.due_year,
                        "amount": money(p.amount),
                        "status": p.status,
                        "paid": p.paid,
                    }
                )
        decisions.sort(key=lambda d: d["id"])
        return {
            "ledger": ledger.name,
            "schema": head(),
            "exported_at": datetime.now().astimezone().isoformat(),
            "submissions": submissions,
            "decisions": decisions,
            "payments": payments,
        }


# --- a past season from a portfolio result table ----------------------------------------------------------


IMPORT_COLUMNS = ("uscc", "project", "clause", "year", "granted_yuan")


def import_rows(
    header: Sequence[str], rows: Sequence[Sequence[object]], *, source: str
) -> tuple[list[Item], list[str]]:
    """The rows of a portfolio result (with ``granted_yuan``) as items decided in a past season; bad rows reported."""
    from policies.engine import compiled
    from policies.stacking import added_columns, ident
    from policies.years import parse_year

    at = {str(name).strip(): i for i, name in enumerate(header)}
    missing = [c for c in IMPORT_COLUMNS if c not in at]
    if missing:
        raise LedgerError(
            f"ledger import: the table needs the column(s) {', '.join(missing)} (a portfolio result with "
            "credit codes) / 缺少必需列"
        )
    skip = {*added_columns(), "enterprise", *IMPORT_COLUMNS, "project_name"}
    items, problems = [], []
    for n, row in enumerate(rows, 2):

        def cell(name: str, row: Sequence[object] = row) -> object:
            return row[at[name]] if name in at and at[name] < len(row) else ""

        try:
            uscc = validate_uscc(ident(cell("uscc")).upper())
            project, clause = ident(cell("project")), ident(cell("clause"))
            if not project:
                raise ValueError("project: empty / 项目编号为空")
            cc = compiled(clause)
            year = parse_year(cell("year"))
            text = ident(cell("granted_yuan"))
            if not text:
                raise ValueError("granted_yuan: empty (an invalid row of the portfolio) / 无批准金额")
            granted = round_yuan(to_decimal(text))
        except (ValueError, GreenAwardError) as exc:
            problems.append(f"{source} row {n}: {exc}")
            continue
        inputs = {
            name: row[i]
            for name, i in at.items()
            if name not in skip and name in cc.specs and i < len(row) and str(row[i]).strip() != ""
        }
        amount = ident(cell("amount_yuan"))
        key = json.dumps(
            [uscc, project, clause, year, str(granted), {k: str(v) for k, v in sorted(inputs.items())}],
            ensure_ascii=False,
        )
        items.append(
            Item(
                file=f"{source} row {n}",
                sha256=sha256_of(("import\0" + key).encode()),
                uscc=uscc,
                enterprise=ident(cell("enterprise")),
                project=project,
                clause=clause,
                year=year,
                inputs=inputs,
                declared=round_yuan(to_decimal(amount)) if amount else None,
                recomputed=None,
                passed=granted > 0,
                granted=granted,
                project_name=ident(cell("project_name")) or None,
                warnings=[f"imported: status {ident(cell('status'))}: {ident(cell('note'))}"[:2000]]
                if "status" in at
                else [],
            )
        )
    return items, problems


def import_items(ledger: Ledger, items: Sequence[Item], *, reviewer: str, source: str) -> list[Outcome]:
    """Record a past season's rows and their grants as decisions (granted, or rejected for 0); nothing re-decided."""
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise LedgerError("ledger import: --reviewer is required (who decided that season) / 须注明审核人")
    with ledger.write() as session:
        outcomes = _record(session, items, recorded_by=reviewer, rules=False)
        for item, outcome in zip(items, outcomes):
            if not outcome.new:
                continue
            granted = item.granted or ZERO
            decision = Decision(
                submission_id=outcome.submission,
                action="granted" if granted > 0 else "rejected",
                amount=granted,
                reviewer=reviewer[:200],
                reason=f"imported from {item.file} (a past season's decision) / 往年决定导入",
            )
            session.add(decision)
        return outcomes
