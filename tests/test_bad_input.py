"""Every bad-input path raises one project error that names the clause, the field and the rule."""

from __future__ import annotations

import math

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
