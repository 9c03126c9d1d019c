"""Many evaluations of one table at once: what a batch (the portfolio) needs of each, and nothing more.

A batch does not read an award's trace, steps or payments' labels: it needs the amount, whether it
is eligible, the failed checks (as notes naming their codes), the basis (the limit that bound), the
payment shares and statuses and how many checks were assumed: an ``Outcome`` for each key (clause,
year, the clause's accepted names, the row's cells).

``evaluate_chunk`` runs the clause's compiled parts (``policies.engine.compiled_for``: its coercers,
input checks, amount expression, conditions and rules, in the order and with the outcomes
``evaluate`` uses) without building an ``Award``: no trace steps, no reasons or notes text per row.
A cell's coerced value is kept per (clause, name, cell), a validity per (policy, year). Whatever
is not the plain path — a bad input, a check that stops the claim, a rule the inputs cannot decide,
a basis not seen before — is handed to ``evaluate`` itself (``evaluate_key``), so every message
and every basis text is the core's own; tests/test_stacking_batch.py holds the two equal on every
case table row and on generated rows. The notes are made once per distinct text and shared by the
outcomes that say them (a table of 100,000 rows has a few hundred).

Chunks of keys go to an executor when one is given (``addin.executors``: a process pool or a Dask
cluster): the work is this module's functions on plain, picklable data.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, DecimalException
from typing import NamedTuple

from . import expr
from .award import Award, Check, Note
from .engine import CompiledClause, compiled_for, condition_checks, evaluate, validity_check
from .errors import GreenAwardError
from .inputs import is_blank
from .numbers import round_yuan
from .parameters import Reform
from .payments import split
from .render import binding_line, check_line

#: A key: (clause, year, the clause's names present in the table, the row's cells under those names).
Key = tuple[str, int, tuple[str, ...], tuple[object, ...]]


class Outcome(NamedTuple):
    """One evaluation as a batch needs it; ``amount`` None and ``error`` set when the input is bad."""

    amount: Decimal | None
    eligible: bool
    error: str | None
    failed: tuple[Note, ...]  # each failed check, ``about`` its code
    basis: Note | None  # the limit that bound (or the article), for a granted claim's note
    stages: tuple[tuple[Decimal, str], ...]  # (share, due|pending) of each payment stage
    assumed: int  # how many checks were taken as met


_NOTES: dict[tuple[object, ...], Note] = {}


def _note(code: str, text: str, cites: str, about: str) -> Note:
    """One Note per distinct content, shared by every outcome that says it."""
    key = (code, text, cites, about)
    found = _NOTES.get(key)
    if found is None:
        if len(_NOTES) > 100_000:  # a bound: distinct bases are few, but a reform may vary them by value
            _NOTES.clear()
        found = _NOTES[key] = Note(code, text, cites=cites, about=about)
    return found


_STAGES: dict[tuple[tuple[Decimal, str], ...], tuple[tuple[Decimal, str], ...]] = {}


def _shared(stages: tuple[tuple[Decimal, str], ...]) -> tuple[tuple[Decimal, str], ...]:
    """One tuple per distinct payment plan (a few: once, 50/50 due or pending), shared by every outcome."""
    return _STAGES.setdefault(stages, stages)


def outcome_of(award: Award) -> Outcome:
    """The batch's part of an award."""
    failed = tuple(_note("ineligible", check_line(c), c.cites, c.code) for c in award.failed)
    basis = _note("basis", binding_line(award) or f"〔{award.article}〕", award.article, award.binding or "")
    assumed = sum(1 for c in award.checks if c.status == "assumed")
    stages = _shared(tuple((p.share, p.status) for p in award.payments))
    return Outcome(award.amount, award.eligible, None, failed, basis, stages, assumed)


def inputs_of(names: Sequence[str], values: Sequence[object]) -> dict[str, object]:
    """A row's inputs: its non-empty cells by name (a NaN stays: the core reports it as a bad number)."""
    return {n: v for n, v in zip(names, values) if not (v == "" or is_blank(v))}


