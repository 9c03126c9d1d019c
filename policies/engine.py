"""``evaluate(clause_id, **inputs) -> Award``: one clause, exactly, with the reasons why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, DecimalException
from functools import lru_cache
from typing import Callable

from pydantic import BaseModel

from . import expr
from .award import Award, Payment
from .errors import InputError, UnknownClauseError
from .inputs import closest, coerce_inputs, coercer, input_model
from .numbers import describe, fmt, round_yuan
from .registry import policies, zone_spec
from .schema import Check, Clause, Condition, InputSpec, Policy, Rule, Schedule
from .years import parse_year


def _condition_spec(condition: Condition) -> InputSpec:
    return InputSpec(type="bool", label=condition.label)


@dataclass
class CompiledClause:
    """A clause made ready to evaluate: expressions compiled, its input model built, its fixed texts made."""

    clause: Clause
    policy: Policy
    specs: dict[str, InputSpec]  # every name the clause accepts
    conditions: dict[str, Condition]  # the clause's own and the policy's general conditions
    model: type[BaseModel]  # the pydantic model of these inputs (for reviewers and other callers)
    coercers: dict[str, Callable[[object], object]]  # the same rules, called directly on the hot path
    parameters: dict[str, Decimal]
    defaults: dict[str, object]
    amount_node: expr.Node | None
    amount: expr.Compiled | None
    requires: list[tuple[Rule, expr.Compiled, str, str]]  # rule, test, note when assumed, reason when not met
    checks: list[tuple[Check, expr.Compiled]]
    waive: dict[str, tuple[expr.Compiled, str]]
    condition_texts: dict[str, tuple[str, str]]  # name -> (note when assumed, reason when false)
    all_assumed: tuple[str, ...]
    annual_caps: tuple[tuple[Decimal, str], ...]  # caps across claims: (cap, note when one claim exceeds it)
    zone_note: str
    allowed_zones: tuple[str, ...]
    cite: str
    head: str
    formula: str
    binding_lines: dict[str, str]
    amount_kind: str
    notes: tuple[str, ...]
    schedule: Schedule
    stage_due: list[expr.Compiled | None]

    @property
    def id(self) -> str:
        return self.clause.id


def _show_name(clause: Clause) -> Callable[[str], str]:
    def show(name: str) -> str:
        parameter = clause.parameters.get(name)
        return f"{name}[{fmt(parameter.value)}]" if parameter else name

    return show


@lru_cache(maxsize=None)
def compiled(clause_id: str) -> CompiledClause:
    policy, clause = find_clause(clause_id)
    amount_node, requires, checks, waive = clause._amount, clause._requires, clause._checks, clause._waive
    show = _show_name(clause)
    for node in [amount_node, *requires, *checks, *waive.values()]:
        if node is not None:
            expr.annotate(node, show)
    schedule = policy.schedules[clause.payment]
    conditions = {**clause.conditions, **policy.general_conditions}
    specs: dict[str, InputSpec] = {**clause.inputs, "zone": zone_spec()}
    specs.update({name: _condition_spec(c) for name, c in conditions.items()})
    specs.update(schedule.inputs)
    cite = f" 〔{clause.article}〕"
    zones = tuple(clause.zones or policy.zones)
    return CompiledClause(
        clause=clause,
        policy=policy,
        specs=specs,
        conditions=conditions,
        model=input_model("Inputs_" + clause_id.replace(":", "_").replace(".", "_"), specs),
        coercers={name: coercer(spec) for name, spec in specs.items()},
        parameters={name: p.value for name, p in clause.parameters.items()},
        defaults={n: s.default for n, s in clause.inputs.items() if s.default is not None},
        amount_node=amount_node,
        amount=expr.compile_expr(amount_node) if amount_node is not None else None,
        requires=[
            (
                rule,
                expr.compile_expr(node, record=False),
                f"假定满足 Assumed: {rule.reason} 〔{rule.cites}〕",
                f"不符合 Not met: {rule.reason} 〔{rule.cites}〕",
            )
            for rule, node in zip(clause.requires, requires)
        ],
        checks=[(check, expr.compile_expr(n, record=False)) for check, n in zip(clause.checks, checks)],
        waive={
            k: (expr.compile_expr(n, record=False), f"豁免 Waived: {conditions[k].label} (when {clause.waive[k]})")
            for k, n in waive.items()
        },
        condition_texts={
            name: (f"假定满足 Assumed: {c.label} 〔{c.cites}〕", f"条件不满足 Not met: {c.label} 〔{c.cites}〕")
            for name, c in conditions.items()
        },
        annual_caps=tuple(
            (cap.cap, f"单项金额超过年度上限 Above an annual cap: {cap.label} 〔{cap.cites}〕 — applied across the enterprise's claims (portfolio, review)")
            for cap in policy.annual_caps
            if cap.clauses == "all" or clause.id in cap.clauses
        ),
        all_assumed=tuple(f"假定满足 Assumed: {c.label} 〔{c.cites}〕" for c in conditions.values()),
        zone_note=f"假定所在区域符合 Zone assumed to be one of: {', '.join(zones)}",
        allowed_zones=zones,
        cite=cite,
        head=f"{clause.id} {clause.title}{cite}",
        formula=f"计算 Formula: {amount_node.text} = " if amount_node is not None else "",
        binding_lines={
            name: f"决定金额 Binding: {name} = {fmt(p.value)} ({p.kind}) — {p.cites}{cite}"
            for name, p in clause.parameters.items()
        },
        amount_kind="最高 ceiling (不超过: the office may grant less)" if clause.ceiling else "定额 the amount itself",
        notes=tuple(str(n) for n in clause.notes),
        schedule=schedule,
        stage_due=[
            expr.compile_expr(expr.parse(s.due_when), record=False) if s.due_when else None
            for s in schedule.stages
        ],
    )


def all_clauses() -> list[tuple[Policy, Clause]]:
    return [(p, c) for p in policies().values() for c in p.clauses]


def find_clause(clause_id: object) -> tuple[Policy, Clause]:
    if not isinstance(clause_id, str):
        raise UnknownClauseError(describe(clause_id))
    key = clause_id.strip()
    for policy in policies().values():
        for clause in policy.clauses:
            if clause.id == key:
                return policy, clause
    raise UnknownClauseError(clause_id, closest(key, [c.id for _, c in all_clauses()]))


# --- validity -----------------------------------------------------------------------------------


def _as_date(on: object) -> tuple[date, date]:
    """The first and last day ``on`` stands for: a date, a datetime, an ISO text or a year."""
    if isinstance(on, datetime):
        return on.date(), on.date()
    if isinstance(on, date):
        return on, on
    if isinstance(on, (int, float)) and not isinstance(on, bool) and 1000 <= on <= 9999 and float(on).is_integer():
        year = int(on)  # a four-digit year; anything else is not a date (int(1e300) would overflow date())
        return date(year, 1, 1), date(year, 12, 31)
    if isinstance(on, str):
        text = on.strip()
        try:
            return _as_date(parse_year(text))  # 2025, 2025年, ２０２５: the one reading of a year
        except ValueError:
            pass
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return day, day
    raise ValueError(f"must be a date (YYYY-MM-DD) or a four-digit year, got {describe(on)} / 须为日期或年份")


def validity(policy: Policy, on: object) -> tuple[str | None, list[str]]:
    """(reason it is outside the window or None, notes on bounds the text leaves unknown)."""
    first, last = _as_date(on)
    window = policy.validity
    notes = [str(n) for n in window.notes]
    start = window.start or (date(window.start_year, 1, 1) if window.start_year else None)
    if start and last < start:
        return f"政策尚未施行 Policy not yet in force on {on} (from {window.start or window.start_year})", notes
    if window.end and first > window.end:
        return f"政策已到期 Policy expired on {window.end}, before {on}", notes
    return None, notes


# --- evaluate -----------------------------------------------------------------------------------


def evaluate(clause_id: str, /, *, on: object = None, **inputs: object) -> Award:
    """Evaluate one clause for the given inputs; ineligible is a result, bad input an ``InputError``."""
    cc = compiled(clause_id.strip() if isinstance(clause_id, str) else clause_id)
    clause, policy, cite = cc.clause, cc.policy, cc.cite
    if cc.amount is None:
        raise InputError(clause.id, "clause", "is a non-monetary article: it grants no amount / 非资金支持条款")
    for name in inputs:
        if name not in cc.specs:
            hint = closest(name, list(cc.specs))
            raise InputError(clause.id, name, "unknown input" + (f"; did you mean {hint!r}?" if hint else ""))
    given = coerce_inputs(clause.id, cc.coercers, inputs)
    values = {**cc.defaults, **given}
    ctx = expr.Context({**cc.parameters, **values})
    notes = list(cc.notes)
    reasons: list[str] = []

    for check, fn in cc.checks:
        try:
            ok = fn(ctx)
        except expr.MissingName:
            continue
        if not ok:
            raise InputError(clause.id, check.field, str(check.message))

    try:
        raw = cc.amount(ctx)
    except expr.MissingName as missing:
        raise InputError(clause.id, missing.name, "required for this claim, and empty / 必填") from None
    except (DecimalException, ZeroDivisionError) as exc:
        raise InputError(clause.id, "inputs", f"cannot be computed ({type(exc).__name__})") from None
    if raw < 0:
        raise InputError(clause.id, "amount", f"the expression gave a negative amount {fmt(raw)}")

    if on is not None:
        try:
            outside, window_notes = validity(policy, on)
        except ValueError as exc:
            raise InputError(clause.id, "on", str(exc)) from None
        if outside:
            reasons.append(outside)
        notes.extend(window_notes)

    zone = values.get("zone")
    if zone is None:
        notes.append(cc.zone_note)
    elif zone not in cc.allowed_zones:
        reasons.append(f"区域不符 Zone {zone} is not one of {', '.join(cc.allowed_zones)}")

    if cc.waive or values.keys() & cc.condition_texts.keys():
        _answered_conditions(cc, values, ctx, notes, reasons)
    else:
        notes.extend(cc.all_assumed)  # no condition answered: every one assumed

    for rule, fn, assumed, not_met in cc.requires:
        try:
            ok = fn(ctx)
        except expr.MissingName as missing:
            spec = clause.inputs.get(missing.name)
            if spec is None or not spec.fact:
                raise InputError(clause.id, missing.name, "required for this claim, and empty / 必填") from None
            notes.append(assumed)
            continue
        except (DecimalException, ZeroDivisionError) as exc:
            raise InputError(clause.id, "inputs", f"cannot be computed ({type(exc).__name__})") from None
        if not ok:
            reasons.append(not_met)

    eligible = not reasons
    amount = round_yuan(raw) if eligible else Decimal("0.00")
    notes.extend(note for cap, note in cc.annual_caps if amount > cap)
    binding = expr.deciding_name(cc.amount_node, ctx.chosen, cc.parameters.__contains__)

    shown = "; ".join(f"{k} = {fmt(v)}" for k, v in values.items())
    trace = [cc.head, f"输入 Inputs: {shown or '—'}{cite}"]
    trace.extend(step + cite for step in ctx.steps)
    trace.append(cc.formula + fmt(raw) + cite)
    if binding is not None:
        trace.append(cc.binding_lines[binding])
    if eligible:
        trace.append(f"金额 Amount: {fmt(amount)} 元 yuan, {cc.amount_kind}{cite}")
    else:
        trace.append(f"不符合条件 Not eligible: {'; '.join(reasons)} → 0 元{cite}")

    return Award(
        clause=clause.id,
        policy=policy.id,
        article=clause.article,
        title=clause.title,
        amount=amount,
        eligible=eligible,
        reasons=tuple(reasons),
        binding=binding,
        binding_kind=clause.parameters[binding].kind if binding else None,
        ceiling=clause.ceiling,
        trace=tuple(trace),
        payments=_payments(cc, amount, values) if eligible else (),
        notes=tuple(notes),
        inputs=values,
    )


def _answered_conditions(
    cc: CompiledClause, values: dict[str, object], ctx: expr.Context, notes: list[str], reasons: list[str]
) -> None:
    """Each condition: waived, assumed (no answer), or not met (answered no)."""
    for name, (assumed, not_met) in cc.condition_texts.items():
        waiver = cc.waive.get(name)
        if waiver is not None and _true(waiver[0], ctx):
            notes.append(waiver[1])
            continue
        answer = values.get(name)
        if answer is None:
            notes.append(assumed)
        elif not answer:
            reasons.append(not_met)


def _true(fn: expr.Compiled, ctx: expr.Context) -> bool:
    try:
        return bool(fn(ctx))
    except expr.MissingName:
        return False


def _payments(cc: CompiledClause, amount: Decimal, values: dict[str, object]) -> tuple[Payment, ...]:
    if len(cc.stage_due) == 1 and cc.stage_due[0] is None:
        return (Payment(stage=cc.schedule.stages[0].label, share=Decimal(1), amount=amount, status="due"),)
    ctx = expr.Context(values)
    stages = cc.schedule.stages
    out, paid = [], Decimal(0)
    for index, (stage, due) in enumerate(zip(stages, cc.stage_due)):
        share_amount = amount - paid if index == len(stages) - 1 else round_yuan(amount * stage.share)
        paid += share_amount
        status = "due" if due is None or _true(due, ctx) else "pending"
        out.append(Payment(stage=stage.label, share=stage.share, amount=share_amount, status=status))
    return tuple(out)
