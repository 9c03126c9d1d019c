"""Declaration workbooks (申报表) in batches: ``green-award declare PORTFOLIO -o DIR``.

A declaration is the clause's template (``addin.declaration_template``, committed under
``workbook_templates/``) filled at the XML level: the template is read once per process and split
around the cells a declaration fills; each declaration joins the pieces with its values (text as
inline strings, so a name that starts with ``=`` stays text), the cached value of every formula
(computed by the policy core, so a program that does not recalculate reads the declared amount)
and is zipped with fixed entry times. ``declare`` reads a portfolio, stacks it
(``policies.stacking``), and writes one workbook per claim with a positive granted amount, over a
``concurrent.futures`` executor (``addin.executors``: in this process, a process pool or a Dask
cluster): the workers make the bytes, this process writes every file atomically.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from policies import GreenAwardError, InputError, evaluate
from policies.award import Award
from policies.engine import compiled
from policies.inputs import coerce_inputs, is_blank
from policies.numbers import to_decimal
from policies.payments import split
from policies.registry import common, fields
from policies.uscc import validate_uscc
from policies.years import parse_year, to_serial

from . import rmb
from .declaration_template import DUE, GENERATED_XML, NO, PENDING, TEMPLATES, YES, Layout, layout, template_name
from .executors import batch_executor, chunk_size, parse_executor
from .files import OutputExistsError, ensure_folder, ensure_writable_folder, fit_bytes, sweep_temps, write_atomically

#: The claim fields (common.yaml) a declaration is not written without, and how each is written.
REQUIRED_DETAILS = {k: f"{f.label.zh} {f.label.en} ({k})" for k, f in fields().items() if "declaration" in f.required}
TEXT_DETAILS = tuple(k for block in common().form.values() for k in block if fields()[k].kind == "text")
DATE_DETAILS = tuple(k for k, f in fields().items() if f.kind == "date")
PAYMENT_DETAILS = tuple(k for k, f in fields().items() if f.kind == "money")


class DeclarationError(GreenAwardError):
    """A claim that cannot be declared: the reason names the missing or bad detail."""


# --- the cells of one declaration -------------------------------------------------------------------


def cell_inputs(clause_id: str, inputs: dict[str, object]) -> dict[str, object]:
    """The clause's inputs as the cells hold them: numbers as floats, yes/no as 是/否, choices as Chinese labels."""
    cc = compiled(clause_id)
    unknown = [k for k in inputs if k not in cc.specs]
    if unknown:
        raise InputError(cc.id, unknown[0], "unknown input")
    values = coerce_inputs(cc.id, cc.coercers, inputs)
    out: dict[str, object] = {}
    for name, spec in cc.specs.items():
        value = values.get(name, spec.default if name in cc.clause.inputs else None)
        if value is None:
            continue
        if spec.type == "bool":
            out[name] = YES if value else NO
        elif spec.type == "choice":
            out[name] = (spec.values or {})[str(value)].zh
        elif spec.type == "text":
            out[name] = str(value)
        else:
            out[name] = float(value) if isinstance(value, (int, float, Decimal)) else float(str(value))
    return out


def _text(value: object) -> str:
    return "" if is_blank(value) else str(value).strip()


def _date(name: str, value: object) -> int | None:
    from policies.stacking import parse_date

    if is_blank(value):
        return None
    try:
        return to_serial(parse_date(value))
    except ValueError as exc:
        raise DeclarationError(f"{name}: {exc}") from None


