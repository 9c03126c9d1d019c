"""The checks of a submission's fields and its recomputation: the enterprise fields (credit code, phone,
dates, required fields), the clause's inputs validated with the core's pydantic model, eligibility (every
condition answered 是) and the declared amount (the cached value of ``AWARD``) against the core's
``evaluate`` on the same inputs."""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from policies import GreenAwardError, evaluate
from policies.engine import CompiledClause, condition_checks
from policies.registry import fields
from policies.render import check_line
from policies.uscc import validate_uscc

from ..safe_xlsx import Book, CellError
from .expected import Expected
from .findings import Submission, quote
from .read import as_date, as_text, input_label, name_cell, show

TOLERANCE = Decimal("0.005")  # half a cent: cached values are doubles
#: The enterprise and project fields a submission must fill (common.yaml; the clause's own inputs are the core's).
REQUIRED = {k: f"{f.label.zh} {f.label.en}" for k, f in fields().items() if "review" in f.required}
_PHONE_EXT = re.compile(r"(?:转|ext\.?|x|#)\s*\d{1,6}$", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+?86)?(?:1[3-9]\d{9}|0\d{9,11}|[48]00\d{7})")


def check_fields(values: dict[str, object], expected: Expected, cc: CompiledClause, sub: Submission) -> None:
    """The enterprise and project fields: required ones filled, credit code (GB 32100-2015), phone, year, dates."""
    for key in REQUIRED:
        if key in expected.slots and key not in values and key not in sub.rejected:
            sub.problem(
                "required", f"必填 Required: {expected.field(key)} is blank / 必填项为空", cells=expected.slot(key)
            )
    for key, value in values.items():
        if isinstance(value, CellError):
            sub.problem(
                "invalid",
                f"无效 Invalid: {expected.field(key, input_label(cc, key))} holds the error {value} / 单元格错误",
                cells=expected.slot(key),
            )
    if "uscc" in values and not isinstance(values["uscc"], CellError):
        try:
            sub.uscc = validate_uscc(as_text(values["uscc"]))
        except ValueError as exc:
            sub.problem(
                "invalid",
                f"无效 Invalid: {expected.field('uscc')}: {exc} 〔GB 32100-2015〕",
                cites="GB 32100-2015",
                cells=expected.slot("uscc"),
            )
    if "phone" in values:
        text = as_text(values["phone"])
        digits = re.sub(r"[\s\-()（）]", "", _PHONE_EXT.sub("", text))
        if not _PHONE.fullmatch(digits):
            sub.problem(
                "invalid",
                f"无效 Invalid: {expected.field('phone')}: {quote(text, 40)} is not a mainland China phone "
                "number (mobile 1xxxxxxxxxx or landline 0xx-xxxxxxxx) / 电话号码格式不正确",
                cells=expected.slot("phone"),
            )
    if "year" in values and sub.year is None:
        sub.problem(
            "invalid",
            f"无效 Invalid: {expected.field('year')}: must be a year such as 2025, got {show(values['year'])} "
            "/ 年度须为四位年份",
            cells=expected.slot("year"),
        )
    days: dict[str, date] = {}
    for key in (k for k, f in fields().items() if f.kind == "date"):
        if key in values and not isinstance(values[key], CellError):
            try:
                day = as_date(values[key])
            except ValueError as exc:
                sub.problem("invalid", f"无效 Invalid: {expected.field(key)}: {exc}", cells=expected.slot(key))
                continue
            if not 2000 <= day.year <= 2100:
                sub.problem(
                    "invalid",
                    f"无效 Invalid: {expected.field(key)}: {day} is not a plausible date / 日期不合理",
                    cells=expected.slot(key),
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
            f"必填 Required: {expected.field('start_date')} is blank (a two-instalment clause pays its first "
            "half on start) / 必填项为空",
            cites=cc.schedule.cites,
            cells=expected.slot("start_date"),
        )
    if len(days) == 2 and days["completion_date"] < days["start_date"]:
        sub.problem(
            "invalid",
            f"无效 Invalid: {expected.field('completion_date')} {days['completion_date']} is before the start "
            f"date {days['start_date']} / 完工日期早于开工日期",
            cells=expected.slot("start_date") + expected.slot("completion_date"),
        )


def check_amount(
    book: Book, expected: Expected, cc: CompiledClause, values: dict[str, object], sub: Submission
) -> None:
    """Validate the clause's inputs with the core's model, recompute, check eligibility and the declared amount.

    Eligibility is the core's checks (``Award.checks``; before the amount, ``condition_checks``): a reviewer
    requires each condition answered 是 (yes) unless the clause waives it; any other failed check is a
    problem, a threshold fact left blank (assumed) a warning."""
    article = cc.clause.article
    raw: dict[str, Any] = {
        name: values[name] for name in cc.specs if name in values and not isinstance(values[name], CellError)
    }
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
            where = expected.field(name, input_label(cc, name)) if name in expected.slots else name
            sub.problem(
                "invalid", f"无效 Invalid: {where}: {message} 〔{article}〕", cites=article, cells=expected.slot(name)
            )
    else:
        coerced = {k: v for k, v in validated.__dict__.items() if v is not None}
    # every condition answered 是 (yes), unless the clause waives it for these inputs
    if valid:
        for check in condition_checks(cc, coerced):
            name = check.name
            if check.status in ("passed", "waived") or name in sub.rejected:
                continue
            where = expected.field(name, f"条件 Condition {check.subject.zh} / {check.subject.en} ({name})")
            if check.status == "assumed":
                sub.problem(
                    "eligibility",
                    f"资格 Eligibility: {where} is not answered; a reviewer requires 是 (yes) 〔{check.cites}〕 "
                    "/ 申报条件未作答",
                    cites=check.cites,
                    cells=expected.slot(name),
                )
            else:
                sub.problem(
                    "eligibility",
                    f"资格 Eligibility: {where} is answered 否 (no): not eligible 〔{check.cites}〕 / 不符合申报条件",
                    cites=check.cites,
                    cells=expected.slot(name),
                )
    # the declared amount: the cached value of AWARD
    cell = name_cell(book, "AWARD")
    award_cell = [expected.cell(*expected.award)]
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
            f"申报金额 Declared amount: AWARD holds {show(cell.value)}, not an amount / 申报金额不是数字",
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
        input_name = getattr(exc, "field", None)
        if input_name in sub.rejected:
            return  # reported with its cell already
        if rule and input_name in expected.slots:
            sub.problem(
                "invalid",
                f"无效 Invalid: {expected.field(input_name, input_label(cc, input_name))}: {rule} 〔{article}〕",
                cites=article,
                cells=expected.slot(input_name),
            )
        elif rule and input_name:
            sub.problem("invalid", f"无效 Invalid: {input_label(cc, input_name)}: {rule} 〔{article}〕", cites=article)
        else:
            sub.problem("invalid", f"无效 Invalid: {exc}")
        return
    sub.recomputed_yuan = award.amount
    for check in award.checks:
        if check.kind in ("condition", "excluded"):
            continue  # reported above, with its cell
        cells = (
            expected.slot("zone") if check.kind == "zone" else expected.slot("year") if check.kind == "validity" else []
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
