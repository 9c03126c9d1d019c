"""Which awards can an enterprise get? Its profile matched against every clause (docs/matching.md).

A profile (``Profile``: the enterprise, its projects and the titles it holds) is matched with every
monetary clause of every loaded policy, one result per project and clause:

- ``not_applicable``: the project's kind is not one the clause lists (code ``kind``), or a check of
  the clause failed (its code: ``zone``, ``validity``, ``condition:<name>``…), or a value of the
  profile breaks an input rule of the clause (``input:<name>``);
- ``possible``: nothing failed, but an input the amount needs is missing (no amount), or a
  clause-specific fact is unanswered (the amount if it is confirmed); ``missing`` names them;
- ``claimable``: nothing failed and nothing clause-specific is missing; the policy's general
  conditions (``no_major_penalty``…) may stay assumed, and ``assumed`` names them.

Applicability comes from the clause's own checks (``evaluate``'s ``Award.checks``), inputs and
zones, and from the kinds vocabulary (``policies/data/kinds.yaml``): how a kind of enterprise answers
a condition and which kinds of project a clause applies to are data, never code. ``best`` then puts
the claimable results through the portfolio rules (``policies.stacking``: best clause per project
and policy, one district policy per project, caps, payment years) and reports the chosen claims.

Pure: no files, no pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, TypedDict

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import expr
from .award import Award, Check
from .engine import compiled, evaluate
from .errors import GreenAwardError, InputError
from .inputs import closest, coercer, is_blank
from .kinds import kinds
from .ledger_rules import MUNICIPAL
from .registry import policies, zone_spec
from .render import check_line
from .schema import EnterpriseKind, InputSpec, ProjectKind
from .stacking import column_name, monetary_clauses, parse_date, stack_rows
from .uscc import validate_uscc
from .years import parse_year

STATUSES = ("claimable", "possible", "not_applicable")
KIND_CODE = "kind"  # the project's kind is not one the clause lists
INPUT_CODE = "input"  # input:<name>: a value of the profile breaks an input rule of the clause
SCALES = ("large", "medium", "small", "micro")


class MatchError(GreenAwardError, ValueError):
    """A profile that does not validate: one line naming the field and the rule."""


# --- the names a profile may use ------------------------------------------------------------------


@lru_cache(maxsize=1)
def profile_names() -> dict[str, InputSpec]:
    """Every name a profile may give a figure or an answer under (the clauses' inputs and conditions,
    the policies' general conditions and payment inputs), with its spec; ``zone`` is a field."""
    names: dict[str, InputSpec] = {}
    for policy in policies().values():
        for clause in policy.clauses:
            if clause.monetary:
                for name, spec in compiled(clause.id).specs.items():
                    if name != "zone":
                        names.setdefault(name, spec)
    return names


def _coerce(where: str, name: str, value: object) -> object:
    spec = profile_names().get(name)
    if spec is None:
        hint = closest(name, list(profile_names()))
        raise ValueError(
            f"{where}{name}: not an input or condition of any clause"
            + (f"; did you mean {hint!r}?" if hint else "")
            + " / 非条款输入项"
        )
    try:
        return coercer(spec)(value)
    except ValueError as exc:
        raise ValueError(f"{where}{name}: {exc}") from None


def _vocabulary_word(value: object, vocabulary: Mapping[str, EnterpriseKind | ProjectKind], what: str) -> str:
    """A kind given by its id or its Chinese or English label."""
    text = str(value).strip()
    if text in vocabulary:
        return text
    for key, entry in vocabulary.items():
        if text.casefold() in (entry.label.zh.casefold(), entry.label.en.casefold()):
            return key
    hint = closest(text, list(vocabulary))
    raise ValueError(
        f"{text!r} is not a {what}"
        + (f"; did you mean {hint!r}?" if hint else "")
        + " (green-award clauses --kinds) / 未知类型"
    )


def _zone_value(value: object) -> str | None:
    """A zone given by code or label (blank: none)."""
    return None if value is None or is_blank(value) else str(coercer(zone_spec())(value))


#: Where an enterprise or a project is: a zone's code or label, read as its code.
OptionalZone = Annotated[str | None, BeforeValidator(_zone_value)]


# --- the profile ----------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Project(_Model):
    """A project, matter or title of the enterprise: its kind, year and figures.

    Figures and answers go under the catalog's input and condition names, either in ``inputs`` or
    directly beside the fields (``capacity_kw: 500``)."""

    id: str = Field(..., min_length=1, description="the project's identifier (unique in the profile)")
    name: str = Field("", description="a readable name")
    kind: str = Field(..., description="a project kind (policies/data/kinds.yaml; green-award clauses --kinds)")
    year: int = Field(..., description="the year of the claim (checks the policy's validity)")
    zone: OptionalZone = Field(None, description="where the project is, when not the enterprise's zone")
    start_date: date | None = Field(None, description="start (year of an E-Town first instalment)")
    completion_date: date | None = Field(None, description="completion (year of a final or one-off payment)")
    inputs: dict[str, Any] = Field({}, description="figures and answers under the catalog's names")

    @model_validator(mode="before")
    @classmethod
    def _flat_figures(cls, data: object) -> object:
        """Names beside the fields are inputs; a title's id defaults to its kind."""
        if not isinstance(data, dict):
            return data
        fields = set(cls.model_fields)
        out = {k: v for k, v in data.items() if k in fields}
        extra = {k: v for k, v in data.items() if k not in fields}
        if extra:
            out["inputs"] = {**(data.get("inputs") or {}), **extra}
        if is_blank(out.get("id")) and not is_blank(out.get("kind")):
            out["id"] = str(out["kind"]).strip()
        for name in ("zone", "start_date", "completion_date", "name"):
            if name in out and is_blank(out[name]):
                out.pop(name)
        return out

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: object) -> object:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value) if isinstance(value, int) else value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: object) -> str:
        return _vocabulary_word(value, kinds().project_kinds, "project kind")

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, value: object) -> int:
        return parse_year(value)

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, value: object) -> dict[str, object]:
        if not isinstance(value, dict):
            raise ValueError("must be a mapping of input names to values")
        return {str(k).strip(): _coerce("", str(k).strip(), v) for k, v in value.items() if not is_blank(v)}