def evaluate_key(key: Key, reform: Reform | None = None) -> Outcome:
    """The key's outcome from ``evaluate`` itself (and the basis it renders kept for ``fast_outcome``)."""
    clause_id, year, names, values = key
    try:
        award = evaluate(clause_id, on=year, reform=reform, **inputs_of(names, values))
    except GreenAwardError as exc:
        return Outcome(None, False, str(exc), (), None, (), 0)
    outcome = outcome_of(award)
    cc = _CLAUSES.get((clause_id, year, reform), (None,))[0]
    step = next((s for s in award.steps if s.kind == "binding"), None)
    if cc is not None and outcome.basis is not None:
        if len(_BASES) > 100_000:
            _BASES.clear()
        _BASES[(id(cc), award.binding, step.value if step is not None else None)] = outcome.basis
    return outcome


def evaluate_chunk(keys: Sequence[Key], reform: Reform | None = None) -> list[Outcome]:
    """Each key's outcome, in order (the unit of work an executor runs): ``fast_outcome``, else
    ``evaluate_key``."""
    out = []
    for key in keys:
        try:
            found = fast_outcome(key, reform)
        except _Aside:
            found = None
        out.append(found if found is not None else evaluate_key(key, reform))
    return out


class _Aside(Exception):
    """Not the plain path: ``evaluate`` says what happens."""


_ZERO = Decimal("0.00")
_CLAUSES: dict[tuple[object, ...], tuple[CompiledClause, _Plan | None]] = {}
_CELLS: dict[tuple[object, ...], object] = {}
_VALIDITY: dict[tuple[object, ...], Check] = {}
_BASES: dict[tuple[object, ...], Note] = {}
_FAILED: dict[int, Note] = {}
_BINDING: dict[tuple[object, ...], str | None] = {}
_BLANK = object()  # a cell's memo of a blank cell (text of spaces): no input


class _Plan(NamedTuple):
    """What ``fast_outcome`` reads of a compiled clause, made once per clause."""

    defaults: dict[str, object]  # the inputs' defaults (the parameters are written into the expressions)
    requires: tuple[tuple[expr.Compiled, Note, bool], ...]  # test, the note when not met, may be assumed
    facts: frozenset[str]  # the inputs that are facts: a rule that lacks one is assumed met
    waivers: bool  # a condition has a waiver: its outcome depends on more than the answers
    answers: tuple[str, ...]  # zone and the conditions' names: without waivers, what the outcomes depend on
    memo: dict[tuple[object, ...], tuple[list[Note], int]]  # the conditions' outcome by year and answers
    stages: tuple[tuple[Decimal, str], ...] | None  # a schedule without conditions: always these


def _plan(cc: CompiledClause) -> _Plan | None:
    """The clause's plan; None for an article without an amount (``evaluate`` says so)."""
    if cc.amount is None:
        return None
    stages = cc.schedule.stages
    return _Plan(
        dict(cc.defaults),
        tuple((test, _failed(d.outcomes["failed"]), "assumed" in d.outcomes) for d, test in cc.requires),
        frozenset(name for name, spec in cc.clause.inputs.items() if spec.fact),
        any(waiver is not None for _, waiver in cc.conditions_checked),
        ("zone", *(definition.name for definition, _ in cc.conditions_checked)),
        {},
        _shared(tuple((stage.share, "due") for stage in stages)) if all(s.due_when is None for s in stages) else None,
    )


