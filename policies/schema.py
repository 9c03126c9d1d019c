"""Pydantic models of ``policies/data/*.yaml``: a file that does not validate does not load.

Beyond the field types, a clause is checked as a whole: every expression parses into the amount
language, uses only the clause's inputs and parameters, compares a choice only with one of its
values, and every parameter and input is used by something.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictBool, field_validator, model_validator

from . import expr
from .bounds import upper_bound

InputType = Literal["money", "number", "integer", "ratio", "bool", "choice", "text"]
ParameterKind = Literal["rate", "unit_price", "cap", "floor", "fixed", "ratio", "share", "threshold"]
FieldKind = Literal["text", "choice", "year", "date", "money"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(Strict):
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


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
    def _consistent(self) -> "InputSpec":
        if (self.type == "choice") != (self.values is not None):
            raise ValueError("a choice input needs `values`, and only a choice input has them")
        if self.type == "choice" and self.default is not None and self.default not in self.values:
            raise ValueError(f"default {self.default!r} is not one of the values {list(self.values)}")
        if self.type == "text" and self.default is not None and not isinstance(self.default, str):
            raise ValueError("a text input's default is a text")
        if self.type == "bool" and self.default is not None and not isinstance(self.default, bool):
            raise ValueError("a yes/no input's default is true or false")
        if self.type in ("money", "number", "integer", "ratio") and self.default is not None:
            if isinstance(self.default, (bool, str)):
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
    """A yes/no fact the clause requires that the engine cannot compute; yes means the claim meets it."""

    label: Label
    cites: str


class Parameter(Strict):
    value: Decimal
    kind: ParameterKind
    cites: str
    unit: str | None = None
    label: Label | None = None


class Rule(Strict):
    """An eligibility rule computed from inputs: false makes the claim ineligible with ``reason``."""

    when: str
    reason: Label
    cites: str


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
        None, description="the most one claim can get, derived from the amount (policies/bounds.py); None where nothing "
                          "caps it. Stated only where it cannot be derived, with max_amount_reason saying why")
    max_amount_reason: Label | None = None
    stacks: bool = Field(False, description="paid on top of the project's best clause of the same policy")
    waive: dict[str, str] = Field({}, description="general condition -> expression that waives it when true")
    notes: list[Label] = []

    _amount: expr.Node | None = PrivateAttr(None)
    _requires: list[expr.Node] = PrivateAttr(default_factory=list)
    _checks: list[expr.Node] = PrivateAttr(default_factory=list)
    _waive: dict[str, expr.Node] = PrivateAttr(default_factory=dict)

    @property
    def monetary(self) -> bool:
        return self.amount is not None

    @model_validator(mode="after")
    def _expressions(self) -> "Clause":
        known = set(self.inputs) | set(self.parameters)
        clash = set(self.inputs) & (set(self.parameters) | set(self.conditions))
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
                if spec is None or spec.type != "choice" or literal not in spec.values:
                    raise ValueError(f"{where}: {name} is compared with {literal!r}, which is not one of its values")
            used.update(expr.names(node))
            return node

        if self.amount is not None:
            self._amount = parsed(self.amount, "amount")
        elif self.parameters or self.inputs:
            raise ValueError("a clause without an amount has no inputs or parameters")
        self._requires = [parsed(r.when, f"requires[{i}]") for i, r in enumerate(self.requires)]
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
        derived = None if self._amount is None else upper_bound(
            self._amount, self.inputs, {name: p.value for name, p in self.parameters.items()})
        stated = "max_amount" in self.model_fields_set  # (a derived one is set below, not stated)
        if stated and derived is not None:
            raise ValueError(f"max_amount is derived from the amount ({derived}): remove it")
        if stated and self.max_amount_reason is None:
            raise ValueError("a stated max_amount needs max_amount_reason: why the amount cannot give it")
        if not stated:
            object.__setattr__(self, "max_amount", derived)  # frozen: set while validating
        return self


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
    def _whole(self) -> "Policy":
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
            shared = self.common_names() & (set(clause.inputs) | set(clause.conditions))
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
    def _consistent(self) -> "Common":
        if "zone" not in self.fields or self.fields["zone"].kind != "choice":
            raise ValueError("fields: `zone` (a choice of the zones) is required")
        placed = [name for names in self.form.values() for name in names]
        for name in placed:
            if name not in self.fields:
                raise ValueError(f"form: {name!r} is not one of the fields")
            if placed.count(name) > 1 or self.fields[name].cell is None:
                raise ValueError(f"form: {name!r} must appear once and have a `cell`")
        return self
