"""A portfolio of claims: best clause per project per policy, caps per enterprise-year, payments.

One row is one claim: an enterprise, a project, a clause and a year, with the clause's inputs in
columns named as the inputs (see docs/portfolio.md). ``stack_rows(header, rows)`` evaluates every
row with the policy core and then applies the cross-claim rules of the catalog's "Cross-policy
stacking":

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
no amount; the other rows are still computed.

**Two passes, rows streamed.** ``stack_source(header, read)`` takes a function that reads the rows
(again): the first pass keeps of each row only its identifiers and its evaluation (``_Row``), the
rules run on those, and the result (``Portfolio``) gives each row with its added columns by reading
the rows a second time (``Portfolio.records``). A table of 1,000,000 rows is never in memory at
once. ``stack_rows`` is the same on a list of rows. Pure Python, no pandas, no Excel, no process
pool: the summaries are lists of rows; DataFrames and files are the add-in's (``addin.portfolio``);
an ``executor`` given by the caller (``addin.executors``) takes the evaluations in chunks.
"""

from __future__ import annotations

import contextlib
import gc
import operator
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property, partial
from typing import Any

from .award import Check, Note
from .batch import Key, Outcome, evaluate_chunk, inputs_of
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
from .uscc import validate_uscc
from .years import LAST_SERIAL, from_serial, parse_year

# --- the table ------------------------------------------------------------------------------------

#: The claim's fields (common.yaml): the columns a table must have, and the others it may have.
REQUIRED = tuple(name for name, f in fields().items() if "portfolio" in f.required)
DETAILS = tuple(name for name in fields() if name not in REQUIRED and name != "zone")
STATUSES = ("granted", "capped", "superseded", "conflict", "duplicate", "ineligible", "invalid")
#: The columns a portfolio computed with a reform adds after ``added_columns()``: each claim under the reform.
REFORM_COLUMNS = ["reform_status", "reform_granted_yuan", "reform_difference_yuan", "reform_note"]

Progress = Callable[[int, int], None]
#: A cell of the table as read (text, a number, a date, None...): any value; the engine coerces it.
Cell = object
#: A row of the table: its cells, in the header's order.
Cells = Sequence[Cell]
#: A cell of a result (an added column, a summary): text, a count, a year, a Decimal or None, as its
#: column says (``added_columns()``, ``*_COLUMNS``). Any: the reader knows the column, so it reads a
#: status as text and an amount as a Decimal without a check on each cell.
Value = Any
#: A payment (``PAYMENT_COLUMNS``): enterprise, uscc, project, clause, policy, claim year, stage,
#: payment year, amount, due|pending.
Payment = tuple[str, str, str, str, str, int | None, int, int, Decimal, str]


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

#: Keys evaluated together (one task of an executor); at most ``IN_FLIGHT`` tasks wait at once.
CHUNK = 2000
IN_FLIGHT = 8
#: How many distinct keys are remembered to evaluate a repeated claim once (bounded: a table of
#: 1,000,000 distinct rows would otherwise keep every row's cells until the end).
REMEMBER = 50_000