def fast_outcome(key: Key, reform: Reform | None = None) -> Outcome | None:
    """The key's outcome from the clause's compiled parts; None (or ``_Aside``) when ``evaluate`` must say."""
    clause_id, year, names, cells = key
    try:
        cc, plan = _CLAUSES[(clause_id, year, reform)]
    except KeyError:
        if len(_CLAUSES) > 10_000:
            _forget()
        cc = compiled_for(clause_id, year, reform)
        cc, plan = _CLAUSES[(clause_id, year, reform)] = (cc, _plan(cc))
    if plan is None:
        return None
    env = plan.defaults.copy()
    for name, cell in zip(names, cells):
        if cell == "":  # most cells of a wide table are empty
            continue
        ck = (clause_id, name, type(cell), cell)  # the type too: True == 1 == Decimal(1) as keys
        try:
            value = _CELLS[ck]
        except KeyError:
            value = _coerced(cc, name, cell)
            if len(_CELLS) > 50_000:
                _CELLS.clear()
            _CELLS[ck] = value
        except TypeError:  # an unhashable cell
            return None
        if value is not _BLANK:
            env[name] = value
    ctx = expr.Context(env)
    for _, fn in cc.checks:
        try:
            ok = fn(ctx)
        except expr.MissingName:
            continue
        if not ok:
            return None
    try:
        raw = cc.amount(ctx)  # type: ignore[misc]  # a plan is made for a clause with an amount
    except (expr.MissingName, DecimalException, ZeroDivisionError):
        return None
    if raw < 0:
        return None
    if plan.waivers:
        failing, assumed = _conditions(cc, year, env, ctx)
    else:  # the outcome of validity, zone and conditions depends on the year and the answers alone
        answers = (year, *map(env.get, plan.answers))
        try:
            failing, assumed = plan.memo[answers]
        except KeyError:
            if len(plan.memo) > 10_000:
                plan.memo.clear()
            failing, assumed = plan.memo[answers] = _conditions(cc, year, env, ctx)
        failing = list(failing)
    for test, not_met, may_assume in plan.requires:
        try:
            if not test(ctx):
                failing.append(not_met)
        except expr.MissingName as missing:
            if not may_assume or missing.name not in plan.facts:
                return None
            assumed += 1
        except (DecimalException, ZeroDivisionError):
            return None
    eligible = not failing
    amount = round_yuan(raw) if eligible else _ZERO
    bk = (id(cc), tuple(ctx.chosen.items()))
    try:
        binding = _BINDING[bk]
    except KeyError:
        binding = _BINDING[bk] = expr.deciding_name(cc.amount_node, ctx.chosen, cc.parameters.__contains__)  # type: ignore[arg-type]
    value = cc.parameters[binding] if binding in cc.parameters else env[binding] if binding else None
    basis = _BASES.get((id(cc), binding, value))
    if basis is None:
        return None  # the first of its kind: evaluate renders it (and ``evaluate_key`` keeps it)
    if not eligible:
        stages: tuple[tuple[Decimal, str], ...] = ()
    elif plan.stages is not None:
        stages = plan.stages
    else:
        stages = _shared(tuple((p.share, p.status) for p in split(amount, cc.schedule, env)))
    return Outcome(amount, eligible, None, tuple(failing), basis, stages, assumed)


def _conditions(cc: CompiledClause, year: int, env: dict[str, object], ctx: expr.Context) -> tuple[list[Note], int]:
    """The notes of the validity, zone and conditions not met, and how many were assumed met."""
    failing: list[Note] = []
    assumed = 0
    zone = cc.zone_outcomes[env.get("zone")]  # type: ignore[index]
    for check in (_validity(cc, year), zone, *condition_checks(cc, env, ctx)):
        if check.status == "failed":
            failing.append(_failed(check))
        elif check.status == "assumed":
            assumed += 1
    return failing, assumed


def _coerced(cc: CompiledClause, name: str, cell: object) -> object:
    """A cell as the clause's input ``name`` (``_BLANK`` for a blank one); ``_Aside`` when it is not valid."""
    if is_blank(cell):
        return _BLANK
    try:
        return cc.coercers[name](cell)
    except (ValueError, TypeError):
        raise _Aside from None


def _forget() -> None:
    """Drop every memo: they are keyed by the compiled clauses' and checks' identities."""
    for memo in (_CLAUSES, _CELLS, _VALIDITY, _BASES, _FAILED, _BINDING):
        memo.clear()


def _validity(cc: CompiledClause, year: int) -> Check:
    key = (cc.policy.id, year)
    found = _VALIDITY.get(key)
    if found is None:
        found = _VALIDITY[key] = validity_check(cc.policy, year)[0]
    return found


def _failed(check: Check) -> Note:
    found = _FAILED.get(id(check))
    if found is None:
        found = _FAILED[id(check)] = _note("ineligible", check_line(check), check.cites, check.code)
    return found