class Enterprise(_Model):
    """The enterprise: who it is, where, what kinds of enterprise it is, and facts true of all its projects."""

    name: str = Field(..., min_length=1, description="the enterprise's name")
    credit_code: str | None = Field(None, description="统一社会信用代码 (GB 32100-2015), checked")
    zone: OptionalZone = Field(
        None, description="where it is: a zone of policies/data/common.yaml (or a policy file), code or label"
    )
    kinds: list[str] = Field(
        [], description="enterprise kinds (policies/data/kinds.yaml): they answer clause conditions"
    )
    scale: str | None = Field(None, description="large, medium, small or micro (for the reader; no clause reads it)")
    facts: dict[str, Any] = Field(
        {},
        description="answers and figures true of every project (titles held, key "
        "energy-using unit, leader, the general conditions…), under the catalog's names",
    )

    @field_validator("credit_code", mode="before")
    @classmethod
    def _uscc(cls, value: object) -> object:
        if value is None or is_blank(value):
            return None
        code = str(value).strip().upper()
        validate_uscc(code)
        return code

    @field_validator("kinds", mode="before")
    @classmethod
    def _kinds(cls, value: object) -> list[str]:
        if value is None or is_blank(value):
            return []
        if isinstance(value, str):
            value = [v for v in value.replace("，", ",").replace("、", ",").replace(";", ",").split(",")]
        if not isinstance(value, (list, tuple)):
            raise ValueError("must be a list of enterprise kinds")
        out = []
        for item in value:
            if not is_blank(item):
                kind = _vocabulary_word(item, kinds().enterprise_kinds, "enterprise kind")
                if kind not in out:
                    out.append(kind)
        return out

    @field_validator("scale", mode="before")
    @classmethod
    def _scale(cls, value: object) -> object:
        if value is None or is_blank(value):
            return None
        text = str(value).strip().lower()
        if text not in SCALES:
            raise ValueError(f"must be one of {', '.join(SCALES)}, got {text!r}")
        return text

    @field_validator("facts", mode="before")
    @classmethod
    def _facts(cls, value: object) -> dict[str, object]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("must be a mapping of input or condition names to values")
        return {str(k).strip(): _coerce("", str(k).strip(), v) for k, v in value.items() if not is_blank(v)}


