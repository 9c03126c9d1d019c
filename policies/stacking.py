"""A portfolio of claims: best clause per project per policy, caps per enterprise-year, payments.

One row is one claim: an enterprise, a project, a clause and a year, with the clause's inputs in
columns named as the inputs (see docs/portfolio.md). ``stack(table)`` evaluates every row with the
policy core and then applies the cross-claim rules of the catalog's "Cross-policy stacking":

1. the same project and clause twice in one enterprise-year is a duplicate: both rows invalid;
2. a project claimed under two district policies (``tongzhou`` and ``etown``) is a conflict;
3. within one policy a project gets its single best clause (Tongzhou 第十条, E-Town 七(二)3, Beijing
   二(一)(二)(三)(五) by reading); a clause marked ``stacks`` (Beijing 1.2 and 8) is paid on top;
   municipal (``beijing``) claims stack on the district ones;
4. the policies' annual caps (``Policy.annual_caps``) are shared in proportion to the amounts, to
   the cent by largest remainder, so the granted total equals the cap exactly whatever the row order;
5. each granted amount is split into the clause's payment stages, each with its year.

Rules 3 and 4 run year by year, with the rules across years of ``policies.ledger_rules`` (a one-off
clause pays a project once, 从优 and one district policy across years, tongzhou:8's three years,
tongzhou:9's cap per event): each year's grants are on record for the next years, after any grants
on record given by the caller (a ledger's).

A bad row (unknown clause, bad input, missing identifier) is marked ``invalid`` with the reason and
no amount; the other rows are still computed. Pure Python, no Excel; pandas only for the
DataFrames (``stack`` on a DataFrame, ``Portfolio.claims`` and the summaries), imported when first
used, so that the worksheet function ``PORTFOLIO_AWARDS`` runs without it (xlwings Lite).
"""

from __future__ import annotations

import gc
import math
import operator
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property, partial
from typing import TYPE_CHECKING

from .award import Check, Note
from .engine import compiled, evaluate, find_clause
from .errors import GreenAwardError
from .inputs import is_blank
from .ledger_rules import (
    BEST_OF_CITES,
    CONFLICT_CITE,
    MUNICIPAL,
    NEEDS_INPUTS,
    Grant,
    Record,
    split_cap,  # noqa: F401  (callers import it from here)
)
from .ledger_rules import apply as apply_rules
from .parameters import Reform, parse_reform
from .payments import amounts
from .registry import fields, policies
from .render import binding_line, check_line
from .uscc import validate_uscc
from .years import LAST_SERIAL, from_serial, parse_year

if TYPE_CHECKING:
    import pandas as pd

# --- the table ------------------------------------------------------------------------------------

#: The claim's fields (common.yaml): the columns a table must have, and the others it may have.
REQUIRED = tuple(name for name, f in fields().items() if "portfolio" in f.required)
DETAILS = tuple(name for name in fields() if name not in REQUIRED and name != "zone")
STATUSES = ("granted", "capped", "superseded", "conflict", "duplicate", "ineligible", "invalid")
#: The columns a portfolio computed with a reform adds after ``added_columns()``: each claim under the reform.
REFORM_COLUMNS = ["reform_status", "reform_granted_yuan", "reform_difference_yuan", "reform_note"]

Progress = Callable[[int, int], None]


def stage_count() -> int:
    return max(len(s.stages) for p in policies().values() for s in p.schedules.values())


def added_columns() -> list[str]:
    """The columns ``stack`` adds to the table, in order."""
    columns = ["policy", "amount_yuan", "granted_yuan", "status", "note"]
    for n in range(1, stage_count() + 1):
        columns += [f"payment_{n}_year", f"payment_{n}_yuan", f"payment_{n}_status"]
    return columns


def accepted_names() -> dict[str, list[str]]:
    """Every name some monetary clause accepts (inputs, conditions, zone, payment inputs) -> those clauses."""
    names: dict[str, list[str]] = {}
    for policy in policies().values():
        for clause in policy.clauses:
            if clause.monetary:
                for name in compiled(clause.id).specs:
                    names.setdefault(name, []).append(clause.id)
    return names


def monetary_clauses() -> list[str]:
    return [c.id for p in policies().values() for c in p.clauses if c.monetary]


