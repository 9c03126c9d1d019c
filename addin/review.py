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
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

from pydantic import ValidationError

from policies import GreenAwardError, evaluate
from policies.engine import compiled
from policies.expr import Context, MissingName
from policies.inputs import is_blank
from policies.uscc import validate_uscc
from policies.years import parse_year

from .review_formula import expand_sqref, normalise
from .safe_xlsx import DEFAULT_LIMITS, Book, Cell, CellError, Limits, UnsafeWorkbook, read_book

Progress = Callable[[int, int], None]

EXTENSIONS = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls")
META_SHEET = "meta"
TOLERANCE = Decimal("0.005")  # half a cent: cached values are doubles
_EPOCH = date(1899, 12, 30)

#: The enterprise and project fields a submission must fill (the clause's own inputs are the core's).
REQUIRED = {
    "enterprise": "企业名称 Enterprise name",
    "uscc": "统一社会信用代码 Unified social credit code",
    "address": "注册地址 Address",
    "contact": "联系人 Contact",
    "phone": "联系电话 Phone",
    "project": "项目编号 Project id",
    "project_name": "项目名称 Project name",
    "year": "申报年度 Claim year",
    "zone": "所在区域 Zone",
}
FIELD_LABELS = {
    **REQUIRED,
    "start_date": "开工日期 Start date",
    "completion_date": "完工日期 Completion date",
    "total_incl_tax_yuan": "含税项目总投资 Tax-inclusive total investment",
    "paid_incl_tax_yuan": "含税实际支付金额 Tax-inclusive amount paid",
    "granted_note": "组合测算核定 Granted in the portfolio",
}
_PHONE_EXT = re.compile(r"(?:转|ext\.?|x|#)\s*\d{1,6}$", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+?86)?(?:1[3-9]\d{9}|0\d{9,11}|[48]00\d{7})")


# --- one submission's result --------------------------------------------------------------------------


