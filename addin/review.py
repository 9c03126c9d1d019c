"""``green-award review PATH...``: check submitted declaration workbooks (申报表).

Per submission (``review_file``):

1. read defensively (``addin.safe_xlsx``): size, zip directory (entries, sizes, ratios) and DTD scan
   before any XML parser runs, ``defusedxml`` for the parse; each sheet's XML parsed once for
   formulas, cached values and validations together;
2. the template recognised from its hidden ``meta`` sheet (template and policy versions, clause),
   and its generator-owned content (labels, formulas, defined names, data validation) compared
   with what ``addin.declaration_template`` generates NOW for that clause (never with a
   fingerprint the file carries); formulas compared after ``review_formula.normalise``, so a file
   re-saved by Excel or LibreOffice passes;
3. every field validated with the core's pydantic model of the clause (``compiled(...).model``),
   plus the enterprise fields: credit code (GB 32100-2015), phone, dates, required fields;
4. the declared amount (the cached value of ``AWARD``) compared with the core's ``evaluate`` on the
   same inputs; eligibility: every condition answered 是, zone, validity, the clause's rules.

Every problem is a ``Problem``: a string (the message, bilingual, naming the cell or part and the
rule) with a stable short ``code`` (``macro``, ``input_formula``, ``tampered``...), listed in the JSON
report as ``codes``. A file's problems are capped at ``MAX_PROBLEMS``; quoted text from the file is
cut to a few hundred characters; file names are shown printable (``display_name``).

Across the batch (``cross_check``) the portfolio rules of ``policies.stacking`` are applied to the
submissions, enterprises matched by credit code: duplicates, two clauses of one policy for one
project, two district policies, and the annual caps (a cap that reduces a grant is a warning with
the amount after the cap; the submission stays ok).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from policies import GreenAwardError, evaluate
from policies.engine import compiled, condition_checks
from policies.registry import fields
from policies.render import check_line
from policies.schema import Label
from policies.uscc import validate_uscc
from policies.years import LAST_SERIAL, from_serial, parse_year

from .executors import batch_executor, parse_executor
from .review_formula import expand_sqref, normalise
from .safe_xlsx import DEFAULT_LIMITS, Book, Cell, CellError, Limits, UnsafeWorkbook, read_book

Progress = Callable[[int, int], None]

MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlam", ".xlsb")
META_SHEET = "meta"
MAX_PROBLEMS = 50  # per file (and as many warnings); the rest are counted in one last line
MAX_NUMBER = 1e15  # any number input: beyond any amount, count or capacity a clause has (the core bounds each type)
TOLERANCE = Decimal("0.005")  # half a cent: cached values are doubles

#: The enterprise and project fields a submission must fill (common.yaml; the clause's own inputs are the core's).
REQUIRED = {k: f"{f.label.zh} {f.label.en}" for k, f in fields().items() if "review" in f.required}
FIELD_LABELS = {
    **{k: f"{f.label.zh} {f.label.en}" for k, f in fields().items()},
    "granted_note": "组合测算核定 Granted in the portfolio",
}
#: A declaration made under an earlier policy data version: what an earlier figure explains is a warning
#: with this mark (a label, a formula or validation differing from today's only in numbers, the declared
#: amount); what could run or hide content stays a problem, and so does eligibility under today's rules.
EARLIER = "版本不同 Earlier version:"
_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:E[+-]?\d+)?", re.IGNORECASE)


def numbers_only(got: str, want: str) -> bool:
    """Whether two formulas differ in their numbers and nothing else (an earlier figure, not another function)."""
    return _NUMBER.sub("#", got) == _NUMBER.sub("#", want)


_PHONE_EXT = re.compile(r"(?:转|ext\.?|x|#)\s*\d{1,6}$", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+?86)?(?:1[3-9]\d{9}|0\d{9,11}|[48]00\d{7})")


# --- findings, names ----------------------------------------------------------------------------------


class Problem(str):
    """A finding's rendered message, with its stable short ``code`` (what ``Submission.problems`` and
    ``warnings`` hold: strings for people and for older tools)."""

    code: str = ""


def problem(code: str, message: str) -> Problem:
    out = Problem(message)
    out.code = code
    return out


SEVERITIES = ("problem", "warning")
#: A rendered message's head: "中文 English: " (the message's first words, both languages).
_HEAD = re.compile(r"([^\x00-\x7f][^:]*?) ([A-Za-z][^:]*?): ")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def languages(text: str) -> Label:
    """A rendered bilingual message ("中文 English: what, in English / 中文摘要") as its zh and en parts.

    Every message of the review and of the rules it applies is written so; the Chinese part is the
    head and the summary after the last " / " (the English where there is none)."""
    head = _HEAD.match(text)
    zh_head, en_head = (head[1], head[2]) if head else ("", "")
    body = text[head.end() :] if head else text
    en, sep, zh = body.rpartition(" / ")
    if not sep or not _CJK.search(zh) or "〔" in zh:
        en, zh = body, ""
    return Label(zh=f"{zh_head}：{zh or en}" if zh_head else (zh or en), en=f"{en_head}: {en}" if en_head else en)


@dataclass(frozen=True)
class Finding:
    """One thing the review found in a submission, as data (the JSON report's ``findings``).

    ``code``: which rule (stable, e.g. ``tampered``, ``eligibility``, ``declared_amount``, ``duplicate``);
    ``severity``: ``problem`` (the submission fails) or ``warning``; ``cites``: the article or standard
    the rule rests on; ``cells``: the cells involved ("Sheet!B5"); ``refers_to``: the earlier claims it
    names (other files of the batch, ledger submissions); ``message``: zh and en; ``text``: the message
    as one bilingual line (the report's ``problems`` and ``warnings``)."""

    code: str
    severity: str
    text: str
    cites: str = ""
    cells: tuple[str, ...] = ()
    refers_to: tuple[str, ...] = ()

    @property
    def message(self) -> Label:
        return languages(self.text)

    def rendered(self) -> Problem:
        return problem(self.code, self.text)

    def to_dict(self) -> dict:
        message = self.message
        return {
            "code": self.code,
            "severity": self.severity,
            "cites": self.cites,
            "cells": list(self.cells),
            "refers_to": list(self.refers_to),
            "message": {"zh": message.zh, "en": message.en},
        }


#: The code of a problem written without one, from its message's first words.
_PREFIX_CODES = (
    ("文件 File", "file"),
    ("模板 Template", "template"),
    ("篡改 Tampered", "tampered"),
    ("必填 Required", "required"),
    ("无效 Invalid", "invalid"),
    ("资格 Eligibility", "eligibility"),
    ("申报金额 Declared amount", "declared_amount"),
    ("重复 Duplicate", "duplicate"),
    ("冲突 Conflict", "conflict"),
    ("从优 One clause", "one_clause_per_project"),
    ("批次 Batch", "batch"),
    ("审核 Review", "internal"),
    ("危险内容 Dangerous content", "dangerous"),
    ("非申报内容 Unexpected content", "unexpected_part"),
    ("公式 Formula", "input_formula"),
)


def code_of(message: str) -> str:
    code = getattr(message, "code", "")
    if code:
        return code
    for prefix, code in _PREFIX_CODES:
        if message.startswith(prefix):
            return code
    return "portfolio_rule"  # a note of policies.stacking (superseded by another clause...)


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def printable(text: str) -> str:
    """Text safe in JSON (UTF-8), a terminal and an xlsx cell: control characters and lone surrogates escaped."""
    return _ILLEGAL.sub(
        lambda m: (
            f"\\x{ord(m[0]) - 0xDC00:02x}"
            if 0xDC80 <= ord(m[0]) <= 0xDCFF
            else m[0].encode("unicode_escape", "backslashreplace").decode("ascii")
        ),
        text,
    )


def display_name(path: str | os.PathLike) -> str:
    """A file name as people can read it: a UTF-8 name as it is; a name that is not UTF-8 (GBK from ``unzip``)
    with every byte above ASCII as a ``\\xd6`` escape, never an encoding guess; control characters escaped too."""

    def part(raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:  # every byte above ASCII escaped: a partial decoding would show mojibake
            return raw.decode("ascii", "backslashreplace")

    text = "/".join(part(raw) for raw in os.fsencode(path).split(b"/"))  # each folder and the name on its own
    return printable(text).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _quote(text: object, limit: int = 200) -> str:
    """Applicant text quoted in a message, cut to ``limit`` characters."""
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "…")


# --- one submission's result --------------------------------------------------------------------------


@dataclass
class Submission:
    """What the review found in one file (the JSON report's object, plus what the batch checks use)."""

    file: str
    ok: bool = False
    findings: list[Finding] = field(default_factory=list)
    declared_yuan: Decimal | None = None
    recomputed_yuan: Decimal | None = None
    granted_yuan: Decimal | None = None
    clause: str | None = None
    enterprise: str | None = None
    sha256: str | None = None  # of the file's bytes, as read
    # for the checks across the batch
    uscc: str | None = None
    project: str | None = None
    year: int | None = None
    inputs: dict[str, object] = field(default_factory=dict)
    refused: str | None = None  # the guard's kind when the file was not read (zip_bomb, xml_bomb, not_xlsx, ...)
    ledger_id: int | None = None  # its id in the ledger (review --ledger; addin.ledger.review)
    skipped: str | None = None  # why the file was not reviewed (an Office lock file): neither pass nor fail
    rejected: set[str] = field(
        default_factory=set
    )  # input cells already reported (a formula, too long...): not "blank"

    @property
    def status(self) -> str:
        return "skipped" if self.skipped else ("pass" if self.ok else "fail")

    @property
    def problems(self) -> list[Problem]:
        """The problems' messages (read only: ``problem`` adds one)."""
        return [f.rendered() for f in self.findings if f.severity == "problem"]

    @property
    def warnings(self) -> list[Problem]:
        return [f.rendered() for f in self.findings if f.severity == "warning"]

    def problem(
        self, code: str | None, text: str, *, cites: str = "", cells: Iterable[str] = (), refers_to: Iterable[str] = ()
    ) -> None:
        """Add a problem (the submission fails); ``code`` None: from the message's first words (``code_of``)."""
        self.findings.append(Finding(code or code_of(text), "problem", text, cites, tuple(cells), tuple(refers_to)))

    def warning(
        self, code: str, text: str, *, cites: str = "", cells: Iterable[str] = (), refers_to: Iterable[str] = ()
    ) -> None:
        self.findings.append(Finding(code, "warning", text, cites, tuple(cells), tuple(refers_to)))

    def cap(self) -> None:
        """At most ``MAX_PROBLEMS`` problems and warnings, the rest counted; every message printable and bounded."""
        kept: list[Finding] = []
        for severity, what in (("problem", "problems"), ("warning", "warnings")):
            items = [f for f in self.findings if f.severity == severity]
            if len(items) > MAX_PROBLEMS:
                more = len(items) - MAX_PROBLEMS + 1
                items = items[: MAX_PROBLEMS - 1] + [
                    Finding("more", severity, f"… {more:,} more {what} not listed / 另有{more:,}条未列出")
                ]
            for f in items:
                clean = printable(f.text if len(f.text) <= 2000 else f.text[:2000] + "…")
                kept.append(f if clean == f.text else replace(f, text=clean))
        self.findings = kept

    def report(self) -> dict:
        """The JSON report's object."""

        def money(v: Decimal | None) -> float | None:
            return None if v is None else float(v)

        ledger = {} if self.ledger_id is None else {"ledger_id": self.ledger_id}
        problems = self.problems
        return {
            **ledger,
            "file": self.file,
            "sha256": self.sha256,
            "status": self.status,
            "ok": self.ok,
            "problems": [str(p) for p in problems],
            "codes": [p.code for p in problems],
            "warnings": [str(w) for w in self.warnings],
            "findings": [f.to_dict() for f in self.findings],
            "skipped": self.skipped,
            "declared_yuan": money(self.declared_yuan),
            "recomputed_yuan": money(self.recomputed_yuan),
            "granted_yuan": money(self.granted_yuan),
            "clause": self.clause,
            "enterprise": self.enterprise,
        }


# --- what the generator makes for a clause ------------------------------------------------------------


@dataclass
class Expected:
    """The generator-owned content of a clause's declaration, from ``addin.declaration_template``."""

    clause_id: str
    version: str
    policy_version: str
    sheets: list[tuple[str, str]]  # (title, state)
    cells: dict[tuple[int, str], tuple[str, object]]  # (sheet, ref) -> ("f", normalised formula) | ("v", value)
    slots: dict[str, tuple[int, str, str]]  # key -> (sheet, ref, kind): the cells a declaration fills
    slot_cells: set[tuple[int, str]]
    names: dict[str, str]  # defined name -> normalised reference
    validations: dict[int, dict[str, tuple]]  # sheet -> cell -> (type, operator, formula1, formula2)
    award: tuple[int, str]
    captions: dict[tuple[int, str], str]  # (sheet, ref) -> the row's label, for messages
    conditional: dict[int, set[str]] = field(default_factory=dict)  # sheet -> normalised conditional-format formulas


def _validation_key(kind: str | None, operator: str | None, f1: str | None, f2: str | None) -> tuple:
    kind = (kind or "none").lower()
    if kind in ("whole", "decimal", "date", "time", "textlength"):
        operator = operator or "between"
    else:
        operator = None
    if operator not in ("between", "notBetween"):
        f2 = None  # meaningless with one bound; LibreOffice writes a 0 there
    return (kind, operator, normalise(f1) if f1 else None, normalise(f2) if f2 else None)


@cache
def expected_content(clause_id: str) -> Expected:
    """Regenerate the clause's template in memory and keep what a submission must not change."""
    from .declaration_template import TEMPLATE_VERSION, build_cached

    cc = compiled(clause_id)
    wb, layout = build_cached(cc.id)
    cells: dict[tuple[int, str], tuple[str, object]] = {}
    captions: dict[tuple[int, str], str] = {}
    validations: dict[int, dict[str, tuple]] = {}
    conditional: dict[int, set[str]] = {}
    slot_cells = {(s, ref) for s, ref, _ in layout.slots.values()}
    sheets = []
    for s, ws in enumerate(wb.worksheets):
        sheets.append((ws.title, ws.sheet_state))
        row_text: dict[int, str] = {}
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if value is None or value == "":
                    continue
                ref = cell.coordinate
                if isinstance(value, str) and cell.data_type == "f":
                    cells[(s, ref)] = ("f", normalise(value))
                else:
                    cells[(s, ref)] = ("v", value)
                    if isinstance(value, str) and cell.column <= 2 and cell.row not in row_text:
                        row_text[cell.row] = value.split("\n")[0][:40]
        for s2, ref in [*slot_cells, *cells]:
            if s2 == s:
                m = re.match(r"[A-Z]+(\d+)", ref)
                if m and int(m[1]) in row_text:
                    captions[(s, ref)] = row_text[int(m[1])]
        per_cell: dict[str, tuple] = {}
        for dv in ws.data_validations.dataValidation:
            key = _validation_key(dv.type, dv.operator, dv.formula1, dv.formula2)
            for ref in expand_sqref(str(dv.sqref), 10**6) or []:
                per_cell[ref] = key
        validations[s] = per_cell
        conditional[s] = {
            normalise(f) for cf in ws.conditional_formatting for rule in cf.rules for f in (rule.formula or [])
        }
    names = {name: normalise(dn.attr_text) for name, dn in wb.defined_names.items()}
    award = layout.formulas["award"]
    return Expected(
        cc.id,
        TEMPLATE_VERSION,
        cc.policy.encoding_version,
        sheets,
        cells,
        dict(layout.slots),
        slot_cells,
        names,
        validations,
        award,
        captions,
        conditional,
    )


# --- reading values -----------------------------------------------------------------------------------


def _show(value: object) -> str:
    if isinstance(value, float):
        return (
            format(Decimal(repr(value)).normalize(), "f")
            if math.isfinite(value) and abs(value) < MAX_NUMBER
            else repr(value)
        )
    text = str(value)
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _as_date(value: object) -> date:
    from policies.stacking import parse_date

    if isinstance(value, float):
        if not value.is_integer() or not 1 <= value <= LAST_SERIAL:
            raise ValueError(f"must be a date (YYYY-MM-DD), got {_show(value)} / 须为日期")
        return from_serial(int(value))
    return parse_date(value)


def _name_cell(book: Book, expected: Expected, name: str) -> Cell | None:
    """The cell a workbook-level defined name points to in the submitted file."""
    text = book.names.get((name, None))
    if not text:
        return None
    m = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]{1,3})\$?(\d+)", text.strip())
    if not m:
        return None
    sheet = book.sheet(m[1].replace("''", "'"))
    return sheet.cells.get(f"{m[2]}{m[3]}") if sheet else None


