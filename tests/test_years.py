"""The one year parser (policies.years) and the places that read a year through it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from policies.years import parse_year


@pytest.mark.parametrize(
    "value",
    [2025, 2025.0, Decimal("2025.00"), "2025", " 2025 ", "2025年", "2025 年", "2025.0", "２０２５", "２０２５年"],
)
def test_common_forms_read_as_2025(value):
    assert parse_year(value) == 2025


@pytest.mark.parametrize(
    "value",
    [
        "25",
        "FY2025",
        "二〇二五",
        "2025年度",
        "",
        "  ",
        None,
        True,
        "2025-01-01",
        "2025.5",
        2025.5,
        1899,
        2200,
        "٢٠٢٥",
        float("nan"),
        Decimal("NaN"),
        Decimal("Infinity"),
        "x" * 10_000,
    ],
)
def test_anything_else_is_refused_in_one_short_line(value):
    with pytest.raises(ValueError, match="year must be a year such as 2025") as caught:
        parse_year(value)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def test_declaration_details_read_the_year_the_same_way():
    from addin.declaration import DeclarationError, detail_cells

    assert detail_cells({"year": "２０２５年"}, "tongzhou:3", require=False)["year"] == 2025
    with pytest.raises(DeclarationError, match="year"):
        detail_cells({"year": "FY2025"}, "tongzhou:3", require=False)
