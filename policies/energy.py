"""Energy to tonnes of standard coal equivalent (tce), for feeding ``energy_saved_tce``.

Reference coefficients of GB/T 2589 as the policy catalog lists them, in kgce per unit. A
conversion takes an optional coefficient that overrides the reference one (a verification body's
own figure, the yearly 等价值 of power generation…) and always says which coefficient it used.

    >>> to_tce(1_000_000, "electricity_kwh").tce == Decimal("122.9")
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from .errors import InputError
from .inputs import LIMITS, is_blank
from .numbers import TooLarge, describe, fmt, to_decimal

WHERE = "TCE"
MAX_COEFFICIENT = Decimal(100)  # kgce per unit: the largest reference figure is 1.4714 (gasoline)


@dataclass(frozen=True, slots=True)
class Coefficient:
    kind: str
    unit: str
    kgce_per_unit: Decimal
    label_zh: str
    label_en: str
    note: str
    low: Decimal | None = None  # the range the standard gives, where it gives one
    high: Decimal | None = None


COEFFICIENTS: dict[str, Coefficient] = {
    c.kind: c
    for c in (
        Coefficient(
            "electricity_kwh",
            "kWh",
            Decimal("0.1229"),
            "电力",
            "Electricity",
            "当量值 calorific equivalent; many verification rules use the yearly 等价值 of power generation (about 0.3) instead",
        ),
        Coefficient(
            "natural_gas_m3",
            "m³",
            Decimal("1.2143"),
            "天然气",
            "Natural gas",
            "1.1000–1.3300 kgce/m³ by source; 1.2143 is the common default",
            low=Decimal("1.1000"),
            high=Decimal("1.3300"),
        ),
        Coefficient("raw_coal_kg", "kg", Decimal("0.7143"), "原煤", "Raw coal", "reference coefficient"),
        Coefficient("diesel_kg", "kg", Decimal("1.4571"), "柴油", "Diesel", "reference coefficient"),
        Coefficient("gasoline_kg", "kg", Decimal("1.4714"), "汽油", "Gasoline", "reference coefficient"),
        Coefficient("heat_mj", "MJ", Decimal("0.03412"), "热力", "Heat", "reference coefficient"),
    )
}

# Names a person may type for a kind: the id, its Chinese and English label, the id without its unit.
_ALIASES: dict[str, str] = {}
for _c in COEFFICIENTS.values():
    for _name in (
        _c.kind,
        _c.label_zh,
        _c.label_en,
        _c.kind.rsplit("_", 1)[0],
        _c.kind.rsplit("_", 1)[0].replace("_", " "),
    ):
        _ALIASES[_name.casefold()] = _c.kind
KINDS_TEXT = ", ".join(f"{c.kind} ({c.label_zh})" for c in COEFFICIENTS.values())


class Conversion(NamedTuple):
    """The tonnes of standard coal, the coefficient used (kgce per unit) and where it came from."""

    tce: Decimal
    coefficient: Decimal
    kind: str
    source: str  # "reference (GB/T 2589)" or "given"


def find_kind(kind: object) -> Coefficient:
    if not isinstance(kind, str) or is_blank(kind):
        raise InputError(WHERE, "kind", f"must be one of {KINDS_TEXT}; got {describe(kind)} / 须为所列能源品种之一")
    try:
        return COEFFICIENTS[_ALIASES[kind.strip().casefold()]]
    except KeyError:
        raise InputError(
            WHERE, "kind", f"must be one of {KINDS_TEXT}; got {describe(kind)} / 须为所列能源品种之一"
        ) from None


def to_tce(quantity: object, kind: object, coefficient: object = None) -> Conversion:
    """``quantity`` of ``kind`` in tonnes of standard coal, exactly: quantity × kgce/unit ÷ 1000."""
    spec = find_kind(kind)
    if is_blank(quantity):
        raise InputError(WHERE, "quantity", "required, and empty / 必填")
    bound, kind = LIMITS["number"]
    too_large = f"must be below {fmt(bound)} {spec.unit}, the bound for {kind.en} / 须小于{fmt(bound)}{spec.unit}"
    try:
        amount = to_decimal(quantity)
    except TooLarge:
        raise InputError(WHERE, "quantity", too_large) from None
    except ValueError as exc:
        raise InputError(WHERE, "quantity", str(exc)) from None
    if amount < 0:
        raise InputError(WHERE, "quantity", f"must be ≥ 0, got {fmt(amount)} / 须≥0")
    if amount >= bound:
        raise InputError(WHERE, "quantity", too_large)
    if is_blank(coefficient):
        used, source = spec.kgce_per_unit, "reference (GB/T 2589)"
    else:
        try:
            used = to_decimal(coefficient)
        except ValueError as exc:
            raise InputError(WHERE, "coefficient", str(exc)) from None
        if not 0 < used < MAX_COEFFICIENT:
            raise InputError(
                WHERE,
                "coefficient",
                f"must be > 0 and below {fmt(MAX_COEFFICIENT)} kgce/{spec.unit}, got {fmt(used)} / 须>0且小于{fmt(MAX_COEFFICIENT)}",
            )
        if spec.low is not None and spec.high is not None and not spec.low <= used <= spec.high:
            raise InputError(
                WHERE,
                "coefficient",
                f"for {spec.kind} must be within {fmt(spec.low)}–{fmt(spec.high)} kgce/{spec.unit}, got {fmt(used)} / 超出标准范围",
            )
        source = "given"
    return Conversion(tce=(amount * used).scaleb(-3), coefficient=used, kind=spec.kind, source=source)