class _Evaluations:
    """The evaluations of the first pass: each distinct key once, in chunks, here or on ``executor``.

    ``add`` gives a claim its key; the claim's ``outcome`` (or ``reform_outcome``) is set when the
    chunk comes back (``finish`` waits for the last ones)."""

    def __init__(self, executor: Executor | None, reform: Reform | None, slot: str) -> None:
        self.executor, self.reform, self.slot = executor, reform, slot
        self.seen: dict[Key, Outcome | list[_Row]] = {}  # a key -> its outcome, or the claims waiting for it
        self.keys: list[Key] = []
        self.waiting: list[list[_Row]] = []  # per key of the chunk: the claims waiting for it
        self.running: deque[tuple[Future[list[Outcome]], list[Key], list[list[_Row]]]] = deque()
        self.count = 0  # distinct keys evaluated

    def add(self, claim: _Row, key: Key) -> None:
        found = self.seen.get(key)
        if found is None:
            if len(self.seen) >= REMEMBER:
                self.seen = {k: v for k, v in self.seen.items() if isinstance(v, list)}  # keep the waiting
            waiting = [claim]
            self.seen[key] = waiting
            self.keys.append(key)
            self.waiting.append(waiting)
            if len(self.keys) >= CHUNK:
                self._flush()
        elif isinstance(found, list):
            found.append(claim)
        else:
            setattr(claim, self.slot, found)

    def _flush(self) -> None:
        keys, waiting = self.keys, self.waiting
        self.keys, self.waiting = [], []
        if not keys:
            return
        self.count += len(keys)
        if self.executor is None:
            self._settle(keys, waiting, evaluate_chunk(keys, self.reform))
            return
        self.running.append((self.executor.submit(evaluate_chunk, keys, self.reform), keys, waiting))
        while len(self.running) > IN_FLIGHT:  # bounded: the rows are read no faster than evaluated
            self._collect()

    def _collect(self) -> None:
        future, keys, waiting = self.running.popleft()
        self._settle(keys, waiting, future.result())

    def _settle(self, keys: list[Key], waiting: list[list[_Row]], outcomes: list[Outcome]) -> None:
        for key, claims, outcome in zip(keys, waiting, outcomes):
            for claim in claims:
                setattr(claim, self.slot, outcome)
            if self.seen.get(key) is claims:
                self.seen[key] = outcome

    def finish(self) -> None:
        self._flush()
        while self.running:
            self._collect()
        self.seen = {}


# --- the result -----------------------------------------------------------------------------------

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
#: What a reform adds to the enterprise-year and policy-year summaries.
REFORM_SUMMARY_COLUMNS = ["reform_granted_yuan", "reform_difference_yuan"]


