"""``evaluate(clause_id, **inputs) -> Award``: one clause, exactly, with the reasons why."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, DecimalException
from functools import cache, cached_property, lru_cache, partial

from pydantic import BaseModel

from . import expr
from .award import Award, Check, Payment, Step
from .errors import GreenAwardError, InputError, UnknownClauseError
from .inputs import closest, coercer, input_model, is_blank
from .numbers import describe, fmt, round_yuan
from .parameters import DatedValues, InForce, Reform, in_force, origin, parse_reform, value_text
from .payments import splitter
from .registry import fields, policies, zone_spec, zones
from .schema import AnnualCap, Clause, Condition, InputSpec, Label, Parameter, Policy, Rule, Schedule, label
from .schema import Check as InputCheck
from .years import parse_year


def _condition_spec(condition: Condition) -> InputSpec:
    # a yes/no input of a validated label: nothing to validate (``schema.label`` says why it matters)
    return InputSpec.model_construct(type="bool", label=condition.label)


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


@dataclass(frozen=True)
class Pattern:
    """What the choices of one evaluation decide (the arguments each min/max/if chose): the limit that
    bound, every limit on the path, and the trace's texts. A clause has a few such patterns; each is
    worked out once (``CompiledClause.patterns``)."""

    binding: str | None
    binding_kind: str | None
    bindings: tuple[str, ...]
    formula: str  # the clause's expression, its parameters shown with their values
    steps: tuple[tuple[str, str, str | None, tuple[str, ...]], ...]  # each min/max: function, text, bound, args' texts
    binding_step: tuple[Step, ...]  # the binding limit's step, when a parameter bound


def _unpaid(total: Decimal, values: Mapping[str, object]) -> tuple[Payment, ...]:
    raise AssertionError("a compiled clause has its schedule's splitter")  # the field's default, never called


@dataclass
class CompiledClause:
    """A clause made ready to evaluate: expressions compiled, its input model built, its fixed texts made."""

    clause: Clause
    policy: Policy
    specs: dict[str, InputSpec]  # every name the clause accepts
    conditions: dict[str, Condition]  # the clause's own and the policy's general conditions
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
    names: frozenset[str] = frozenset()  # the names in ``specs``, to test a call's inputs at once
    condition_names: frozenset[str] = frozenset()
    unanswered: tuple[Check, ...] | None = None  # every condition assumed: none answered (None: a waiver may apply)
    pay: Callable[[Decimal, Mapping[str, object]], tuple[Payment, ...]] = _unpaid  # ``payments.splitter``
    patterns: dict[tuple[tuple[int, int], ...], Pattern] = field(default_factory=dict)  # by the choices made
    heads: dict[object, tuple[tuple[Check, ...], bool]] = field(default_factory=dict)  # by zone: see ``_evaluate``

    @property
    def id(self) -> str:
        return self.clause.id

    @cached_property
    def model(self) -> type[BaseModel]:
        """The pydantic model of these inputs (for reviewers and other callers; ``evaluate`` uses ``coercers``),
        built when first asked: making a model costs more than a command's whole calculation."""
        return input_model("Inputs_" + self.id.replace(":", "_").replace(".", "_"), self.specs)

    @cached_property
    def award_fields(self) -> tuple[str, str, str, Label, bool, dict[str, object] | None]:
        """The award's fields the clause alone decides: clause, policy, article, title, ceiling, reform
        (read once: each read of a policy model's attribute costs more than a tuple's)."""
        clause = self.clause
        return clause.id, self.policy.id, clause.article, clause.title, clause.ceiling, self.reform

    def definition(self, code: str) -> CheckDefinition:
        return next(d for d in self.definitions if d.code == code)


def _show_name(parameters: dict[str, Decimal]) -> Callable[[str], str]:
    def show(name: str) -> str:
        value = parameters.get(name)
        return f"{name}[{fmt(value)}]" if value is not None else name

    return show


VALIDITY_SUBJECT = label(zh="政策有效期", en="The policy's validity")
VALIDITY_UNCHECKED = label(
    zh="未给出申报日期，未核对政策有效期", en="No date given (on): the policy's validity is not checked"
)
UNCHECKED = Check("validity", "assumed", "", VALIDITY_SUBJECT, VALIDITY_UNCHECKED)  # no date given


