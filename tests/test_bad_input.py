"""Every bad-input path raises one project error that names the clause, the field and the rule."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from policies import GreenAwardError, InputError, UnknownClauseError, evaluate


def raises_input_error(clause: str, field: str, rule: str, **inputs) -> InputError:
    with pytest.raises(InputError) as info:
        evaluate(clause, **inputs)
    error = info.value
    assert error.clause_id == clause and error.field == field, str(error)
    assert rule in error.rule, str(error)
    assert clause in str(error) and field in str(error)
    assert isinstance(error, GreenAwardError) and isinstance(error, ValueError)
    return error


def test_unknown_clause_suggests_the_closest() -> None:
    with pytest.raises(UnknownClauseError) as info:
        evaluate("etwn:27", capacity_kw=100)
    assert info.value.suggestion == "etown:27"
    assert "etown:27" in str(info.value) and isinstance(info.value, GreenAwardError)


def test_unknown_clause_without_a_close_one() -> None:
    with pytest.raises(UnknownClauseError) as info:
        evaluate("nothing-like-it", x=1)
    assert "unknown clause" in str(info.value)


def test_unknown_input_suggests_the_closest() -> None:
    error = raises_input_error("etown:27", "capacity_kv", "unknown input", capacity_kv=100)
    assert "capacity_kw" in error.rule


def test_missing_required_input() -> None:
    raises_input_error("tongzhou:3", "investment_yuan", "required")


def test_empty_cell_is_missing_not_zero() -> None:
    raises_input_error("tongzhou:3", "investment_yuan", "required", investment_yuan=None)
    raises_input_error("tongzhou:3", "investment_yuan", "required", investment_yuan="  ")


def test_input_required_only_on_its_route() -> None:
    # beijing 二(一): energy_saved_tce is needed on the energy-saving route only.
    raises_input_error("beijing:2.1", "energy_saved_tce", "required", project_type="energy_saving", investment_yuan=1e6)
    assert evaluate("beijing:2.1", project_type="other", investment_yuan=1e6).amount == 250000


@pytest.mark.parametrize(
    "value, rule",
    [
        ("abc", "must be a number"),
        (True, "not a yes/no value"),
        ([1, 2], "must be a number"),
        (-1, "≥ 0"),
        (-0.01, "≥ 0"),
        (math.nan, "finite"),
        (math.inf, "finite"),
        (-math.inf, "finite"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
    ],
)
def test_bad_numbers(value: object, rule: str) -> None:
    raises_input_error("tongzhou:3", "investment_yuan", rule, investment_yuan=value)


def test_whole_number_required_for_counts() -> None:
    raises_input_error("etown:19", "fleet_size", "whole number", fleet_size=10.5, nev_count=10)


def test_ratio_above_one() -> None:
    raises_input_error("beijing:8", "loan_rate", "≤ 1", loan_principal_yuan=1e6, loan_rate=1.5)


def test_choice_outside_the_allowed_set_lists_the_values() -> None:
    error = raises_input_error("etown:27", "ownership", "must be one of", capacity_kw=100, ownership="rented")
    assert "self" in error.rule and "third_party" in error.rule


def test_yes_no_input_rejects_other_words() -> None:
    raises_input_error("etown:10", "budget_unit", "yes or no", boiler_grade="A", investment_yuan=1, budget_unit="maybe")


def test_cross_field_rule_is_an_input_error() -> None:
    raises_input_error("etown:19", "nev_count", "fleet_size", fleet_size=10, nev_count=11)


def test_bad_date_for_on() -> None:
    with pytest.raises(InputError) as info:
        evaluate("tongzhou:3", on="next tuesday", investment_yuan=1)
    assert info.value.field == "on"


def test_non_monetary_clause_has_no_amount() -> None:
    raises_input_error("etown:5", "clause", "non-monetary")


def test_bad_zone_value() -> None:
    raises_input_error("tongzhou:3", "zone", "must be one of", investment_yuan=1, zone="mars")


# --- sizes: every number input kind has a bound, checked before any arithmetic (issue 9 item 3) ---

BOUNDS = [  # (clause, field, the smallest refused value, the bound's name in the error, other inputs)
    ("tongzhou:3", "investment_yuan", 10**12, "money", {}),
    (
        "tongzhou:5.2",
        "carbon_price_yuan_per_t",
        10**12,
        "money",
        {"emissions_prev_t": 1000, "output_prev_yuan": 1, "emissions_last_t": 0, "output_last_yuan": 1},
    ),
    ("etown:19", "fleet_size", 10**7, "counts", {"nev_count": 10}),
    ("etown:27", "capacity_kw", 10**9, "capacity", {}),
    ("etown:29", "green_kwh", 10**12, "energy in kWh", {}),
    ("beijing:2.3", "energy_saved_tce", 10**9, "energy in tce", {"investment_yuan": 1}),
    (
        "tongzhou:5.2",
        "emissions_prev_t",
        10**10,
        "tonnes",
        {"output_prev_yuan": 1, "emissions_last_t": 0, "output_last_yuan": 1, "carbon_price_yuan_per_t": 1},
    ),
    ("etown:24", "area_m2", 10**10, "area in m²", {"municipal_award_yuan": 1, "investment_yuan": 1}),
    ("etown:40", "area_ha", 10**7, "area in ha", {}),
]


@pytest.mark.parametrize("clause, field, bound, kind, others", BOUNDS, ids=lambda v: v if isinstance(v, str) else "")
def test_each_number_kind_has_a_bound_named_in_the_error(clause, field, bound, kind, others) -> None:
    for value in (bound, float(bound), str(bound), 1e25, "1e25", 10**40, "1e29"):
        error = raises_input_error(clause, field, "must be below", **{field: value}, **others)
        assert kind in error.rule and "上限" in error.rule, error.rule
    below = bound - 1
    award = evaluate(clause, **{field: below}, **others)  # the largest accepted value computes
    assert award.amount >= 0


def test_the_reported_crash_is_one_line_from_the_command() -> None:
    """`green-award calc etown:27 capacity_kw=1e25` printed a decimal.InvalidOperation traceback."""
    from typer.testing import CliRunner

    from addin.cli import app

    result = CliRunner().invoke(app, ["calc", "etown:27", "capacity_kw=1e25"])
    assert result.exit_code == 2, result.output
    assert "capacity_kw" in result.output and "must be below" in result.output
    assert "Traceback" not in result.output and "InvalidOperation" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "text",
    ["1e99999999", "-1e99999999", "1" * 10_000, "1e-99999", "0." + "0" * 5000 + "1", "1e9999", "1E-31", "9" * 40],
)
def test_absurd_texts_are_refused_before_decimal_work_with_a_short_message(text: str) -> None:
    error = raises_input_error("tongzhou:3", "investment_yuan", "must be", investment_yuan=text)
    assert len(str(error)) < 300, len(str(error))


def test_python_values_that_are_not_numbers_are_named_in_plain_words() -> None:
    from datetime import date, datetime

    for value, words in (
        (datetime(2025, 1, 1), "a date"),
        (date(2025, 1, 1), "a date"),
        ([1, 2], "several values"),
        ({"a": 1}, "several values"),
    ):
        error = raises_input_error("tongzhou:3", "investment_yuan", "must be a number", investment_yuan=value)
        assert (
            words in error.rule
            and "datetime" not in error.rule
            and "list" not in error.rule
            and "dict" not in error.rule
        )


@pytest.mark.parametrize("on", [1e300, 10**30, 99999, -2025, 2025.5, float("inf"), [2025]])
def test_a_date_that_is_not_one_is_an_input_error_not_an_overflow(on: object) -> None:
    with pytest.raises(InputError) as info:
        evaluate("tongzhou:3", on=on, investment_yuan=1)
    assert info.value.field == "on" and "Overflow" not in str(info.value)


# --- 100万, 1.2亿: the Chinese multipliers are read exactly (issue 9 item 12) ---


@pytest.mark.parametrize(
    "text, yuan",
    [
        ("100万", 1_000_000),
        ("1.2亿", 120_000_000),
        ("1,200万", 12_000_000),
        ("3000万元", 30_000_000),
        ("5亿元", 500_000_000),
        ("１２０万", 1_200_000),
        ("120 万", 1_200_000),
        ("0.0001万", 1),
        ("1.23456789亿", 123_456_789),
        ("120000元", 120_000),
        ("1.5万元", 15_000),
    ],
)
def test_money_written_with_wan_or_yi_is_exact(text: str, yuan: int) -> None:
    award = evaluate("etown:7", investment_yuan=text)  # 30%, no cap
    assert award.inputs["investment_yuan"] == yuan
    assert award.amount == (Decimal(yuan) * Decimal("0.3")).quantize(Decimal("0.01"))
    assert "E" not in str(award.inputs["investment_yuan"])  # 1.2亿 is 120000000, not 1.2E+8


def test_wan_reads_in_other_number_fields_but_yuan_only_in_money() -> None:
    assert evaluate("etown:29", green_kwh="400万").inputs["green_kwh"] == 4_000_000
    assert evaluate("etown:19", fleet_size="1万", nev_count="0.9万").amount == 300_000
    raises_input_error("etown:29", "green_kwh", "must be a number", green_kwh="400万元")


@pytest.mark.parametrize("text", ["万", "1万万", "1万亿", "1.2.3万", "约100万", "100w", "1,2,0万x"])
def test_other_writings_are_refused_with_how_to_write_it(text: str) -> None:
    error = raises_input_error("tongzhou:3", "investment_yuan", "must be", investment_yuan=text)
    assert "120万" in error.rule or "below" in error.rule, error.rule


@pytest.mark.parametrize(
    "text",
    ["1200000", "0.035", "007", "0.000", "1200000.50", "9" * 29, "9" * 30, "1." + "0" * 30, "1." + "0" * 31,
     "1" * 29 + "." + "5" * 30, "0." + "0" * 29 + "1", "0." + "0" * 30 + "1"],
)  # fmt: skip
def test_plain_digits_read_as_they_stand_are_what_the_full_reading_makes_of_them(text: str) -> None:
    """``to_decimal`` reads plain digits with ``Decimal(text)`` at once; the same text with a space before
    it takes the full reading (NFKC, separators, 万/亿, the grammar): the same number, or the same error."""
    from policies.numbers import to_decimal

    def read(value: str) -> object:
        try:
            return to_decimal(value)
        except ValueError as exc:
            return str(exc).replace(repr(" " + text), repr(text))

    quick, full = read(text), read(" " + text)
    assert quick == full and type(quick) is type(full)
    if isinstance(quick, Decimal):
        assert str(quick) == str(full)  # the same digits and exponent, not only the same value