class Profile(_Model):
    """An enterprise profile: the enterprise, its projects, and the titles and ratings it holds (each
    a matter that can be claimed, written as a project: its kind, year and figures)."""

    enterprise: Enterprise
    projects: list[Project] = []
    titles: list[Project] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> Profile:
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(
                    f"project id {item.id!r} appears twice; give each project and title its own id / 项目编号重复"
                )
            seen.add(item.id)
        return self

    @property
    def items(self) -> list[Project]:
        """The projects, then the titles: everything that can be claimed."""
        return [*self.projects, *self.titles]


def load_profile(data: Mapping[str, object] | Profile) -> Profile:
    """A profile from plain data (YAML, JSON), or a MatchError naming the field and the rule."""
    if isinstance(data, Profile):
        return data
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"]) or "profile"
        raise MatchError(f"profile: {where}: {error['msg'].removeprefix('Value error, ')}") from None


def profile_schema() -> dict[str, Any]:
    """The profile's JSON schema (published: docs/matching.md)."""
    return Profile.model_json_schema()


# --- one project under one clause -----------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One project under one clause."""

    project: str
    clause: str
    policy: str
    year: int
    status: str
    amount: (
        Decimal | None
    )  # claimable: the amount; possible: the amount if the facts are confirmed, None if an input is missing
    missing: tuple[str, ...] = ()  # the inputs and facts to give or confirm
    failed: tuple[str, ...] = ()  # the codes of the failed checks
    assumed: tuple[str, ...] = ()  # the general conditions taken as met (noted)
    reasons: tuple[str, ...] = ()  # the failed checks in words (or the input error)
    inputs: dict[str, object] = field(default_factory=dict, repr=False)  # what the clause was evaluated on
    award: Award | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "project": self.project,
            "clause": self.clause,
            "policy": self.policy,
            "year": self.year,
            "status": self.status,
            "amount_yuan": None if self.amount is None else float(self.amount),
            "missing": list(self.missing),
            "failed": list(self.failed),
            "assumed": list(self.assumed),
            "reasons": list(self.reasons),
        }


def _enterprise_answers(enterprise: Enterprise) -> dict[str, bool]:
    """The conditions the enterprise's kinds decide: yes when one kind meets it, else no (only when
    the profile lists kinds: an enterprise of unstated kind leaves them unanswered)."""
    vocabulary = kinds().enterprise_kinds
    if not enterprise.kinds:
        return {}
    decided = {c for entry in vocabulary.values() for c in entry.meets}
    met = {c for k in enterprise.kinds for c in vocabulary[k].meets}
    return {c: c in met for c in decided}


def inputs_for(clause_id: str, enterprise: Enterprise, project: Project) -> dict[str, object]:
    """What the profile says for this clause: the kinds' answers, then the enterprise's facts, then the
    project's own values (each later one prevails), the zone, and what the project's kind derives."""
    specs = compiled(clause_id).specs
    kind = kinds().project_kinds[project.kind]
    values: dict[str, object] = {}
    values.update(_enterprise_answers(enterprise))
    values.update({c: True for c in kind.meets})
    values.update({n: coercer(profile_names()[n])(v) for n, v in kind.inputs.items()})
    values.update(enterprise.facts)
    values.update(project.inputs)
    zone = project.zone or enterprise.zone
    if zone is not None:
        values["zone"] = zone
    for name, derived in kind.derive.items():
        source = values.get(derived.from_)
        if name not in project.inputs and name not in enterprise.facts and source in derived.values:
            values[name] = derived.values[source]
    return {n: v for n, v in values.items() if n in specs}


def _placeholder(spec: InputSpec) -> object:
    """A value standing in for a missing input, to find the others the amount needs (never reported)."""
    if spec.type == "bool":
        return False
    if spec.type == "choice":
        return next(iter(spec.values or {}))
    if spec.type == "text":
        return "?"
    low, high = spec.lower or Decimal(0), spec.upper
    value = Decimal(1) if low < 1 or (low == 1 and not spec.min_exclusive) else low + 1
    if high is not None and value > high:
        value = (low + high) / 2
    return value