def detail_cells(details: dict[str, object], clause_id: str, *, require: bool = True) -> dict[str, object]:
    """The enterprise and project cells; DeclarationError names what a declaration lacks."""
    cells: dict[str, object] = {k: _text(details.get(k)) for k in TEXT_DETAILS}
    if require:
        missing = [label for key, label in REQUIRED_DETAILS.items() if not cells[key]]
        if compiled(clause_id).schedule.inputs and is_blank(details.get("start_date")):
            missing.append("开工日期 start_date (a two-instalment clause pays its first half on start)")
        if missing:
            raise DeclarationError("lacks " + ", ".join(missing) + " / 申报表缺少必要信息")
    if cells["uscc"]:
        try:
            cells["uscc"] = validate_uscc(cells["uscc"])
        except ValueError as exc:
            raise DeclarationError(f"uscc: {exc}") from None
    for name in DATE_DETAILS:
        cells[name] = _date(name, details.get(name))
    for name in PAYMENT_DETAILS:
        value = details.get(name)
        if not is_blank(value):
            try:
                cells[name] = float(to_decimal(value))
            except ValueError as exc:
                raise DeclarationError(f"{name}: {exc}") from None
    year = details.get("year")
    if not is_blank(year):
        try:
            cells["year"] = parse_year(year)
        except ValueError as exc:
            raise DeclarationError(str(exc)) from None
    return {k: v for k, v in cells.items() if v not in (None, "")}


def compute(clause_id: str, cells: dict[str, object]) -> tuple[Award, dict[str, object]]:
    """The core's award on what the cells hold, and the cached value of every formula cell: the form's
    checks, amounts and payments are the core's (its checks by code, its payment split)."""
    cc = compiled(clause_id)
    lay = layout(cc.id)
    raw: dict[str, Any] = {name: cells[name] for name in cc.specs if name in cells}
    year = cells.get("year")
    award = evaluate(cc.id, on=year, **raw)
    met = {c.code: c.status != "failed" for c in award.checks}
    checks = {
        "check_zone": met["zone"],
        "check_year": met["validity"],
        "check_conditions": all(met[d.code] for d in cc.definitions if d.kind in ("condition", "excluded")),
    }
    rules = [d for d in cc.definitions if d.rule is not None]
    checks.update((key, met[d.code]) for key, d in zip(lay.rule_keys, rules))
    cached: dict[str, object] = {k: YES if v else NO for k, v in checks.items()}
    cached.update(
        eligible=YES if award.eligible else NO,
        computed=award.computed,
        award=award.amount,
        cover_award=award.amount,
        cover_award_words=rmb.upper(award.amount),
    )
    cached["cover_enterprise"] = cached["commit_enterprise"] = cells.get("enterprise", "")
    cached["cover_project"] = cells.get("project_name", "")
    cached["cover_year"] = year if year is not None else ""
    if "paid_excl_tax" in lay.formulas:
        cached["paid_excl_tax"] = cells.get("investment_yuan", 0.0)
    for key, name in lay.choice_labels.items():
        value = award.inputs.get(name)
        cached[key] = (cc.specs[name].values or {})[str(value)].en if value is not None else ""
    for (amount_key, status_key), payment in zip(lay.stage_keys, split(award.amount, cc.schedule, award.inputs)):
        cached[amount_key] = payment.amount
        cached[status_key] = DUE if payment.status == "due" else PENDING
    return award, cached


# --- the template, split around the cells a declaration fills -----------------------------------------

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(text: str) -> str:
    text = _ILLEGAL_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _num(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):  # counts, years, date serials (a bool as 1 or 0)
        return str(int(value))
    raise TypeError(f"not a number for a cell: {value!r}")


@dataclass
class _Sheet:
    path: str
    pieces: list[str]  # static text around the slots: len(slots) + 1
    slots: list[tuple[str, str, str, str, str | None]]  # (key, ref, style attr, kind, formula or None)