# --- values ---------------------------------------------------------------------------------------


def ident(value: object) -> str:
    """An identifier as text: a number typed into a cell (1001.0) is its digits "1001", never a float."""
    if isinstance(value, str):
        text = value.strip()
        if "." in text and _FLOAT_DIGITS.fullmatch(text):  # "1001.0": a number that went through a float
            text = text.split(".")[0]
        return text
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value).strip()


_FLOAT_DIGITS = re.compile(r"\d+\.0+")


def parse_date(value: object) -> date:
    """A date from a cell: a date or datetime, ISO text (with or without time, - / or 年月日), or an Excel serial."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = float(value)
        if number.is_integer() and 1900 <= number <= 2100:
            raise ValueError(f"must be a date (YYYY-MM-DD), not a bare year {int(number)} / 须为日期")
        if number.is_integer() and 1 <= number <= LAST_SERIAL:
            return from_serial(int(number))
        raise ValueError(f"must be a date (YYYY-MM-DD), got {value!r} / 须为日期")
    text = str(value).strip()
    match = re.fullmatch(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?", text
    )
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(f"must be a date (YYYY-MM-DD), got {text!r} / 须为日期")


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code (GB 32100-2015), or None."""
    try:
        validate_uscc(code)
    except ValueError as exc:
        return f"credit code {code!r} {exc}"
    return None


def yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


# --- evaluation -----------------------------------------------------------------------------------

# One evaluation's outcome, small enough to come back from a worker process:
# (amount or None when invalid, eligible, error, the failed checks' notes, the basis note,
#  ((share, status), ...), the number of checks assumed)
Outcome = tuple


def _outcome(clause_id: str, year: int, inputs: dict, reform: Reform | None = None) -> Outcome:
    try:
        award = evaluate(clause_id, on=year, reform=reform, **inputs)
    except GreenAwardError as exc:
        return (None, False, str(exc), (), None, (), 0)
    failed = tuple(Note("ineligible", check_line(c), cites=c.cites, about=c.code) for c in award.failed)
    basis = Note("basis", binding_line(award) or f"〔{award.article}〕", cites=award.article, about=award.binding or "")
    assumed = sum(1 for c in award.checks if c.status == "assumed")
    stages = tuple((p.share, p.status) for p in award.payments)
    return (award.amount, award.eligible, None, failed, basis, stages, assumed)


def _evaluate_chunk(keys: Sequence[tuple], reform: Reform | None = None) -> list[Outcome]:
    """Each key is (clause, year, names, values): the clause's accepted names and the row's cells."""
    out = []
    for clause_id, year, names, values in keys:
        inputs = {n: v for n, v in zip(names, values) if not (v == "" or is_blank(v))}  # a NaN stays: an error
        out.append(_outcome(clause_id, year, inputs, reform))
    return out


#: Below this many distinct evaluations a process pool costs more than it saves.
PARALLEL_MIN = 4000