def _reads(clause_id: str, check: Check) -> set[str]:
    """The inputs a rule's check reads (none for a zone, validity or condition check)."""
    definition = next((d for d in compiled(clause_id).definitions if d.code == check.code), None)
    if definition is None or definition.test is None:
        return set()
    return set(expr.names(definition.test)) & set(compiled(clause_id).clause.inputs)


class _Subject(TypedDict):
    """The fields every ``Result`` of one project under one clause shares."""

    project: str
    clause: str
    policy: str
    year: int


def match_clause(clause_id: str, enterprise: Enterprise, project: Project) -> Result:
    """One project under one clause (see the module's docstring for the three outcomes)."""
    cc = compiled(clause_id)
    clause, policy = cc.clause, cc.policy
    base = _Subject(project=project.id, clause=clause.id, policy=policy.id, year=project.year)
    if clause.kinds and project.kind not in clause.kinds:
        return Result(
            **base,
            status="not_applicable",
            amount=None,
            failed=(KIND_CODE,),
            reasons=(
                f"项目类型不适用 Kind: {project.kind} is not one of {', '.join(clause.kinds)} 〔{clause.article}〕",
            ),
        )
    values = inputs_for(clause.id, enterprise, project)
    stand_ins: dict[str, object] = {}
    award = None
    for _ in range(len(cc.specs) + 1):
        try:
            award = evaluate(clause.id, on=project.year, reform=None, **values, **stand_ins)  # the baseline
            break
        except InputError as exc:
            if exc.field in cc.specs and exc.field not in values and exc.field not in stand_ins:
                stand_ins[exc.field] = _placeholder(cc.specs[exc.field])  # missing: find the others too
                continue
            if stand_ins:  # a rule across inputs that a stand-in may have broken: the inputs come first
                break
            return Result(
                **base,
                status="not_applicable",
                amount=None,
                failed=(f"{INPUT_CODE}:{exc.field}",),
                reasons=(str(exc),),
                inputs=values,
            )
    general = set(policy.general_conditions)
    failed = [c for c in award.failed if not (_reads(clause.id, c) & set(stand_ins))] if award else []
    if failed:
        return Result(
            **base,
            status="not_applicable",
            amount=None,
            failed=tuple(c.code for c in failed),
            reasons=tuple(check_line(c) for c in failed),
            inputs=values,
            award=award,
        )
    missing: list[str] = list(stand_ins)
    assumed: list[str] = []
    for check in award.checks if award else ():
        if check.status != "assumed" or check.kind == "validity":
            continue
        if check.kind in ("condition", "excluded"):
            (assumed if check.name in general else missing).append(check.name)
        elif check.kind == "zone":
            missing.append("zone")
        else:  # a threshold or rule whose fact is not given
            missing.extend(sorted(n for n in _reads(clause.id, check) if n not in values and n not in missing))
    missing = list(dict.fromkeys(missing))
    if stand_ins or award is None:
        return Result(
            **base, status="possible", amount=None, missing=tuple(missing), assumed=tuple(assumed), inputs=values
        )
    status = "possible" if missing else "claimable"
    return Result(
        **base,
        status=status,
        amount=award.amount,
        missing=tuple(missing),
        assumed=tuple(assumed),
        inputs=values,
        award=award,
    )


def match_results(profile: Profile | Mapping[str, object]) -> list[Result]:
    """Every project (and title) under every monetary clause, in the profile's and the catalog's order."""
    profile = load_profile(profile)
    clause_ids = monetary_clauses()
    return [match_clause(cid, profile.enterprise, item) for item in profile.items for cid in clause_ids]


