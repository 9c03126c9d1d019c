import pytest

from policies.uscc import check_character, validate_uscc


def test_the_standards_own_example_is_valid() -> None:
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"
    assert check_character("91350100M000100Y4") == "3"


def test_lower_case_and_spaces_are_read() -> None:
    assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "code, rule",
    [
        ("91350100M000100Y44", "check character is 4, GB 32100-2015 gives 3"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M0001O0Y43", "outside"),
        (91350100, "text"),
    ],
)
def test_bad_codes_name_the_rule(code: object, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        validate_uscc(code)