@dataclass
class Prepared:
    """A template read once: its zip entries, the sheets split around their slots, the layout."""

    clause_id: str
    layout: Layout
    static: list[tuple[str, bytes, bytes, int]] = field(default_factory=list)  # name, raw, deflated, crc
    sheets: dict[str, _Sheet] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    @classmethod
    def from_bytes(cls, clause_id: str, data: bytes, lay: Layout) -> Prepared:
        prepared = cls(clause_id, lay)
        wanted: dict[int, list[tuple[str, str, str]]] = {}
        for key, (s, ref, kind) in lay.slots.items():
            wanted.setdefault(s, []).append((key, ref, kind))
        for key, (s, ref) in lay.formulas.items():
            wanted.setdefault(s, []).append((key, ref, "formula"))
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                body = archive.read(info.filename)
                prepared.order.append(info.filename)
                match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
                if match and int(match[1]) - 1 in wanted:
                    prepared.sheets[info.filename] = _split(
                        info.filename, body.decode("utf-8"), wanted[int(match[1]) - 1]
                    )
                else:
                    prepared.static.append((info.filename, body, _deflate(body), zlib.crc32(body)))
        if len(prepared.sheets) != len(wanted):
            raise ValueError(f"{clause_id}: the template lacks a sheet its layout names")
        return prepared

    def render(self, cells: dict[str, object], cached: dict[str, object], generated: date | None = None) -> bytes:
        """The declaration's bytes; ``generated`` is the date its printed footer shows (else the day it is printed)."""
        entries: dict[str, bytes] = {}
        for path, sheet in self.sheets.items():
            out = [sheet.pieces[0]]
            for (key, ref, style, kind, formula), piece in zip(sheet.slots, sheet.pieces[1:]):
                out.append(_cell(ref, style, kind, formula, cached.get(key) if formula is not None else cells.get(key)))
                out.append(piece)
            if generated is not None:  # the footer follows the cells
                out[-1] = out[-1].replace(GENERATED_XML, f"生成日期 Generated {generated.isoformat()}")
            entries[path] = "".join(out).encode("utf-8")
        static = {name: (raw, packed, crc) for name, raw, packed, crc in self.static}
        return _zip([(name, static.get(name) or _packed(entries[name])) for name in self.order])


def _split(path: str, xml: str, wanted: list[tuple[str, str, str]]) -> _Sheet:
    found = []
    for key, ref, kind in wanted:
        match = re.search(rf'<c r="{ref}"(?=[ />])([^>]*?)(?:/>|>(.*?)</c>)', xml)
        if match is None:
            raise ValueError(f"{path}: no cell {ref} for {key}")
        style = re.search(r' s="\d+"', match[1])
        formula = None
        if kind == "formula":  # the whole <f> element: an array formula's t="array" ref="…" is kept
            f = re.search(r"<f(?: [^>]*)?>.*?</f>", match[2] or "")
            if f is None:
                raise ValueError(f"{path}: cell {ref} ({key}) has no formula")
            formula = f[0]
        found.append((match.start(), match.end(), (key, ref, style[0] if style else "", kind, formula)))
    found.sort()
    pieces, slots, at = [], [], 0
    for start, end, slot in found:
        pieces.append(xml[at:start])
        slots.append(slot)
        at = end
    pieces.append(xml[at:])
    return _Sheet(path, pieces, slots)


def _cell(ref: str, style: str, kind: str, formula: str | None, value: object) -> str:
    """A cell's XML; a formula cell (``formula``: its ``<f>`` element) with ``value`` as its cached value."""
    head = f'<c r="{ref}"{style}'
    if formula is not None:
        if isinstance(value, bool):
            return f'{head} t="b">{formula}<v>{int(value)}</v></c>'
        if isinstance(value, str):
            return f'{head} t="str">{formula}<v>{_esc(value)}</v></c>'
        if value is None:
            return f"{head}>{formula}</c>"
        return f"{head}>{formula}<v>{_num(value)}</v></c>"
    if value is None or value == "":
        return f"{head}/>"
    if isinstance(value, str):
        return f'{head} t="inlineStr"><is><t xml:space="preserve">{_esc(value)}</t></is></c>'
    return f"{head}><v>{_num(value)}</v></c>"


def cache_formula_values(path: str, xml: str, values: dict[str, object]) -> str:
    """A sheet's XML with each formula cell named in ``values`` (``{"B7": 1200000.0}``) carrying that
    value as its cached value, the way a declaration's formulas carry the core's figures (the model
    workbook of ``green-award excel`` uses it too: openpyxl cannot write a formula's value)."""
    sheet = _split(path, xml, [(ref, ref, "formula") for ref in values])
    out = [sheet.pieces[0]]
    for (key, ref, style, kind, formula), piece in zip(sheet.slots, sheet.pieces[1:]):
        out += [_cell(ref, style, kind, formula, values[key]), piece]
    return "".join(out)