# --- one file -----------------------------------------------------------------------------------------


#: The guard's refusals (``UnsafeWorkbook.kind``), as a reviewer reads them.
REFUSED = {
    "zip_bomb": "refused before inflating (zip bomb guard)",
    "xml_bomb": "refused before parsing (XML bomb / external entity guard)",
    "too_large": "refused (too large)",
    "not_xlsx": "not a declaration workbook",
    "damaged": "damaged file",
    "xml": "damaged workbook XML",
    "not_regular": "not a regular file",
}


def skip_reason(path: str | os.PathLike) -> str | None:
    """Why a file is listed but not reviewed: Office lock files (``~$…``) and hidden files (``.…``, e.g.
    macOS ``._x.xlsx``) hold no declaration."""
    name = os.path.basename(os.fsdecode(path))
    if name.startswith("~$"):
        return "Office lock file (~$…): written by Excel while a workbook is open / Office锁定文件"
    if name.startswith("."):
        return "hidden file (.…) / 隐藏文件"
    return None


def review_file(path: str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> Submission:
    """Review one submission; never raises for what is in the file (every finding is a problem)."""
    sub = Submission(file=display_name(path))
    sub.skipped = skip_reason(path)
    if sub.skipped:
        return sub
    try:
        _review_path(path, limits, sub)
    except Exception as exc:  # noqa: BLE001 - whatever one file does is that file's problem, never the batch's end
        sub.problem(
            "internal",
            f"审核 Review: the file could not be reviewed ({type(exc).__name__}: {str(exc)[:300]}) / 文件无法审核",
        )
    sub.ok = not sub.problems
    sub.cap()
    return sub


def _review_path(path: str | os.PathLike, limits: Limits, sub: Submission) -> None:
    try:
        book = read_book(path, limits)
        sub.sha256 = book.sha256 or None  # of the bytes reviewed, hashed as read: the ledger keys on it
    except UnsafeWorkbook as exc:
        sub.refused = exc.kind
        sub.sha256 = exc.sha256
        sub.problem(exc.kind, f"文件 File: {REFUSED.get(exc.kind, exc.kind)}: {exc} / 文件无法安全读取")
        book = None
    except OSError as exc:
        sub.refused = "unreadable"
        sub.problem("unreadable", f"文件 File: cannot be read: {exc.strerror or exc} / 文件无法读取")
        book = None
    suffix = os.path.splitext(os.fsdecode(path))[1].lower()
    if suffix in MACRO_EXTENSIONS:
        sub.problem(
            "macro",
            f"危险内容 Dangerous content: a macro-enabled file type ({printable(suffix)}): "
            "a declaration is an .xlsx / 启用宏的文件类型，申报表须为 .xlsx",
        )
    elif suffix != ".xlsx":
        sub.problem(
            "file_type",
            f"文件 File: the file type {printable(suffix) or '(no extension)'} is not "
            ".xlsx: a declaration is an .xlsx workbook / 文件类型不是 .xlsx",
        )
    if book is not None:
        for code, message in book.hazards:
            sub.problem(code, message)
        _review_book(book, sub, limits)


def _review_book(book: Book, sub: Submission, limits: Limits = DEFAULT_LIMITS) -> None:
    meta_sheet = book.sheet(META_SHEET)
    if meta_sheet is None:
        sub.problem(
            "template",
            "模板 Template: not a green-award declaration: no metadata sheet 'meta' (template and policy "
            "versions) / 非本系统生成的申报表",
        )
        return
    meta: dict[str, str] = {}
    for ref, cell in meta_sheet.cells.items():
        m = re.fullmatch(r"A(\d+)", ref)
        if m and isinstance(cell.value, str):
            value = meta_sheet.cells.get(f"B{m[1]}")
            meta[cell.value.strip()] = _as_text(value.value if value else None)
    clause_id = meta.get("clause_id", "")
    sub.clause = clause_id or None
    try:
        cc = compiled(clause_id)
    except GreenAwardError as exc:
        sub.problem(
            "template",
            f"模板 Template: meta!clause_id {_quote(clause_id, 60)}: {str(exc)[:300]}",
            cells=[f"{META_SHEET}!B{_meta_row(meta_sheet, 'clause_id')}"],
        )
        return
    sub.clause = cc.id
    if cc.amount is None:
        sub.problem(
            "template",
            f"模板 Template: {cc.id} is a non-monetary article; it has no declaration / 非资金支持条款",
            cites=cc.clause.article,
        )
        return
    expected = expected_content(cc.id)
    version = meta.get("template_version", "")
    if version != expected.version:
        older = version.isdigit() and expected.version.isdigit() and int(version) < int(expected.version)
        sub.problem(
            "template",
            f"模板 Template: version {_quote(version, 20) if version else '(none)'} is {'outdated' if older else 'unknown'}; "
            f"this reviewer checks version {expected.version} of {cc.id}: regenerate the declaration / 模板版本{'过期' if older else '未知'}",
            cells=[f"{META_SHEET}!B{_meta_row(meta_sheet, 'template_version')}"],
        )
        _identify(book, expected, sub, limits, cc)
        return
    policy_version = meta.get("policy_encoding_version", "")
    earlier = (
        policy_version != expected.policy_version
        and policy_version.isdigit()
        and expected.policy_version.isdigit()
        and int(policy_version) < int(expected.policy_version)
    )
    version_cell = [f"{META_SHEET}!B{_meta_row(meta_sheet, 'policy_encoding_version')}"]
    if earlier:
        sub.warning(
            "template",
            f"模板 Template: made under version {policy_version} of {cc.policy.id}'s policy data, reviewed under the current "
            f"rules (version {expected.policy_version}): where they changed the form, its differences are warnings, and "
            "eligibility and the amount are the current rules' / 按现行政策版本审核",
            cells=version_cell,
        )
    elif policy_version != expected.policy_version:
        sub.problem(
            "template",
            f"模板 Template: policy data version {_quote(policy_version, 20) if policy_version else '(none)'} of {cc.policy.id} "
            f"is unknown; current is {expected.policy_version}: regenerate the declaration / 政策版本不符",
            cells=version_cell,
        )
    _compare(book, expected, sub, limits, earlier=earlier)
    values = _identify(book, expected, sub, limits, cc)
    _fields(values, expected, cc, sub)
    before = len(sub.findings)
    _amount(book, expected, cc, values, sub)
    if earlier:  # the declared amount is the earlier rules': the current rules' amount is the one granted
        sub.findings[before:] = [
            replace(f, severity="warning", text=f"{EARLIER} {f.text}")
            if f.code == "declared_amount" and f.severity == "problem"
            else f
            for f in sub.findings[before:]
        ]


def _meta_row(sheet, key: str) -> str:
    """The row of ``key`` in the meta sheet (column A), for a finding's cell; "?" when absent."""
    return next(
        (
            ref[1:]
            for ref, cell in sheet.cells.items()
            if ref[0] == "A" and ref[1:].isdigit() and isinstance(cell.value, str) and cell.value.strip() == key
        ),
        "?",
    )


def _cell(expected: Expected, s: int, ref: str) -> str:
    """A cell as a finding names it: "Sheet!B5"."""
    title = expected.sheets[s][0] if s < len(expected.sheets) else f"sheet {s + 1}"
    return f"{title}!{ref}"


def _where(expected: Expected, s: int, ref: str) -> str:
    title = expected.sheets[s][0] if s < len(expected.sheets) else f"sheet {s + 1}"
    caption = expected.captions.get((s, ref))
    return f"{title}!{ref}" + (f" ({caption})" if caption else "")


_SHEET_REF = r"(?:'(?:[^']|'')+'|[^\s'!,()\[\]\"|]+)"
_CELL_REF = r"\$?[A-Z]{1,3}\$?\d{1,7}"
_AREA = rf"(?:(?:{_SHEET_REF}!)?(?:{_CELL_REF}(?::{_CELL_REF})?|\$?[A-Z]{{1,3}}:\$?[A-Z]{{1,3}}|\$?\d{{1,7}}:\$?\d{{1,7}})|#REF!)"
_PLAIN_REFERENCE = re.compile(rf"\s*=?\s*{_AREA}(?:\s*,\s*{_AREA})*\s*", re.IGNORECASE)
#: Names Excel runs as macros when the workbook opens or closes (Excel 4.0 macro sheets).
_AUTO_NAMES = {"_xlnm.auto_open", "_xlnm.auto_close", "_xlnm.auto_activate", "_xlnm.auto_deactivate"}
_VALIDATION_PROBLEMS = 10  # per sheet; the rest in one line


def _cut(text: str, limit: int = 200) -> str:
    """A formula or reference from the file, shown unquoted but cut to ``limit`` characters."""
    return text if len(text) <= limit else text[:limit] + "…"


def _compare(
    book: Book, expected: Expected, sub: Submission, limits: Limits = DEFAULT_LIMITS, *, earlier: bool = False
) -> None:
    """Generator-owned content: sheets, labels, formulas, names, validation; and nothing more that computes.
    ``earlier``: the declaration was made under an earlier policy data version (see ``EARLIER``)."""
    got_sheets = []
    for s, (title, state) in enumerate(expected.sheets):
        sheet = book.sheet(title)
        got_sheets.append(sheet)
        if sheet is None:
            sub.problem("tampered", f"篡改 Tampered: sheet {title!r} is missing or renamed / 工作表缺失")
        elif state != "visible" and sheet.state == "visible":
            sub.warning("sheet_unhidden", f"sheet {title!r} was unhidden / 工作表被取消隐藏")
    titles = {t for t, _ in expected.sheets}
    seen: set[str] = set()
    for sheet in book.sheets:
        if sheet.name.casefold() in seen:  # only the first of two is compared: the other could hide anything
            sub.problem(
                "extra_sheet",
                f"篡改 Tampered: sheet {_quote(sheet.name, 60)} appears twice (sheet names ignore case) / 工作表重名",
            )
        seen.add(sheet.name.casefold())
        if sheet.name not in titles:
            state = "" if sheet.state == "visible" else f" ({_quote(sheet.state, 20)})"
            sub.problem(
                "extra_sheet",
                f"篡改 Tampered: sheet {_quote(sheet.name, 60)}{state} is not part of the "
                "template: a declaration has only the template's sheets / 含模板以外的工作表",
            )
    for (s, ref), (kind, want) in expected.cells.items():
        sheet = got_sheets[s]
        if sheet is None:
            continue
        cell = sheet.cells.get(ref)
        where, at = _where(expected, s, ref), [_cell(expected, s, ref)]
        if kind == "f":
            if cell is None or cell.formula is None:
                if cell is not None and cell.value is not None:
                    sub.problem(
                        "tampered",
                        f"篡改 Tampered: {where}: the formula was replaced by the constant "
                        f"{_show(cell.value)} (the template computes ={want}) / 公式被替换为常数",
                        cells=at,
                    )
                else:
                    sub.problem(
                        "tampered",
                        f"篡改 Tampered: {where}: the formula was removed (the template computes ={want}) / 公式被删除",
                        cells=at,
                    )
            else:
                got = normalise(cell.formula)
                if got != want:
                    text = (
                        f"篡改 Tampered: {where}: the formula was edited: ={_cut(cell.formula)} "
                        f"(the template computes ={want}) / 公式被修改"
                    )
                    if earlier and numbers_only(got, want):
                        sub.warning("tampered", f"{EARLIER} {text}", cells=at)
                    else:
                        sub.problem("tampered", text, cells=at)
        else:
            got = None if cell is None else cell.value
            if cell is not None and cell.formula is not None:
                sub.problem(
                    "tampered",
                    f"篡改 Tampered: {where}: the label {_show(want)} was replaced by the formula "
                    f"={_cut(cell.formula)} / 标签被修改",
                    cells=at,
                )
            elif not _same(want, got):
                text = (
                    f"篡改 Tampered: {where}: the label was edited: {_show(got) if got is not None else '(blank)'} "
                    f"instead of {_show(want)} / 标签被修改"
                )
                if earlier:
                    sub.warning("tampered", f"{EARLIER} {text}", cells=at)
                else:
                    sub.problem("tampered", text, cells=at)
    for s, sheet in enumerate(got_sheets):
        if sheet is None:
            continue
        title = expected.sheets[s][0]
        extra = [
            ref
            for ref, cell in sheet.cells.items()
            if (s, ref) not in expected.cells
            and (s, ref) not in expected.slot_cells
            and (cell.formula is not None or (cell.value is not None and cell.value != ""))
        ]
        formulas = [ref for ref in extra if sheet.cells[ref].formula is not None]
        for ref in formulas[:_VALIDATION_PROBLEMS]:
            sub.problem(
                "extra_formula",
                f"篡改 Tampered: {title}!{ref}: the formula ={_cut(sheet.cells[ref].formula)} is "
                "not part of the template / 含模板以外的公式",
                cells=[f"{title}!{ref}"],
            )
        if len(formulas) > _VALIDATION_PROBLEMS:
            sub.problem(
                "extra_formula",
                f"篡改 Tampered: {title}: {len(formulas) - _VALIDATION_PROBLEMS:,} more formulas "
                "that are not part of the template / 含模板以外的公式",
            )
        values = [ref for ref in extra if sheet.cells[ref].formula is None]
        if values:
            shown = ", ".join(sorted(values)[:5]) + (" …" if len(values) > 5 else "")
            sub.warning(
                "cells_outside_template",
                f"{title}: {len(values)} cell(s) outside the template filled ({shown}); "
                "ignored / 模板以外的单元格已忽略",
                cells=[f"{title}!{r}" for r in sorted(values)[:5]],
            )
        want_cf, got_cf = expected.conditional.get(s, set()), {normalise(f) for f in sheet.cf_formulas}
        for formula in sorted(got_cf - want_cf)[:_VALIDATION_PROBLEMS]:
            sub.problem(
                "extra_formula",
                f"篡改 Tampered: {title}: a conditional format computes ={_cut(formula)}, which "
                "is not part of the template (it is evaluated when the sheet is shown) / "
                "含模板以外的条件格式公式",
            )
    # defined names: the template's must point where the generator put them, spelled as it does; none may
    # shadow them; any other must be a plain reference (a name holding a formula computes like a cell)
    template_names = {n.casefold(): n for n in expected.names}
    got_names = {}
    for (name, local), text in book.names.items():
        folded = name.casefold()
        if folded in _AUTO_NAMES:
            sub.problem(
                "macro",
                f"危险内容 Dangerous content: the defined name {name} runs a macro when the "
                "workbook opens or closes / 含自动运行的宏名称",
            )
        elif local is None and folded in template_names:
            got_names[folded] = (name, text)
        elif local is not None and folded in template_names:
            sub.problem(
                "tampered",
                f"篡改 Tampered: defined name {_cut(name, 60)} is redefined for one sheet (it would "
                "shadow the template's) / 名称被覆盖",
            )
        elif not _PLAIN_REFERENCE.fullmatch(text):
            sub.problem(
                "extra_formula",
                f"篡改 Tampered: the defined name {_quote(name, 60)} holds the formula "
                f"={_cut(text)}, which is not part of the template / 含模板以外的名称公式",
            )
        elif not name.startswith("_xlnm."):  # a print area, a filter range: what programs add
            sub.warning(
                "extra_name",
                f"defined name {_quote(name, 60)} is not part of the template (ignored) / 模板以外的名称已忽略",
            )
    for name, want in expected.names.items():
        found = got_names.get(name.casefold())
        if found is None:
            sub.problem("tampered", f"篡改 Tampered: defined name {name} is missing / 名称缺失")
            continue
        if found[0] != name:
            sub.problem(
                "name_case",
                f"篡改 Tampered: the defined name {name} is spelled {_quote(found[0], 60)}: "
                "names must be the template's exactly (a name differing only by case is "
                "another program's way to hide an edit) / 名称大小写被修改",
            )
        if normalise(found[1]) != want:
            sub.problem(
                "tampered",
                f"篡改 Tampered: defined name {name} points to {_cut(found[1])} (the template: {want}) / 名称被修改",
            )
    # data validation of each cell, within a budget of cells per sheet
    for s, sheet in enumerate(got_sheets):
        if sheet is None:
            continue
        title = expected.sheets[s][0]
        want = expected.validations.get(s, {})
        got: dict[str, tuple] = {}
        covered = 0
        for dv in sheet.validations:
            cells = expand_sqref(dv["sqref"], limits.max_validation_cells - covered)
            if cells is None:
                sub.problem(
                    "too_many_validations",
                    f"篡改 Tampered: {title}: the data validations cover more than {limits.max_validation_cells:,} "
                    "cells (limit; the template's cover a few dozen): not compared / 数据验证范围过大",
                )
                break
            covered += len(cells)
            key = _validation_key(dv["type"], dv["operator"], dv["formula1"], dv["formula2"])
            for ref in cells:
                got[ref] = key
        else:
            differ = [ref for ref in sorted(set(want) | set(got)) if want.get(ref) != got.get(ref)]
            if earlier:  # bounds of an earlier version: the same validation but for its numbers
                near = [r for r in differ if want.get(r) and got.get(r) and numbers_only(repr(got[r]), repr(want[r]))]
                for r in near[:_VALIDATION_PROBLEMS]:
                    sub.warning(
                        "tampered",
                        f"{EARLIER} 篡改 Tampered: {_where(expected, s, r)}: the data validation "
                        "differs in its numbers / 数据验证被修改",
                        cells=[_cell(expected, s, r)],
                    )
                differ = [r for r in differ if r not in near]
            for ref in differ[:_VALIDATION_PROBLEMS]:
                w, g = want.get(ref), got.get(ref)
                what = (
                    "removed"
                    if g is None
                    else (
                        "added"
                        if w is None
                        else _cut(f"changed to {g[0]} {g[1] or ''} {g[2] or ''} {g[3] or ''}".rstrip())
                    )
                )
                sub.problem(
                    "tampered",
                    f"篡改 Tampered: {_where(expected, s, ref)}: the data validation was {what} / 数据验证被修改",
                    cells=[_cell(expected, s, ref)],
                )
            if len(differ) > _VALIDATION_PROBLEMS:
                sub.problem(
                    "tampered",
                    f"篡改 Tampered: {title}: the data validation of {len(differ) - _VALIDATION_PROBLEMS:,} "
                    "more cells differs from the template / 数据验证被修改",
                )


def _same(want: object, got: object) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(float(want), float(got), rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(want, (int, float)) and isinstance(got, str):  # a number re-saved as text is an edit too
        return False
    return want == got


_NUMBER_TEXT = re.compile(r"\s*[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE]([-+]?\d+))?\s*")


def _implausible(value: object) -> bool:
    """A number no input can be (NaN, infinite, 1e15 or more, an exponent in the thousands), before any arithmetic
    or formatting sees it: ``-1e99999999`` written in full is a 133 MB message."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return not math.isfinite(value) or abs(value) >= MAX_NUMBER
    if isinstance(value, str):
        m = _NUMBER_TEXT.fullmatch(value)
        if m is None:
            return False
        if m[1] is not None and len(m[1].lstrip("+-0")) > 3:  # |exponent| of 1000 or more: never parsed
            return True
        try:
            return not math.isfinite(float(value.replace(",", ""))) or abs(float(value.replace(",", ""))) >= MAX_NUMBER
        except ValueError:
            return False
    return False


def _identify(
    book: Book, expected: Expected, sub: Submission, limits: Limits = DEFAULT_LIMITS, cc=None
) -> dict[str, object]:
    """The values of the cells a declaration fills, by slot key; enterprise and project noted on ``sub``.

    An input cell must hold a value: a formula there (``WEBSERVICE``, a DDE ``cmd|...``, ``[1]Sheet1!A1``)
    is a problem and its cached value is not used; so is a text above ``Limits.max_text_chars`` and a
    number no input can be (both left out of what is recomputed)."""
    values: dict[str, object] = {}
    for key, (s, ref, kind) in expected.slots.items():
        title = expected.sheets[s][0]
        sheet = book.sheet(title)
        cell = sheet.cells.get(ref) if sheet else None
        if cell is None:
            continue
        value = cell.value
        where = _field(expected, key, _label(cc, key) if cc is not None else None)
        at = [f"{title}!{ref}"]
        if cell.formula is not None:
            sub.problem(
                "input_formula",
                f"公式 Formula in an input cell: {where} holds the formula "
                f"={_cut(cell.formula)}: an input cell holds a value, never a formula "
                "(it could fetch, link or run something) / 填报单元格不得含公式",
                cells=at,
            )
            sub.rejected.add(key)
            continue
        # the portfolio's note (generated, ~370 characters for a capped claim with its reasons) may be longer
        longest = 4 * limits.max_text_chars if key == "granted_note" else limits.max_text_chars
        if isinstance(value, str) and len(value) > longest:
            sub.problem(
                "text_too_long",
                f"无效 Invalid: {where}: {len(value):,} characters, above the limit of "
                f"{longest:,} for this field ({_quote(value, 60)}) / 文本过长",
                cells=at,
            )
            sub.rejected.add(key)
            continue
        if kind == "number" and _implausible(value):
            sub.problem(
                "number_out_of_range",
                f"无效 Invalid: {where}: {_quote(value, 40)} is not a plausible "
                f"number (below {MAX_NUMBER:.0e} in size, finite) / 数值超出合理范围",
                cells=at,
            )
            sub.rejected.add(key)
            continue
        if isinstance(value, str) and not value.strip():
            value = None
        if value is not None:
            values[key] = value
    sub.enterprise = _as_text(values.get("enterprise")) or None
    code = _as_text(values.get("uscc")).upper()
    sub.uscc = code or None
    sub.project = _as_text(values.get("project")) or None
    year = values.get("year")
    if year is not None and not isinstance(year, CellError):
        try:
            sub.year = parse_year(year)  # the one reading of a year (policies.years)
        except ValueError:
            pass  # reported with the other cells' problems
    return values


def _field(expected: Expected, key: str, label: str | None = None) -> str:
    s, ref, _ = expected.slots[key]
    return f"{label or FIELD_LABELS.get(key, key)} [{expected.sheets[s][0]}!{ref}]"


def _slot(expected: Expected, key: str) -> list[str]:
    """The cell of a slot, for a finding's ``cells`` (none when the template has no such slot)."""
    if key not in expected.slots:
        return []
    s, ref, _ = expected.slots[key]
    return [f"{expected.sheets[s][0]}!{ref}"]


def _fields(values: dict[str, object], expected: Expected, cc, sub: Submission) -> None:
    for key, label in REQUIRED.items():
        if key in expected.slots and key not in values and key not in sub.rejected:
            sub.problem(
                "required", f"必填 Required: {_field(expected, key)} is blank / 必填项为空", cells=_slot(expected, key)
            )
    for key, value in values.items():
        if isinstance(value, CellError):
            sub.problem(
                "invalid",
                f"无效 Invalid: {_field(expected, key, _label(cc, key))} holds the error {value} / 单元格错误",
                cells=_slot(expected, key),
            )
    if "uscc" in values and not isinstance(values["uscc"], CellError):
        try:
            sub.uscc = validate_uscc(_as_text(values["uscc"]))
        except ValueError as exc:
            sub.problem(
                "invalid",
                f"无效 Invalid: {_field(expected, 'uscc')}: {exc} 〔GB 32100-2015〕",
                cites="GB 32100-2015",
                cells=_slot(expected, "uscc"),
            )
    if "phone" in values:
        text = _as_text(values["phone"])
        digits = re.sub(r"[\s\-()（）]", "", _PHONE_EXT.sub("", text))
        if not _PHONE.fullmatch(digits):
            sub.problem(
                "invalid",
                f"无效 Invalid: {_field(expected, 'phone')}: {_quote(text, 40)} is not a mainland China phone "
                "number (mobile 1xxxxxxxxxx or landline 0xx-xxxxxxxx) / 电话号码格式不正确",
                cells=_slot(expected, "phone"),
            )
    if "year" in values and sub.year is None:
        sub.problem(
            "invalid",
            f"无效 Invalid: {_field(expected, 'year')}: must be a year such as 2025, got {_show(values['year'])} "
            "/ 年度须为四位年份",
            cells=_slot(expected, "year"),
        )
    days: dict[str, date] = {}
    for key in (k for k, f in fields().items() if f.kind == "date"):
        if key in values and not isinstance(values[key], CellError):
            try:
                day = _as_date(values[key])
            except ValueError as exc:
                sub.problem("invalid", f"无效 Invalid: {_field(expected, key)}: {exc}", cells=_slot(expected, key))
                continue
            if not 2000 <= day.year <= 2100:
                sub.problem(
                    "invalid",
                    f"无效 Invalid: {_field(expected, key)}: {day} is not a plausible date / 日期不合理",
                    cells=_slot(expected, key),
                )
            days[key] = day
    if (
        "start_date" in expected.slots
        and cc.schedule.inputs
        and "start_date" not in values
        and "start_date" not in sub.rejected
    ):
        sub.problem(
            "required",
            f"必填 Required: {_field(expected, 'start_date')} is blank (a two-instalment clause pays its first "
            "half on start) / 必填项为空",
            cites=cc.schedule.cites,
            cells=_slot(expected, "start_date"),
        )
    if len(days) == 2 and days["completion_date"] < days["start_date"]:
        sub.problem(
            "invalid",
            f"无效 Invalid: {_field(expected, 'completion_date')} {days['completion_date']} is before the start "
            f"date {days['start_date']} / 完工日期早于开工日期",
            cells=_slot(expected, "start_date") + _slot(expected, "completion_date"),
        )


def _label(cc, name: str) -> str:
    spec = cc.specs.get(name)
    if spec is not None:
        return f"{spec.label.zh} {spec.label.en} ({name})"
    return FIELD_LABELS.get(name, name)


def _amount(book: Book, expected: Expected, cc, values: dict[str, object], sub: Submission) -> None:
    """Validate the clause's inputs with the core's model, recompute, check eligibility and the declared amount.

    Eligibility is the core's checks (``Award.checks``; before the amount, ``condition_checks``): a reviewer
    requires each condition answered 是 (yes) unless the clause waives it; any other failed check is a
    problem, a threshold fact left blank (assumed) a warning."""
    article = cc.clause.article
    raw = {name: values[name] for name in cc.specs if name in values and not isinstance(values[name], CellError)}
    sub.inputs = dict(raw)
    valid = True
    try:
        validated = cc.model.__pydantic_validator__.validate_python(raw)
    except ValidationError as exc:
        valid = False
        for error in exc.errors(include_url=False):
            name = ".".join(str(p) for p in error["loc"]) or "?"
            if name in sub.rejected:
                continue  # reported with its cell already
            message = error["msg"].removeprefix("Value error, ")
            where = _field(expected, name, _label(cc, name)) if name in expected.slots else name
            sub.problem(
                "invalid", f"无效 Invalid: {where}: {message} 〔{article}〕", cites=article, cells=_slot(expected, name)
            )
    else:
        coerced = {k: v for k, v in validated.__dict__.items() if v is not None}
    # every condition answered 是 (yes), unless the clause waives it for these inputs
    if valid:
        for check in condition_checks(cc, coerced):
            name = check.name
            if check.status in ("passed", "waived") or name in sub.rejected:
                continue
            where = _field(expected, name, f"条件 Condition {check.subject.zh} / {check.subject.en} ({name})")
            if check.status == "assumed":
                sub.problem(
                    "eligibility",
                    f"资格 Eligibility: {where} is not answered; a reviewer requires 是 (yes) 〔{check.cites}〕 "
                    "/ 申报条件未作答",
                    cites=check.cites,
                    cells=_slot(expected, name),
                )
            else:
                sub.problem(
                    "eligibility",
                    f"资格 Eligibility: {where} is answered 否 (no): not eligible 〔{check.cites}〕 / 不符合申报条件",
                    cites=check.cites,
                    cells=_slot(expected, name),
                )
    # the declared amount: the cached value of AWARD
    cell = _name_cell(book, expected, "AWARD")
    award_cell = [_cell(expected, *expected.award)]
    if cell is None:
        s, ref = expected.award
        sheet = book.sheet(expected.sheets[s][0])
        cell = sheet.cells.get(ref) if sheet else None
    declared = None
    if cell is None or cell.value is None or cell.value == "":
        sub.problem(
            "declared_amount",
            "申报金额 Declared amount: AWARD has no cached value: the file was never calculated "
            "(open it in Excel or LibreOffice and save) / 申报金额无计算结果",
            cells=award_cell,
        )
    elif isinstance(cell.value, bool) or not isinstance(cell.value, float):
        sub.problem(
            "declared_amount",
            f"申报金额 Declared amount: AWARD holds {_show(cell.value)}, not an amount / 申报金额不是数字",
            cells=award_cell,
        )
    elif not math.isfinite(cell.value):
        sub.problem(
            "declared_amount",
            f"申报金额 Declared amount: AWARD holds {cell.value!r} / 申报金额不是数字",
            cells=award_cell,
        )
    else:
        declared = Decimal(repr(cell.value))
        sub.declared_yuan = declared.quantize(Decimal("0.01"))
    if not valid:
        return
    year = sub.year
    try:
        award = evaluate(cc.id, on=year, **raw)
    except GreenAwardError as exc:
        rule = getattr(exc, "rule", None)
        name = getattr(exc, "field", None)
        if name in sub.rejected:
            return  # reported with its cell already
        if rule and name in expected.slots:
            sub.problem(
                "invalid",
                f"无效 Invalid: {_field(expected, name, _label(cc, name))}: {rule} 〔{article}〕",
                cites=article,
                cells=_slot(expected, name),
            )
        elif rule and name:
            sub.problem("invalid", f"无效 Invalid: {_label(cc, name)}: {rule} 〔{article}〕", cites=article)
        else:
            sub.problem("invalid", f"无效 Invalid: {exc}")
        return
    sub.recomputed_yuan = award.amount
    for check in award.checks:
        if check.kind in ("condition", "excluded"):
            continue  # reported above, with its cell
        cells = (
            _slot(expected, "zone")
            if check.kind == "zone"
            else _slot(expected, "year")
            if check.kind == "validity"
            else []
        )
        if check.status == "failed":
            sub.problem(
                "eligibility",
                f"资格 Eligibility: not eligible: {check_line(check)} / 不符合条件",
                cites=check.cites or article,
                cells=cells,
            )
        elif check.status == "assumed" and check.kind in ("threshold", "rule"):
            sub.warning("threshold_assumed", f"{check_line(check)} (a threshold fact left blank)", cites=check.cites)
    if declared is not None:
        if declared - award.amount > TOLERANCE:
            sub.problem(
                "declared_amount",
                f"申报金额 Declared amount: {declared:,.2f} 元 is above what the inputs allow, {award.amount:,.2f} 元 "
                f"(recomputed by the core, {cc.id} 〔{article}〕) / 申报金额超过按填报数据核算的金额",
                cites=article,
                cells=award_cell,
            )
        elif award.amount - declared > TOLERANCE:
            sub.warning(
                "declared_below",
                f"申报金额 Declared amount: {declared:,.2f} 元 is below what the inputs allow, {award.amount:,.2f} 元 "
                f"(the cached value is stale or lowered; the lower amount is the one granted) / 申报金额低于核算金额",
                cites=article,
                cells=award_cell,
            )


# --- the batch ----------------------------------------------------------------------------------------


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return path.absolute()


def find_files(paths: Iterable[str | os.PathLike], exclude: Iterable[Path] = ()) -> list[Path]:
    """Files given, and EVERY file inside folders given (sub-folders too, whatever its extension), sorted;
    FileNotFoundError if a path is missing. Each is reviewed or listed as skipped (``skip_reason``): a stray
    ``.xlsm``, ``.xls`` or renamed ``.csv`` in a folder fails review rather than going unnoticed.
    ``exclude``: this run's own report files."""
    skip = {_resolved(Path(p)) for p in exclude}
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if not found.is_dir() and _resolved(found) not in skip:
                    out.append(found)
        elif path.exists() or path.is_symlink():
            out.append(path)
        else:
            raise FileNotFoundError(f"{display_name(path)}: no such file or folder / 路径不存在")
    seen, unique = set(), []
    for p in out:
        key = _resolved(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _review_chunk(paths: Sequence[str], limits: Limits) -> list[Submission]:
    return [review_file(p, limits) for p in paths]


def default_executor(workers: int | None = None) -> Executor:
    from addin.pool import process_pool

    return process_pool(workers)


#: Below this many files a process pool costs more than it saves (unless an executor is given).
PARALLEL_MIN = 8


def review_paths(
    paths: Sequence[str | os.PathLike],
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
    names: Sequence[str] | None = None,
) -> list[Submission]:
    """Review every file (over ``executor``, a process pool by default), then the checks across the batch.

    ``names``: what each file is called in the results (``Submission.file``) instead of its path: an
    upload's own name, where the file on disk has a generated one (``addin.web``)."""
    files = [str(p) for p in paths]
    total = len(files)
    out: list[Submission] = []
    own = None
    n = workers or os.cpu_count() or 1
    if executor is None and n > 1 and total >= PARALLEL_MIN:
        own = executor = default_executor(workers)
    try:
        if executor is None:
            for path in files:
                out.append(review_file(path, limits))
                if progress:
                    progress(len(out), total)
        else:
            size = max(1, min(64, -(-total // (4 * n))))
            futures = [(i, executor.submit(_review_chunk, files[i : i + size], limits)) for i in range(0, total, size)]
            for i, future in futures:
                try:
                    out.extend(future.result())
                except Exception:  # noqa: BLE001 - a worker died (killed, out of memory): its files, each on its own
                    out.extend(_review_alone(path, limits) for path in files[i : i + size])
                if progress:
                    progress(len(out), total)
    finally:
        if own is not None:
            own.shutdown()
    for sub, name in zip(out, names or ()):
        sub.file = name
    cross_check(out)
    return out


def _review_alone(path: str, limits: Limits) -> Submission:
    """One file in a process of its own: should that process die too, it is this file's problem."""
    try:
        with default_executor(1) as pool:
            return pool.submit(_review_chunk, [path], limits).result()[0]
    except Exception as exc:  # noqa: BLE001
        sub = Submission(file=display_name(path))
        sub.problem(
            "internal",
            f"审核 Review: the process reviewing this file ended abnormally ({type(exc).__name__}) / 审核进程异常终止",
        )
        return sub


# --- across the batch: the portfolio rules of policies.stacking ---------------------------------------


def _stack_table(subs: list[Submission]) -> tuple[list[str], list[list]]:
    names: list[str] = []
    seen: set[str] = set()
    for sub in subs:
        for name in sub.inputs:
            if name not in seen:
                seen.add(name)
                names.append(name)
    header = ["enterprise", "uscc", "project", "clause", "year", *names]
    rows = [
        [
            sub.enterprise or "",
            sub.uscc or "",
            sub.project or "",
            sub.clause or "",
            sub.year or "",
            *(sub.inputs.get(n, "") for n in names),
        ]
        for sub in subs
    ]
    return header, rows


def _ekey(sub: Submission) -> str:
    return sub.uscc or sub.enterprise or ""


def cross_check(subs: list[Submission]) -> None:
    """The checks across the batch (skipped files left out); should they fail, no submission passes unchecked."""
    subs = [s for s in subs if not s.skipped]
    try:
        _cross_check(subs)
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the files' reviews
        for sub in subs:
            if sub.clause:
                sub.problem(
                    "batch",
                    f"批次 Batch: the checks across submissions could not run ({type(exc).__name__}: {str(exc)[:300]})",
                )
                sub.ok, sub.granted_yuan = False, Decimal("0.00")
    for sub in subs:
        sub.cap()


def _cross_check(subs: list[Submission]) -> None:
    """Duplicates, best clause per project per policy, district conflicts and annual caps across the batch.

    The decisions are ``policies.stacking.stack_rows``'s (the portfolio's own rules): first over every
    submission that names an enterprise, project, clause and year (a duplicate or conflict is a problem
    of each submission involved), then the caps over the submissions that pass, whose grants they share.
    """
    from policies.ledger_rules import BEST_OF_CITES
    from policies.stacking import stack_rows

    candidates = [s for s in subs if s.clause and s.project and s.year and (s.uscc or s.enterprise)]
    if candidates:
        header, rows = _stack_table(candidates)
        result = stack_rows(header, rows, cites=[s.file for s in candidates])  # a rule names the other files
        status, notes = result.column("status"), result.notes
        by_project: dict[tuple, list[int]] = {}
        for i, sub in enumerate(candidates):
            by_project.setdefault((_ekey(sub), sub.year, sub.project), []).append(i)
        for i, sub in enumerate(candidates):
            group = [j for j in by_project[(_ekey(sub), sub.year, sub.project)] if j != i]
            said = "; ".join(n.text for n in notes[i])
            cites = notes[i][0].cites if notes[i] else ""
            if status[i] == "invalid" and notes[i] and notes[i][0].code == "duplicate":
                others = [candidates[j].file for j in group if candidates[j].clause == sub.clause]
                sub.problem(
                    "duplicate",
                    f"重复 Duplicate: project {sub.project} under {sub.clause} in {sub.year} is also submitted "
                    f"in {', '.join(others)} / 同一项目同一条款重复申报",
                    refers_to=others,
                )
            elif status[i] == "conflict":
                others = [f"{candidates[j].clause} ({candidates[j].file})" for j in group if status[j] == "conflict"]
                sub.problem(
                    "conflict",
                    f"冲突 Conflict: project {sub.project} is also claimed under {', '.join(others)}: {said}",
                    cites=cites,
                    refers_to=[candidates[j].file for j in group if status[j] == "conflict"],
                )
            elif status[i] == "duplicate" or (status[i] == "ineligible" and not sub.problems):
                # across years (policies.ledger_rules): a one-off repeated, tongzhou:8's 4th year
                sub.problem(
                    notes[i][0].code if notes[i] else status[i],
                    said,
                    cites=cites,
                    refers_to=[r for n in notes[i] for r in n.refers_to],
                )
            elif status[i] == "superseded":
                others = [candidates[j].file for j in group if candidates[j].clause != sub.clause]
                sub.problem(
                    "superseded",
                    f"{said} (submitted in {sub.file}); the other submission(s): {', '.join(others)}",
                    cites=cites,
                    refers_to=others,
                )
        # the submission a superseded one lost to is involved too
        for i, sub in enumerate(candidates):
            if status[i] not in ("granted", "capped"):
                continue
            policy = compiled(sub.clause).policy.id
            rivals = [
                j
                for j in by_project[(_ekey(sub), sub.year, sub.project)]
                if status[j] == "superseded" and compiled(candidates[j].clause).policy.id == policy
            ]
            if rivals and not compiled(sub.clause).clause.stacks:
                sub.problem(
                    "one_clause_per_project",
                    f"从优 One clause per project: project {sub.project} is also submitted under "
                    f"{', '.join(f'{candidates[j].clause} ({candidates[j].file})' for j in rivals)} in the same policy ({policy}); "
                    f"withdraw the other(s) / 同一项目同一政策只能申报一项",
                    cites=BEST_OF_CITES.get(policy, ""),
                    refers_to=[candidates[j].file for j in rivals],
                )
    passing = [s for s in subs if not s.problems and s.clause and s.year]
    for sub in subs:
        sub.ok = not sub.problems
        if sub.problems and sub.clause:
            sub.granted_yuan = Decimal("0.00")
    if not passing:
        return
    header, rows = _stack_table(passing)
    result = stack_rows(header, rows, cites=[s.file for s in passing])
    for sub, state, granted, notes_ in zip(
        passing, result.column("status"), result.column("granted_yuan"), result.notes
    ):
        amount = granted if granted is not None else sub.recomputed_yuan
        if sub.declared_yuan is not None and amount is not None:
            amount = min(amount, sub.declared_yuan)
        sub.granted_yuan = amount
        if state == "capped":
            first = next(
                (k for k, n in enumerate(notes_) if n.code == "capped"), 0
            )  # what the caps said, and any rule after
            capped = [n for n in notes_ if n.code == "capped"]
            sub.warning(
                "annual_cap",
                f"封顶 Annual cap: granted {amount:,.2f} 元 after the cap (declared {sub.declared_yuan:,.2f} 元): "
                + "; ".join(n.text for n in notes_[first:]),
                cites="; ".join(n.cites for n in capped),
            )


# --- reports ------------------------------------------------------------------------------------------


def summary(subs: list[Submission]) -> dict:
    """Counts and totals; a skipped file (a lock file) is counted as neither passed nor failed."""
    passed = sum(1 for s in subs if s.status == "pass")
    skipped = sum(1 for s in subs if s.status == "skipped")
    refused: dict[str, int] = {}
    for s in subs:
        if s.refused:
            refused[s.refused] = refused.get(s.refused, 0) + 1
    total = lambda attr: sum((getattr(s, attr) or Decimal(0) for s in subs), Decimal(0))  # noqa: E731
    return {
        "submissions": len(subs) - skipped,
        "passed": passed,
        "failed": len(subs) - skipped - passed,
        "skipped": skipped,
        "with_warnings": sum(1 for s in subs if s.warnings),
        "refused_unread": refused,
        "declared_yuan": total("declared_yuan"),
        "recomputed_yuan": total("recomputed_yuan"),
        "granted_yuan": total("granted_yuan"),
    }


def write_json(subs: list[Submission], path: Path, *, overwrite: bool = False) -> Path:
    from .files import write_atomically

    data = (json.dumps([s.report() for s in subs], ensure_ascii=False, indent=2) + "\n").encode(
        "utf-8", "backslashreplace"
    )
    return write_atomically(Path(path), lambda tmp: tmp.write_bytes(data), overwrite=overwrite)


def write_xlsx(subs: list[Submission], path: Path, *, overwrite: bool = False) -> Path:
    """The report for people: a summary sheet first, then one row per submission (problems
    highlighted), with the shared look of ``addin.sheet_style`` (bilingual headers, fitted widths,
    wrapped problems in rows as tall as their text, filter, frozen header, A4 landscape one page wide).
    Files show relative to the folder they share, which the summary names."""
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    from .files import write_atomically
    from .sheet_style import (
        BOLD,
        HEADER_ALIGN,
        HEADER_FILL,
        HEADER_FONT,
        TITLE_FONT,
        Column,
        Sheet,
        cell,
        lines_height,
        print_setup,
        write_table,
    )

    red = PatternFill("solid", fgColor="F8CBAD")
    amber = PatternFill("solid", fgColor="FFE699")
    green = PatternFill("solid", fgColor="C6EFCE")
    grey = PatternFill("solid", fgColor="D9D9D9")
    try:
        folder = os.path.commonpath([os.path.dirname(os.path.abspath(s.file)) for s in subs]) if subs else ""
    except ValueError:  # files on different drives
        folder = ""

    def shown_path(file: str) -> str:
        return os.path.relpath(os.path.abspath(file), folder) if folder else file

    wb = Workbook(write_only=True)
    sm = wb.create_sheet("汇总 Summary")
    print_setup(sm, landscape=False, title_rows=None, title="审核汇总 Review summary", grid=False)
    sm.column_dimensions["A"].width = 34
    sm.column_dimensions["B"].width = 18
    for col in "CD":
        sm.column_dimensions[col].width = 16
    sheet = Sheet(sm)
    info = summary(subs)
    sheet.append([cell(sm, "申报表审核 Review of declarations", font=TITLE_FONT)], 24)
    sheet.append([cell(sm, f"生成日期 Generated {date.today().isoformat()}")])
    if folder:
        sheet.append([cell(sm, "文件夹 Folder", font=BOLD), cell(sm, folder)])
    sheet.append([])
    figures = [
        ("提交 Submissions", info["submissions"], "count"),
        ("通过 Passed", info["passed"], "count"),
        ("不通过 Failed", info["failed"], "count"),
        ("跳过 Skipped (lock and hidden files)", info["skipped"], "count"),
        ("有提示 With warnings", info["with_warnings"], "count"),
        *((f"拒读 Refused unread: {k}", v, "count") for k, v in sorted(info["refused_unread"].items())),
        ("申报合计 Declared (元)", info["declared_yuan"], "money"),
        ("核算合计 Recomputed (元)", info["recomputed_yuan"], "money"),
        ("核定合计 Granted (元)", info["granted_yuan"], "money"),
    ]
    for label, value, kind in figures:
        sheet.append([cell(sm, label, font=BOLD), cell(sm, value, kind)])
    sheet.append([])
    heads = [("条款", "Clause"), ("提交", "Submissions"), ("通过", "Passed"), ("核定（元）", "Granted (yuan)")]
    sheet.append(
        [cell(sm, f"{zh}\n{en}", font=HEADER_FONT, fill=HEADER_FILL, alignment=HEADER_ALIGN) for zh, en in heads],
        lines_height(2),
    )
    clauses: dict[str, list[Submission]] = {}
    for sub in subs:
        if not sub.skipped:
            clauses.setdefault(sub.clause or "(unread)", []).append(sub)
    for clause in sorted(clauses, key=lambda c: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", c)]):
        group = clauses[clause]
        sheet.append(
            [
                cell(sm, clause),
                cell(sm, len(group), "count"),
                cell(sm, sum(1 for s in group if s.ok), "count"),
                cell(sm, sum((s.granted_yuan or Decimal(0) for s in group), Decimal(0)), "money"),
            ]
        )

    ws = wb.create_sheet("审核 Review")
    print_setup(ws, title="申报表审核 Review of declarations")
    columns = [
        Column("文件", "File", "wrap", 34),
        Column("结果", "Result"),
        Column("条款", "Clause"),
        Column("企业", "Enterprise", "wrap", 24),
        Column("申报（元）", "Declared (yuan)", "money"),
        Column("核算（元）", "Recomputed (yuan)", "money"),
        Column("核定（元）", "Granted (yuan)", "money"),
        Column("问题", "Problems", "wrap", 56),
        Column("提示", "Warnings", "wrap", 56),
    ]
    rows = [
        [
            printable(shown_path(s.file)),
            "跳过 skipped" if s.skipped else "通过 pass" if s.ok else "不通过 FAIL",
            s.clause or "",
            printable(s.enterprise or ""),
            s.declared_yuan,
            s.recomputed_yuan,
            s.granted_yuan,
            printable("\n".join(s.problems)),
            printable("\n".join(s.warnings + ([s.skipped] if s.skipped else []))),
        ]
        for s in subs
    ]
    fills = [grey if s.skipped else red if not s.ok else (amber if s.warnings else green) for s in subs]
    write_table(ws, columns, rows, fills=fills, fill_at=1)
    return write_atomically(Path(path), lambda tmp: wb.save(tmp), overwrite=overwrite)


# --- the command --------------------------------------------------------------------------------------


def run_review(
    paths: Sequence[Path],
    *,
    report: Path | None = None,
    json_out: Path | None = None,
    overwrite: bool = False,
    workers: int | None = None,
    executor: Executor | None = None,
    executor_spec: str | None = None,
    console=None,
    ledger: str | None = None,
) -> int:
    """``green-award review``: 0 when every submission passes, 1 when any does not, 2 for a usage error.

    ``ledger`` (or ``GREEN_AWARD_LEDGER``): record the batch and check it against the grants on record."""
    from rich.console import Console
    from rich.markup import escape

    from .files import OutputExistsError

    console = console or Console()
    errors = Console(stderr=True)

    def usage(message: str) -> int:
        errors.print(f"[red]error 错误:[/red] {escape(printable(message))}", highlight=False)
        return 2

    if not paths:
        return usage("give the declarations to review: files or folders / 请指定申报表文件或文件夹")
    for out in (report, json_out):
        if out is not None and out.exists() and not overwrite:
            return usage(f"{display_name(out)} exists; pass --overwrite to replace it / 文件已存在")
    if report is not None and report.suffix.lower() != ".xlsx":
        return usage(f"--report must name an .xlsx file, got {display_name(report)}")
    try:
        files = find_files(paths, exclude=[p for p in (report, json_out) if p is not None])
    except FileNotFoundError as exc:
        return usage(str(exc))
    if not files:
        return usage(f"no files found in {', '.join(map(display_name, paths))} / 未找到申报表")
    from policies import GreenAwardError

    from .ledger.review import open_for_review, record_review

    try:
        book = open_for_review(ledger)  # before the review: a mistyped ledger stops it at once
    except GreenAwardError as exc:
        return usage(str(exc))
    spec = parse_executor(executor_spec)
    with ExitStack() as stack:
        if executor is None and spec.kind == "dask":  # else review_paths makes its pool when it pays
            executor = stack.enter_context(batch_executor(spec, workers, items=len(files), pays_from=1))
        subs = review_with_progress(files, console, executor=executor, workers=workers)
    if book is not None:
        try:
            record_review(book, subs)
        finally:
            book.close()
    print_review(subs, console)
    info = summary(subs)
    try:
        if json_out is not None:
            console.print(
                f"JSON: {escape(display_name(write_json(subs, json_out, overwrite=overwrite)))}", highlight=False
            )
        if report is not None:
            console.print(
                f"报告 Report: {escape(display_name(write_xlsx(subs, report, overwrite=overwrite)))}", highlight=False
            )
    except OutputExistsError as exc:
        return usage(str(exc))
    except OSError as exc:
        return usage(
            f"the report cannot be written: {display_name(exc.filename or '')} {exc.strerror or exc} / 报告无法写入"
        )
    return 0 if info["failed"] == 0 else 1


def review_with_progress(
    files: Sequence[Path], console, *, executor: Executor | None = None, workers: int | None = None
) -> list[Submission]:
    """``review_paths`` with a rich progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("审核 Reviewing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("review", total=len(files))
        return review_paths(
            files,
            executor=executor,
            workers=workers,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def print_review(subs: list[Submission], console, *, flagged_only: bool = False) -> None:
    """A numbered line per submission (only those with a problem or warning if ``flagged_only``), each
    one's first problem or warning in full under the table (it fits 80 columns), then the summary."""
    from rich.markup import escape

    from . import console_tables as tables

    table = tables.table("审核结果 Review" + (": 有问题或提示的 with problems or warnings" if flagged_only else ""))
    tables.figure(table, "#")
    tables.text(table, "文件\nFile")
    tables.name(table, "结果\nResult")
    tables.name(table, "条款\nClause")
    tables.figure(table, "申报（元）\nDeclared")
    tables.figure(table, "核定（元）\nGranted")
    notes = []
    for sub in subs:
        if flagged_only and not (sub.problems or sub.warnings):
            continue
        result = "[green]pass[/green]" if sub.ok else "[red]FAIL[/red]"
        if sub.ok and sub.warnings:
            result = "[yellow]pass*[/yellow]"
        if sub.skipped:
            if flagged_only:
                continue
            result = "[dim]skipped[/dim]"
        number = table.row_count + 1
        table.add_row(
            str(number),
            escape(Path(sub.file).name),
            result,
            escape(sub.clause or "—"),
            tables.yuan(sub.declared_yuan),
            tables.yuan(sub.granted_yuan),
        )
        said = sub.problems or sub.warnings or ([sub.skipped] if sub.skipped else [])
        if said:
            more = f" (+{len(said) - 1} more 另有{len(said) - 1}条, see the report)" if len(said) > 1 else ""
            notes.append(f"{number}. {said[0]}{more}")
    if table.row_count:
        console.print(table)
        for note in notes:
            console.print(note, highlight=False, markup=False)
    info = summary(subs)
    skipped = f", {info['skipped']} skipped (lock or hidden files)" if info["skipped"] else ""
    console.print(
        f"{info['submissions']} submissions: {info['passed']} pass, {info['failed']} fail, {info['with_warnings']} with warnings"
        f"{skipped} (* = pass with a warning, e.g. an annual cap); declared {info['declared_yuan']:,.2f} 元, granted {info['granted_yuan']:,.2f} 元 / "
        f"共{info['submissions']}份，通过{info['passed']}份，不通过{info['failed']}份",
        highlight=False,
    )


def review_demo(folder: Path, console, *, overwrite: bool = False) -> bool:
    """The demo's last step: review the declarations it wrote, print the summary, write ``review.xlsx`` beside
    the folder; True when every one passes."""
    files = find_files([folder])
    if not files:
        console.print(f"审核 Review: no declarations in {folder}", highlight=False)
        return True
    subs = review_with_progress(files, console)
    print_review(subs, console, flagged_only=True)
    path = write_xlsx(subs, Path(folder).parent / "review.xlsx", overwrite=overwrite)
    console.print(f"审核报告 Review report: {path}", highlight=False)
    return all(s.ok for s in subs)
