"""Exact decimal arithmetic: how numbers enter the core and how amounts leave it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    """A finite Decimal from an int, a float (by its shortest decimal form), a Decimal or a numeric text.

    Raises ValueError with the rule broken; booleans are not numbers here.
    """
    if isinstance(value, bool):
        raise ValueError("must be a number, not a yes/no value / 须为数字")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        # repr() is the shortest text that reads back as the same float: 0.8 -> "0.8".
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("，", "")
        if not text:
            raise ValueError("must be a number, got empty text / 须为数字")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"must be a number, got {value!r} / 须为数字") from None
    else:
        raise ValueError(f"must be a number, got {type(value).__name__} / 须为数字")
    if not number.is_finite():
        raise ValueError("must be a finite number (not NaN or infinite) / 须为有限数字")
    return number


def round_yuan(amount: Decimal) -> Decimal:
    """Round half up to 0.01 yuan: the one rounding an amount gets, at the end."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: object) -> str:
    """A number as people read it: thousands separators, no exponent, no trailing zeros."""
    if isinstance(value, Decimal):
        text = f"{value:,f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    return str(value)