@dataclass
class Submission:
    """What the review found in one file (the JSON report's object, plus what the batch checks use)."""

    file: str
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    declared_yuan: Decimal | None = None
    recomputed_yuan: Decimal | None = None
    granted_yuan: Decimal | None = None
    clause: str | None = None
    enterprise: str | None = None
    # for the checks across the batch
    uscc: str | None = None
    project: str | None = None
    year: int | None = None
    inputs: dict[str, object] = field(default_factory=dict)
    refused: str | None = None  # the guard's kind when the file was not read (zip_bomb, xml_bomb, not_xlsx, ...)
    ledger_id: int | None = None  # its id in the ledger (review --ledger; addin.ledger.review)

    def report(self) -> dict:
        """The JSON report's object."""
        def money(v: Decimal | None) -> float | None:
            return None if v is None else float(v)

        ledger = {} if self.ledger_id is None else {"ledger_id": self.ledger_id}
        return {
            **ledger,
            "file": self.file,
            "ok": self.ok,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
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


def _validation_key(kind: str | None, operator: str | None, f1: str | None, f2: str | None) -> tuple:
    kind = (kind or "none").lower()
    if kind in ("whole", "decimal", "date", "time", "textlength"):
        operator = operator or "between"
    else:
        operator = None
    if operator not in ("between", "notBetween"):
        f2 = None  # meaningless with one bound; LibreOffice writes a 0 there
    return (kind, operator, normalise(f1) if f1 else None, normalise(f2) if f2 else None)


@lru_cache(maxsize=None)
def expected_content(clause_id: str) -> Expected:
    """Regenerate the clause's template in memory and keep what a submission must not change."""
    from .declaration_template import TEMPLATE_VERSION, build_cached

    cc = compiled(clause_id)
    wb, layout = build_cached(cc.id)
    cells: dict[tuple[int, str], tuple[str, object]] = {}
    captions: dict[tuple[int, str], str] = {}
    validations: dict[int, dict[str, tuple]] = {}
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
        for (s2, ref) in [*slot_cells, *cells]:
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
    names = {name: normalise(dn.attr_text) for name, dn in wb.defined_names.items()}
    award = layout.formulas["award"]
    return Expected(cc.id, TEMPLATE_VERSION, cc.policy.encoding_version, sheets, cells, dict(layout.slots),
                    slot_cells, names, validations, award, captions)


# --- reading values -----------------------------------------------------------------------------------


def _show(value: object) -> str:
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f") if math.isfinite(value) else repr(value)
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
        if not value.is_integer() or not 1 <= value < 2958466:
            raise ValueError(f"must be a date (YYYY-MM-DD), got {_show(value)} / 须为日期")
        return _EPOCH + timedelta(days=int(value))
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


def review_file(path: str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> Submission:
    """Review one submission; never raises for what is in the file (every finding is a problem)."""
    sub = Submission(file=str(path))
    try:
        book = read_book(path, limits)
    except UnsafeWorkbook as exc:
        sub.refused = exc.kind
        what = {
            "zip_bomb": "refused before inflating (zip bomb guard)",
            "xml_bomb": "refused before parsing (XML bomb / external entity guard)",
            "too_large": "refused (too large)",
            "not_xlsx": "not a declaration workbook",
            "damaged": "damaged file",
            "xml": "damaged workbook XML",
        }.get(exc.kind, exc.kind)
        sub.problems.append(f"文件 File: {what}: {exc} / 文件无法安全读取")
        return sub
    except OSError as exc:
        sub.refused = "unreadable"
        sub.problems.append(f"文件 File: cannot be read: {exc}")
        return sub
    try:
        _review_book(book, sub)
    except Exception as exc:  # noqa: BLE001 - a file we did not foresee is a problem of that file, never the batch's end
        sub.problems.append(f"审核 Review: the workbook could not be reviewed ({type(exc).__name__}: {exc})")
    sub.ok = not sub.problems
    return sub


def _review_book(book: Book, sub: Submission) -> None:
    meta_sheet = book.sheet(META_SHEET)
    if meta_sheet is None:
        sub.problems.append(
            "模板 Template: not a green-award declaration: no metadata sheet 'meta' (template and policy versions) / 非本系统生成的申报表")
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
        sub.problems.append(f"模板 Template: meta!clause_id {clause_id!r}: {exc}")
        return
    sub.clause = cc.id
    if cc.amount is None:
        sub.problems.append(f"模板 Template: {cc.id} is a non-monetary article; it has no declaration / 非资金支持条款")
        return
    expected = expected_content(cc.id)
    version = meta.get("template_version", "")
    if version != expected.version:
        older = version.isdigit() and expected.version.isdigit() and int(version) < int(expected.version)
        sub.problems.append(
            f"模板 Template: version {version or '(none)'!r} is {'outdated' if older else 'unknown'}; "
            f"this reviewer checks version {expected.version} of {cc.id}: regenerate the declaration / 模板版本{'过期' if older else '未知'}")
        _identify(book, expected, sub)
        return
    policy_version = meta.get("policy_encoding_version", "")
    if policy_version != expected.policy_version:
        sub.problems.append(
            f"模板 Template: policy data version {policy_version or '(none)'!r} of {cc.policy.id} is outdated or unknown; "
            f"current is {expected.policy_version}: regenerate the declaration / 政策版本不符")
    _compare(book, expected, sub)
    values = _identify(book, expected, sub)
    _fields(values, expected, cc, sub)
    _amount(book, expected, cc, values, sub)


def _where(expected: Expected, s: int, ref: str) -> str:
    title = expected.sheets[s][0] if s < len(expected.sheets) else f"sheet {s + 1}"
    caption = expected.captions.get((s, ref))
    return f"{title}!{ref}" + (f" ({caption})" if caption else "")


def _compare(book: Book, expected: Expected, sub: Submission) -> None:
    """Generator-owned content: sheets, labels, formulas, names, validation."""
    problems, warnings = sub.problems, sub.warnings
    got_sheets = []
    for s, (title, state) in enumerate(expected.sheets):
        sheet = book.sheet(title)
        got_sheets.append(sheet)
        if sheet is None:
            problems.append(f"篡改 Tampered: sheet {title!r} is missing or renamed / 工作表缺失")
        elif state != "visible" and sheet.state == "visible":
            warnings.append(f"sheet {title!r} was unhidden")
    titles = {t for t, _ in expected.sheets}
    for sheet in book.sheets:
        if sheet.name not in titles:
            warnings.append(f"sheet {sheet.name!r} is not part of the template (ignored)")
    for (s, ref), (kind, want) in expected.cells.items():
        sheet = got_sheets[s]
        if sheet is None:
            continue
        cell = sheet.cells.get(ref)
        where = _where(expected, s, ref)
        if kind == "f":
            if cell is None or cell.formula is None:
                if cell is not None and cell.value is not None:
                    problems.append(f"篡改 Tampered: {where}: the formula was replaced by the constant {_show(cell.value)} "
                                    f"(the template computes ={want}) / 公式被替换为常数")
                else:
                    problems.append(f"篡改 Tampered: {where}: the formula was removed (the template computes ={want}) / 公式被删除")
            else:
                got = normalise(cell.formula)
                if got != want:
                    problems.append(f"篡改 Tampered: {where}: the formula was edited: ={cell.formula} "
                                    f"(the template computes ={want}) / 公式被修改")
        else:
            got = None if cell is None else cell.value
            if cell is not None and cell.formula is not None:
                problems.append(f"篡改 Tampered: {where}: the label {_show(want)} was replaced by the formula ={cell.formula} / 标签被修改")
            elif not _same(want, got):
                problems.append(f"篡改 Tampered: {where}: the label was edited: {_show(got) if got is not None else '(blank)'} "
                                f"instead of {_show(want)} / 标签被修改")
    for s, sheet in enumerate(got_sheets):
        if sheet is None:
            continue
        extra = [ref for ref, cell in sheet.cells.items()
                 if (s, ref) not in expected.cells and (s, ref) not in expected.slot_cells
                 and (cell.formula is not None or (cell.value is not None and cell.value != ""))]
        if extra:
            shown = ", ".join(sorted(extra)[:5]) + (" …" if len(extra) > 5 else "")
            warnings.append(f"{expected.sheets[s][0]}: {len(extra)} cell(s) outside the template filled ({shown}); ignored")
    # defined names: the template's must point where the generator put them; none may shadow them
    got_names = {}
    for (name, local), text in book.names.items():
        if name.startswith("_xlnm.") or name.startswith("_xleta."):
            continue
        if local is not None:
            if name.casefold() in {n.casefold() for n in expected.names}:
                problems.append(f"篡改 Tampered: defined name {name} is redefined for one sheet (it would shadow the template's) / 名称被覆盖")
            continue
        got_names[name.casefold()] = (name, text)
    for name, want in expected.names.items():
        found = got_names.pop(name.casefold(), None)
        if found is None:
            problems.append(f"篡改 Tampered: defined name {name} is missing / 名称缺失")
        elif normalise(found[1]) != want:
            problems.append(f"篡改 Tampered: defined name {name} points to {found[1]} (the template: {want}) / 名称被修改")
    for name, _ in got_names.values():
        warnings.append(f"defined name {name} is not part of the template (ignored)")
    # data validation of each cell
    for s, sheet in enumerate(got_sheets):
        if sheet is None:
            continue
        want = expected.validations.get(s, {})
        got: dict[str, tuple] = {}
        for dv in sheet.validations:
            cells = expand_sqref(dv["sqref"], DEFAULT_LIMITS.max_validation_cells)
            if cells is None:
                problems.append(f"篡改 Tampered: {expected.sheets[s][0]}: a data validation covers too many cells ({dv['sqref'][:40]})")
                continue
            key = _validation_key(dv["type"], dv["operator"], dv["formula1"], dv["formula2"])
            for ref in cells:
                got[ref] = key
        for ref in sorted(set(want) | set(got)):
            if want.get(ref) != got.get(ref):
                w, g = want.get(ref), got.get(ref)
                what = "removed" if g is None else ("added" if w is None else f"changed to {g[0]} {g[1] or ''} {g[2] or ''} {g[3] or ''}".rstrip())
                problems.append(f"篡改 Tampered: {_where(expected, s, ref)}: the data validation was {what} / 数据验证被修改")


def _same(want: object, got: object) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(float(want), float(got), rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(want, (int, float)) and isinstance(got, str):  # a number re-saved as text is an edit too
        return False
    return want == got


def _identify(book: Book, expected: Expected, sub: Submission) -> dict[str, object]:
    """The values of the cells a declaration fills, by slot key; enterprise and project noted on ``sub``."""
    values: dict[str, object] = {}
    for key, (s, ref, kind) in expected.slots.items():
        title = expected.sheets[s][0]
        sheet = book.sheet(title)
        cell = sheet.cells.get(ref) if sheet else None
        if cell is None:
            continue
        value = cell.value
        if cell.formula is not None and key != "granted_note":
            sub.warnings.append(f"{title}!{ref} {key}: holds the formula ={cell.formula}; its cached value {_show(value) if value is not None else '(none)'} is used")
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


def _fields(values: dict[str, object], expected: Expected, cc, sub: Submission) -> None:
    problems = sub.problems
    for key, label in REQUIRED.items():
        if key in expected.slots and key not in values:
            problems.append(f"必填 Required: {_field(expected, key)} is blank / 必填项为空")
    for key, value in values.items():
        if isinstance(value, CellError):
            problems.append(f"无效 Invalid: {_field(expected, key, _label(cc, key))} holds the error {value} / 单元格错误")
    if "uscc" in values and not isinstance(values["uscc"], CellError):
        try:
            sub.uscc = validate_uscc(_as_text(values["uscc"]))
        except ValueError as exc:
            problems.append(f"无效 Invalid: {_field(expected, 'uscc')}: {exc} 〔GB 32100-2015〕")
    if "phone" in values:
        text = _as_text(values["phone"])
        digits = re.sub(r"[\s\-()（）]", "", _PHONE_EXT.sub("", text))
        if not _PHONE.fullmatch(digits):
            problems.append(f"无效 Invalid: {_field(expected, 'phone')}: {text!r} is not a mainland China phone number "
                            "(mobile 1xxxxxxxxxx or landline 0xx-xxxxxxxx) / 电话号码格式不正确")
    if "year" in values and sub.year is None:
        problems.append(f"无效 Invalid: {_field(expected, 'year')}: must be a year such as 2025, got {_show(values['year'])} / 年度须为四位年份")
    days: dict[str, date] = {}
    for key in ("start_date", "completion_date"):
        if key in values and not isinstance(values[key], CellError):
            try:
                day = _as_date(values[key])
            except ValueError as exc:
                problems.append(f"无效 Invalid: {_field(expected, key)}: {exc}")
                continue
            if not 2000 <= day.year <= 2100:
                problems.append(f"无效 Invalid: {_field(expected, key)}: {day} is not a plausible date / 日期不合理")
            days[key] = day
    if "start_date" in expected.slots and cc.schedule.inputs and "start_date" not in values:
        problems.append(f"必填 Required: {_field(expected, 'start_date')} is blank (a two-instalment clause pays its first half on start) / 必填项为空")
    if len(days) == 2 and days["completion_date"] < days["start_date"]:
        problems.append(f"无效 Invalid: {_field(expected, 'completion_date')} {days['completion_date']} is before the start date {days['start_date']} / 完工日期早于开工日期")


def _label(cc, name: str) -> str:
    spec = cc.specs.get(name)
    if spec is not None:
        return f"{spec.label.zh} {spec.label.en} ({name})"
    return FIELD_LABELS.get(name, name)


def _amount(book: Book, expected: Expected, cc, values: dict[str, object], sub: Submission) -> None:
    """Validate the clause's inputs with the core's model, recompute, check eligibility and the declared amount."""
    problems, warnings = sub.problems, sub.warnings
    raw = {name: values[name] for name in cc.specs if name in values and not isinstance(values[name], CellError)}
    sub.inputs = dict(raw)
    valid = True
    try:
        validated = cc.model.__pydantic_validator__.validate_python(raw)
    except ValidationError as exc:
        valid = False
        for error in exc.errors(include_url=False):
            name = ".".join(str(p) for p in error["loc"]) or "?"
            message = error["msg"].removeprefix("Value error, ")
            where = _field(expected, name, _label(cc, name)) if name in expected.slots else name
            problems.append(f"无效 Invalid: {where}: {message} 〔{cc.clause.article}〕")
    else:
        coerced = {k: v for k, v in validated.__dict__.items() if v is not None}
    # every condition answered 是 (yes), unless the clause waives it for these inputs
    if valid:
        ctx = Context({**cc.parameters, **cc.defaults, **coerced})
        for name, condition in cc.conditions.items():
            answer = coerced.get(name)
            if answer is True:
                continue
            waiver = cc.waive.get(name)
            if waiver is not None:
                try:
                    if waiver[0](ctx):
                        continue
                except MissingName:
                    pass
            where = _field(expected, name, f"条件 Condition {condition.label.zh} / {condition.label.en} ({name})")
            if answer is None:
                problems.append(f"资格 Eligibility: {where} is not answered; a reviewer requires 是 (yes) 〔{condition.cites}〕 / 申报条件未作答")
            else:
                problems.append(f"资格 Eligibility: {where} is answered 否 (no): not eligible 〔{condition.cites}〕 / 不符合申报条件")
    # the declared amount: the cached value of AWARD
    cell = _name_cell(book, expected, "AWARD")
    if cell is None:
        s, ref = expected.award
        sheet = book.sheet(expected.sheets[s][0])
        cell = sheet.cells.get(ref) if sheet else None
    declared = None
    if cell is None or cell.value is None or cell.value == "":
        problems.append("申报金额 Declared amount: AWARD has no cached value: the file was never calculated "
                        "(open it in Excel or LibreOffice and save) / 申报金额无计算结果")
    elif isinstance(cell.value, bool) or not isinstance(cell.value, float):
        problems.append(f"申报金额 Declared amount: AWARD holds {_show(cell.value)}, not an amount / 申报金额不是数字")
    elif not math.isfinite(cell.value):
        problems.append(f"申报金额 Declared amount: AWARD holds {cell.value!r} / 申报金额不是数字")
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
        if rule and name in expected.slots:
            problems.append(f"无效 Invalid: {_field(expected, name, _label(cc, name))}: {rule} 〔{cc.clause.article}〕")
        elif rule and name:
            problems.append(f"无效 Invalid: {_label(cc, name)}: {rule} 〔{cc.clause.article}〕")
        else:
            problems.append(f"无效 Invalid: {exc}")
        return
    sub.recomputed_yuan = award.amount
    for reason in award.reasons:
        if "条件不满足" in reason and any(cc.condition_texts[n][1] == reason for n in cc.conditions):
            continue  # already reported with its cell
        problems.append(f"资格 Eligibility: not eligible: {reason} / 不符合条件")
    for note in award.notes:
        if note.startswith("假定满足 Assumed") and not any(note == cc.condition_texts[n][0] for n in cc.conditions):
            warnings.append(f"{note} (a threshold fact left blank)")
    if declared is not None:
        if declared - award.amount > TOLERANCE:
            problems.append(
                f"申报金额 Declared amount: {declared:,.2f} 元 is above what the inputs allow, {award.amount:,.2f} 元 "
                f"(recomputed by the core, {cc.id} 〔{cc.clause.article}〕) / 申报金额超过按填报数据核算的金额")
        elif award.amount - declared > TOLERANCE:
            warnings.append(
                f"申报金额 Declared amount: {declared:,.2f} 元 is below what the inputs allow, {award.amount:,.2f} 元 "
                f"(the cached value is stale or lowered; the lower amount is the one granted)")


# --- the batch ----------------------------------------------------------------------------------------


def find_files(paths: Iterable[str | os.PathLike], exclude: Iterable[Path] = ()) -> list[Path]:
    """Files given, and the workbooks (by extension) inside folders given, sorted; FileNotFoundError if a path is missing."""
    skip = {Path(p).resolve() for p in exclude}
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if (found.is_file() and found.suffix.lower() in EXTENSIONS and not found.name.startswith((".", "~$"))
                        and found.resolve() not in skip):
                    out.append(found)
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder / 路径不存在")
    seen, unique = set(), []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _review_chunk(paths: Sequence[str], limits: Limits) -> list[Submission]:
    return [review_file(p, limits) for p in paths]


def default_executor(workers: int | None = None) -> Executor:
    from policies.pool import process_pool

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
) -> list[Submission]:
    """Review every file (over ``executor``, a process pool by default), then the checks across the batch."""
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
            futures = [executor.submit(_review_chunk, files[i:i + size], limits) for i in range(0, total, size)]
            for future in futures:
                out.extend(future.result())
                if progress:
                    progress(len(out), total)
    finally:
        if own is not None:
            own.shutdown()
    cross_check(out)
    return out


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
    rows = [[sub.enterprise or "", sub.uscc or "", sub.project or "", sub.clause or "", sub.year or "",
             *(sub.inputs.get(n, "") for n in names)] for sub in subs]
    return header, rows


def _ekey(sub: Submission) -> str:
    return sub.uscc or sub.enterprise or ""


def cross_check(subs: list[Submission]) -> None:
    """The checks across the batch; should they fail, no submission passes unchecked."""
    try:
        _cross_check(subs)
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the files' reviews
        for sub in subs:
            if sub.clause:
                sub.problems.append(f"批次 Batch: the checks across submissions could not run ({type(exc).__name__}: {exc})")
                sub.ok, sub.granted_yuan = False, Decimal("0.00")


def _cross_check(subs: list[Submission]) -> None:
    """Duplicates, best clause per project per policy, district conflicts and annual caps across the batch.

    The decisions are ``policies.stacking.stack_rows``'s (the portfolio's own rules): first over every
    submission that names an enterprise, project, clause and year (a duplicate or conflict is a problem
    of each submission involved), then the caps over the submissions that pass, whose grants they share.
    """
    from policies.stacking import stack_rows

    candidates = [s for s in subs if s.clause and s.project and s.year and (s.uscc or s.enterprise)]
    if candidates:
        header, rows = _stack_table(candidates)
        result = stack_rows(header, rows)
        status, notes = result.column("status"), result.column("note")
        by_project: dict[tuple, list[int]] = {}
        for i, sub in enumerate(candidates):
            by_project.setdefault((_ekey(sub), sub.year, sub.project), []).append(i)
        for i, sub in enumerate(candidates):
            group = [j for j in by_project[(_ekey(sub), sub.year, sub.project)] if j != i]
            if status[i] == "invalid" and "duplicate" in (notes[i] or ""):
                others = [candidates[j].file for j in group if candidates[j].clause == sub.clause]
                sub.problems.append(f"重复 Duplicate: project {sub.project} under {sub.clause} in {sub.year} is also submitted in "
                                    f"{', '.join(others)} / 同一项目同一条款重复申报")
            elif status[i] == "conflict":
                others = [f"{candidates[j].clause} ({candidates[j].file})" for j in group if status[j] == "conflict"]
                sub.problems.append(f"冲突 Conflict: project {sub.project} is also claimed under {', '.join(others)}: "
                                    f"{notes[i]}")
            elif status[i] == "duplicate" or (status[i] == "ineligible" and not sub.problems):
                sub.problems.append(notes[i])  # across years (policies.ledger_rules): a one-off repeated, tongzhou:8's 4th year
            elif status[i] == "superseded":
                sub.problems.append(f"{notes[i]} (submitted in {sub.file}); the other submission(s): "
                                    f"{', '.join(candidates[j].file for j in group if candidates[j].clause != sub.clause)}")
        # the submission a superseded one lost to is involved too
        for i, sub in enumerate(candidates):
            if status[i] not in ("granted", "capped"):
                continue
            policy = compiled(sub.clause).policy.id
            rivals = [j for j in by_project[(_ekey(sub), sub.year, sub.project)]
                      if status[j] == "superseded" and compiled(candidates[j].clause).policy.id == policy]
            if rivals and not compiled(sub.clause).clause.stacks:
                sub.problems.append(
                    f"从优 One clause per project: project {sub.project} is also submitted under "
                    f"{', '.join(f'{candidates[j].clause} ({candidates[j].file})' for j in rivals)} in the same policy ({policy}); "
                    f"withdraw the other(s) / 同一项目同一政策只能申报一项")
    passing = [s for s in subs if not s.problems and s.clause and s.year]
    for sub in subs:
        sub.ok = not sub.problems
        if sub.problems and sub.clause:
            sub.granted_yuan = Decimal("0.00")
    if not passing:
        return
    header, rows = _stack_table(passing)
    result = stack_rows(header, rows)
    for sub, state, granted, note in zip(passing, result.column("status"), result.column("granted_yuan"), result.column("note")):
        amount = granted if granted is not None else sub.recomputed_yuan
        if sub.declared_yuan is not None and amount is not None:
            amount = min(amount, sub.declared_yuan)
        sub.granted_yuan = amount
        if state == "capped":
            text = note or ""
            at = text.find("封顶 Capped")
            sub.warnings.append(f"封顶 Annual cap: granted {amount:,.2f} 元 after the cap (declared {sub.declared_yuan:,.2f} 元): "
                                + (text[at:] if at >= 0 else text))


# --- reports ------------------------------------------------------------------------------------------


def summary(subs: list[Submission]) -> dict:
    passed = sum(1 for s in subs if s.ok)
    refused: dict[str, int] = {}
    for s in subs:
        if s.refused:
            refused[s.refused] = refused.get(s.refused, 0) + 1
    total = lambda attr: sum((getattr(s, attr) or Decimal(0) for s in subs), Decimal(0))  # noqa: E731
    return {
        "submissions": len(subs),
        "passed": passed,
        "failed": len(subs) - passed,
        "with_warnings": sum(1 for s in subs if s.warnings),
        "refused_unread": refused,
        "declared_yuan": total("declared_yuan"),
        "recomputed_yuan": total("recomputed_yuan"),
        "granted_yuan": total("granted_yuan"),
    }


def write_json(subs: list[Submission], path: Path, *, overwrite: bool = False) -> Path:
    from .files import write_atomically

    text = json.dumps([s.report() for s in subs], ensure_ascii=False, indent=2)
    return write_atomically(Path(path), lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"), overwrite=overwrite)


def write_xlsx(subs: list[Submission], path: Path, *, overwrite: bool = False) -> Path:
    """The report for people: a summary sheet first, then one row per submission (problems
    highlighted), with the shared look of ``addin.sheet_style`` (bilingual headers, fitted widths,
    wrapped problems in rows as tall as their text, filter, frozen header, A4 landscape one page wide).
    Files show relative to the folder they share, which the summary names."""
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    from .files import write_atomically
    from .sheet_style import (BOLD, HEADER_ALIGN, HEADER_FILL, HEADER_FONT, TITLE_FONT, Column, Sheet, cell,
                              lines_height, print_setup, write_table)

    red = PatternFill("solid", fgColor="F8CBAD")
    amber = PatternFill("solid", fgColor="FFE699")
    green = PatternFill("solid", fgColor="C6EFCE")
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
    sheet.append([cell(sm, f"{zh}\n{en}", font=HEADER_FONT, fill=HEADER_FILL, alignment=HEADER_ALIGN) for zh, en in heads],
                 lines_height(2))
    clauses: dict[str, list[Submission]] = {}
    for sub in subs:
        clauses.setdefault(sub.clause or "(unread)", []).append(sub)
    for clause in sorted(clauses, key=lambda c: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", c)]):
        group = clauses[clause]
        sheet.append([cell(sm, clause), cell(sm, len(group), "count"), cell(sm, sum(1 for s in group if s.ok), "count"),
                      cell(sm, sum((s.granted_yuan or Decimal(0) for s in group), Decimal(0)), "money")])

    ws = wb.create_sheet("审核 Review")
    print_setup(ws, title="申报表审核 Review of declarations")
    columns = [Column("文件", "File", "wrap", 34), Column("结果", "Result"), Column("条款", "Clause"),
               Column("企业", "Enterprise", "wrap", 24), Column("申报（元）", "Declared (yuan)", "money"),
               Column("核算（元）", "Recomputed (yuan)", "money"), Column("核定（元）", "Granted (yuan)", "money"),
               Column("问题", "Problems", "wrap", 56), Column("提示", "Warnings", "wrap", 56)]
    rows = [[shown_path(s.file), "通过 pass" if s.ok else "不通过 FAIL", s.clause or "", s.enterprise or "",
             s.declared_yuan, s.recomputed_yuan, s.granted_yuan, "\n".join(s.problems), "\n".join(s.warnings)]
            for s in subs]
    fills = [red if not s.ok else (amber if s.warnings else green) for s in subs]
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
    console=None,
    ledger: str | None = None,
) -> int:
    """``green-award review``: 0 when every submission passes, 1 when any does not, 2 for a usage error.

    ``ledger`` (or ``GREEN_AWARD_LEDGER``): record the batch and check it against the grants on record."""
    from rich.console import Console

    from .files import OutputExistsError

    console = console or Console()
    errors = Console(stderr=True)

    def usage(message: str) -> int:
        errors.print(f"[red]error 错误:[/red] {message}", highlight=False)
        return 2

    if not paths:
        return usage("give the declarations to review: files or folders / 请指定申报表文件或文件夹")
    for out in (report, json_out):
        if out is not None and out.exists() and not overwrite:
            return usage(f"{out} exists; pass --overwrite to replace it / 文件已存在")
    if report is not None and report.suffix.lower() != ".xlsx":
        return usage(f"--report must name an .xlsx file, got {report}")
    try:
        files = find_files(paths, exclude=[p for p in (report, json_out) if p is not None])
    except FileNotFoundError as exc:
        return usage(str(exc))
    if not files:
        return usage(f"no workbooks ({', '.join(EXTENSIONS)}) found in {', '.join(map(str, paths))} / 未找到申报表")
    from .ledger.review import open_for_review, record_review
    from policies import GreenAwardError

    try:
        book = open_for_review(ledger)  # before the review: a mistyped ledger stops it at once
    except GreenAwardError as exc:
        return usage(str(exc))
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
            console.print(f"JSON: {write_json(subs, json_out, overwrite=overwrite)}", highlight=False)
        if report is not None:
            console.print(f"报告 Report: {write_xlsx(subs, report, overwrite=overwrite)}", highlight=False)
    except OutputExistsError as exc:
        return usage(str(exc))
    return 0 if info["failed"] == 0 else 1


def review_with_progress(files: Sequence[Path], console, *, executor: Executor | None = None,
                         workers: int | None = None) -> list[Submission]:
    """``review_paths`` with a rich progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("审核 Reviewing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("review", total=len(files))
        return review_paths(files, executor=executor, workers=workers,
                            progress=lambda done, total: bar.update(task, completed=done, total=total))


def print_review(subs: list[Submission], console, *, flagged_only: bool = False) -> None:
    """A numbered line per submission (only those with a problem or warning if ``flagged_only``), each
    one's first problem or warning in full under the table (it fits 80 columns), then the summary."""
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
        number = table.row_count + 1
        table.add_row(str(number), Path(sub.file).name, result, sub.clause or "—", tables.yuan(sub.declared_yuan),
                      tables.yuan(sub.granted_yuan))
        said = sub.problems or sub.warnings
        if said:
            more = f" (+{len(said) - 1} more 另有{len(said) - 1}条, see the report)" if len(said) > 1 else ""
            notes.append(f"{number}. {said[0]}{more}")
    if table.row_count:
        console.print(table)
        for note in notes:
            console.print(note, highlight=False, markup=False)
    info = summary(subs)
    console.print(
        f"{info['submissions']} submissions: {info['passed']} pass, {info['failed']} fail, {info['with_warnings']} with warnings "
        f"(* = pass with a warning, e.g. an annual cap); declared {info['declared_yuan']:,.2f} 元, granted {info['granted_yuan']:,.2f} 元 / "
        f"共{info['submissions']}份，通过{info['passed']}份，不通过{info['failed']}份", highlight=False)


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