def _outcomes(code: str, subject: Label, cites: str, *, assumed: str, waived: str = "") -> dict[str, Check]:
    """A condition's or a rule's four possible results, with their messages."""
    failed = ("条件不满足", "Not met") if code.startswith(("condition:", "excluded:")) else ("不符合", "Not met")
    words = {
        "passed": (f"满足：{subject.zh}", f"Met: {subject.en}"),
        "failed": (f"{failed[0]}：{subject.zh}", f"{failed[1]}: {subject.en}"),
        "assumed": (f"假定满足：{subject.zh}（{assumed}）", f"Assumed: {subject.en} ({ASSUMED_EN[assumed]})"),
        "waived": (f"豁免：{subject.zh}（{waived}时）", f"Waived: {subject.en} (when {waived})"),
    }
    return {status: Check(code, status, cites, subject, label(zh=zh, en=en)) for status, (zh, en) in words.items()}


ASSUMED_EN = {"未作答": "not answered", "门槛事实未填": "the fact is not given"}


def _zone_outcomes(allowed: tuple[str, ...]) -> dict[str | None, Check]:
    """The zone check's outcome for every zone (and for none given), its message naming the zones by
    their labels (common.yaml), the code beside the English one."""
    subject = fields()["zone"].label
    names = zones()

    def zh(zone: str) -> str:
        return names[zone].zh if zone in names else zone

    def en(zone: str) -> str:
        return f"{names[zone].en} [{zone}]" if zone in names else zone

    zh_allowed, en_allowed = "、".join(map(zh, allowed)), "; ".join(map(en, allowed))
    out: dict[str | None, Check] = {
        None: Check(
            "zone",
            "assumed",
            "",
            subject,
            label(zh=f"假定所在区域符合（{zh_allowed}）", en=f"Zone assumed to be one of: {en_allowed}"),
        )
    }
    for zone in names:  # every zone the policies know (common.yaml and a policy's own)
        if zone in allowed:
            message = label(zh=f"所在区域符合：{zh(zone)}", en=f"Zone {en(zone)} is one of: {en_allowed}")
            out[zone] = Check("zone", "passed", "", subject, message)
        else:
            message = label(
                zh=f"区域不符：{zh(zone)}不在本条适用区域（{zh_allowed}）内",
                en=f"Zone {en(zone)} is not one of: {en_allowed}",
            )
            out[zone] = Check("zone", "failed", "", subject, message)
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
        {"assumed": UNCHECKED},
    )
    zone = CheckDefinition("zone", "zone", fields()["zone"].label, "", {"assumed": zone_outcomes[None]})
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
    parameters = {name: p.value for name, p in clause.parameters.items()}
    amount, rules, input_checks, waivers = _expressions(clause, amount_node, rule_defs, condition_defs, parameters)
    return CompiledClause(
        clause=clause,
        policy=policy,
        specs=specs,
        conditions=conditions,
        coercers={name: coercer(spec) for name, spec in specs.items()},
        parameters=parameters,
        defaults={n: s.default for n, s in clause.inputs.items() if s.default is not None},
        amount_node=amount_node,
        amount=amount,
        definitions=[validity, zone, *condition_defs, *rule_defs],
        requires=rules,
        checks=input_checks,
        conditions_checked=waivers,
        zone_outcomes=zone_outcomes,
        annual_caps=tuple(_annual_cap(cap, cap.cap) for cap in _caps_of(policy, clause)),
        allowed_zones=zones,
        cite=cite,
        notes=tuple(str(n) for n in clause.notes),
        schedule=schedule,
        dated=tuple(name for name, p in clause.parameters.items() if p.values is not None),
        names=frozenset(specs),
        condition_names=frozenset(conditions),
        unanswered=None if waive else tuple(d.outcomes["assumed"] for d in condition_defs),
        pay=splitter(schedule),
    )