@dataclass
class Portfolio:
    """The claims' decisions, and each row with its added columns read on demand.

    ``claim_rows`` are the claims (identifiers, amount, granted, status, notes) in the table's order;
    ``read`` reads the table's rows again (``records`` joins each with its added columns, one at a
    time); the summaries are lists of rows (``*_COLUMNS`` name their cells). ``addin.portfolio``
    makes DataFrames of them.
    """

    header: list[str]
    claim_rows: list[_Row] = field(repr=False)
    read: Callable[[], Iterable[Cells]] = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    reform: Reform | None = None  # computed beside a reform: REFORM_COLUMNS added, and to the summaries
    reformed_rows: list[_Row] | None = field(default=None, repr=False)  # the claims under the reform

    @property
    def added_names(self) -> list[str]:
        """The added columns of this result: ``added_columns()``, then ``REFORM_COLUMNS`` under a reform."""
        return added_columns() + (REFORM_COLUMNS if self.reform is not None else [])

    @property
    def columns(self) -> list[str]:
        return [*self.header, *self.added_names]

    def __len__(self) -> int:
        return len(self.claim_rows)

    @property
    def rows(self) -> list[list[Cell]]:
        """Every input row (read into a list: for a small table; ``records`` streams)."""
        return [list(row) for row in self.read()]

    def extra(self, index: int) -> list[Value]:
        """The added cells of row ``index``."""
        claim = self.claim_rows[index]
        extra: list[Value] = [claim.policy, claim.amount, claim.granted, claim.status, self._note_text(claim.notes)]
        plan = _payments(claim) if claim.status in ("granted", "capped") else []
        for year, amount, status in plan:
            extra += (year, amount, status)
        extra += self._no_payments[len(plan)]
        if self.reformed_rows is not None:
            other = self.reformed_rows[index]
            extra += [
                other.status,
                other.granted,
                _difference(other.granted, claim.granted),
                self._note_text(other.notes),
            ]
        return extra

    def _note_text(self, notes: list[Note]) -> str:
        """The ``note`` cell: the notes' texts joined, once per distinct list of notes (most rows
        share theirs with many others: a clause's basis, the conditions assumed)."""
        key = tuple(map(id, notes))
        found = self._note_texts.get(key)
        if found is None:
            if len(self._note_texts) > 100_000:  # a bound: notes naming one row each are many
                self._note_texts.clear()
            found = self._note_texts[key] = (tuple(notes), "; ".join(n.text for n in notes))
        return found[1]

    @cached_property
    def _note_texts(self) -> dict[tuple[int, ...], tuple[tuple[Note, ...], str]]:
        """The joined texts by the notes' identities (each entry holds its notes: no identity is reused)."""
        return {}

    @cached_property
    def _no_payments(self) -> list[list[Value]]:
        """The empty payment cells after a row's ``n`` stages, for each ``n``."""
        count = stage_count()
        return [[None, None, ""] * (count - n) for n in range(count + 1)]

    @property
    def added(self) -> list[list[Value]]:
        """Every row's added cells (``extra``), in a list."""
        return [self.extra(k) for k in range(len(self.claim_rows))]

    def records(self) -> Iterator[list[Value]]:
        """Each row with its added columns, in order, the rows read again (never all in memory)."""
        for index, row in enumerate(self.read()):
            yield [*row, *self.extra(index)]

    @property
    def notes(self) -> list[tuple[Note, ...]]:
        """Each row's notes as data (the ``note`` column renders them)."""
        return [tuple(claim.notes) for claim in self.claim_rows]

    def column(self, name: str) -> list[Value]:
        """One added column's values, in row order."""
        direct = {"policy": "policy", "amount_yuan": "amount", "granted_yuan": "granted", "status": "status"}
        if name in direct:
            return [getattr(claim, direct[name]) for claim in self.claim_rows]
        at = self.added_names.index(name)
        return [self.extra(k)[at] for k in range(len(self.claim_rows))]

    @property
    def invalid(self) -> int:
        return sum(1 for claim in self.claim_rows if claim.status == "invalid")

    @property
    def granted_total(self) -> Decimal:
        return sum((c.granted for c in self.claim_rows if c.granted is not None), Decimal(0))

    @property
    def amount_total(self) -> Decimal:
        return sum((c.amount for c in self.claim_rows if c.amount is not None), Decimal(0))

    @property
    def reform_granted_total(self) -> Decimal:
        """What the claims are granted under the reform (``stack_rows(reform=...)`` only)."""
        rows = self.reformed_rows or []
        return sum((c.granted for c in rows if c.granted is not None), Decimal(0))

    @property
    def payment_rows(self) -> list[Payment]:
        """One row per payment (``PAYMENT_COLUMNS``), in a list (``iter_payments`` streams them)."""
        return list(self.iter_payments())

    def iter_payments(self) -> Iterator[Payment]:
        """One row per payment (``PAYMENT_COLUMNS``), made as read: 1,000,000 claims need not hold them."""
        for claim in self.claim_rows:
            if claim.status not in ("granted", "capped"):
                continue
            for n, (year, amount, status) in enumerate(_payments(claim), 1):
                yield (claim.enterprise, claim.uscc, claim.project, claim.clause, claim.policy, claim.year, n) + (
                    year,
                    amount,
                    status,
                )

    def enterprise_years(self) -> list[list[Value]]:
        """Per enterprise and year (``ENTERPRISE_YEAR_COLUMNS``, then ``REFORM_SUMMARY_COLUMNS`` under a reform)."""
        return self._beside_reform(_by_enterprise_year, ENTERPRISE_YEAR_COLUMNS.index("granted_yuan"))

    def policy_years(self) -> list[list[Value]]:
        """Per policy and year (``POLICY_COLUMNS``, then ``REFORM_SUMMARY_COLUMNS`` under a reform)."""
        return self._beside_reform(_by_policy, POLICY_COLUMNS.index("granted_yuan"))

    def payment_years(self) -> list[list[Value]]:
        """Due and pending per payment year and policy (``PAYMENT_YEAR_COLUMNS``)."""
        return _by_payment_year(self.claim_rows)

    def _beside_reform(
        self, summarise: Callable[[list[_Row]], list[list[Value]]], granted_at: int
    ) -> list[list[Value]]:
        """The summary, with the reform's granted amount and the difference (the same groups in the same order)."""
        rows = summarise(self.claim_rows)
        if self.reformed_rows is not None:
            for row, other in zip(rows, summarise(self.reformed_rows)):
                row += [other[granted_at], _difference(other[granted_at], row[granted_at])]
        return rows


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
    stages: tuple[tuple[Decimal, str], ...] = ()  # (share, due|pending) of each payment stage
    stacks: bool = False
    order: int = 0  # the clause's place in the catalog: breaks ties between equal amounts
    capped: bool = False
    #: the row's inputs, kept for the clauses whose rules read them (ledger_rules)
    inputs: dict[str, object] | None = None
    cite: str = ""  # how a note refers to this row when the caller says (``stack_rows(cites=...)``)
    outcome: Outcome | None = None  # the first pass's evaluation
    reform_outcome: Outcome | None = None  # ... under the reform, for the clauses it changes

    @property
    def ref(self) -> str:
        """How a note refers to this row (``Note.refers_to``): the caller's cite, else "row N" (header = row 1)."""
        return self.cite or f"row {self.index + 2}"

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