def _deflate(data: bytes, level: int = 6) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _packed(data: bytes) -> tuple[bytes, bytes, int]:
    return data, _deflate(data), zlib.crc32(data)


_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00: no current time in the file


def _zip(entries: list[tuple[str, tuple[bytes, bytes, int]]]) -> bytes:
    """A zip of deflated entries, written directly (static entries are compressed once per template)."""
    out, central, offset = [], [], 0
    for name, (raw, packed, crc) in entries:
        encoded = name.encode("utf-8")
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, _DOS_TIME, _DOS_DATE, crc, len(packed), len(raw), len(encoded), 0
        )
        out += [header, encoded, packed]
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0x800,
                8,
                _DOS_TIME,
                _DOS_DATE,
                crc,
                len(packed),
                len(raw),
                len(encoded),
                0,
                0,
                0,
                0,
                0o644 << 16,
                offset,
            )
            + encoded
        )
        offset += len(header) + len(encoded) + len(packed)
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), offset, 0)
    return b"".join(out) + directory + end


@cache
def prepared(clause_id: str) -> Prepared:
    """The clause's committed template, prepared once per process (generated in memory if absent)."""
    from .declaration_template import template_bytes

    cc = compiled(clause_id)
    path = TEMPLATES / template_name(cc.id)
    data = path.read_bytes() if path.exists() else template_bytes(cc.id)
    return Prepared.from_bytes(cc.id, data, layout(cc.id))


def make_declaration(
    clause_id: str,
    inputs: dict[str, object],
    details: dict[str, object],
    *,
    granted_note: str = "",
    require_details: bool = True,
    generated: date | None = None,
) -> tuple[bytes, Award]:
    """One filled declaration (xlsx bytes) and the core's award on what it holds; the footer shows the
    ``generated`` date (default: today; the same claim on the same day gives the same bytes)."""
    cc = compiled(clause_id)
    cells = detail_cells(details, cc.id, require=require_details)
    given = {k: v for k, v in inputs.items() if not is_blank(v)}
    for name in PAYMENT_DETAILS:  # a payment input of the clause is also a project detail
        if name in cells and name in cc.specs and name not in given:
            given[name] = cells[name]
    cells.update(cell_inputs(cc.id, given))
    if granted_note:
        cells["granted_note"] = granted_note
    award, cached = compute(cc.id, cells)
    return prepared(cc.id).render(cells, cached, generated or date.today()), award


# --- file names -------------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\ud800-\udfff]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)
#: Bytes (UTF-8) per part of a declaration's name: 30 Chinese characters of enterprise, 20 of project.
#: The longest name (with a hash and ``.xlsx``) is under 200 bytes, room for the temporary file's
#: suffix within the 255 a file name may have, and under 100 characters for Windows' paths.
NAME_PARTS = (90, 60, 20)


