"""Energy to tonnes of standard coal: the catalog's GB/T 2589 reference coefficients, exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

import udfs
from policies import InputError
from policies.energy import COEFFICIENTS, to_tce

REFERENCE = {
    "electricity_kwh": "0.1229",
    "natural_gas_m3": "1.2143",
    "raw_coal_kg": "0.7143",
    "diesel_kg": "1.4571",
    "gasoline_kg": "1.4714",
    "heat_mj": "0.03412",
}


def test_the_catalog_coefficients() -> None:
    assert {k: str(c.kgce_per_unit) for k, c in COEFFICIENTS.items()} == REFERENCE


@pytest.mark.parametrize("kind, coefficient", REFERENCE.items())
def test_reference_conversion_is_exact_and_says_which_coefficient(kind: str, coefficient: str) -> None:
    result = to_tce(12_345.6, kind)
    assert result.tce == Decimal("12345.6") * Decimal(coefficient) / 1000
    assert result.coefficient == Decimal(coefficient) and result.kind == kind
    assert result.source.startswith("reference")
    assert udfs.TCE(12_345.6, kind) == float(result.tce)


def test_a_given_coefficient_overrides_and_is_reported() -> None:
    result = to_tce(1_000_000, "electricity_kwh", 0.3)  # 等价值 of power generation
    assert result.tce == Decimal(300) and result.coefficient == Decimal("0.3") and result.source == "given"
    assert udfs.TCE(1_000_000.0, "electricity_kwh", 0.3) == 300.0
    assert udfs.TCE(1_000_000.0, "electricity_kwh", None) == 122.9  # an empty cell: the reference


def test_kinds_in_chinese_english_or_without_unit() -> None:
    for kind in ("electricity_kwh", "电力", "Electricity", "electricity", " ELECTRICITY_KWH "):
        assert udfs.TCE(1000.0, kind) == 0.1229
    assert udfs.TCE(1000.0, "天然气") == udfs.TCE(1000.0, "natural gas") == 1.2143


def test_natural_gas_coefficient_within_the_standards_range() -> None:
    assert to_tce(100, "natural_gas_m3", 1.1).tce == Decimal("0.11")
    assert to_tce(100, "natural_gas_m3", 1.33).tce == Decimal("0.133")
    with pytest.raises(InputError, match="1.1–1.33"):
        to_tce(100, "natural_gas_m3", 1.0)


def test_tce_feeds_energy_saving_award() -> None:
    tce = udfs.TCE(10_000_000.0, "electricity_kwh")  # 1,229 tce
    assert udfs.ENERGY_SAVING_AWARD(tce, 10_000_000.0) == 1_229 * 1_200.0
