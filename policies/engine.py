"""``evaluate(clause_id, **inputs) -> Award``: one clause, exactly, with the reasons why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, DecimalException
from functools import cache, lru_cache

from pydantic import BaseModel

from . import expr
from .award import Award, Check, Step
from .errors import InputError, UnknownClauseError
from .inputs import closest, coerce_inputs, coercer, input_model
from .numbers import describe, fmt, round_yuan
from .parameters import DatedValues, InForce, Reform, in_force, origin, parse_reform, value_text
from .payments import split
from .registry import fields, policies, zone_spec, zones
from .schema import AnnualCap, Clause, Condition, InputSpec, Label, Parameter, Policy, Rule, Schedule
from .schema import Check as InputCheck
from .years import parse_year


def _condition_spec(condition: Condition) -> InputSpec:
    return InputSpec(type="bool", label=condition.label)


@dataclass(frozen=True)
class CheckDefinition:
    """One eligibility check of a clause, as the core evaluates it and a form renders it.

    ``outcomes`` are the results it can give, made once (the zone's and the validity's depend on the
    value: ``zone_outcome``, ``validity_check``); ``test`` is a rule's expression, ``waiver`` the
    expression that lifts a condition."""

    code: str
    kind: str  # zone | validity | condition | excluded | threshold | rule
    subject: Label
    cites: str
    outcomes: dict[str, Check]
    name: str = ""  # a condition's name
    rule: Rule | None = None
    test: expr.Node | None = None
    waiver: expr.Node | None = None
    waiver_text: str = ""


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
    definitions: list[CheckDefinition]  # every eligibility check, in order: validity, zone, conditions, rules
    requires: list[tuple[CheckDefinition, expr.Compiled]]  # the rules' definitions and tests
    checks: list[tuple[InputCheck, expr.Compiled]]
    conditions_checked: list[tuple[CheckDefinition, expr.Compiled | None]]  # each condition and its waiver
    zone_outcomes: dict[str | None, Check]  # None: not given (assumed)
    annual_caps: tuple[tuple[Decimal, str], ...]  # caps across claims: (cap, note when one claim exceeds it)
    allowed_zones: tuple[str, ...]
    cite: str
    notes: tuple[str, ...]
    schedule: Schedule
    dated: tuple[str, ...] = ()  # the parameters whose value changes by date: resolved for each evaluation
    parameter_steps: tuple[Step, ...] = ()  # the parameters a date or a reform decided, as trace steps
    origins: tuple[tuple[str, str], ...] = ()  # (parameter, where its value comes from) for those parameters
    reform: dict[str, object] | None = None  # the reform's entries that concern this clause (``compiled_for``)

    @property
    def id(self) -> str:
        return self.clause.id

    def definition(self, code: str) -> CheckDefinition:
        return next(d for d in self.definitions if d.code == code)


def _show_name(parameters: dict[str, Decimal]) -> Callable[[str], str]:
    def show(name: str) -> str:
        value = parameters.get(name)
        return f"{name}[{fmt(value)}]" if value is not None else name

    return show


VALIDITY_SUBJECT = Label(zh="政策有效期", en="The policy's validity")
VALIDITY_UNCHECKED = Label(
    zh="未给出申报日期，未核对政策有效期", en="No date given (on): the policy's validity is not checked"
)


def _outcomes(code: str, subject: Label, cites: str, *, assumed: str, waived: str = "") -> dict[str, Check]:
    """A condition's or a rule's four possible results, with their messages."""
    failed = ("条件不满足", "Not met") if code.startswith(("condition:", "excluded:")) else ("不符合", "Not met")
    words = {
        "passed": (f"满足：{subject.zh}", f"Met: {subject.en}"),
        "failed": (f"{failed[0]}：{subject.zh}", f"{failed[1]}: {subject.en}"),
        "assumed": (f"假定满足：{subject.zh}（{assumed}）", f"Assumed: {subject.en} ({ASSUMED_EN[assumed]})"),
        "waived": (f"豁免：{subject.zh}（{waived}时）", f"Waived: {subject.en} (when {waived})"),
    }
    return {status: Check(code, status, cites, subject, Label(zh=zh, en=en)) for status, (zh, en) in words.items()}


ASSUMED_EN = {"未作答": "not answered", "门槛事实未填": "the fact is not given"}


def _zone_outcomes(allowed: tuple[str, ...]) -> dict[str | None, Check]:
    subject = fields()["zone"].label
    shown = ", ".join(allowed)
    out: dict[str | None, Check] = {
        None: Check(
            "zone", "assumed", "", subject, Label(zh="假定所在区域符合", en=f"Zone assumed to be one of: {shown}")
        )
    }
    for zone in zones():  # every zone the policies know (common.yaml and a policy's own)
        if zone in allowed:
            out[zone] = Check(
                "zone", "passed", "", subject, Label(zh="所在区域符合", en=f"Zone {zone} is one of {shown}")
            )
        else:
            out[zone] = Check(
                "zone", "failed", "", subject, Label(zh="区域不符", en=f"Zone {zone} is not one of {shown}")
            )
    return out


@cache
def compiled(clause_id: str) -> CompiledClause:
    policy, clause = find_clause(clause_id)
    amount_node, requires = clause.amount_node, clause.rule_nodes
    checks, waive = clause.check_nodes, clause.waiver_nodes
    show = _show_name({name: p.value for name, p in clause.parameters.items()})
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
    zone_outcomes = _zone_outcomes(zones)
    validity = CheckDefinition(
        "validity",
        "validity",
        VALIDITY_SUBJECT,
        "",
        {"assumed": Check("validity", "assumed", "", VALIDITY_SUBJECT, VALIDITY_UNCHECKED)},
    )
    zone = CheckDefinition(
        "zone", "zone", fields()["zone"].label, "", {k: v for k, v in zone_outcomes.items() if k is None}
    )
    condition_defs = []
    for name, c in conditions.items():
        kind = "excluded" if c.exclusion else "condition"
        code = f"{kind}:{name}"
        when = clause.waive.get(name, "")
        condition_defs.append(
            CheckDefinition(
                code,
                kind,
                c.label,
                c.cites,
                _outcomes(code, c.label, c.cites, assumed="未作答", waived=when),
                name=name,
                waiver=waive.get(name),
                waiver_text=when,
            )
        )
    rule_defs = [
        CheckDefinition(
            code,
            code.partition(":")[0],
            rule.reason,
            rule.cites,
            _outcomes(code, rule.reason, rule.cites, assumed="门槛事实未填"),
            rule=rule,
            test=node,
        )
        for rule, node, code in zip(clause.requires, requires, clause.rule_codes)
    ]
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
        definitions=[validity, zone, *condition_defs, *rule_defs],
        requires=[(d, expr.compile_expr(d.test, record=False)) for d in rule_defs],
        checks=[(check, expr.compile_expr(n, record=False)) for check, n in zip(clause.checks, checks)],
        conditions_checked=[
            (d, expr.compile_expr(d.waiver, record=False) if d.waiver is not None else None) for d in condition_defs
        ],
        zone_outcomes=zone_outcomes,
        annual_caps=tuple(_annual_cap(cap, cap.cap) for cap in _caps_of(policy, clause)),
        allowed_zones=zones,
        cite=cite,
        notes=tuple(str(n) for n in clause.notes),
        schedule=schedule,
        dated=tuple(name for name, p in clause.parameters.items() if p.values is not None),
    )


def _annual_cap(cap: AnnualCap, value: Decimal) -> tuple[Decimal, str]:
    return (
        value,
        f"单项金额超过年度上限 Above an annual cap: {cap.label} 〔{cap.cites}〕 — applied across the enterprise's claims (portfolio, review)",
    )


def _caps_of(policy: Policy, clause: Clause) -> list[AnnualCap]:
    """The policy's caps across claims that count this clause's amounts."""
    return [cap for cap in policy.annual_caps if cap.clauses == "all" or clause.id in cap.clauses]


# --- dated parameters and reforms ------------------------------------------------------------------


def compiled_for(clause_id: str, on: object = None, reform: Reform | dict | None = None) -> CompiledClause:
    """The clause compiled with the parameter values in force ``on`` (a day, or a year: its 31
    December; None: the latest values) under ``reform``; the clause itself, untouched, when it has no
    dated parameter and no reform is given (the common case costs one test)."""
    cc = compiled(clause_id)
    if reform is None and not cc.dated:
        return cc
    if reform is not None:
        reform = parse_reform(reform)
    try:
        first, last = _as_date(on) if on is not None else (None, None)
    except ValueError as exc:
        raise InputError(cc.id, "on", str(exc)) from None
    return _resolved(cc.id, first, last, reform)


@lru_cache(maxsize=4096)
def _resolved(clause_id: str, first: date | None, last: date | None, reform: Reform | None) -> CompiledClause:
    cc = compiled(clause_id)
    clause, policy = cc.clause, cc.policy
    values: dict[str, InForce] = {}
    for name, parameter in clause.parameters.items():
        override = reform.get(f"{clause.id}.{name}") if reform is not None else None
        if override is not None or parameter.values is not None:
            values[name] = in_force(parameter.by_date, override, first, last)
    caps = {
        cap.id: in_force(
            ((None, cap.cap),), reform.get(f"{policy.id}.{cap.id}") if reform is not None else None, first, last
        )
        for cap in _caps_of(policy, clause)
    }
    day = (
        "the latest value (no date given)"
        if last is None
        else (f"in force on {last}" if first == last else f"in force on 31 December {last.year} (the year given)")
    )
    steps, notes = [], []
    for name, value in values.items():
        parameter = clause.parameters[name]
        steps.append(
            Step(
                "parameter",
                f"{name} = {value_text(value, parameter.unit)}, {day}",
                value.value,
                clause.article,
                name,
                source=origin(value),
            )
        )
        notes.extend(_value_notes(name, parameter, value, last))
    concerned: dict[str, DatedValues] = {}  # the reform's entries for this clause's parameters and caps
    if reform is not None:
        named = {
            **{f"{clause.id}.{n}": v for n, v in values.items()},
            **{f"{policy.id}.{k}": v for k, v in caps.items()},
        }
        for name in sorted(named):
            override = reform.get(name)
            if override is not None:
                concerned[name] = override
        said = [
            f"{name} = {fmt(named[name].value)}" + (f" from {named[name].since}" if named[name].since else "")
            if named[name].reform
            else f"{name} (from {override[0][0]}) not yet in force: the policy's value used"
            for name, override in concerned.items()
        ]
        notes.append(
            "改革 Reform (what-if, not the policy as published): "
            + ("; ".join(said) or "changes no parameter of this clause / 未涉及本条款参数")
        )
    parameters = {**cc.parameters, **{name: v.value for name, v in values.items()}}
    node = cc.amount_node
    if node is not None and values:  # a fresh tree: the cached clause's nodes show the policy's values
        node = expr.parse(clause.amount or "")
        expr.annotate(node, _show_name(parameters))
    return replace(
        cc,
        parameters=parameters,
        amount_node=node,
        amount=expr.compile_expr(node) if node is not None and values else cc.amount,
        annual_caps=tuple(_annual_cap(cap, caps[cap.id].value) for cap in _caps_of(policy, clause)),
        notes=(*cc.notes, *notes),
        parameter_steps=tuple(steps),
        origins=tuple((name, origin(v)) for name, v in values.items()),
        reform=reform.as_dict(set(concerned)) if reform is not None else None,
    )


def _value_notes(name: str, parameter: Parameter, value: InForce, last: date | None) -> list[str]:
    """What a reader should know about a dated or reformed value: the latest taken without a date,
    a change within the year asked, a day before the first date."""
    notes = []
    if last is None and (parameter.values is not None or value.since is not None):
        notes.append(
            f"参数 Parameter {name}: no date given, so its latest value {fmt(value.value)} is used"
            + (f" (from {value.since})" if value.since else "")
            + "; pass on= (a date or year) for another day / 未给日期，取最新值"
        )
    if value.changes:
        steps = ", ".join(f"{fmt(v)} from {d}" for d, v in value.changes[1:])
        steps = f"{fmt(value.changes[0][1])} on {value.changes[0][0]}, {steps}"
        notes.append(
            f"参数 Parameter {name} changed during {last.year if last else ''}: {steps}; the value of 31 December, "
            f"{fmt(value.value)}, is used (give a date for another day) / 年内调整，按12月31日取值"
        )
    if value.early:
        notes.append(
            f"参数 Parameter {name}: {last} is before its first date {value.since}; that first value "
            f"{fmt(value.value)} is used / 早于首个生效日期，取首个值"
        )
    return notes


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


def validity_years(policy: Policy) -> tuple[int | None, int | None]:
    """The first and last year the policy is in force (None: the text gives no bound)."""
    window = policy.validity
    start = window.start.year if window.start else window.start_year
    return start, (window.end.year if window.end else None)


def validity_check(policy: Policy, on: object) -> tuple[Check, tuple[str, ...]]:
    """The ``validity`` check on ``on`` (a date, a year, or their text) and the window's notes on bounds
    the text leaves unknown; ValueError when ``on`` is not a date."""
    try:
        return _validity_check(policy.id, type(on), on)
    except TypeError:  # unhashable: not a date anyway
        return _validity_check.__wrapped__(policy.id, type(on), on)


@lru_cache(maxsize=1024)
def _validity_check(policy_id: str, _kind: type, on: object) -> tuple[Check, tuple[str, ...]]:
    policy = policies()[policy_id]
    first, last = _as_date(on)
    window = policy.validity
    notes = tuple(str(n) for n in window.notes)
    start = window.start or (date(window.start_year, 1, 1) if window.start_year else None)
    if start and last < start:
        message = Label(
            zh="政策尚未施行", en=f"Policy not yet in force on {on} (from {window.start or window.start_year})"
        )
    elif window.end and first > window.end:
        message = Label(zh="政策已到期", en=f"Policy expired on {window.end}, before {on}")
    else:
        return Check(
            "validity",
            "passed",
            "",
            VALIDITY_SUBJECT,
            Label(zh=f"政策于{on}在有效期内", en=f"The policy is in force on {on}"),
        ), notes
    return Check("validity", "failed", "", VALIDITY_SUBJECT, message), notes


# --- evaluate -----------------------------------------------------------------------------------


def evaluate(clause_id: str, /, *, on: object = None, reform: Reform | dict | None = None, **inputs: object) -> Award:
    """Evaluate one clause for the given inputs; ineligible is a result, bad input an ``InputError``.

    ``on``: the claim's date or year (validity window, dated parameters); ``reform``: parameters
    overridden for a what-if (``policies.parameters``)."""
    cc = compiled_for(clause_id.strip() if isinstance(clause_id, str) else clause_id, on, reform)
    clause, policy = cc.clause, cc.policy
    if cc.amount is None:
        raise InputError(clause.id, "clause", "is a non-monetary article: it grants no amount / 非资金支持条款")
    for name in inputs:
        if name not in cc.specs:
            hint = closest(name, list(cc.specs))
            raise InputError(clause.id, name, "unknown input" + (f"; did you mean {hint!r}?" if hint else ""))
    given = coerce_inputs(clause.id, cc.coercers, inputs)
    values = {**cc.defaults, **given}
    ctx = expr.Context({**cc.parameters, **values})
    readings = list(cc.notes)

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

    checks = [_validity(cc, on, readings), cc.zone_outcomes[values.get("zone")]]  # type: ignore[index]
    checks.extend(condition_checks(cc, values, ctx))
    for definition, fn in cc.requires:
        try:
            status = "passed" if fn(ctx) else "failed"
        except expr.MissingName as missing:
            spec = clause.inputs.get(missing.name)
            if spec is None or not spec.fact:
                raise InputError(clause.id, missing.name, "required for this claim, and empty / 必填") from None
            status = "assumed"
        except (DecimalException, ZeroDivisionError) as exc:
            raise InputError(clause.id, "inputs", f"cannot be computed ({type(exc).__name__})") from None
        checks.append(definition.outcomes[status])

    eligible = all(c.status != "failed" for c in checks)
    amount = round_yuan(raw) if eligible else Decimal("0.00")
    readings.extend(note for cap, note in cc.annual_caps if amount > cap)
    node = cc.amount_node
    binding, bindings, bounds = _limits(cc, ctx)
    cites = clause.article
    steps = [*cc.parameter_steps] + [
        Step(n.function, n.text, values_[index], cites, bound, tuple((arg.text, v) for arg, v in zip(n.args, values_)))
        for (n, values_, index), bound in zip(ctx.steps, bounds)
    ]
    steps.append(Step("formula", node.text, raw, cites, binding))
    if binding is not None:  # the limit that bound: its value in this evaluation and the words it cites
        steps.append(
            Step(
                "binding",
                binding,
                ctx.env[binding],
                clause.parameters[binding].cites,
                binding,
                source=dict(cc.origins).get(binding, ""),
            )
        )
    steps.append(Step("amount", "", amount, cites, binding if eligible else None))

    return Award(
        clause=clause.id,
        policy=policy.id,
        article=clause.article,
        title=clause.title,
        amount=amount,
        eligible=eligible,
        binding=binding,
        binding_kind=clause.parameters[binding].kind if binding else None,
        ceiling=clause.ceiling,
        payments=split(amount, cc.schedule, values) if eligible else (),
        inputs=values,
        checks=tuple(checks),
        steps=tuple(steps),
        bindings=bindings,
        readings=tuple(readings),
        reform=cc.reform,
    )


_LIMITS: dict[tuple, tuple[str | None, tuple[str, ...], tuple[str | None, ...]]] = {}


def _limits(cc: CompiledClause, ctx: expr.Context) -> tuple[str | None, tuple[str, ...], tuple[str | None, ...]]:
    """The binding limit, every limit, and the one each min/max chose: they depend only on the choices
    the evaluation made (a few per clause), so each pattern is worked out once."""
    key = (cc.id, tuple(ctx.chosen.items()), tuple(id(n) for n, _, _ in ctx.steps))
    found = _LIMITS.get(key)
    if found is None:
        node, chosen, is_parameter = cc.amount_node, ctx.chosen, cc.parameters.__contains__
        found = _LIMITS[key] = (
            expr.deciding_name(node, chosen, is_parameter),
            tuple(expr.bound_names(node, chosen, is_parameter)),
            tuple(expr.deciding_name(n.args[index], chosen, is_parameter) for n, _, index in ctx.steps),
        )
    return found


def _validity(cc: CompiledClause, on: object, readings: list[str]) -> Check:
    if on is None:
        return cc.definitions[0].outcomes["assumed"]
    try:
        check, notes = validity_check(cc.policy, on)
    except ValueError as exc:
        raise InputError(cc.id, "on", str(exc)) from None
    readings.extend(notes)
    return check


def condition_checks(cc: CompiledClause, values: dict[str, object], ctx: expr.Context | None = None) -> list[Check]:
    """Each condition's check on the inputs: waived (the clause lifts it), assumed (not answered), failed
    (answered no) or passed. Reviewers call it too, on a declaration whose amount cannot be computed."""
    if ctx is None:
        ctx = expr.Context({**cc.parameters, **cc.defaults, **values})
    out = []
    for definition, waiver in cc.conditions_checked:
        if waiver is not None and _true(waiver, ctx):
            out.append(definition.outcomes["waived"])
            continue
        answer = values.get(definition.name)
        out.append(definition.outcomes["assumed" if answer is None else "passed" if answer else "failed"])
    return out


def _true(fn: expr.Compiled, ctx: expr.Context) -> bool:
    try:
        return bool(fn(ctx))
    except expr.MissingName:
        return False


#: The engine's caches of what it compiled from the policy files: ``registry.reload(*COMPILED_CACHES)`` after
#: the policies changed (``GREEN_AWARD_POLICY_DIRS``, a test's fixture policy).
COMPILED_CACHES = (compiled, _resolved)