def safe_part(text: str, limit: int) -> str:
    """A piece of a Windows-safe file name of at most ``limit`` bytes in UTF-8 (never cut inside a
    character): no reserved characters, no trailing dot or space."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = fit_bytes(text, limit).rstrip(" .")
    if not text or _RESERVED.match(text):
        text = f"_{text}"
    return text


def _digest(key: tuple) -> str:
    return hashlib.sha1("\x1f".join(str(k) for k in key).encode("utf-8", "surrogatepass")).hexdigest()[:8]


def file_names(keys: list[tuple[str, str, str, str, int | None]]) -> list[str]:
    """(enterprise, uscc, project, clause, year) -> unique names saying enterprise, project and clause.

    A part too long for its share of the name (``NAME_PARTS``, in bytes) is cut, and the name gets
    a short hash of the whole key, so two names cut to the same text stay apart. Names that would
    coincide (also ignoring case, as Windows does) get the hash too.
    """
    bases, cut = [], []
    for enterprise, uscc, project, clause, year in keys:
        texts = (enterprise or uscc, project, clause.replace(":", "-"))
        parts = [safe_part(t, limit) for t, limit in zip(texts, NAME_PARTS)]
        cut.append(any(p != safe_part(t, len(t.encode("utf-8", "surrogatepass"))) for p, t in zip(parts, texts)))
        if year is not None:
            parts.append(str(year))
        bases.append("__".join(parts))
    counts: dict[str, int] = {}
    for base in bases:
        counts[base.casefold()] = counts.get(base.casefold(), 0) + 1
    names = []
    for base, key, was_cut in zip(bases, keys, cut):
        if was_cut or counts[base.casefold()] > 1:
            base = f"{base}__{_digest(key)}"
        names.append(base + ".xlsx")
    return names


# --- the batch ----------------------------------------------------------------------------------------


@dataclass
class Job:
    row: int  # the portfolio row (0-based, header excluded)
    clause: str
    inputs: dict[str, object]
    details: dict[str, object]
    granted_note: str
    name: str = ""
    granted: Decimal = Decimal(0)
    year: int | None = None  # as the declaration's cells hold it


@dataclass
class Outcome:
    row: int
    path: str | None = None
    amount: Decimal | None = None
    error: str | None = None


EXISTS = "exists, not overwritten / 文件已存在"


@dataclass
class Made:
    """One declaration made in a worker: its bytes and the declared amount, or why it was not made."""

    row: int
    data: bytes | None = None
    amount: Decimal | None = None
    error: str | None = None


def make_job(job: Job) -> Made:
    """Make one declaration (in whichever process runs it). Whatever goes wrong with it (lacking
    details, a fault of ours) is its outcome, not the batch's end."""
    try:
        data, award = make_declaration(job.clause, job.inputs, job.details, granted_note=job.granted_note)
    except (GreenAwardError, OSError) as exc:
        return Made(job.row, error=str(exc))
    except Exception as exc:  # a fault of ours: this row's, reported with its kind
        return Made(job.row, error=f"{job.name}: could not be made ({type(exc).__name__}: {exc}) / 生成失败")
    return Made(job.row, data, award.amount)


def make_chunk(jobs: list[Job]) -> list[Made]:
    """The work sent to an executor: module-level, plain data in and out (bytes back, no file written there)."""
    return [make_job(job) for job in jobs]


def save(made: Made, name: str, folder: str, overwrite: bool) -> Outcome:
    """Write a made declaration into ``folder`` atomically (a name taken, a file that cannot be written:
    that row's outcome)."""
    if made.error is not None or made.data is None:
        return Outcome(made.row, error=made.error)
    data = made.data

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    try:
        path = write_atomically(Path(folder) / name, write, overwrite=overwrite)
    except OutputExistsError as exc:
        return Outcome(made.row, error=f"{name}: {EXISTS} ({exc.path})")
    except OSError as exc:
        return Outcome(made.row, error=str(exc))
    return Outcome(made.row, str(path), made.amount)


def write_job(job: Job, folder: str, overwrite: bool) -> Outcome:
    """Make and write one declaration in this process."""
    return save(make_job(job), job.name, folder, overwrite)


@dataclass
class Batch:
    written: list[Outcome]
    problems: list[tuple[int, str, str]]  # (row, what, reason)
    skipped: dict[str, int]  # status -> rows without a declaration
    granted: Decimal = Decimal(0)  # the portfolio's granted total of the written declarations
    invalid: list[tuple[int, str, str]] = field(default_factory=list)  # (row, what, the portfolio's note)


