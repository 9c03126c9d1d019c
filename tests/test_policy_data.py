"""Loading the policy files fails loudly, naming the file and the clause."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policies.errors import PolicyDataError
from policies.registry import DATA_DIR, load_all, policies


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    for path in DATA_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


TONGZHOU_3 = "    amount: min(rate * investment_yuan, cap)"


@pytest.mark.parametrize(
    "old, new, message",
    [
        (TONGZHOU_3, TONGZHOU_3 + "\n    colour: green", "colour"),
        (TONGZHOU_3, "    amount: min(rate * investment_yuan, cap, surprise)", "surprise is neither an input nor a parameter"),
        (TONGZHOU_3, "    amount: rate * investment_yuan", "cap used by nothing"),
        (TONGZHOU_3, "    amount: __import__('os').system('true')", "only the functions min, max, round"),
        (TONGZHOU_3, "    amount: min(rate * investment_yuan, cap) ** 2", "not allowed"),
        ('      cap: {value: 2000000, kind: cap', '      cap: {value: 2000000, kind: ceiling', "kind"),
    ],
)
def test_bad_clause_names_file_and_clause(data: Path, old: str, new: str, message: str) -> None:
    edit(data / "tongzhou.yaml", old, new)
    with pytest.raises(PolicyDataError) as info:
        load_all(data)
    text = str(info.value)
    assert "tongzhou.yaml" in text and "tongzhou:3" in text and message in text, text


def test_duplicate_clause_id(data: Path) -> None:
    edit(data / "tongzhou.yaml", '- id: "tongzhou:4"', '- id: "tongzhou:3"')
    with pytest.raises(PolicyDataError, match=r"tongzhou\.yaml.*duplicate clause id tongzhou:3"):
        load_all(data)


def test_duplicate_yaml_key(data: Path) -> None:
    edit(data / "tongzhou.yaml", TONGZHOU_3, TONGZHOU_3 + "\n    amount: cap")
    with pytest.raises(PolicyDataError, match=r"tongzhou\.yaml.*'amount' appears twice"):
        load_all(data)


def test_choice_compared_with_a_value_it_does_not_have(data: Path) -> None:
    edit(data / "etown.yaml", 'ownership == "self"', 'ownership == "own"')
    with pytest.raises(PolicyDataError, match=r"etown\.yaml: clause etown:27.*'own'"):
        load_all(data)


def test_policies_carry_their_metadata() -> None:
    loaded = policies()
    assert loaded["etown"].number == "京技管发〔2025〕11号"
    assert str(loaded["etown"].validity.start) == "2025-05-17" and loaded["etown"].validity.end is None
    assert loaded["beijing"].number == "京经信发〔2024〕20号" and str(loaded["beijing"].validity.end) == "2027-12-31"
    assert loaded["tongzhou"].validity.start is None and loaded["tongzhou"].validity.notes
    assert loaded["tongzhou"].validity.start_year == 2024  # reading: cites 京经信发〔2024〕20号, replaces a 2024 rule
    for policy in loaded.values():
        assert policy.encoding_version and (Path("/") / policy.source_file).name.endswith(".txt")
        for clause in policy.clauses:
            assert clause.source and clause.title.zh and clause.title.en and clause.article


def test_yes_no_default_must_be_true_or_false() -> None:
    from pydantic import ValidationError

    from policies.schema import InputSpec

    with pytest.raises(ValidationError, match="true or false"):
        InputSpec.model_validate({"type": "bool", "label": {"zh": "a", "en": "b"}, "default": 1})
    assert InputSpec.model_validate({"type": "money", "label": {"zh": "a", "en": "b"}, "default": 0}).default == 0


SEEDS = Path("/work/shared/seeds")


def test_etown_best_of_note_quotes_seven_two_three_word_for_word() -> None:
    """七(二)3 is quoted as written, in the policy's note and in the portfolio's best-of note (issue 9 item 20)."""
    from policies.stacking import BEST_OF_CITES

    quote = "同一企业的同一项目，按照“从优不重复”原则予以支持，另有规定的除外"
    seed = SEEDS / Path(policies()["etown"].source_file).name
    if seed.exists():
        assert quote in "".join(seed.read_text(encoding="utf-8").split())
    assert any(quote + "。" in note.zh for note in policies()["etown"].notes)
    assert quote in BEST_OF_CITES["etown"] and "就高" not in BEST_OF_CITES["etown"]
