"""Pydantic models of ``policies/data/*.yaml``: a file that does not validate does not load.

Beyond the field types, a clause is checked as a whole: every expression parses into the amount
language, uses only the clause's inputs and parameters, compares a choice only with one of its
values, and every parameter and input is used by something.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictBool, field_validator, model_validator

from . import expr
from .bounds import upper_bound

InputType = Literal["money", "number", "integer", "ratio", "bool", "choice", "text"]
ParameterKind = Literal["rate", "unit_price", "cap", "floor", "fixed", "ratio", "share", "threshold"]
FieldKind = Literal["text", "choice", "year", "date", "money"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Label(Strict):
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


def label(zh: str, en: str) -> Label:
    """A label the code writes (two texts): made without running the validator, which the models build on
    first use; a command that validates nothing (``green-award calc`` from the cached catalog) never builds it."""
    return Label.model_construct(zh=zh, en=en)


class InputSpec(Strict):
    """One input of a clause. Numbers are at least 0 unless ``min`` says otherwise."""

    type: InputType
    label: Label
    unit: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    values: dict[str, Label] | None = None
    default: StrictBool | Decimal | str | None = None
    fact: bool = Field(False, description="a threshold fact: checked when given, assumed (and noted) when absent")
    help: Label | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InputSpec:
        if (self.type == "choice") != (self.values is not None):
            raise ValueError("a choice input needs `values`, and only a choice input has them")
        if self.values is not None and self.default is not None and self.default not in self.values:
            raise ValueError(f"default {self.default!r} is not one of the values {list(self.values)}")
        if self.type == "text" and self.default is not None and not isinstance(self.default, str):
            raise ValueError("a text input's default is a text")
        if self.type == "bool" and self.default is not None and not isinstance(self.default, bool):
            raise ValueError("a yes/no input's default is true or false")
        if (
            self.type in ("money", "number", "integer", "ratio")
            and self.default is not None
            and isinstance(self.default, (bool, str))
        ):
            raise ValueError("a number's default is a number")
        return self

    @property
    def lower(self) -> Decimal | None:
        if self.type in ("money", "number", "integer", "ratio"):
            return Decimal(0) if self.min is None else self.min
        return None

    @property
    def upper(self) -> Decimal | None:
        if self.type == "ratio" and self.max is None:
            return Decimal(1)
        return self.max


class Condition(Strict):
    """A yes/no fact the clause requires that the engine cannot compute; yes means the claim meets it.

    ``exclusion``: the policy states it as an exclusion (不予支持的项目): its check is ``excluded:<name>``."""

    label: Label
    cites: str
    exclusion: bool = False


class Parameter(Strict):
    """A named figure of a clause: one ``value``, or ``values`` by date, each in force from its date to
    the next (written as OpenFisca's parameters are: ``values: {2025-05-17: 800, 2027-01-01: 900}``).

    With ``values``, ``value`` is the latest of them (what a reader without a date sees); the engine
    takes the value in force on the claim's day (``policies.parameters``).
    """

    value: Decimal
    values: dict[date, Decimal] | None = None
    kind: ParameterKind
    cites: str
    unit: str | None = None
    label: Label | None = None

    @model_validator(mode="before")
    @classmethod
    def _latest(cls, data: object) -> object:
        """Without ``value``, the last of ``values`` (``_one_value`` checks that it is the latest)."""
        if isinstance(data, dict) and "value" not in data:
            values = data.get("values")
            if not isinstance(values, dict) or not values:
                raise ValueError("a parameter needs `value`, or `values` by date (at least one date)")
            return {**data, "value": list(values.values())[-1]}
        return data

    @field_validator("value", mode="before")
    @classmethod
    def _a_number(cls, value: object) -> object:
        return _figure(value)

    @field_validator("values", mode="before")
    @classmethod
    def _dated_numbers(cls, values: object) -> object:
        if not isinstance(values, dict):
            raise ValueError("`values` maps dates (YYYY-MM-DD) to numbers")
        return {_day(day): _figure(value) for day, value in values.items()}

    @model_validator(mode="after")
    def _one_value(self) -> Parameter:
        if self.values is None:
            return self
        days = list(self.values)
        if not days:
            raise ValueError("`values` needs at least one date")
        if any(a >= b for a, b in zip(days, days[1:])):
            raise ValueError(f"the dates of `values` must be in ascending order, got {', '.join(map(str, days))}")
        if self.value != self.values[days[-1]]:
            raise ValueError(
                f"`value` {self.value} is not the latest of `values` ({self.values[days[-1]]}); give one of them"
            )
        return self

    @property
    def by_date(self) -> tuple[tuple[date | None, Decimal], ...]:
        """(from, value) pairs, ascending; a plain value is in force from the start (``None``)."""
        if self.values is None:
            return ((None, self.value),)
        return tuple((day, value) for day, value in self.values.items())


def _figure(value: object) -> object:
    """A parameter's figure is a number in the file: not text, not yes/no."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"must be a number, got {value!r}")
    return value


def _day(value: object) -> date:
    """A date of ``values``: YAML's date (2025-05-17) or its ISO text; a bare number is refused
    (pydantic would read 2027 as seconds after 1970)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"each date of `values` must be a date YYYY-MM-DD, got {value!r}")


class Rule(Strict):
    """An eligibility rule computed from inputs: false makes the claim ineligible with ``reason``.

    Its check code (``Clause.rule_codes``) is ``threshold:<name>`` when it reads a threshold parameter,
    else ``rule:<name>``; ``<name>`` is ``id`` when given, else the first input compared with a
    threshold, else the first input the rule reads."""

    when: str
    reason: Label
    cites: str
    id: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")


class Check(Strict):
    """A cross-field rule on the inputs themselves: false is an input error."""

    rule: str
    field: str
    message: Label


class Stage(Strict):
    share: Decimal
    label: Label
    due_when: str | None = None


class Schedule(Strict):
    label: Label
    cites: str
    inputs: dict[str, InputSpec] = {}
    stages: list[Stage]

    @field_validator("stages")
    @classmethod
    def _shares_add_up(cls, stages: list[Stage]) -> list[Stage]:
        if sum(s.share for s in stages) != 1:
            raise ValueError("the shares of a payment schedule must add up to 1")
        return stages


class AnnualCap(Strict):
    """A cap across an enterprise's (or entity's) claims in one year."""

    id: str
    label: Label
    cap: Decimal
    clauses: list[str] | Literal["all"]
    cites: str


class Clause(Strict):
    id: str
    article: str
    title: Label
    source: str
    amount: str | None = None
    ceiling: bool = True
    inputs: dict[str, InputSpec] = {}
    conditions: dict[str, Condition] = {}
    parameters: dict[str, Parameter] = {}
    requires: list[Rule] = []
    checks: list[Check] = []
    zones: list[str] | None = None
    payment: str = "once"
    base_input: str | None = Field(None, description="the input the amount grows with (investment, capacity, kWh…)")
    max_amount: Decimal | None = Field(
        None,
        description="the most one claim can get, derived from the amount (policies/bounds.py); None where nothing "
        "caps it. Stated only where it cannot be derived, with max_amount_reason saying why",
    )
    max_amount_reason: Label | None = None
    stacks: bool = Field(False, description="paid on top of the project's best clause of the same policy")
    waive: dict[str, str] = Field({}, description="general condition -> expression that waives it when true")
    kinds: list[str] = Field(
        [], description="the project kinds (policies/data/kinds.yaml) the clause can apply to: matching"
    )
    notes: list[Label] = []

    _amount: expr.Node | None = PrivateAttr(None)
    _requires: list[expr.Node] = PrivateAttr(default_factory=list)
    _checks: list[expr.Node] = PrivateAttr(default_factory=list)
    _waive: dict[str, expr.Node] = PrivateAttr(default_factory=dict)
    _rule_codes: list[str] = PrivateAttr(default_factory=list)

    @property
    def monetary(self) -> bool:
        return self.amount is not None

    @model_validator(mode="after")
    def _expressions(self) -> Clause:
        inputs, parameters, conditions = set(self.inputs), set(self.parameters), set(self.conditions)
        known = inputs | parameters
        clash = inputs & (parameters | conditions) | parameters & conditions
        if clash:
            raise ValueError(f"names used for two things: {sorted(clash)}")
        used: set[str] = set()

        def parsed(source: str, where: str) -> expr.Node:
            try:
                node = expr.parse(source)
            except expr.ExpressionError as exc:
                raise ValueError(f"{where}: {exc}") from None
            unknown = [n for n in expr.names(node) if n not in known]
            if unknown:
                raise ValueError(f"{where}: {', '.join(unknown)} is neither an input nor a parameter")
            for name, literal in expr.string_comparisons(node):
                spec = self.inputs.get(name)
                if spec is None or spec.values is None or literal not in spec.values:
                    raise ValueError(f"{where}: {name} is compared with {literal!r}, which is not one of its values")
            used.update(expr.names(node))
            return node

        if self.amount is not None:
            self._amount = parsed(self.amount, "amount")
        elif self.parameters or self.inputs:
            raise ValueError("a clause without an amount has no inputs or parameters")
        self._requires = [parsed(r.when, f"requires[{i}]") for i, r in enumerate(self.requires)]
        self._rule_codes = [self._rule_code(rule, node) for rule, node in zip(self.requires, self._requires)]
        doubled = sorted({c for c in self._rule_codes if self._rule_codes.count(c) > 1})
        if doubled:
            raise ValueError(f"two rules have the check code {doubled[0]!r}: give one an `id`")
        self._checks = [parsed(c.rule, f"checks[{i}]") for i, c in enumerate(self.checks)]
        self._waive = {k: parsed(v, f"waive.{k}") for k, v in self.waive.items()}
        for check in self.checks:
            if check.field not in self.inputs:
                raise ValueError(f"check names field {check.field!r}, which is not an input")
        unused = [p for p in self.parameters if p not in used]
        if unused:
            raise ValueError(f"parameter(s) {', '.join(unused)} used by nothing")
        # a text input identifies (e.g. tongzhou:9's event, which joins claims across enterprises): it computes nothing
        unused = [i for i, spec in self.inputs.items() if i not in used and spec.type != "text"]
        if unused:
            raise ValueError(f"input(s) {', '.join(unused)} used by nothing")
        if self.base_input is not None and self.base_input not in self.inputs:
            raise ValueError(f"base_input {self.base_input!r} is not an input")
        derived = (
            None
            if self._amount is None
            else upper_bound(self._amount, self.inputs, {name: p.value for name, p in self.parameters.items()})
        )
        stated = "max_amount" in self.model_fields_set  # (a derived one is set below, not stated)
        if stated and derived is not None:
            raise ValueError(f"max_amount is derived from the amount ({derived}): remove it")
        if stated and self.max_amount_reason is None:
            raise ValueError("a stated max_amount needs max_amount_reason: why the amount cannot give it")
        if not stated:
            object.__setattr__(self, "max_amount", derived)  # frozen: set while validating
        return self

    @property
    def rule_codes(self) -> list[str]:
        """The check code of each rule of ``requires``, in order (see ``Rule``)."""
        return self._rule_codes

    @property
    def amount_node(self) -> expr.Node | None:
        """``amount`` parsed (None for a clause without an amount)."""
        return self._amount

    @property
    def rule_nodes(self) -> list[expr.Node]:
        """Each rule of ``requires`` parsed, in order."""
        return self._requires

    @property
    def check_nodes(self) -> list[expr.Node]:
        """Each input check of ``checks`` parsed, in order."""
        return self._checks

    @property
    def waiver_nodes(self) -> dict[str, expr.Node]:
        """``waive`` parsed: general condition -> the expression that waives it."""
        return self._waive

    def _rule_code(self, rule: Rule, node: expr.Node) -> str:
        def thresholds(n: expr.Node) -> bool:
            return any(p in self.parameters and self.parameters[p].kind == "threshold" for p in expr.names(n))

        if rule.id is None and thresholds(node):
            for n in expr.walk(node):  # the first input compared with a threshold
                compared = (
                    isinstance(n, expr.Compare)
                    and n.op in ("<", "<=", ">", ">=")
                    or isinstance(n, expr.Call)
                    and n.function == "at_least"
                )
                if compared:
                    for side, other in (n.args, n.args[::-1]):
                        if isinstance(side, expr.Name) and side.name in self.inputs and thresholds(other):
                            return f"threshold:{side.name}"
        read = [n for n in expr.names(node) if n in self.inputs]
        return f"{'threshold' if thresholds(node) else 'rule'}:{rule.id or (read[0] if read else 'rule')}"


class Validity(Strict):
    """The policy's window; ``None`` is a bound the text does not give (it counts as open, with a note)."""

    start: date | None = None
    start_year: int | None = Field(None, description="the year of an unknown start day")
    end: date | None = None
    notes: list[Label] = []