# --- the best combination -------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A claim of the best combination: what the clause gives and what the portfolio rules grant."""

    project: str
    clause: str
    policy: str
    year: int
    amount: Decimal
    granted: Decimal
    status: str  # granted | capped
    payments: tuple[tuple[int, Decimal, str], ...]  # (year, amount, due|pending)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "project": self.project,
            "clause": self.clause,
            "policy": self.policy,
            "year": self.year,
            "amount_yuan": float(self.amount),
            "granted_yuan": float(self.granted),
            "status": self.status,
            "payments": [{"year": y, "amount_yuan": float(a), "status": s} for y, a, s in self.payments],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Best:
    """The combination of claimable results with the largest total under the portfolio rules."""

    claims: tuple[Claim, ...]
    left_out: tuple[tuple[str, str, str, str], ...]  # (project, clause, status, why) of claimable results not granted

    @property
    def total(self) -> Decimal:
        return sum((c.granted for c in self.claims), Decimal("0.00"))

    @property
    def by_year(self) -> dict[int, Decimal]:
        """Granted by the claim's year."""
        out: dict[int, Decimal] = {}
        for claim in sorted(self.claims, key=lambda c: c.year):
            out[claim.year] = out.get(claim.year, Decimal("0.00")) + claim.granted
        return out

    @property
    def payments_by_year(self) -> dict[int, Decimal]:
        """Paid by the payment's year (the payment schedule)."""
        out: dict[int, Decimal] = {}
        for year, amount, _ in sorted((p for c in self.claims for p in c.payments), key=lambda p: p[0]):
            out[year] = out.get(year, Decimal("0.00")) + amount
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "claims": [c.to_dict() for c in self.claims],
            "total_yuan": float(self.total),
            "by_year": {str(y): float(a) for y, a in self.by_year.items()},
            "payments_by_year": {str(y): float(a) for y, a in self.payments_by_year.items()},
            "left_out": [{"project": p, "clause": c, "status": s, "why": w} for p, c, s, w in self.left_out],
        }


def _worth(rows: list[Result], stacks: Mapping[str, bool]) -> Decimal:
    """What a district policy gives a project: its best single clause plus its stacking clauses
    (the results are claimable, each with its amount)."""
    amounts = [(r.amount or Decimal(0), stacks[r.clause]) for r in rows]
    single = max((a for a, stacking in amounts if not stacking), default=Decimal(0))
    return single + sum((a for a, stacking in amounts if stacking), Decimal(0))


def _one_district(results: list[Result]) -> tuple[list[Result], list[tuple[str, str, str, str]]]:
    """Per project, the claimable results of one district policy only (the catalog's reading: one
    project takes one district policy): the district whose best clause plus stacking clauses give most."""
    stacks = {c.id: c.stacks for p in policies().values() for c in p.clauses}
    order = {p: k for k, p in enumerate(policies())}
    by_project: dict[str, dict[str, list[Result]]] = {}
    for r in results:
        if r.policy not in MUNICIPAL:
            by_project.setdefault(r.project, {}).setdefault(r.policy, []).append(r)
    dropped: set[tuple[str, str]] = set()
    left_out = []
    for districts in by_project.values():
        if len(districts) < 2:
            continue
        keep = max(districts, key=lambda policy: (_worth(districts[policy], stacks), -order[policy]))
        for policy, rows in districts.items():
            if policy != keep:
                for r in rows:
                    dropped.add((r.project, r.clause))
                    left_out.append(
                        (
                            r.project,
                            r.clause,
                            "conflict",
                            f"one district policy per project: {keep} gives more / 同一项目只适用一项区级政策",
                        )
                    )
    return [r for r in results if (r.project, r.clause) not in dropped], left_out


def best(profile: Profile | Mapping[str, object], results: Iterable[Result] | None = None) -> Best:
    """The claimable results through the portfolio rules (``policies.stacking.stack_rows``): best
    clause per project and policy, municipal on top of district, caps shared, payments by year."""
    profile = load_profile(profile)
    results = list(results) if results is not None else match_results(profile)
    chosen = [r for r in results if r.status == "claimable" and r.amount]
    chosen, left_out = _one_district(chosen)
    if not chosen:
        return Best((), tuple(left_out))
    items = {item.id: item for item in profile.items}
    names = sorted({n for r in chosen for n in r.inputs})
    header = ["enterprise", "uscc", "project", "clause", "year", "start_date", "completion_date", *names]
    rows = []
    for r in chosen:
        item = items[r.project]
        rows.append(
            [
                profile.enterprise.name,
                profile.enterprise.credit_code or "",
                r.project,
                r.clause,
                r.year,
                item.start_date,
                item.completion_date,
                *(r.inputs.get(n) for n in names),
            ]
        )
    portfolio = stack_rows(header, rows, parallel=False, cites=[f"{r.project} {r.clause}" for r in chosen])
    payments: dict[tuple[str, str], list[tuple[int, Decimal, str]]] = {}
    for p in portfolio.payment_rows:
        payments.setdefault((p[2], p[3]), []).append((p[7], p[8], p[9]))
    claims = []
    for r, row, notes in zip(chosen, portfolio.claim_rows, portfolio.notes):
        if row.status in ("granted", "capped") and row.granted:
            assert row.amount is not None, "a granted row has its amount"
            claims.append(
                Claim(
                    r.project,
                    r.clause,
                    r.policy,
                    r.year,
                    row.amount,
                    row.granted,
                    row.status,
                    tuple(payments.get((r.project, r.clause), ())),
                    tuple(n.text for n in notes),
                )
            )
        else:
            left_out.append((r.project, r.clause, row.status, "; ".join(n.text for n in notes)))
    return Best(tuple(claims), tuple(left_out))


