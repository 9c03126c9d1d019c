"""Reading a submission: the guard's refusals as a reviewer reads them, and the values of the cells a
declaration fills (``identify``), each checked for what no input can be before anything uses it."""

from __future__ import annotations

import math
import os
import re
from contextlib import suppress
from datetime import date
from decimal import Decimal

from policies.engine import CompiledClause
from policies.years import LAST_SERIAL, from_serial, parse_year

from ..safe_xlsx import DEFAULT_LIMITS, Book, Cell, CellError, Limits
from .expected import FIELD_LABELS, Expected
from .findings import Submission, cut, quote

MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlam", ".xlsb")
MAX_NUMBER = 1e15  # any number input: beyond any amount, count or capacity a clause has (the core bounds each type)

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


def show(value: object) -> str:
    if isinstance(value, float):
        return (
            format(Decimal(repr(value)).normalize(), "f")
            if math.isfinite(value) and abs(value) < MAX_NUMBER
            else repr(value)
        )
    text = str(value)
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def as_date(value: object) -> date:
    from policies.stacking import parse_date

    if isinstance(value, float):
        if not value.is_integer() or not 1 <= value <= LAST_SERIAL:
            raise ValueError(f"must be a date (YYYY-MM-DD), got {show(value)} / 须为日期")
        return from_serial(int(value))
    return parse_date(value)


def name_cell(book: Book, name: str) -> Cell | None:
    """The cell a workbook-level defined name points to in the submitted file."""
    text = book.names.get((name, None))
    if not text:
        return None
    m = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]{1,3})\$?(\d+)", text.strip())
    if not m:
        return None
    sheet = book.sheet(m[1].replace("''", "'"))
    return sheet.cells.get(f"{m[2]}{m[3]}") if sheet else None


_NUMBER_TEXT = re.compile(r"\s*[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE]([-+]?\d+))?\s*")


def implausible(value: object) -> bool:
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


def identify(
    book: Book,
    expected: Expected,
    sub: Submission,
    limits: Limits = DEFAULT_LIMITS,
    cc: CompiledClause | None = None,
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
        where = expected.field(key, input_label(cc, key) if cc is not None else None)
        at = [f"{title}!{ref}"]
        if cell.formula is not None:
            sub.problem(
                "input_formula",
                f"公式 Formula in an input cell: {where} holds the formula "
                f"={cut(cell.formula)}: an input cell holds a value, never a formula "
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
                f"{longest:,} for this field ({quote(value, 60)}) / 文本过长",
                cells=at,
            )
            sub.rejected.add(key)
            continue
        if kind == "number" and implausible(value):
            sub.problem(
                "number_out_of_range",
                f"无效 Invalid: {where}: {quote(value, 40)} is not a plausible "
                f"number (below {MAX_NUMBER:.0e} in size, finite) / 数值超出合理范围",
                cells=at,
            )
            sub.rejected.add(key)
            continue
        if isinstance(value, str) and not value.strip():
            value = None
        if value is not None:
            values[key] = value
    sub.enterprise = as_text(values.get("enterprise")) or None
    code = as_text(values.get("uscc")).upper()
    sub.uscc = code or None
    sub.project = as_text(values.get("project")) or None
    year = values.get("year")
    if year is not None and not isinstance(year, CellError):
        with suppress(ValueError):  # reported with the other cells' problems
            sub.year = parse_year(year)  # the one reading of a year (policies.years)
    return values


def input_label(cc: CompiledClause, name: str) -> str:
    """A clause input or a claim field as a message names it."""
    spec = cc.specs.get(name)
    if spec is not None:
        return f"{spec.label.zh} {spec.label.en} ({name})"
    return FIELD_LABELS.get(name, name)