class Policy(Strict):
    id: str
    title: Label
    number: str | None = None
    issuer: Label | None = None
    encoding_version: str
    source_file: str
    validity: Validity
    replaces: str | None = None
    label: Label = Field(description="the policy's short name (北京市 Beijing), where a table names the policy")
    aliases: list[str] = Field([], description="other names a user may give for the policy (北京, 经开区, e-town)")
    zones: list[str]
    zone_labels: dict[str, Label] = Field({}, description="zones this policy defines (common.yaml has the shared ones)")
    general_conditions: dict[str, Condition] = {}
    schedules: dict[str, Schedule]
    annual_caps: list[AnnualCap] = []
    notes: list[Label] = []
    clauses: list[Clause]

    @model_validator(mode="after")
    def _whole(self) -> Policy:
        seen: set[str] = set()
        ids = {c.id for c in self.clauses}
        for clause in self.clauses:
            where = f"clause {clause.id}"
            if clause.id in seen:
                raise ValueError(f"duplicate clause id {clause.id}")
            seen.add(clause.id)
            if not clause.id.startswith(self.id + ":"):
                raise ValueError(f"{where}: id must start with '{self.id}:'")
            if clause.payment not in self.schedules:
                raise ValueError(f"{where}: payment {clause.payment!r} is not one of {list(self.schedules)}")
            for name in clause.waive:
                if name not in self.general_conditions:
                    raise ValueError(f"{where}: waive names {name!r}, which is not a general condition")
            shared = self.common_names() & (set(clause.inputs) | set(clause.conditions) | set(clause.parameters))
            if shared:
                raise ValueError(f"{where}: {sorted(shared)} is already a policy-wide input")
        for cap in self.annual_caps:
            if cap.clauses != "all":
                missing = [c for c in cap.clauses if c not in ids]
                if missing:
                    raise ValueError(f"annual cap {cap.id}: unknown clause(s) {missing}")
        for name, schedule in self.schedules.items():
            for stage in schedule.stages:
                if stage.due_when:
                    node = expr.parse(stage.due_when)
                    unknown = [n for n in expr.names(node) if n not in schedule.inputs]
                    if unknown:
                        raise ValueError(f"schedule {name}: {unknown} not among its inputs")
        return self

    def common_names(self) -> set[str]:
        names = {"zone"} | set(self.general_conditions)
        for schedule in self.schedules.values():
            names |= set(schedule.inputs)
        return names


