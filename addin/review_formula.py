"""Formulas compared as spreadsheet programs mean them, not as they happen to be spelled.

Excel and LibreOffice rewrite a formula when they save a workbook, without changing what it
computes: spacing, the case of function and defined names, quoting of sheet names (``'lists'!A1``
and ``lists!A1``), ``$`` markers, function prefixes (``_xlfn.``, ``_xlws.``, ``of:``), ``TRUE()``
for ``TRUE``, number spelling (``0.50``, ``5E-1``). ``normalise`` maps all of these to one form, so a
declaration re-saved with nothing changed compares equal to what the generator makes, while an
edited formula (another operator, reference, number or text) does not.

Text inside string literals is kept exactly (``"是"`` is not ``"否"``); whitespace is dropped except
between two word-like tokens, where it is Excel's intersection operator and is kept as one space.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from openpyxl.utils import column_index_from_string, get_column_letter

_PREFIXES = re.compile(r"(?<![A-Z0-9_.])(?:_XLFN\.|_XLWS\.|_XLPM\.|OF:)")
_BOOL_CALL = re.compile(r"(?<![A-Z0-9_.])(TRUE|FALSE)\(\)")
_NUMBER = re.compile(r"(?<![A-Z0-9_.])(\d+\.?\d*(?:E[+-]?\d+)?|\.\d+(?:E[+-]?\d+)?)(?![A-Z0-9_(])")
_SHEET_PREFIX = re.compile(r"(?<![A-Z0-9_.'])([A-Z_\u0080-\uffff][A-Z0-9_.\u0080-\uffff]*)!")
_WORDISH = re.compile(r"[\w.$'\")\]\u0080-\uffff]")


def _number(match: re.Match) -> str:
    try:
        value = Decimal(match[1])
        if not -400 <= value.adjusted() <= 400 or len(match[1]) > 400:  # beyond any double: never written out in full
            return match[1]
        return format(value.normalize(), "f")
    except ArithmeticError:  # decimal's InvalidOperation, Overflow
        return match[1]


_ODF_REF = re.compile(r"\[\.?([A-Z]{1,3}\d+)(?::\.?([A-Z]{1,3}\d+))?\]")


def _plain(segment: str, odf: bool = False) -> str:
    """A stretch outside string literals and quoted sheet names."""
    text = segment.upper().replace("$", "")
    if odf:  # OpenFormula: ';' separates arguments, [.A1] and [.A1:.B2] are references
        text = _ODF_REF.sub(lambda m: m[1] + (":" + m[2] if m[2] else ""), text.replace(";", ","))
    text = _PREFIXES.sub("", text)
    text = _BOOL_CALL.sub(r"\1", text)
    text = _SHEET_PREFIX.sub(lambda m: "'" + m[1] + "'!", text)
    return _NUMBER.sub(_number, text)


@lru_cache(maxsize=65536)
def normalise(formula: str) -> str:
    """One spelling of a formula (without its leading '=')."""
    text = formula.strip()
    if text.startswith("="):
        text = text[1:]
    odf = text.lower().startswith("of:")
    if odf:
        text = text[3:].lstrip("=")
    out: list[str] = []
    plain: list[str] = []
    i, n = 0, len(text)

    def flush() -> None:
        if plain:
            out.append(_plain("".join(plain), odf))
            plain.clear()

    while i < n:
        ch = text[i]
        if ch == '"' or ch == "'":
            flush()
            j = i + 1
            while j < n:
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            body = text[i + 1 : j]
            if ch == '"':
                out.append('"' + body + '"')
            else:  # a quoted sheet name: case-insensitive, quotes optional
                out.append("'" + body.replace("''", "'").upper() + "'")
            i = j + 1
            continue
        if ch.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            before = plain[-1] if plain else (out[-1][-1:] if out else "")
            after = text[j] if j < n else ""
            if before and after and _WORDISH.match(before) and _WORDISH.match(after) and after not in "),":
                plain.append(" ")
            i = j
            continue
        plain.append(ch)
        i += 1
    flush()
    return "".join(out)


_RANGE = re.compile(r"^([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?$")


def expand_sqref(sqref: str, limit: int) -> list[str] | None:
    """The cells a validation's ``sqref`` ("C6 D11:D18") covers, or None when above ``limit``."""
    cells: list[str] = []
    for part in sqref.replace("$", "").upper().split():
        m = _RANGE.match(part)
        if not m:  # not a cell or range: kept (cut), so that it differs from the template
            if len(cells) + 1 > limit:
                return None
            cells.append(part[:24])
            continue
        c1, r1 = column_index_from_string(m[1]), int(m[2])
        c2, r2 = (column_index_from_string(m[3]), int(m[4])) if m[3] else (c1, r1)
        if c2 < c1:
            c1, c2 = c2, c1
        if r2 < r1:
            r1, r2 = r2, r1
        if (c2 - c1 + 1) * (r2 - r1 + 1) + len(cells) > limit:
            return None
        for c in range(c1, c2 + 1):
            letters = get_column_letter(c)
            for r in range(r1, r2 + 1):
                cells.append(f"{letters}{r}")
    return cells
