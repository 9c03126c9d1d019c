"""Conformance: the generator-owned content of a submission (sheets, labels, formulas, defined names, data
validation, conditional formats) against what ``addin.declaration_template`` makes NOW for its clause
(``expected.Expected``), never against a fingerprint the file carries. Formulas are compared after
``review_formula.normalise``, so a file re-saved by Excel or LibreOffice passes; nothing more that
computes may be added."""

from __future__ import annotations

import math
import re

from ..review_formula import expand_sqref, normalise
from ..safe_xlsx import DEFAULT_LIMITS, Book, Cell, Limits, Sheet
from .expected import Expected, validation_key
from .findings import Submission, cut, quote
from .read import show

#: A declaration made under an earlier policy data version: what an earlier figure explains is a warning
#: with this mark (a label, a formula or validation differing from today's only in numbers, the declared
#: amount); what could run or hide content stays a problem, and so does eligibility under today's rules.
EARLIER = "版本不同 Earlier version:"
_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:E[+-]?\d+)?", re.IGNORECASE)
_SHEET_REF = r"(?:'(?:[^']|'')+'|[^\s'!,()\[\]\"|]+)"
_CELL_REF = r"\$?[A-Z]{1,3}\$?\d{1,7}"
_AREA = rf"(?:(?:{_SHEET_REF}!)?(?:{_CELL_REF}(?::{_CELL_REF})?|\$?[A-Z]{{1,3}}:\$?[A-Z]{{1,3}}|\$?\d{{1,7}}:\$?\d{{1,7}})|#REF!)"
_PLAIN_REFERENCE = re.compile(rf"\s*=?\s*{_AREA}(?:\s*,\s*{_AREA})*\s*", re.IGNORECASE)
#: Names Excel runs as macros when the workbook opens or closes (Excel 4.0 macro sheets).
_AUTO_NAMES = {"_xlnm.auto_open", "_xlnm.auto_close", "_xlnm.auto_activate", "_xlnm.auto_deactivate"}
_VALIDATION_PROBLEMS = 10  # per sheet; the rest in one line


def numbers_only(got: str, want: str) -> bool:
    """Whether two formulas differ in their numbers and nothing else (an earlier figure, not another function)."""
    return _NUMBER.sub("#", got) == _NUMBER.sub("#", want)


def conform(
    book: Book, expected: Expected, sub: Submission, limits: Limits = DEFAULT_LIMITS, *, earlier: bool = False
) -> None:
    """Generator-owned content: sheets, labels, formulas, names, validation; and nothing more that computes.
    ``earlier``: the declaration was made under an earlier policy data version (see ``EARLIER``)."""
    got_sheets = _sheets(book, expected, sub)
    _cells(got_sheets, expected, sub, earlier)
    _extras(got_sheets, expected, sub)
    _names(book, expected, sub)
    _validations(got_sheets, expected, sub, limits, earlier)


def _sheets(book: Book, expected: Expected, sub: Submission) -> list[Sheet | None]:
    """The template's sheets in the submission (None: missing), and no other."""
    got_sheets: list[Sheet | None] = []
    for title, state in expected.sheets:
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
                f"篡改 Tampered: sheet {quote(sheet.name, 60)} appears twice (sheet names ignore case) / 工作表重名",
            )
        seen.add(sheet.name.casefold())
        if sheet.name not in titles:
            state = "" if sheet.state == "visible" else f" ({quote(sheet.state, 20)})"
            sub.problem(
                "extra_sheet",
                f"篡改 Tampered: sheet {quote(sheet.name, 60)}{state} is not part of the "
                "template: a declaration has only the template's sheets / 含模板以外的工作表",
            )
    return got_sheets


def _cells(got_sheets: list[Sheet | None], expected: Expected, sub: Submission, earlier: bool) -> None:
    """Each label and formula of the template, as the generator wrote it (the cell named only when it differs)."""
    for (s, ref), (kind, want) in expected.cells.items():
        sheet = got_sheets[s]
        if sheet is None:
            continue
        cell = sheet.cells.get(ref)
        if kind == "f":
            if cell is not None and cell.formula is not None and normalise(cell.formula) == want:
                continue
        elif (cell is None or cell.formula is None) and same(want, None if cell is None else cell.value):
            continue
        _differs(expected, s, ref, kind, want, cell, sub, earlier)