def jobs_from_portfolio(
    portfolio, clause_column: str = "clause"
) -> tuple[list[Job], list[tuple[int, str, str]], dict[str, int]]:
    """The claims of a stacked portfolio with a positive granted amount as jobs; the others counted
    by status (read the invalid ones' reasons with ``invalid_rows``)."""
    jobs: list[Job] = []
    problems: list[tuple[int, str, str]] = []
    skipped: dict[str, int] = {}
    columns = portfolio.columns
    for index, record in enumerate(portfolio.records()):
        row = dict(zip(columns, record))
        status = row.get("status") or ""
        granted = row.get("granted_yuan")
        what = f"{_text(row.get('enterprise')) or _text(row.get('uscc'))} / {_text(row.get('project'))} / {_text(row.get(clause_column))}"
        if status not in ("granted", "capped") or granted is None or Decimal(granted) <= 0:
            skipped[status or "invalid"] = skipped.get(status or "invalid", 0) + 1
            continue
        clause = _text(row[clause_column])
        cc = compiled(clause)
        inputs = {k: row[k] for k in cc.specs if k in row and not is_blank(row[k])}
        details = {k: row.get(k) for k in (*TEXT_DETAILS, *DATE_DETAILS, *PAYMENT_DETAILS, "year")}
        note = f"{Decimal(granted):,.2f} 元"
        if status == "capped":
            caps = "; ".join(f"{n.about}〔{n.cites}〕" for n in portfolio.notes[index] if n.code == "capped")
            note = f"封顶后核定 granted after the annual cap: {note}（申报金额为条款金额 the declared amount is the clause's）; {caps}"
        else:
            note = f"核定 granted: {note}"
        try:
            cells = detail_cells(details, clause)  # reported before any work is sent out
        except (GreenAwardError, ValueError, ArithmeticError) as exc:
            problems.append((index, what, str(exc)))
            continue
        year = cells.get("year")
        jobs.append(
            Job(
                index,
                clause,
                inputs,
                details,
                note.strip("; "),
                granted=Decimal(granted),
                year=year if isinstance(year, int) else None,
            )
        )
    return jobs, problems, skipped


def invalid_rows(portfolio, clause_column: str = "clause") -> list[tuple[int, str, str]]:
    """(row, what, reason) of the rows the portfolio found invalid."""
    columns = portfolio.columns
    out = []
    for index, record in enumerate(portfolio.records()):
        row = dict(zip(columns, record))
        if (row.get("status") or "invalid") == "invalid":
            what = f"{_text(row.get('enterprise')) or _text(row.get('uscc'))} / {_text(row.get('project'))} / {_text(row.get(clause_column))}"
            out.append((index, what, _text(row.get("note")) or "无效 Invalid"))
    return out


def assign_names(jobs: list[Job]) -> None:
    keys = [
        (
            _text(job.details.get("enterprise")),
            _text(job.details.get("uscc")),
            _text(job.details.get("project")) or _text(job.details.get("project_name")),
            job.clause,
            job.year,
        )
        for job in jobs
    ]
    for job, name in zip(jobs, file_names(keys)):
        job.name = name


class DeclarationsExist(FileExistsError):
    """Declarations of this batch are already in the folder and ``--overwrite`` was not given."""

    def __init__(self, folder: Path, names: list[str], total: int):
        super().__init__(
            f"{len(names):,} of the {total:,} declarations exist in {folder} (e.g. {names[0]}); nothing written: "
            "pass --overwrite to replace them, or write to another folder / 申报表已存在，未生成"
        )
        self.folder, self.names = folder, names