def _expressions(
    clause: Clause,
    amount: expr.Node | None,
    rules: list[CheckDefinition],
    conditions: list[CheckDefinition],
    parameters: dict[str, Decimal],
) -> tuple[
    expr.Compiled | None,
    list[tuple[CheckDefinition, expr.Compiled]],
    list[tuple[InputCheck, expr.Compiled]],
    list[tuple[CheckDefinition, expr.Compiled | None]],
]:
    """The clause's expressions compiled (its amount, rules, input checks and waivers) with its parameters'
    values written in: an evaluation's context holds the inputs alone, not a merge of both per call.
    (A parameter cannot share a name with an input: ``schema`` refuses it.)"""

    def test(node: expr.Node) -> expr.Compiled:
        return expr.compile_expr(node, record=False, constants=parameters)

    return (
        expr.compile_expr(amount, constants=parameters) if amount is not None else None,
        [(d, test(node)) for d, node in zip(rules, clause.rule_nodes)],
        [(check, test(node)) for check, node in zip(clause.checks, clause.check_nodes)],
        [(d, test(d.waiver) if d.waiver is not None else None) for d in conditions],
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


def compiled_for(
    clause_id: str, on: object = None, reform: Reform | Mapping[str, object] | None = None
) -> CompiledClause:
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
    rules, conditions = [d for d, _ in cc.requires], [d for d, _ in cc.conditions_checked]
    amount, requires, input_checks, waivers = (
        _expressions(clause, node, rules, conditions, parameters)
        if values  # a value differs from the policy's: the expressions that have it written in, again
        else (cc.amount, cc.requires, cc.checks, cc.conditions_checked)
    )
    return replace(
        cc,
        parameters=parameters,
        amount_node=node,
        amount=amount,
        requires=requires,
        checks=input_checks,
        conditions_checked=waivers,
        annual_caps=tuple(_annual_cap(cap, caps[cap.id].value) for cap in _caps_of(policy, clause)),
        notes=(*cc.notes, *notes),
        parameter_steps=tuple(steps),
        origins=tuple((name, origin(v)) for name, v in values.items()),
        reform=reform.as_dict(set(concerned)) if reform is not None else None,
        patterns={},  # its own: the binding's value and the formula's text show this clause's values
        heads={},
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
        return _validity_check(policy.id, on)
    except TypeError:  # unhashable: not a date anyway
        return _validity_check.__wrapped__(policy.id, on)


@lru_cache(maxsize=1024, typed=True)  # typed: 2025 and "2025" are told apart (the message shows ``on``)
def _validity_check(policy_id: str, on: object) -> tuple[Check, tuple[str, ...]]:
    policy = policies()[policy_id]
    first, last = _as_date(on)
    window = policy.validity
    notes = tuple(str(n) for n in window.notes)
    start = window.start or (date(window.start_year, 1, 1) if window.start_year else None)
    if start and last < start:
        message = label(
            zh="政策尚未施行", en=f"Policy not yet in force on {on} (from {window.start or window.start_year})"
        )
    elif window.end and first > window.end:
        message = label(zh="政策已到期", en=f"Policy expired on {window.end}, before {on}")
    else:
        return Check(
            "validity",
            "passed",
            "",
            VALIDITY_SUBJECT,
            label(zh=f"政策于{on}在有效期内", en=f"The policy is in force on {on}"),
        ), notes
    return Check("validity", "failed", "", VALIDITY_SUBJECT, message), notes


# --- evaluate -----------------------------------------------------------------------------------


def evaluate(
    clause_id: str, /, *, on: object = None, reform: Reform | Mapping[str, object] | None = None, **inputs: object
) -> Award:
    """Evaluate one clause for the given inputs; ineligible is a result, bad input an ``InputError``.

    ``on``: the claim's date or year (validity window, dated parameters); ``reform``: parameters
    overridden for a what-if (``policies.parameters``).

    Everything that depends only on the clause is compiled once (``compiled``), and everything that
    depends only on the choices the computation made (which limit bound, the trace's texts) once per
    such pattern (``_pattern``): a call coerces its inputs, computes, and assembles the result."""
    cc = UNDATED.get(clause_id) if reform is None and type(clause_id) is str else None
    return _evaluate(_compiled(clause_id, on, reform) if cc is None else cc, on, inputs)


class Undated(dict[str, CompiledClause]):
    """The compiled clauses that have no dated parameter, by their exact id: the common call's one look-up
    (``evaluate``), filled by ``_compiled``; cleared with the other compiled caches (``COMPILED_CACHES``)."""

    def cache_clear(self) -> None:
        self.clear()


UNDATED = Undated()


def _compiled(clause_id: str, on: object, reform: Reform | Mapping[str, object] | None) -> CompiledClause:
    """``compiled_for``, its common case (no reform, no dated parameter) first."""
    key = clause_id.strip() if isinstance(clause_id, str) else clause_id
    cc = compiled(key) if reform is None and isinstance(key, str) else None
    if cc is None or cc.dated:
        return compiled_for(key, on, reform)
    if key == clause_id:
        UNDATED[key] = cc
    return cc


def evaluate_many(
    items: Iterable[tuple[str, object, Mapping[str, object]]], *, reform: Reform | Mapping[str, object] | None = None
) -> list[Award | GreenAwardError]:
    """Evaluate many claims: ``items`` are ``(clause_id, on, inputs)``; one result per item, in order,
    each an ``Award`` or the ``GreenAwardError`` (an ``InputError``, an ``UnknownClauseError``) that
    ``evaluate`` would raise for it, returned rather than raised so a batch goes on past a bad claim.

    It shares what ``evaluate`` compiles (each clause once, each date and reform once); the reform is
    parsed once for the whole batch (a bad reform is raised: it is the caller's, not an item's)."""
    parsed = parse_reform(reform) if reform is not None else None
    out: list[Award | GreenAwardError] = []
    for clause_id, on, inputs in items:
        try:
            cc = UNDATED.get(clause_id) if parsed is None and type(clause_id) is str else None
            out.append(_evaluate(_compiled(clause_id, on, parsed) if cc is None else cc, on, inputs))
        except GreenAwardError as exc:
            out.append(exc)
    return out


def _evaluate(cc: CompiledClause, on: object, inputs: Mapping[str, object]) -> Award:
    clause = cc.clause
    amount_of = cc.amount
    if amount_of is None:
        raise InputError(clause.id, "clause", "is a non-monetary article: it grants no amount / 非资金支持条款")
    if not cc.names.issuperset(inputs):
        for name in inputs:
            if name not in cc.specs:
                hint = closest(name, list(cc.specs))
                raise InputError(clause.id, name, "unknown input" + (f"; did you mean {hint!r}?" if hint else ""))
    values = dict(cc.defaults)
    coercers = cc.coercers
    for name, value in inputs.items():
        if value is None or (type(value) not in _NEVER_BLANK and is_blank(value)):
            continue
        try:
            values[name] = coercers[name](value)
        except ValueError as exc:
            raise InputError(clause.id, name, str(exc)) from None
    ctx = Workings(values)  # the parameters are written into the expressions (``_expressions``)

    for check, fn in cc.checks:
        try:
            ok = fn(ctx)
        except expr.MissingName:
            continue
        if not ok:
            raise InputError(clause.id, check.field, str(check.message))

    try:
        raw = amount_of(ctx)
    except expr.MissingName as missing:
        raise InputError(clause.id, missing.name, "required for this claim, and empty / 必填") from None
    except (DecimalException, ZeroDivisionError) as exc:
        raise InputError(clause.id, "inputs", f"cannot be computed ({type(exc).__name__})") from None
    if raw < 0:
        raise InputError(clause.id, "amount", f"the expression gave a negative amount {fmt(raw)}")

    window_notes: tuple[str, ...] = ()
    if on is None:
        validity = UNCHECKED
    else:
        try:
            validity, window_notes = validity_check(cc.policy, on)
        except ValueError as exc:
            raise InputError(cc.id, "on", str(exc)) from None
    zone = values.get("zone")
    # ``unsure``: whether a check may have failed; not after the clause's all-assumed conditions
    if cc.unanswered is not None and cc.condition_names.isdisjoint(values):  # the common case
        head = cc.heads.get(zone)  # validity, zone and every condition assumed, made once per zone
        if head is None or head[0][0] is not validity:
            zone_check = cc.zone_outcomes[zone if isinstance(zone, str) else None]
            failed = "failed" in (validity.status, zone_check.status)
            head = cc.heads[zone] = ((validity, zone_check, *cc.unanswered), failed)
        checks, unsure = head
    else:
        zone_check = cc.zone_outcomes[zone if isinstance(zone, str) else None]
        checks, unsure = (validity, zone_check, *condition_checks(cc, values, ctx)), True
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
        checks = (*checks, definition.outcomes[status])
        unsure = unsure or status == "failed"
    eligible = not unsure or "failed" not in [c.status for c in checks]

    amount = round_yuan(raw) if eligible else ZERO
    readings = cc.notes + window_notes if window_notes else cc.notes
    for cap, note in cc.annual_caps:
        if amount > cap:
            readings = (*readings, note)
    award = new_award(Award)  # every field but the later ones (``award.LATER``: ``Workings.fill``)
    award.clause, award.policy, award.article, award.title, award.ceiling, award.reform = cc.award_fields
    award.amount = amount
    award.eligible = eligible
    award.inputs = values
    award.checks = checks
    award.readings = readings
    award.workings = ctx
    ctx.cc, ctx.raw = cc, raw
    return award


class Workings(expr.Context):
    """An evaluation's context (what the expressions read and the choices they made) with its clause and
    the formula's exact value: an award's later fields are made from it and the award's own amount,
    eligibility and inputs when one is first read (``Award.workings``)."""

    __slots__ = ("cc", "raw")
    cc: CompiledClause
    raw: Decimal

    def fill(self, award: Award) -> None:
        """Set the award's later fields, all at once: a caller that reads one mostly reads the others."""
        cc, ctx, amount, eligible = self.cc, self, award.amount, award.eligible
        pattern = cc.patterns.get(key := tuple(ctx.chosen.items()))
        if pattern is None:
            pattern = cc.patterns[key] = _pattern(cc, ctx)
        binding, cites = pattern.binding, cc.clause.article
        award.binding, award.binding_kind, award.bindings = binding, pattern.binding_kind, pattern.bindings
        award.payments = cc.pay(amount, award.inputs) if eligible else ()
        award.steps = (
            *cc.parameter_steps,
            *[
                _step((function, text, args[index], cites, bound, tuple(zip(arg_texts, args)), ""))
                for (function, text, bound, arg_texts), (_, args, index) in zip(pattern.steps, ctx.steps)
            ],
            _step(("formula", pattern.formula, self.raw, cites, binding, (), "")),
            *pattern.binding_step,
            _step(("amount", "", amount, cites, binding if eligible else None, (), "")),
        )


ZERO = Decimal("0.00")
_step = partial(tuple.__new__, Step)  # Step(*fields) without the keyword handling: every field given, in order
new_award = object.__new__  # an Award with no field set yet: ``_evaluate`` sets them
_NEVER_BLANK = frozenset({float, int, bool, Decimal})  # types ``is_blank`` never takes for empty


def _pattern(cc: CompiledClause, ctx: expr.Context) -> Pattern:
    node, chosen, is_parameter, clause = cc.amount_node, ctx.chosen, cc.parameters.__contains__, cc.clause
    assert node is not None  # a monetary clause (``_evaluate`` checks it)
    binding = expr.deciding_name(node, chosen, is_parameter)
    steps = tuple(
        (n.function, n.text, expr.deciding_name(n.args[index], chosen, is_parameter), tuple(a.text for a in n.args))
        for n, _, index in ctx.steps
    )
    binding_step: tuple[Step, ...] = ()
    if binding is not None:  # the limit that bound: its value in this evaluation and the words it cites
        binding_step = (
            Step(
                "binding",
                binding,
                cc.parameters[binding],
                clause.parameters[binding].cites,
                binding,
                source=dict(cc.origins).get(binding, ""),
            ),
        )
    return Pattern(
        binding=binding,
        binding_kind=clause.parameters[binding].kind if binding else None,
        bindings=tuple(expr.bound_names(node, chosen, is_parameter)),
        formula=node.text,
        steps=steps,
        binding_step=binding_step,
    )


def condition_checks(cc: CompiledClause, values: dict[str, object], ctx: expr.Context | None = None) -> list[Check]:
    """Each condition's check on the inputs: waived (the clause lifts it), assumed (not answered), failed
    (answered no) or passed. Reviewers call it too, on a declaration whose amount cannot be computed."""
    if cc.unanswered is not None and cc.condition_names.isdisjoint(values):  # none answered, none waivable
        return list(cc.unanswered)
    if ctx is None:
        ctx = expr.Context({**cc.defaults, **values})  # the parameters are in the waivers (``_expressions``)
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
COMPILED_CACHES = (compiled, _resolved, UNDATED)