def _differs(
    expected: Expected, s: int, ref: str, kind: str, want: object, cell: Cell | None, sub: Submission, earlier: bool
) -> None:
    """The finding of a label or formula that is not the template's."""
    where, at = expected.where(s, ref), [expected.cell(s, ref)]
    if kind == "f":
        if cell is None or cell.formula is None:
            if cell is not None and cell.value is not None:
                sub.problem(
                    "tampered",
                    f"篡改 Tampered: {where}: the formula was replaced by the constant "
                    f"{show(cell.value)} (the template computes ={want}) / 公式被替换为常数",
                    cells=at,
                )
            else:
                sub.problem(
                    "tampered",
                    f"篡改 Tampered: {where}: the formula was removed (the template computes ={want}) / 公式被删除",
                    cells=at,
                )
            return
        got = normalise(cell.formula)
        text = (
            f"篡改 Tampered: {where}: the formula was edited: ={cut(cell.formula)} "
            f"(the template computes ={want}) / 公式被修改"
        )
        if earlier and numbers_only(got, str(want)):
            sub.warning("tampered", f"{EARLIER} {text}", cells=at)
        else:
            sub.problem("tampered", text, cells=at)
        return
    if cell is not None and cell.formula is not None:
        sub.problem(
            "tampered",
            f"篡改 Tampered: {where}: the label {show(want)} was replaced by the formula "
            f"={cut(cell.formula)} / 标签被修改",
            cells=at,
        )
        return
    got_value = None if cell is None else cell.value
    text = (
        f"篡改 Tampered: {where}: the label was edited: {show(got_value) if got_value is not None else '(blank)'} "
        f"instead of {show(want)} / 标签被修改"
    )
    if earlier:
        sub.warning("tampered", f"{EARLIER} {text}", cells=at)
    else:
        sub.problem("tampered", text, cells=at)


def _extras(got_sheets: list[Sheet | None], expected: Expected, sub: Submission) -> None:
    """Cells and conditional formats outside the template: a formula is a problem, a value ignored (a warning)."""
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
        formulas = [(ref, text) for ref in extra if (text := sheet.cells[ref].formula) is not None]
        for ref, text in formulas[:_VALIDATION_PROBLEMS]:
            sub.problem(
                "extra_formula",
                f"篡改 Tampered: {title}!{ref}: the formula ={cut(text)} is "
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
                f"篡改 Tampered: {title}: a conditional format computes ={cut(formula)}, which "
                "is not part of the template (it is evaluated when the sheet is shown) / "
                "含模板以外的条件格式公式",
            )


def _names(book: Book, expected: Expected, sub: Submission) -> None:
    """Defined names: the template's must point where the generator put them, spelled as it does; none may
    shadow them; any other must be a plain reference (a name holding a formula computes like a cell)."""
    template_names = {n.casefold(): n for n in expected.names}
    got_names: dict[str, tuple[str, str]] = {}
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
                f"篡改 Tampered: defined name {cut(name, 60)} is redefined for one sheet (it would "
                "shadow the template's) / 名称被覆盖",
            )
        elif not _PLAIN_REFERENCE.fullmatch(text):
            sub.problem(
                "extra_formula",
                f"篡改 Tampered: the defined name {quote(name, 60)} holds the formula "
                f"={cut(text)}, which is not part of the template / 含模板以外的名称公式",
            )
        elif not name.startswith("_xlnm."):  # a print area, a filter range: what programs add
            sub.warning(
                "extra_name",
                f"defined name {quote(name, 60)} is not part of the template (ignored) / 模板以外的名称已忽略",
            )
    for name, want in expected.names.items():
        found = got_names.get(name.casefold())
        if found is None:
            sub.problem("tampered", f"篡改 Tampered: defined name {name} is missing / 名称缺失")
            continue
        if found[0] != name:
            sub.problem(
                "name_case",
                f"篡改 Tampered: the defined name {name} is spelled {quote(found[0], 60)}: "
                "names must be the template's exactly (a name differing only by case is "
                "another program's way to hide an edit) / 名称大小写被修改",
            )
        if normalise(found[1]) != want:
            sub.problem(
                "tampered",
                f"篡改 Tampered: defined name {name} points to {cut(found[1])} (the template: {want}) / 名称被修改",
            )


def _validations(
    got_sheets: list[Sheet | None], expected: Expected, sub: Submission, limits: Limits, earlier: bool
) -> None:
    """The data validation of each cell, within a budget of cells per sheet."""
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
            key = validation_key(dv["type"], dv["operator"], dv["formula1"], dv["formula2"])
            for ref in cells:
                got[ref] = key
        else:
            differ = [ref for ref in sorted(set(want) | set(got)) if want.get(ref) != got.get(ref)]
            if earlier:  # bounds of an earlier version: the same validation but for its numbers
                near = [r for r in differ if want.get(r) and got.get(r) and numbers_only(repr(got[r]), repr(want[r]))]
                for r in near[:_VALIDATION_PROBLEMS]:
                    sub.warning(
                        "tampered",
                        f"{EARLIER} 篡改 Tampered: {expected.where(s, r)}: the data validation "
                        "differs in its numbers / 数据验证被修改",
                        cells=[expected.cell(s, r)],
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
                        else cut(f"changed to {g[0]} {g[1] or ''} {g[2] or ''} {g[3] or ''}".rstrip())
                    )
                )
                sub.problem(
                    "tampered",
                    f"篡改 Tampered: {expected.where(s, ref)}: the data validation was {what} / 数据验证被修改",
                    cells=[expected.cell(s, ref)],
                )
            if len(differ) > _VALIDATION_PROBLEMS:
                sub.problem(
                    "tampered",
                    f"篡改 Tampered: {title}: the data validation of {len(differ) - _VALIDATION_PROBLEMS:,} "
                    "more cells differs from the template / 数据验证被修改",
                )


def same(want: object, got: object) -> bool:
    """A label's value as the template's: numbers alike to 1e-12, a number re-saved as text an edit."""
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(float(want), float(got), rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(want, (int, float)) and isinstance(got, str):  # a number re-saved as text is an edit too
        return False
    return want == got
