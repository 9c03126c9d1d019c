"""Turning raw input values (Python, Excel, CLI text, pandas) into the core's exact values.

Each clause gets one pydantic model of its inputs (``input_model``), built from the same
``InputSpec`` definitions the engine evaluates; the reviewer validates submissions with it too.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model

from .errors import InputError
from .numbers import MAGNITUDE, TooLarge, describe, fmt, to_decimal
from .schema import InputSpec, Label, label

SMALLEST, LARGEST = Decimal(10) ** -MAGNITUDE, Decimal(10) ** MAGNITUDE  # the sizes ``to_decimal`` allows
TRUE_WORDS = {"true", "yes", "y", "1", "是", "有", "对", "√", "t"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "无", "不是", "×", "f"}


#: The most an input of each kind may be (exclusive): far above any real claim, and low enough that
#: every amount the policies compute from such inputs stays exact and finite. A number input's kind
#: is its type, and for ``number`` its unit; a ratio is bounded by its own ``max`` (1 unless set).
LIMITS: dict[str, tuple[Decimal, Label]] = {
    "money": (Decimal("1e12"), label(zh="金额", en="money")),
    "integer": (Decimal("1e7"), label(zh="数量", en="counts")),
    "kWh": (Decimal("1e12"), label(zh="电量", en="energy in kWh")),
    "tce": (Decimal("1e9"), label(zh="标准煤", en="energy in tce")),
    "t": (Decimal("1e10"), label(zh="吨数", en="tonnes")),
    "kW": (Decimal("1e9"), label(zh="装机容量", en="capacity")),
    "m²": (Decimal("1e10"), label(zh="面积", en="area in m²")),
    "ha": (Decimal("1e7"), label(zh="面积", en="area in ha")),
    "number": (Decimal("1e12"), label(zh="数值", en="numbers")),
}


def limit(spec: InputSpec) -> tuple[Decimal, Label] | None:
    """The sanity bound of a number input (exclusive) and the name of its kind; None for other types."""
    if spec.type in ("money", "integer"):
        return LIMITS[spec.type]
    if spec.type == "number":
        return LIMITS.get(spec.unit or "", LIMITS["number"])
    return None


def is_blank(value: object) -> bool:
    """Empty cell, empty text, or pandas' explicit missing markers (pd.NA, NaT).

    A float NaN is not blank: it is a bad number (readers of tables turn their empty cells into
    None or "" before they call the core, so a NaN that arrives here is an error worth naming).
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return type(value).__name__ in ("NaTType", "NAType")


def to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if (
        isinstance(value, (int, float))
        and value in (0, 1)
        or isinstance(value, Decimal)
        and value.is_finite()
        and value in (0, 1)
    ):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError(f"must be yes or no (true/false, 是/否), got {describe(value)} / 须为是或否")


def choice_text(value: object) -> str:
    """A choice typed as a number (1 or 1.0 from a cell) becomes its text "1"."""
    if isinstance(value, bool):
        raise ValueError("must be one of the listed values, not a yes/no value")
    if isinstance(value, (int, float, Decimal)):
        try:
            number = to_decimal(value)
        except ValueError:  # NaN, 1e40: no choice is such a number
            raise ValueError(f"must be one of the listed values, got {describe(value)} / 须为所列选项之一") from None
        return fmt(number).replace(",", "") if number == number.to_integral_value() else str(number)
    if isinstance(value, str):
        return value.strip()
    raise ValueError(f"must be one of the listed values, got {describe(value)} / 须为所列选项之一")


TEXT_MAX = 200


def to_text(value: object) -> str:
    """A free text (an identifier such as an event's name): stripped; a number typed as 1001.0 is "1001"."""
    text = choice_text(str(value) if isinstance(value, bool) else value)
    if len(text) > TEXT_MAX:
        raise ValueError(f"must be at most {TEXT_MAX} characters, got {len(text)} / 文本过长")
    return text