class ClaimField(Strict):
    """An applicant or project field of every claim (common.yaml ``fields``), not a clause's input."""

    label: Label
    heading: Label | None = Field(None, description="a table's column heading, where shorter than the label")
    kind: FieldKind
    of: Literal["enterprise", "project", "claim"] = Field(description="what it describes")
    cell: str | None = Field(None, description="the defined name of its cell in a declaration")
    required: list[Literal["portfolio", "declaration", "review"]] = []
    help: str | None = None

    @property
    def column(self) -> Label:
        return self.heading or self.label


class Common(Strict):
    """``policies/data/common.yaml``: the bundled policies' order, the shared zones, the claim fields."""

    policies: list[str]
    zones: dict[str, Label]
    fields: dict[str, ClaimField]
    form: dict[Literal["applicant", "project"], list[str]] = Field(description="the declaration's blocks of fields")

    @model_validator(mode="after")
    def _consistent(self) -> Common:
        if "zone" not in self.fields or self.fields["zone"].kind != "choice":
            raise ValueError("fields: `zone` (a choice of the zones) is required")
        placed = [name for names in self.form.values() for name in names]
        for name in placed:
            if name not in self.fields:
                raise ValueError(f"form: {name!r} is not one of the fields")
            if placed.count(name) > 1 or self.fields[name].cell is None:
                raise ValueError(f"form: {name!r} must appear once and have a `cell`")
        return self


# --- matching: the vocabulary of enterprise and project kinds (policies/data/kinds.yaml) ----------


class EnterpriseKind(Strict):
    """A kind of enterprise and the clause conditions an enterprise of that kind meets."""

    label: Label
    meets: list[str] = []


class Derived(Strict):
    """An input worked out from another input's value: ``values`` maps the one to the other."""

    from_: str = Field(alias="from")
    values: dict[str, str]


class ProjectKind(Strict):
    """A kind of project: the conditions it meets by being of that kind, the inputs it implies."""

    label: Label
    meets: list[str] = []
    inputs: dict[str, StrictBool | Decimal | str] = {}
    derive: dict[str, Derived] = {}


class Kinds(Strict):
    enterprise_kinds: dict[str, EnterpriseKind]
    project_kinds: dict[str, ProjectKind]
    notes: list[Label] = []