def evaluate_keys(
    keys: list[tuple],
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    parallel: bool = True,
    reform: Reform | None = None,
) -> list[Outcome]:
    """Evaluate each (clause, year, names, cells) key (under ``reform`` when given); in chunks over
    ``executor`` when one is given (the batch command's: ``addin.executors``), else in this process."""
    total = len(keys)
    if not parallel:
        executor = None
    if executor is None:
        out: list[Outcome] = []
        step = max(1, min(5000, total // 20 or 1))
        for start in range(0, total, step):
            out.extend(_evaluate_chunk(keys[start : start + step], reform))
            if progress:
                progress(len(out), total)
        return out
    size = max(500, math.ceil(total / (8 * (os.cpu_count() or 1))))
    chunks = [keys[i : i + size] for i in range(0, total, size)]
    futures = [executor.submit(_evaluate_chunk, chunk, reform) for chunk in chunks]
    out = []
    for future in futures:
        out.extend(future.result())
        if progress:
            progress(len(out), total)
    return out


# --- the result -----------------------------------------------------------------------------------


@dataclass
class Portfolio:
    """The claims with the added columns, one row per payment, and the summaries.

    ``header``/``rows`` are the input table (row-major, as read) and ``added`` the added columns of
    each row; ``claims`` joins them into one DataFrame when asked for.
    """

    header: list[str]
    rows: list[list]
    added: list[list]
    claim_rows: list[_Row] = field(repr=False)
    payment_rows: list[tuple] = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    reform: Reform | None = None  # computed beside a reform: REFORM_COLUMNS added, and to the summaries
    reformed_rows: list[_Row] | None = field(default=None, repr=False)  # the claims under the reform

    @property
    def added_names(self) -> list[str]:
        """The added columns of this result: ``added_columns()``, then ``REFORM_COLUMNS`` under a reform."""
        return added_columns() + (REFORM_COLUMNS if self.reform is not None else [])

    # The DataFrames are built when first asked for (pandas is imported then, not before).
    @cached_property
    def payments(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.payment_rows, columns=PAYMENT_COLUMNS, dtype=object)

    @cached_property
    def by_enterprise_year(self) -> pd.DataFrame:
        return self._beside_reform(_by_enterprise_year(self.claim_rows), _by_enterprise_year)

    @cached_property
    def by_policy(self) -> pd.DataFrame:
        return self._beside_reform(_by_policy(self.claim_rows), _by_policy)

    def _beside_reform(self, frame: pd.DataFrame, summarise: Callable[[list[_Row]], pd.DataFrame]) -> pd.DataFrame:
        """The summary with the reform's granted amount and the difference (the same groups in the same order)."""
        if self.reformed_rows is not None:
            other = summarise(self.reformed_rows)
            frame["reform_granted_yuan"] = other["granted_yuan"]
            frame["reform_difference_yuan"] = [
                _difference(r, g) for r, g in zip(other["granted_yuan"], frame["granted_yuan"])
            ]
        return frame

    @cached_property
    def by_payment_year(self) -> pd.DataFrame:
        return _by_payment_year(self.payment_rows)

    notes: list[tuple[Note, ...]] = field(
        default_factory=list
    )  # each row's notes as data (the "note" column renders them)

    @cached_property
    def claims(self) -> pd.DataFrame:
        import pandas as pd

        names = self.added_names
        frame = pd.DataFrame(self.rows, columns=self.header, dtype=object)
        extra = pd.DataFrame(self.added, columns=names, dtype=object)
        return pd.concat([frame, extra], axis=1)

    @property
    def columns(self) -> list[str]:
        return [*self.header, *self.added_names]

    def records(self) -> Iterable[list]:
        """Each row with its added columns, in order (for writing without building a DataFrame)."""
        return (row + extra for row, extra in zip(self.rows, self.added))

    def column(self, name: str) -> list:
        at = self.added_names.index(name)
        return [extra[at] for extra in self.added]

    @property
    def invalid(self) -> int:
        return self.column("status").count("invalid")

    @property
    def granted_total(self) -> Decimal:
        return sum((g for g in self.column("granted_yuan") if g is not None), Decimal(0))

    @property
    def reform_granted_total(self) -> Decimal:
        """What the claims are granted under the reform (``stack_rows(reform=...)`` only)."""
        return sum((g for g in self.column("reform_granted_yuan") if g is not None), Decimal(0))


@dataclass(slots=True)
class _Row:
    index: int
    enterprise: str = ""
    ekey: str = ""
    uscc: str = ""
    project: str = ""
    clause: str = ""
    policy: str = ""
    year: int | None = None
    start: date | None = None
    completion: date | None = None
    amount: Decimal | None = None
    granted: Decimal | None = None
    status: str = ""
    notes: list[Note] = field(default_factory=list)
    stages: tuple = ()
    stacks: bool = False
    order: int = 0  # the clause's place in the catalog: breaks ties between equal amounts
    capped: bool = False
    inputs: dict | None = None  # the row's inputs, kept for the clauses whose rules read them (ledger_rules)
    ref: str = ""  # how a note refers to this row (``Note.refers_to``): the caller's cite, else "row N"

    def fail(self, reason: str, code: str = "invalid", refers_to: tuple[str, ...] = ()) -> None:
        """Invalid with the reason: no amount (the year stays, for the summaries)."""
        self.status = "invalid"
        self.amount = self.granted = None
        self.notes = [Note(code, reason, refers_to=refers_to)]


def column_name(header: object) -> str:
    """A header cell's column name: the cell stripped or, of a cell of two lines (中文 over the name,
    as the portfolio template and the xlsx result write them), its last line."""
    text = str(header).strip()
    return text.rsplit("\n", 1)[1].strip() if "\n" in text else text


def normalise_header(header: Iterable[object]) -> list[str]:
    """Headers stripped (``column_name``); a header that matches a known name but for case becomes that name."""
    known = {
        n.casefold(): n for n in (*REQUIRED, *DETAILS, "zone", *accepted_names(), *added_columns(), *REFORM_COLUMNS)
    }
    out = []
    for column in header:
        text = column_name(column)
        out.append(known.get(text.casefold(), text))
    doubled = sorted({c for c in out if out.count(c) > 1 and c})
    if doubled:
        raise GreenAwardError(f"the table has the column {doubled[0]!r} twice / 列名重复")
    return out


def check_columns(header: list[str]) -> list[str]:
    """Raise if a required column is missing; warnings for columns no clause reads."""
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise GreenAwardError(
            f"the table needs the column(s) {', '.join(missing)} / 缺少必需列 (columns: enterprise, project, clause, year, …)"
        )
    known = {*REQUIRED, *DETAILS, "zone", *accepted_names(), *added_columns(), *REFORM_COLUMNS}
    return [
        f"column {c!r} is not a name any clause reads; ignored / 未识别的列，已忽略"
        for c in header
        if c not in known and c and not c.startswith("Unnamed")
    ]


def stack(
    table: pd.DataFrame | Iterable[dict],
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    record: Record | Iterable[Grant] | None = None,
    reform: Reform | dict | None = None,
) -> Portfolio:
    """Evaluate every claim and apply duplicates, conflicts, best-of, stacking, caps and payments."""
    import pandas as pd

    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(list(table))
    cells = frame.to_numpy(dtype=object)
    cells[pd.isna(cells)] = None  # pandas' missing cell (NaN, NA, NaT) is an empty cell, not a bad number
    rows = cells.tolist()
    return stack_rows(list(frame.columns), rows, executor=executor, progress=progress, record=record, reform=reform)


def stack_rows(
    header: Sequence[object],
    rows: list[list],
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    parallel: bool = True,
    record: Record | Iterable[Grant] | None = None,
    cites: Sequence[str] | None = None,
    reform: Reform | dict | None = None,
) -> Portfolio:
    """``stack`` on a table given as a header and a list of rows (each a list of cell values).

    ``executor`` takes the evaluations in chunks (any ``concurrent.futures.Executor``); without one,
    a large table is evaluated on a process pool of its own unless ``parallel`` is false.
    ``record``: the grants on record (a ledger's ``Record``, complete; or grants) the rules across
    years deduct and cite; ``cites``: how a message names each row (default "row N", header = row 1).
    ``reform`` (``policies.parameters``): the table is computed twice, as the policies stand and under
    the reform (its clause parameters and its caps across claims), side by side: ``REFORM_COLUMNS``
    per claim and the reform's granted amounts and differences in the summaries.
    """
    reform = parse_reform(reform) if reform is not None else None  # a bad reform fails the table, before any work
    if record is None:
        record = Record()
    elif not isinstance(record, Record):
        record = Record(record, complete=True)
    enabled = gc.isenabled()
    gc.disable()  # 100,000s of small objects that live to the end: collecting them midway is waste
    try:
        return _stack_rows(
            header,
            rows,
            executor=executor,
            progress=progress,
            parallel=parallel,
            record=record,
            cites=cites,
            reform=reform,
        )
    finally:
        if enabled:
            gc.enable()


def _stack_rows(
    header: Sequence[object],
    rows: list[list],
    *,
    executor: Executor | None,
    progress: Progress | None,
    parallel: bool,
    record: Record,
    cites: Sequence[str] | None,
    reform: Reform | None = None,
) -> Portfolio:
    header = normalise_header(header)
    warnings = check_columns(header)
    width = len(header)
    drop = [i for i, c in enumerate(header) if c in {*added_columns(), *REFORM_COLUMNS} or not c]
    if drop:  # a result fed back in: its added columns are computed afresh
        keep = [i for i in range(width) if i not in drop]
        header = [header[i] for i in keep]
        rows = [[(r[i] if i < len(r) else "") for i in keep] for r in rows]
        width = len(header)
    elif any(len(r) != width for r in rows):  # a ragged csv line
        rows = [list(r[:width]) + [""] * (width - len(r)) for r in rows]
    at = {name: i for i, name in enumerate(header)}

    claims = [_Row(i, ref=cites[i] if cites is not None else f"row {i + 2}") for i in range(len(rows))]
    _identify(claims, rows, at)
    _duplicates(claims)

    # evaluate each distinct (clause, year, cells) once: many rows of a portfolio repeat a claim
    getters: dict[str, tuple[tuple[str, ...], Callable[[list], tuple]]] = {}
    keys: dict[tuple, int] = {}
    row_key: list[int] = [-1] * len(rows)
    for claim in claims:
        if claim.status:
            continue
        found = getters.get(claim.clause)
        if found is None:
            names = tuple(n for n in compiled(claim.clause).specs if n in at)
            found = getters[claim.clause] = (names, _cells_getter([at[n] for n in names]))
        names, cells = found
        key = (claim.clause, claim.year, names, cells(rows[claim.index]))
        slot = keys.get(key)
        if slot is None:
            slot = keys[key] = len(keys)
        row_key[claim.index] = slot
    distinct = list(keys)
    outcomes = evaluate_keys(distinct, executor=executor, progress=progress, parallel=parallel)
    cite = (lambda c: cites[c.index]) if cites is not None else (lambda c: f"row {c.index + 2}, {c.year}")
    if reform is None:
        _decide(claims, outcomes, row_key, rows, getters, record, cite, None)
        return _result(header, rows, claims, warnings)

    # the same claims under the reform: only the clauses it changes are evaluated again
    reformed = [replace(c, notes=list(c.notes)) for c in claims]
    again = Record(record.grants, complete=record.complete)  # the rules add each year's grants to the record
    _decide(claims, outcomes, row_key, rows, getters, record, cite, None)
    touched = [k for k, key in enumerate(distinct) if key[0] in reform.clauses]
    outcomes = list(outcomes)
    for k, outcome in zip(
        touched,
        evaluate_keys(
            [distinct[k] for k in touched], executor=executor, progress=progress, parallel=parallel, reform=reform
        ),
    ):
        outcomes[k] = outcome
    _decide(reformed, outcomes, row_key, rows, getters, again, cite, reform)
    return _result(header, rows, claims, warnings, reformed, reform)


def _decide(
    claims: list[_Row],
    outcomes: list[Outcome],
    row_key: list[int],
    rows: list[list],
    getters: dict,
    record: Record,
    cite: Callable[[_Row], str],
    reform: Reform | None,
) -> None:
    """Each claim's evaluation, then the rules across claims (``policies.ledger_rules``)."""
    catalog_order = {cid: k for k, cid in enumerate(c.id for p in policies().values() for c in p.clauses)}
    stacks = {c.id: c.stacks for p in policies().values() for c in p.clauses}
    for claim in claims:
        if claim.status:
            continue
        amount, eligible, error, reasons, basis, stages, assumed = outcomes[row_key[claim.index]]
        if error is not None:
            claim.fail(error)
            continue
        claim.amount = amount
        claim.order = catalog_order.get(claim.clause, 0)
        claim.stacks = stacks[claim.clause]
        if not eligible:
            claim.status, claim.granted = "ineligible", Decimal("0.00")
            claim.notes = list(reasons)
            continue
        claim.status, claim.granted, claim.stages = "granted", amount, stages
        claim.notes = [basis]
        if assumed:
            claim.notes.append(
                Note("assumed", f"{assumed} 项条件按假定满足 condition(s) assumed (green-award calc shows them)")
            )
        if claim.clause in NEEDS_INPUTS:
            names, cells = getters[claim.clause]
            claim.inputs = {n: v for n, v in zip(names, cells(rows[claim.index])) if not (v == "" or is_blank(v))}

    apply_rules(
        claims,
        record,
        within_year=_conflicts_and_best,
        evaluate=partial(_evaluate_again, reform=reform),
        cite=cite,
        reform=reform,
    )


def _evaluate_again(claim: _Row, inputs: dict, reform: Reform | None = None) -> tuple[Decimal, bool, tuple[Check, ...]]:
    """The claim's clause evaluated with changed inputs (what the record replaces): amount, eligible, failed checks."""
    award = evaluate(claim.clause, on=claim.year, reform=reform, **inputs)
    return award.amount, award.eligible, award.failed


def _cells_getter(indexes: list[int]) -> Callable[[list], tuple]:
    """A function that takes a row's cells at ``indexes`` as one tuple (itemgetter, in C)."""
    if not indexes:
        return lambda row: ()
    if len(indexes) == 1:
        only = indexes[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*indexes)


def _identify(claims: list[_Row], rows: list[list], at: dict[str, int]) -> None:
    """Identifiers, year and dates of each row; a row missing one is invalid."""
    known: dict[str, tuple[str, bool]] = {}
    for policy in policies().values():
        for clause in policy.clauses:
            known[clause.id] = (policy.id, clause.monetary)
    get = lambda row, name: row[at[name]] if name in at else ""  # noqa: E731
    dated = "start_date" in at or "completion_date" in at
    for claim in claims:
        row = rows[claim.index]
        claim.enterprise, claim.uscc = ident(row[at["enterprise"]]), ident(get(row, "uscc")).upper()
        claim.project, claim.clause = ident(row[at["project"]]), ident(row[at["clause"]])
        try:
            claim.year = parse_year(row[at["year"]])
        except ValueError:
            pass  # reported below, after the identifiers
        try:
            if not claim.enterprise and not claim.uscc:
                raise ValueError("enterprise: empty; give the name or the credit code (uscc) / 企业名称为空")
            if claim.uscc:
                problem = uscc_problem(claim.uscc)
                if problem:
                    claim.ekey = claim.enterprise  # a mistyped code does not make a new enterprise
                    raise ValueError(f"uscc: {problem}")
            if not claim.project:
                raise ValueError("project: empty; give each project an identifier / 项目编号为空")
            if not claim.clause:
                raise ValueError("clause: empty / 条款为空")
            if claim.clause not in known:
                find_clause(claim.clause)  # raises with a suggestion
            claim.policy, monetary = known[claim.clause]
            if not monetary:
                raise ValueError(f"{claim.clause}: a non-monetary article; it grants no amount / 非资金支持条款")
            if claim.year is None:
                parse_year(row[at["year"]])  # raises with the reason
            if dated:
                for name in ("start_date", "completion_date"):
                    value = get(row, name)
                    if not is_blank(value):
                        try:
                            day = parse_date(value)
                        except ValueError as exc:
                            raise ValueError(f"{name}: {exc}") from None
                        if name == "start_date":
                            claim.start = day
                        else:
                            claim.completion = day
                if claim.start and claim.completion and claim.completion < claim.start:
                    raise ValueError(
                        f"completion_date {claim.completion} is before start_date {claim.start} / 完成日期早于开始日期"
                    )
        except (ValueError, GreenAwardError) as exc:
            claim.fail(f"无效 Invalid: {exc}")
    # an enterprise is its credit code where given; a name seen with exactly one code is that code
    codes: dict[str, set[str]] = {}
    for claim in claims:
        if claim.uscc and claim.enterprise and not claim.ekey:
            codes.setdefault(claim.enterprise, set()).add(claim.uscc)
    for claim in claims:
        if claim.ekey:
            found = codes.get(claim.enterprise, ())
            claim.ekey = next(iter(found)) if len(found) == 1 else claim.enterprise
        elif claim.uscc:
            claim.ekey = claim.uscc
        else:
            found = codes.get(claim.enterprise, ())
            claim.ekey = next(iter(found)) if len(found) == 1 else claim.enterprise


def _groups(rows: Iterable[_Row], key: Callable[[_Row], tuple]) -> list[list[_Row]]:
    """The groups of rows sharing a key that have more than one row, in the order first seen."""
    first: dict[tuple, _Row] = {}
    many: dict[tuple, list[_Row]] = {}
    for row in rows:
        k = key(row)
        seen = first.get(k)
        if seen is None:
            first[k] = row
        elif k in many:
            many[k].append(row)
        else:
            many[k] = [seen, row]
    return list(many.values())


def _duplicates(rows: list[_Row]) -> None:
    for group in _groups((r for r in rows if not r.status), lambda r: (r.ekey, r.year, r.project, r.clause)):
        where = ", ".join(str(r.index + 2) for r in group)
        for row in group:
            row.fail(
                f"无效 Invalid: duplicate claim: project {row.project} under {row.clause} in {row.year} "
                f"appears on rows {where} (header = row 1); keep one / 同一项目同一条款重复申报",
                "duplicate",
                tuple(r.ref for r in group if r is not row),
            )


def _conflicts_and_best(rows: list[_Row]) -> None:
    granted = (r for r in rows if r.status == "granted")
    for group in _groups(granted, lambda r: (r.ekey, r.year, r.project)):
        district = sorted({r.policy for r in group if r.policy not in MUNICIPAL})
        if len(district) > 1:
            for row in group:
                if row.policy in MUNICIPAL:
                    continue
                others = ", ".join(
                    sorted(r.clause for r in group if r.policy != row.policy and r.policy not in MUNICIPAL)
                )
                row.status, row.granted = "conflict", Decimal("0.00")
                row.notes = [
                    Note(
                        "conflict",
                        f"冲突 Conflict: project {row.project} is also claimed under {others}; "
                        f"choose one district policy ({' or '.join(district)}) and remove the other rows 〔{CONFLICT_CITE}〕",
                        cites=CONFLICT_CITE,
                        refers_to=tuple(r.ref for r in group if r.policy != row.policy and r.policy not in MUNICIPAL),
                    )
                ]
        by_policy: dict[str, list[_Row]] = {}
        for row in group:
            if row.status == "granted" and not row.stacks:
                by_policy.setdefault(row.policy, []).append(row)
        for policy, rivals in by_policy.items():
            if len(rivals) < 2:
                continue
            best = max(rivals, key=lambda r: (r.amount, -r.order))
            for row in rivals:
                cites = BEST_OF_CITES.get(policy, "")
                if row is best:
                    row.notes.append(
                        Note(
                            "best_of",
                            f"best of {len(rivals)} clauses for this project 〔{cites}〕",
                            cites=cites,
                            refers_to=tuple(r.ref for r in rivals if r is not row),
                        )
                    )
                    continue
                row.status, row.granted = "superseded", Decimal("0.00")
                row.notes = [
                    Note(
                        "superseded",
                        f"从优 Superseded by {best.clause} ({yuan(best.amount)} 元) for project {row.project}: "
                        f"one project gets its best clause only 〔{cites}〕",
                        cites=cites,
                        about=best.clause,
                        refers_to=(best.ref,),
                    )
                ]


# --- payments and the output ----------------------------------------------------------------------


def _payments(row: _Row) -> list[tuple[int, Decimal, str]]:
    """(year, amount, due|pending) of each stage of a granted amount.

    A two-stage payment's first stage falls in the start year and its last in the completion year;
    a one-off payment (paid afterwards) in the completion year; without the date, the row's year.
    A payment never falls before the row's year (it follows the claim).
    """
    if not row.stages or not row.granted:
        return []
    out, count = [], len(row.stages)
    parts = amounts(row.granted, [share for share, _ in row.stages])
    for index, ((_, status), amount) in enumerate(zip(row.stages, parts)):
        when = row.completion if index == count - 1 else row.start
        year = max(row.year, when.year) if when else row.year
        out.append((year, amount, status))
    return out


def _result(
    header: list[str],
    rows: list[list],
    claims: list[_Row],
    warnings: list[str],
    reformed: list[_Row] | None = None,
    reform: Reform | None = None,
) -> Portfolio:
    stages = stage_count()
    added: list[list] = []
    payment_rows = []
    empty = [None, None, ""] * stages
    for claim in claims:
        plan = _payments(claim) if claim.status in ("granted", "capped") else []
        extra = [claim.policy, claim.amount, claim.granted, claim.status, "; ".join(n.text for n in claim.notes)]
        for year, amount, status in plan:
            extra += (year, amount, status)
        extra += empty[3 * len(plan) :]
        added.append(extra)
        for n, (year, amount, status) in enumerate(plan, 1):
            payment_rows.append(
                (
                    claim.enterprise,
                    claim.uscc,
                    claim.project,
                    claim.clause,
                    claim.policy,
                    claim.year,
                    n,
                    year,
                    amount,
                    status,
                )
            )
    if reformed is not None:
        for extra, claim, other in zip(added, claims, reformed):
            extra += [
                other.status,
                other.granted,
                _difference(other.granted, claim.granted),
                "; ".join(str(n) for n in other.notes),
            ]
    return Portfolio(
        header=header,
        rows=rows,
        added=added,
        claim_rows=claims,
        payment_rows=payment_rows,
        notes=[tuple(claim.notes) for claim in claims],
        warnings=warnings,
        reform=reform,
        reformed_rows=reformed,
    )


def _difference(reformed: Decimal | None, granted: Decimal | None) -> Decimal | None:
    """Under the reform less as the policies stand; none when either is invalid (no amount)."""
    return None if reformed is None or granted is None else reformed - granted


ENTERPRISE_YEAR_COLUMNS = ["enterprise", "uscc", "year", "claims", *STATUSES, "amount_yuan", "granted_yuan"]
POLICY_COLUMNS = ["policy", "year", "claims", "granted_claims", "amount_yuan", "granted_yuan"]
PAYMENT_YEAR_COLUMNS = ["payment_year", "policy", "due_yuan", "pending_yuan", "total_yuan"]
PAYMENT_COLUMNS = [
    "enterprise",
    "uscc",
    "project",
    "clause",
    "policy",
    "claim_year",
    "stage",
    "payment_year",
    "amount_yuan",
    "status",
]


def _by_enterprise_year(rows: list[_Row]) -> pd.DataFrame:
    import pandas as pd

    at = {s: 4 + k for k, s in enumerate(STATUSES)}
    amount_at, granted_at = 4 + len(STATUSES), 5 + len(STATUSES)
    groups: dict[tuple, list] = {}
    for row in rows:
        key = (row.ekey, row.year)
        g = groups.get(key)
        if g is None:
            g = groups[key] = [
                set(),
                row.ekey if row.ekey == row.uscc else "",
                row.year,
                0,
                *[0] * len(STATUSES),
                Decimal(0),
                Decimal(0),
            ]
        if row.enterprise:
            g[0].add(row.enterprise)
        g[3] += 1
        g[at[row.status]] += 1
        if row.amount is not None:
            g[amount_at] += row.amount
        if row.granted is not None:
            g[granted_at] += row.granted
    out = []
    for key in sorted(groups, key=lambda k: (k[0], k[1] or 0)):
        g = groups[key]
        g[0] = " / ".join(sorted(g[0]))
        out.append(g)
    frame = pd.DataFrame(out, columns=ENTERPRISE_YEAR_COLUMNS, dtype=object)
    frame["year"] = frame["year"].astype("Int64")
    return frame


def _by_policy(rows: list[_Row]) -> pd.DataFrame:
    import pandas as pd

    groups: dict[tuple, list] = {}
    for row in rows:
        if not row.policy or row.year is None:
            continue
        key = (row.policy, row.year)
        g = groups.get(key)
        if g is None:
            g = groups[key] = [row.policy, row.year, 0, 0, Decimal(0), Decimal(0)]
        g[2] += 1
        if row.granted:
            g[3] += 1
        if row.amount is not None:
            g[4] += row.amount
            g[5] += row.granted
    order = {p: k for k, p in enumerate(policies())}
    keys = sorted(groups, key=lambda k: (order.get(k[0], 99), k[1]))
    return pd.DataFrame([groups[k] for k in keys], columns=POLICY_COLUMNS, dtype=object)


def _by_payment_year(payment_rows: list[tuple]) -> pd.DataFrame:
    import pandas as pd

    groups: dict[tuple, list] = {}
    for p in payment_rows:
        year, policy, amount, status = p[7], p[4], p[8], p[9]
        g = groups.get((year, policy))
        if g is None:
            g = groups[(year, policy)] = [year, policy, Decimal(0), Decimal(0), Decimal(0)]
        g[2 if status == "due" else 3] += amount
        g[4] += amount
    order = {p: k for k, p in enumerate(policies())}
    keys = sorted(groups, key=lambda k: (k[0], order.get(k[1], 99)))
    return pd.DataFrame([groups[k] for k in keys], columns=PAYMENT_YEAR_COLUMNS, dtype=object)