def stack_rows(
    header: Sequence[object],
    rows: Sequence[Cells],
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    parallel: bool = True,
    record: Record | Iterable[Grant] | None = None,
    cites: Sequence[str] | None = None,
    reform: Reform | Mapping[str, object] | None = None,
) -> Portfolio:
    """``stack_source`` on a table given as a header and a list of rows (each a list of cell values)."""
    return stack_source(
        header,
        lambda: rows,
        executor=executor if parallel else None,
        progress=progress,
        record=record,
        cites=cites,
        reform=reform,
        total=len(rows),
    )


def stack_source(
    header: Sequence[object],
    read: Callable[[], Iterable[Cells]],
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    record: Record | Iterable[Grant] | None = None,
    cites: Sequence[str] | None = None,
    reform: Reform | Mapping[str, object] | None = None,
    total: int | None = None,
) -> Portfolio:
    """Evaluate every claim and apply duplicates, conflicts, best-of, stacking, caps and payments.

    ``read()`` gives the table's rows (each a sequence of cell values); it is called once here and
    again each time the result's rows are read (``Portfolio.records``). ``executor`` takes the
    evaluations in chunks (any ``concurrent.futures.Executor``; none: in this process).
    ``record``: the grants on record (a ledger's ``Record``, complete; or grants) the rules across
    years deduct and cite; ``cites``: how a message names each row (default "row N", header = row 1).
    ``reform`` (``policies.parameters``): the table is computed twice, as the policies stand and under
    the reform (its clause parameters and its caps across claims), side by side: ``REFORM_COLUMNS``
    per claim and the reform's granted amounts and differences in the summaries. ``progress(done,
    total)`` is called as rows are read (``total``: the rows when known, else 0).
    """
    reform = parse_reform(reform) if reform is not None else None  # a bad reform fails the table, before any work
    if record is None:
        record = Record()
    elif not isinstance(record, Record):
        record = Record(record, complete=True)
    enabled = gc.isenabled()
    gc.disable()  # 100,000s of small objects that live to the end: collecting them midway is waste
    try:
        header = normalise_header(header)
        warnings = check_columns(header)
        header, shape = _shaper(header)
        claims = _first_pass(header, map(shape, read()), executor, progress, cites, reform, total)
        reshaped = lambda: map(shape, read())  # noqa: E731 - the rows read again, as the first pass saw them
        cite = (lambda c: c.cite) if cites is not None else (lambda c: f"row {c.index + 2}, {c.year}")
        if reform is None:
            _decide(claims, record, cite, None)
            return Portfolio(header, claims, reshaped, warnings)
        # the same claims under the reform: only the clauses it changes were evaluated again
        reformed = [replace(c, notes=list(c.notes)) for c in claims]
        for claim in reformed:
            if claim.reform_outcome is not None:
                claim.outcome = claim.reform_outcome
        again = Record(record.grants, complete=record.complete)  # the rules add each year's grants to the record
        _decide(claims, record, cite, None)
        del record  # the table's grants as the policies stand: not read under the reform (their memory freed)
        _decide(reformed, again, cite, reform)
        return Portfolio(header, claims, reshaped, warnings, reform, reformed)
    finally:
        if enabled:
            gc.enable()