@dataclass(frozen=True)
class Match:
    """A profile's results and its best combination."""

    profile: Profile
    results: tuple[Result, ...]
    best: Best

    def to_dict(self) -> dict[str, object]:
        return {
            "enterprise": self.profile.enterprise.model_dump(mode="json"),
            "results": [r.to_dict() for r in self.results],
            "best": self.best.to_dict(),
        }


def match(profile: Profile | Mapping[str, object]) -> Match:
    """Match a profile: every project under every clause, then the best combination."""
    profile = load_profile(profile)
    results = match_results(profile)
    return Match(profile, tuple(results), best(profile, results))


# --- a profile laid out on a sheet (the profile workbook, AWARD_MATCH's range) ----------------------

#: The enterprise block's fields, as the first cell of a row names them (中文 over the name, or the name).
ENTERPRISE_FIELDS = ("name", "credit_code", "zone", "kinds", "scale")
#: The project table's fixed columns; the others are input and condition names.
PROJECT_FIELDS = ("project", "name", "kind", "year", "zone", "start_date", "completion_date")
DATE_FIELDS = ("start_date", "completion_date")


def _blank_cells(row: Iterable[object]) -> bool:
    return all(is_blank(v) for v in row)


def profile_from_rows(rows: list[list[object]]) -> dict[str, object]:
    """A profile from a sheet's rows (cell values as openpyxl or xlwings give them).

    The enterprise block first: one row per field, the field's name in the first cell (a two-line
    header cell ``中文\\nname`` is read by its last line) and its value in the next (``kinds``: one
    kind per cell, or several in one cell separated by commas); a row naming a catalog input or
    condition is a fact of the enterprise; a row with a first cell and no value is a title and is
    skipped. Then the project table: its header row starts with ``project``, each row below it is a
    project (or a title held), a column per field or input name. Empty rows are skipped.
    """
    enterprise: dict[str, object] = {}
    facts: dict[str, object] = {}
    projects: list[dict[str, object]] = []
    header: list[str] | None = None
    for number, row in enumerate(rows, 1):
        cells = list(row) if isinstance(row, (list, tuple)) else [row]
        if _blank_cells(cells):
            continue
        if header is None:
            key = column_name(cells[0]) if not is_blank(cells[0]) else ""
            values = [v for v in cells[1:] if not is_blank(v)]
            if key.casefold() in ("project", "id"):
                header = [column_name(c) if not is_blank(c) else "" for c in cells]
                header[0] = "project"
            elif not values:
                continue  # a title row
            elif key in ENTERPRISE_FIELDS:
                enterprise[key] = values if key == "kinds" else values[0]
            elif key:
                facts[key] = values[0]
            continue
        project: dict[str, object] = {}
        for name, value in zip(header, cells):
            if not name or is_blank(value):
                continue
            if name in DATE_FIELDS:
                try:
                    value = parse_date(value)
                except ValueError as exc:
                    raise MatchError(f"profile: row {number}: {name}: {exc}") from None
            project["id" if name == "project" else name] = value
        projects.append(project)
    if facts:
        enterprise["facts"] = facts
    return {"enterprise": enterprise, "projects": projects}


#: Public name of ``_one_district`` (its tests call it).
one_district = _one_district
