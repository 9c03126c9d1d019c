"""Exact decimal arithmetic: how numbers enter the core and how amounts leave it."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

#: The plain form of a number's text: digits, one point, an optional exponent of at most 4 digits.
#: Decimal() would also take "1_000", "NaN", "Infinity" or an exponent of a million digits.
NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")
#: Chinese numerals that multiply: "100万" is 1,000,000 and "1.2亿" 120,000,000, exactly.
MULTIPLIERS = {"万": 4, "亿": 8}
MAX_TEXT = 64  # characters of a number's text, separators removed: more than any real figure needs
MAGNITUDE = 30  # no number anywhere is 1e30 or more, or nonzero below 1e-30 (each input type has its own, lower bound)
MAX_INT_BITS = 128  # a Python int longer than this is refused before it is converted


class TooLarge(ValueError):
    """A number of 1e30 or more in size: callers with a lower bound of their own name that bound instead."""


def describe(value: object) -> str:
    """What a value is, in words a user knows (never a Python type name), for error messages."""
    if isinstance(value, date):
        return "a date 日期"
    if isinstance(value, time):
        return "a time 时间"
    if isinstance(value, (list, tuple, set, dict)):
        return "several values (a range of cells) 多个值"
    if isinstance(value, str):
        text = " ".join(value.split())
        return repr(text if len(text) <= 40 else text[:39] + "…")
    if isinstance(value, bool):
        return "a yes/no value 是否值"
    if isinstance(value, int):
        return str(value) if value.bit_length() <= MAX_INT_BITS else "a very large number 极大数值"
    if isinstance(value, (float, Decimal)):
        return format(value, ".6g")
    return "a value of another kind 其他类型的值"


#: A number's plain text (``1200000``, ``0.035``): what every other form below comes to, read as it stands.
PLAIN_NUMBER = re.compile(r"\d{1,30}(?:\.\d{1,30})?")


def _number_text(value: str) -> Decimal:
    """A number written as text: full-width forms, thousands separators, and 万/亿 are read exactly."""
    if PLAIN_NUMBER.fullmatch(value):  # most cells of a table: none of the work below changes them
        return Decimal(value)
    text = unicodedata.normalize("NFKC", value).strip().replace(",", "")
    if not text:
        raise ValueError("must be a number, got empty text / 须为数字")
    shift = MULTIPLIERS.get(text[-1], 0)
    digits = text[:-1].rstrip() if shift else text
    if len(digits) > MAX_TEXT or not NUMBER_TEXT.fullmatch(digits):
        if digits.lower().lstrip("+-") in ("nan", "inf", "infinity", "snan"):
            raise ValueError("must be a finite number (not NaN or infinite) / 须为有限数字")
        raise ValueError(f"must be a number (e.g. 1200000, 1,200,000 or 120万), got {describe(value)} / 须为数字")
    number = Decimal(digits)
    if shift:
        number = Decimal(f"{number.scaleb(shift):f}")  # 1.2亿 -> 120000000, not 1.2E+8
    return number


def to_decimal(value: object) -> Decimal:
    """A finite Decimal from an int, a float (by its shortest decimal form), a Decimal or a numeric text.

    Text may use thousands separators, full-width digits and the multipliers 万 (10⁴) and 亿 (10⁸).
    Raises ValueError with the rule broken; booleans are not numbers here, and no number is
    1e30 or more in size (nor nonzero below 1e-30), so no later arithmetic or message blows up.
    """
    if type(value) is float:  # the common case (a cell, a table) first
        # repr() is the shortest text that reads back as the same float: 0.8 -> "0.8".
        number = Decimal(repr(value))
    elif isinstance(value, bool):
        raise ValueError("must be a number, not a yes/no value / 须为数字")
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise (TooLarge if value > 0 else ValueError)(f"must be a number below 1e{MAGNITUDE} in size / 数值过大")
        number = Decimal(value)
    elif isinstance(value, float):  # a subclass of float
        number = Decimal(repr(value))
    elif isinstance(value, str):
        number = _number_text(value)
    else:
        raise ValueError(f"must be a number, got {describe(value)} / 须为数字")
    if not number.is_finite():
        raise ValueError("must be a finite number (not NaN or infinite) / 须为有限数字")
    if not number:
        return Decimal(0)  # 0E-1000 is 0
    size = number.adjusted()
    if size >= MAGNITUDE:
        error = TooLarge if number > 0 else ValueError
        raise error(f"must be a number below 1e{MAGNITUDE} in size, got {number:.3g} / 数值过大")
    if size < -MAGNITUDE:
        raise ValueError(f"must be 0 or at least 1e-{MAGNITUDE} in size, got {number:.3g} / 数值过小")
    return number


def round_yuan(amount: Decimal) -> Decimal:
    """Round half up to 0.01 yuan: the one rounding an amount gets, at the end."""
    return amount.quantize(CENT, ROUND_HALF_UP)  # positional: half the keyword call's cost


def fmt(value: object) -> str:
    """A number as people read it: thousands separators, no exponent, no trailing zeros."""
    if isinstance(value, Decimal):
        text = f"{value:,f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    return str(value)
