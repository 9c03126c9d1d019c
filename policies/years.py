"""The one reading of a claim year, wherever a year is read (a table cell, a declaration, ``--on``).

Accepted: a four-digit year from 1900 to 2199 as a number (``2025``, ``2025.0`` from a float cell)
or as text, with full-width digits (``２０２５``), a trailing ``.0`` and a trailing ``年`` allowed
(``2025年``, ``２０２５年``, ``2025.0``). Anything else is refused with the rule: a two-digit year
(``25``), a prefix (``FY2025``), Chinese numerals (``二〇二五``), ``2025年度``, a date, a blank. Those
are rare and each has more than one reading, so they are not guessed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

FIRST, LAST = 1900, 2199
#: Day 0 of Excel's 1900 date system, the one home of it: serial 61 is 1900-03-01, and every date from
#: then on is right (Excel counts a 29 February 1900 that never was, so its serials 1-60 are a day off).
EXCEL_EPOCH = date(1899, 12, 30)
LAST_SERIAL = 2_958_465  # 9999-12-31, Excel's last date
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_YEAR = re.compile(r"([0-9]{4})(?:\.0+)?\s*年?")


def parse_year(value: object) -> int:
    """The year ``value`` stands for; ValueError (one line, bilingual) when it is not a year."""
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if FIRST <= value <= LAST:
            return value
    elif isinstance(value, float):
        if value.is_integer() and FIRST <= value <= LAST:
            return int(value)
    elif isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value() and FIRST <= value <= LAST:
            return int(value)
    elif isinstance(value, str):
        match = _YEAR.fullmatch(value.strip().translate(_FULL_WIDTH_DIGITS))
        if match and FIRST <= int(match[1]) <= LAST:
            return int(match[1])
    shown = "nothing" if value is None or (isinstance(value, str) and not value.strip()) else repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "…"
    raise ValueError(f"year must be a year such as 2025 (or 2025年), got {shown} / 年度须为四位年份，如2025")


def from_serial(serial: int) -> date:
    """The date of an Excel date serial (1 to ``LAST_SERIAL``)."""
    if not 1 <= serial <= LAST_SERIAL:
        raise ValueError(f"must be a date (YYYY-MM-DD), got the number {serial} / 须为日期")
    return EXCEL_EPOCH + timedelta(days=serial)


def to_serial(day: date) -> int:
    """The Excel date serial of a date (what a date cell holds)."""
    return (day - EXCEL_EPOCH).days