def _shaper(header: list[str]) -> tuple[list[str], Callable[[Cells], Cells]]:
    """The header without the added columns of a result fed back in (computed afresh) and the
    function that shapes a row alike (a ragged csv line padded or cut to the header)."""
    width = len(header)
    drop = {i for i, c in enumerate(header) if c in {*added_columns(), *REFORM_COLUMNS} or not c}
    if drop:
        keep = [i for i in range(width) if i not in drop]

        def kept(row: Cells) -> Cells:
            return [(row[i] if i < len(row) else "") for i in keep]

        return [header[i] for i in keep], kept

    def padded(row: Cells) -> Cells:
        return row if len(row) == width else [*row[:width], *[""] * (width - len(row))]

    return header, padded


def _first_pass(
    header: list[str],
    rows: Iterable[Cells],
    executor: Executor | None,
    progress: Progress | None,
    cites: Sequence[str] | None,
    reform: Reform | None,
    total: int | None,
) -> list[_Row]:
    """Each row's identifiers and evaluation (and under ``reform`` where it changes the clause); the
    row itself is not kept. Then the enterprises and the duplicates, which need every row."""
    at = {name: i for i, name in enumerate(header)}
    identify = _Identifier(at)
    evaluations = _Evaluations(executor, None, "outcome")
    reformed = _Evaluations(executor, reform, "reform_outcome") if reform is not None else None
    touched = reform.clauses if reform is not None else frozenset()
    getters: dict[str, tuple[tuple[str, ...], Callable[[Cells], tuple[Cell, ...]]]] = {}
    claims: list[_Row] = []
    step = max(1000, min(20_000, (total or 0) // 50))
    for index, row in enumerate(rows):
        claim = _Row(index, cite=cites[index] if cites is not None else "")
        claims.append(claim)
        identify(claim, row)
        if progress is not None and index % step == 0:
            progress(index, total or 0)
        if claim.status:
            continue
        found = getters.get(claim.clause)
        if found is None:
            names = tuple(n for n in compiled(claim.clause).specs if n in at)
            found = getters[claim.clause] = (names, _cells_getter([at[n] for n in names]))
        names, cells = found
        year = claim.year
        assert year is not None  # a row without its year is invalid (``_Identifier``)
        key = (claim.clause, year, names, cells(row))
        evaluations.add(claim, key)
        if reformed is not None and claim.clause in touched:
            reformed.add(claim, key)
        if claim.clause in NEEDS_INPUTS:
            claim.inputs = inputs_of(names, key[3])
    evaluations.finish()
    if reformed is not None:
        reformed.finish()
    if progress is not None:
        progress(len(claims), len(claims))
    _enterprises(claims)
    _duplicates(claims)
    return claims


def _decide(claims: list[_Row], record: Record, cite: Callable[[_Row], str], reform: Reform | None) -> None:
    """Each claim's evaluation, then the rules across claims (``policies.ledger_rules``)."""
    catalog_order = {cid: k for k, cid in enumerate(c.id for p in policies().values() for c in p.clauses)}
    stacks = {c.id: c.stacks for p in policies().values() for c in p.clauses}
    assumed_notes: dict[int, Note] = {}
    for claim in claims:
        outcome, claim.outcome, claim.reform_outcome = claim.outcome, None, None  # decided: let the outcome go
        if claim.status:
            claim.inputs = None
            continue
        assert outcome is not None
        amount, eligible, error, reasons, basis, stages, assumed = outcome
        if error is not None:
            claim.fail(error)
            claim.inputs = None
            continue
        claim.amount = amount
        claim.order = catalog_order.get(claim.clause, 0)
        claim.stacks = stacks[claim.clause]
        if not eligible:
            claim.status, claim.granted = "ineligible", Decimal("0.00")
            claim.notes = list(reasons)
            claim.inputs = None
            continue
        claim.status, claim.granted, claim.stages = "granted", amount, stages
        assert basis is not None  # an outcome without an error has its basis (``policies.batch``)
        claim.notes = [basis]
        if assumed:
            note = assumed_notes.get(assumed)
            if note is None:
                note = assumed_notes[assumed] = Note(
                    "assumed", f"{assumed} 项条件按假定满足 condition(s) assumed (green-award calc shows them)"
                )
            claim.notes.append(note)

    apply_rules(
        claims,
        record,
        within_year=_conflicts_and_best,
        evaluate=partial(_evaluate_again, reform=reform),
        cite=cite,
        reform=reform,
    )


def _evaluate_again(
    claim: _Row, inputs: dict[str, object], reform: Reform | None = None
) -> tuple[Decimal, bool, tuple[Check, ...]]:
    """The claim's clause evaluated with changed inputs (what the record replaces): amount, eligible, failed checks."""
    award = evaluate(claim.clause, on=claim.year, reform=reform, **inputs)
    return award.amount, award.eligible, award.failed


def _cells_getter(indexes: list[int]) -> Callable[[Cells], tuple[Cell, ...]]:
    """A function that takes a row's cells at ``indexes`` as one tuple (itemgetter, in C)."""
    if not indexes:
        return lambda row: ()
    if len(indexes) == 1:
        only = indexes[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*indexes)


class _Identifier:
    """Identifiers, year and dates of a row; a row missing one is invalid. A credit code is checked,
    a year and a date read, once per distinct cell (a table repeats them: 100,000 rows, a few years)."""

    def __init__(self, at: dict[str, int]) -> None:
        self.at = at
        self.known: dict[str, tuple[str, bool]] = {}
        for policy in policies().values():
            for clause in policy.clauses:
                self.known[clause.id] = (policy.id, clause.monetary)
        self.uscc_at, self.dates = at.get("uscc"), [(n, at[n]) for n in ("start_date", "completion_date") if n in at]
        self.problems: dict[str, str | None] = {}
        self.years: dict[object, int | None] = {}
        self.days: dict[object, date | str] = {}
        self.texts: dict[str, str] = {}  # one string object per distinct enterprise, code and clause
        self.cells: dict[str, str] = {}  # a cell's text -> its identifier (``texts``'): read once per distinct cell

    def _text(self, value: object) -> str:
        if value.__class__ is str:  # a csv's cell: its identifier read once (1.0 and True are no str keys here)
            found = self.cells.get(value)
            if found is None:
                text = ident(value)
                found = self.cells[value] = self.texts.setdefault(text, text)
            return found
        text = ident(value)
        return self.texts.setdefault(text, text)

    def _year(self, value: object) -> int | None:
        try:
            return self.years[value]
        except KeyError:
            pass
        except TypeError:  # unhashable: read it each time
            return _year_or_none(value)
        found = self.years[value] = _year_or_none(value)
        return found

    def _day(self, value: object) -> date | str:
        """The date, or the reason it is not one."""
        try:
            return self.days[value]
        except KeyError:
            pass
        try:
            found: date | str = parse_date(value)
        except ValueError as exc:
            found = str(exc)
        with contextlib.suppress(TypeError):  # unhashable: read each time
            self.days[value] = found
        return found

    def __call__(self, claim: _Row, row: Cells) -> None:
        at = self.at
        claim.enterprise = self._text(row[at["enterprise"]])
        claim.uscc = self._text(row[self.uscc_at]).upper() if self.uscc_at is not None else ""
        claim.project, claim.clause = ident(row[at["project"]]), self._text(row[at["clause"]])
        claim.year = self._year(row[at["year"]])
        try:
            if not claim.enterprise and not claim.uscc:
                raise ValueError("enterprise: empty; give the name or the credit code (uscc) / 企业名称为空")
            if claim.uscc:
                problem = self.problems.get(claim.uscc, "")
                if problem == "":
                    problem = self.problems[claim.uscc] = uscc_problem(claim.uscc)
                if problem:
                    claim.ekey = claim.enterprise  # a mistyped code does not make a new enterprise
                    raise ValueError(f"uscc: {problem}")
            if not claim.project:
                raise ValueError("project: empty; give each project an identifier / 项目编号为空")
            if not claim.clause:
                raise ValueError("clause: empty / 条款为空")
            if claim.clause not in self.known:
                find_clause(claim.clause)  # raises with a suggestion
            claim.policy, monetary = self.known[claim.clause]
            if not monetary:
                raise ValueError(f"{claim.clause}: a non-monetary article; it grants no amount / 非资金支持条款")
            if claim.year is None:
                parse_year(row[at["year"]])  # raises with the reason
            for name, i in self.dates:
                value = row[i]
                if not is_blank(value):
                    day = self._day(value)
                    if isinstance(day, str):
                        raise ValueError(f"{name}: {day}")
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


def _year_or_none(value: object) -> int | None:
    try:
        return parse_year(value)
    except ValueError:
        return None  # reported after the identifiers


def _enterprises(claims: list[_Row]) -> None:
    """An enterprise is its credit code where given; a name seen with exactly one code is that code."""
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


def _groups(rows: Iterable[_Row], key: Callable[[_Row], tuple[object, ...]]) -> list[list[_Row]]:
    """The groups of rows sharing a key that have more than one row, in the order first seen."""
    first: dict[tuple[object, ...], _Row] = {}
    many: dict[tuple[object, ...], list[_Row]] = {}
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
            assert best.amount is not None  # a granted claim has its amount
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


# --- payments and the summaries ---------------------------------------------------------------


def _payments(row: _Row) -> list[tuple[int, Decimal, str]]:
    """(year, amount, due|pending) of each stage of a granted amount.

    A two-stage payment's first stage falls in the start year and its last in the completion year;
    a one-off payment (paid afterwards) in the completion year; without the date, the row's year.
    A payment never falls before the row's year (it follows the claim).
    """
    if not row.stages or not row.granted:
        return []
    claim_year = row.year
    assert claim_year is not None  # a granted claim has its year
    out, count = [], len(row.stages)
    parts = amounts(row.granted, [share for share, _ in row.stages])
    for index, ((_, status), amount) in enumerate(zip(row.stages, parts)):
        when = row.completion if index == count - 1 else row.start
        year = max(claim_year, when.year) if when else claim_year
        out.append((year, amount, status))
    return out


def _difference(reformed: Decimal | None, granted: Decimal | None) -> Decimal | None:
    """Under the reform less as the policies stand; none when either is invalid (no amount)."""
    return None if reformed is None or granted is None else reformed - granted


def _by_enterprise_year(rows: list[_Row]) -> list[list[Value]]:
    at = {s: 4 + k for k, s in enumerate(STATUSES)}
    amount_at, granted_at = 4 + len(STATUSES), 5 + len(STATUSES)
    groups: dict[tuple[str, int | None], list[Value]] = {}  # each group's row, summed in place
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
    return out


def _by_policy(rows: list[_Row]) -> list[list[Value]]:
    groups: dict[tuple[str, int], list[Value]] = {}
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
    return [groups[k] for k in keys]


def _by_payment_year(claims: Iterable[_Row]) -> list[list[Value]]:
    groups: dict[tuple[int, str], list[Value]] = {}
    for claim in claims:
        if claim.status not in ("granted", "capped"):
            continue
        policy = claim.policy
        for year, amount, status in _payments(claim):
            g = groups.get((year, policy))
            if g is None:
                g = groups[(year, policy)] = [year, policy, Decimal(0), Decimal(0), Decimal(0)]
            g[2 if status == "due" else 3] += amount
            g[4] += amount
    order = {p: k for k, p in enumerate(policies())}
    keys = sorted(groups, key=lambda k: (k[0], order.get(k[1], 99)))
    return [groups[k] for k in keys]