def coercer(spec: InputSpec) -> Callable[[object], object]:
    """A function that turns one raw value into the spec's type, or raises ValueError with the rule."""
    if spec.type == "bool":
        return to_bool
    if spec.type == "text":
        return to_text
    if spec.type == "choice":
        assert spec.values is not None  # a choice has values (InputSpec checks it)
        lookup: dict[str, str] = {}
        for value, label in spec.values.items():
            for key in (value, label.zh, label.en):
                lookup[key.casefold()] = value
        allowed = ", ".join(f"{v} ({label.zh})" for v, label in spec.values.items())
        # a value or a label as written (the common call): its reading below, found at once
        exact = {
            key: lookup[key.casefold()]
            for value, label in spec.values.items()
            for key in (value, label.zh, label.en)
            if key == key.strip()
        }

        def to_choice(raw: object) -> str:
            found = exact.get(raw) if type(raw) is str else None
            if found is not None:
                return found
            text = choice_text(raw)
            try:
                return lookup[text.casefold()]
            except KeyError:
                raise ValueError(f"must be one of {allowed}; got {describe(text)} / 须为所列选项之一") from None

        return to_choice
    lower, upper = spec.lower, spec.upper
    low_open, high_open, whole = spec.min_exclusive, spec.max_exclusive, spec.type == "integer"
    bound, kind = limit(spec) or (None, None)
    unit = f" {spec.unit}" if spec.unit else ""
    too_large = (
        f"must be below {fmt(bound)}{unit}, the bound for {kind.en} / 须小于{fmt(bound)}{unit}（{kind.zh}上限）"
        if kind
        else ""
    )
    money = spec.type == "money"
    # A float strictly between these passes every check below: it is only converted, as ``to_decimal`` does.
    # (A float compares with float(x), the float nearest x, as with x itself, and so does its shortest text.)
    fast_low = float(max(x for x in (lower, SMALLEST) if x is not None))
    fast_high = float(min(x for x in (bound, upper, LARGEST) if x is not None)) if not whole else 0.0

    def to_number(raw: object) -> Decimal:
        if type(raw) is float and fast_low < raw < fast_high:  # the common input, a cell's or a table's
            return Decimal(repr(raw))
        if money and isinstance(raw, str):
            raw = raw.strip().removesuffix("元")  # 3000万元, 5亿元, 1200元
        try:
            number = to_decimal(raw)
        except TooLarge:
            if not too_large:
                raise
            raise ValueError(too_large) from None
        if bound is not None and number >= bound:
            raise ValueError(too_large)
        if whole and number != number.to_integral_value():
            raise ValueError(f"must be a whole number, got {fmt(number)} / 须为整数")
        if lower is not None and (number <= lower if low_open else number < lower):
            sign = ">" if low_open else "≥"
            raise ValueError(f"must be {sign} {fmt(lower)}, got {fmt(number)} / 须{sign}{fmt(lower)}")
        if upper is not None and (number >= upper if high_open else number > upper):
            sign = "<" if high_open else "≤"
            raise ValueError(f"must be {sign} {fmt(upper)}, got {fmt(number)} / 须{sign}{fmt(upper)}")
        return number

    return to_number


def _field_validator(convert: Callable[[object], object]) -> BeforeValidator:
    return BeforeValidator(lambda raw: None if is_blank(raw) else convert(raw))


def input_model(name: str, specs: dict[str, InputSpec]) -> type[BaseModel]:
    """The pydantic model of a clause's inputs: every field optional (blank means absent), each coerced."""
    fields: dict[str, Any] = {
        field: (Annotated[Any, _field_validator(coercer(spec))], None) for field, spec in specs.items()
    }
    return create_model(name, __config__=ConfigDict(extra="forbid", frozen=True), **fields)


def validate_inputs(clause_id: str, model: type[BaseModel], raw: dict[str, object]) -> dict[str, object]:
    """Coerce ``raw`` with ``model``; the values that are not blank, or InputError naming field and rule."""
    try:
        validated = model.__pydantic_validator__.validate_python(raw)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in error["loc"]) or "?"
        message = error["msg"].removeprefix("Value error, ")
        raise InputError(clause_id, field, message) from None
    return {k: v for k, v in validated.__dict__.items() if v is not None}


def coerce_inputs(
    clause_id: str, coercers: dict[str, Callable[[object], object]], raw: dict[str, object]
) -> dict[str, object]:
    """The fast path of ``validate_inputs``: the same coercers, without building a model instance."""
    values = {}
    for name, value in raw.items():
        if is_blank(value):
            continue
        try:
            values[name] = coercers[name](value)
        except ValueError as exc:
            raise InputError(clause_id, name, str(exc)) from None
    return values


def closest(name: str, candidates: list[str]) -> str | None:
    import difflib  # only for a misspelt name: kept off every command's start

    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return found[0] if found else None
