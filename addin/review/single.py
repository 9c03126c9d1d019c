"""One submission reviewed (``review_file``): read defensively, its template recognised from the hidden
``meta`` sheet (template and policy versions, clause), then conformance, the fields and the recomputation.
Whatever one file does is that file's problem: this never raises for what is in the file."""

from __future__ import annotations

import os
import re
from dataclasses import replace

from policies import GreenAwardError
from policies.engine import compiled

from ..safe_xlsx import DEFAULT_LIMITS, Book, Limits, Sheet, UnsafeWorkbook, read_book
from .check import check_amount, check_fields
from .conform import EARLIER, conform
from .expected import expected_content
from .findings import Submission, display_name, printable, quote
from .read import MACRO_EXTENSIONS, REFUSED, as_text, identify, skip_reason

META_SHEET = "meta"


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
            meta[cell.value.strip()] = as_text(value.value if value else None)
    clause_id = meta.get("clause_id", "")
    sub.clause = clause_id or None
    try:
        cc = compiled(clause_id)
    except GreenAwardError as exc:
        sub.problem(
            "template",
            f"模板 Template: meta!clause_id {quote(clause_id, 60)}: {str(exc)[:300]}",
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
            f"模板 Template: version {quote(version, 20) if version else '(none)'} is {'outdated' if older else 'unknown'}; "
            f"this reviewer checks version {expected.version} of {cc.id}: regenerate the declaration / 模板版本{'过期' if older else '未知'}",
            cells=[f"{META_SHEET}!B{_meta_row(meta_sheet, 'template_version')}"],
        )
        identify(book, expected, sub, limits, cc)
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
            f"模板 Template: policy data version {quote(policy_version, 20) if policy_version else '(none)'} of {cc.policy.id} "
            f"is unknown; current is {expected.policy_version}: regenerate the declaration / 政策版本不符",
            cells=version_cell,
        )
    conform(book, expected, sub, limits, earlier=earlier)
    values = identify(book, expected, sub, limits, cc)
    check_fields(values, expected, cc, sub)
    before = len(sub.findings)
    check_amount(book, expected, cc, values, sub)
    if earlier:  # the declared amount is the earlier rules': the current rules' amount is the one granted
        sub.findings[before:] = [
            replace(f, severity="warning", text=f"{EARLIER} {f.text}")
            if f.code == "declared_amount" and f.severity == "problem"
            else f
            for f in sub.findings[before:]
        ]


def _meta_row(sheet: Sheet, key: str) -> str:
    """The row of ``key`` in the meta sheet (column A), for a finding's cell; "?" when absent."""
    return next(
        (
            ref[1:]
            for ref, cell in sheet.cells.items()
            if ref[0] == "A" and ref[1:].isdigit() and isinstance(cell.value, str) and cell.value.strip() == key
        ),
        "?",
    )