def refuse_existing(jobs: list[Job], folder: Path) -> None:
    """DeclarationsExist when any job's file is already in ``folder``: one message, before any work."""
    try:
        present = set(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    taken = [job.name for job in jobs if job.name in present]
    if taken:
        raise DeclarationsExist(folder, taken, len(jobs))


#: Declarations from which a pool of this machine's processes pays, without ``--workers`` (measured by
#: benchmarks/bench_executors.py; docs/performance.md).
PAYS_FROM = 1000


def write_jobs(
    jobs: list[Job],
    folder: Path,
    *,
    overwrite: bool = False,
    executor: Executor | None = None,
    workers: int | None = None,
    executor_spec: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Make the jobs' declarations in chunks over ``executor`` (when one is handed in), else over the
    executor of ``executor_spec`` and ``workers`` (``addin.executors``: in this process below
    ``PAYS_FROM`` declarations), and write each here as it comes back."""
    total = len(jobs)
    if not jobs:
        return []
    if progress:
        progress(0, total)  # the bar shows its total from the start
    with ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(batch_executor(executor_spec, workers, items=total, pays_from=PAYS_FROM))
        ensure_folder(folder)
        sweep_temps(folder)
        names = {job.row: job.name for job in jobs}
        out: list[Outcome] = []
        if executor is None:
            for job in jobs:
                out.append(write_job(job, str(folder), overwrite))
                if progress:
                    progress(len(out), total)
            return out
        for clause in {job.clause for job in jobs}:
            prepared(clause)  # before the first submit: a process pool forks then, and its workers inherit them
        size = chunk_size(total, workers, most=50)
        futures = {executor.submit(make_chunk, jobs[i : i + size]): jobs[i : i + size] for i in range(0, total, size)}
        for future in as_completed(futures):
            try:
                made = future.result()
            except Exception as exc:  # a worker lost (killed, out of memory): its chunk's rows, the rest goes on
                why = f"not made: the executor lost the work ({type(exc).__name__}: {exc}) / 执行失败"
                made = [Made(job.row, error=why) for job in futures[future]]
            out.extend(save(m, names[m.row], str(folder), overwrite) for m in made)
            if progress:
                progress(len(out), total)
        return sorted(out, key=lambda o: o.row)


def declare_portfolio(
    portfolio,
    folder: Path,
    *,
    overwrite: bool = False,
    executor: Executor | None = None,
    workers: int | None = None,
    executor_spec: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Batch:
    """Write the declarations of a stacked portfolio (``policies.stacking.stack_rows``' result)."""
    jobs, problems, skipped = jobs_from_portfolio(portfolio)
    assign_names(jobs)
    if not overwrite:
        refuse_existing(jobs, Path(folder))
    outcomes = write_jobs(
        jobs,
        Path(folder),
        overwrite=overwrite,
        executor=executor,
        workers=workers,
        executor_spec=executor_spec,
        progress=progress,
    )
    by_row = {job.row: job for job in jobs}
    written = []
    for outcome in outcomes:
        if outcome.error:
            job = by_row[outcome.row]
            what = f"{job.details.get('enterprise')} / {job.details.get('project')} / {job.clause}"
            problems.append((outcome.row, what, outcome.error))
        else:
            written.append(outcome)
    problems.sort()
    granted = {job.row: job.granted for job in jobs}
    return Batch(
        written, problems, skipped, sum((granted[o.row] for o in written), Decimal(0)), invalid_rows(portfolio)
    )


def declare_frame(
    table,
    folder: Path,
    *,
    overwrite: bool = False,
    executor: Executor | None = None,
    workers: int | None = None,
    executor_spec: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Batch:
    """Stack a portfolio table (a DataFrame, or a header and rows) and write its declarations.

    The stacking runs in this process (a few percent of the declarations' time): a process pool is
    made afterwards, for the declarations only, once the templates they use are prepared."""
    from policies.stacking import stack_rows

    from .portfolio import frame_cells

    header, rows = table if isinstance(table, tuple) else frame_cells(table)
    portfolio = stack_rows(header, rows)
    return declare_portfolio(
        portfolio,
        folder,
        overwrite=overwrite,
        executor=executor,
        workers=workers,
        executor_spec=executor_spec,
        progress=progress,
    )


def run_declare(
    path: Path,
    out: Path,
    *,
    overwrite: bool = False,
    workers: int | None = None,
    executor: Executor | None = None,
    executor_spec: str | None = None,
    console=None,
    pdf: bool = False,
) -> int:
    """``green-award declare``: read, stack, write with a progress bar, print a summary; 1 if a row
    is invalid or could not be declared. Raises (for one line and exit 2) when ``out`` cannot be a
    folder of declarations, or holds some of them already and ``overwrite`` is not given, or the
    executor cannot start (a Dask scheduler that does not answer, a worker of another version).

    ``workers``, ``executor_spec``: where the declarations are made (``addin.executors``) unless an
    ``executor`` is handed in. ``pdf``: also print each declaration to PDF through LibreOffice
    (``addin.pdf``), into ``<out>_pdf``."""
    from rich.console import Console

    from policies.stacking import stack_rows

    from .portfolio import read_source

    console = console or Console()
    source = read_source(path)  # first: a bad input leaves no output folder behind
    spec = parse_executor(executor_spec)
    with ExitStack() as stack:
        if executor is None and spec.kind == "dask":  # before any output: a scheduler that does not answer
            executor = stack.enter_context(batch_executor(spec, workers, items=len(source.rows), pays_from=1))
        ensure_writable_folder(out)  # before the work: a file given, a read-only place
        console.print(source.read_line(path), highlight=False, soft_wrap=True)
        portfolio = stack_rows(source.header, source.rows)  # before the bar: it counts declarations
        batch = with_progress(
            console,
            lambda progress: declare_portfolio(
                portfolio,
                out,
                overwrite=overwrite,
                executor=executor,
                workers=workers,
                executor_spec=executor_spec,
                progress=progress,
            ),
        )
    print_batch(batch, out, console)
    converted = None
    if pdf:
        from .pdf import print_pdfs

        converted = print_pdfs([Path(o.path) for o in batch.written if o.path], out, console, overwrite=overwrite)
    return 1 if batch.problems or batch.invalid or (converted is not None and converted.problems) else 0


def with_progress(console, work: Callable[[Callable[[int, int], None]], Batch]) -> Batch:
    """Run ``work(progress)`` under the batch commands' progress bar."""
    from .progress import progress_bar

    with progress_bar(console, "申报表 Declarations") as advance:
        return work(advance)


#: Rows not declared that the console lists with their reasons; the rest are counted (120 invalid rows
#: printed about 360 lines at 80 columns and scrolled the summary out of sight).
ROWS_LISTED = 20


def print_batch(batch: Batch, out: Path, console) -> None:
    from rich.table import Table

    table = Table(title="申报表 Declarations")
    table.add_column("结果 Result")
    table.add_column("行数 Rows", justify="right")
    table.add_row("written 已生成", str(len(batch.written)))
    for status, count in sorted(batch.skipped.items()):
        table.add_row(f"no declaration 不生成: {status}", str(count))
    table.add_row("problems 未生成（见下）", str(len(batch.problems)))
    console.print(table)
    declared = sum((o.amount or Decimal(0) for o in batch.written), Decimal(0))
    console.print(
        f"申报金额 Declared (the clauses' amounts): {declared:,.2f} 元; 核定 granted after caps: "
        f"{batch.granted:,.2f} 元; in {out}",
        highlight=False,
    )
    exists = [p for p in batch.problems if EXISTS in p[2]]  # a parallel run got there first: one line
    listed = sorted(batch.invalid + [p for p in batch.problems if EXISTS not in p[2]])
    for row, what, reason in listed[:ROWS_LISTED]:
        console.print(f"[yellow]row {row + 2}[/yellow] {what}: {reason}", highlight=False)
    if len(listed) > ROWS_LISTED:
        console.print(
            f"[yellow]… {len(listed) - ROWS_LISTED:,} more row(s)[/yellow] not declared (rows "
            f"{', '.join(str(r + 2) for r, _, _ in listed[ROWS_LISTED : ROWS_LISTED + 10])}"
            f"{', …' if len(listed) > ROWS_LISTED + 10 else ''}): every reason is in the note column of "
            "`green-award portfolio` / 其余原因见组合结果的说明列",
            highlight=False,
        )
    if exists:
        console.print(
            f"[yellow]{len(exists):,} declaration(s)[/yellow] appeared in {out} while writing, not "
            f"overwritten (rows {', '.join(str(r + 2) for r, _, _ in exists[:10])}"
            f"{', …' if len(exists) > 10 else ''}) / 文件已存在",
            highlight=False,
        )
