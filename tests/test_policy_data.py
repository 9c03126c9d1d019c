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
        (
            TONGZHOU_3,
            "    amount: min(rate * investment_yuan, cap, surprise)",
            "surprise is neither an input nor a parameter",
        ),
        (TONGZHOU_3, "    amount: rate * investment_yuan", "cap used by nothing"),
        (TONGZHOU_3, "    amount: __import__('os').system('true')", "only the functions min, max, round"),
        (TONGZHOU_3, "    amount: min(rate * investment_yuan, cap) ** 2", "not allowed"),
        ("      cap: {value: 2000000, kind: cap", "      cap: {value: 2000000, kind: ceiling", "kind"),
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


# --- max_amount: derived from the amount, not stated by hand (issue 10 part 4) ---------------------

#: The most one claim can get, as each text states it (the figures once written as max_amount).
STATED_CAPS = {
    "beijing:2.1": 30_000_000,
    "beijing:2.2": 30_000_000,
    "beijing:2.3": 30_000_000,
    "beijing:2.5": 30_000_000,
    "beijing:8": 10_000_000,
    "tongzhou:3": 2_000_000,
    "tongzhou:4": 1_000_000,
    "tongzhou:5.1": 300_000,
    "tongzhou:5.2": 500_000,
    "tongzhou:5.3": 500_000,
    "tongzhou:5.4": 150_000,
    "tongzhou:6": 2_000_000,
    "tongzhou:8": 5_000_000,
    "tongzhou:9": 1_000_000,
    "etown:1": 5_000_000,
    "etown:2": 5_000_000,
    "etown:3": 5_000_000,
    "etown:4": 10_000_000,
    "etown:12": 200_000,
    "etown:14": 500_000,
    "etown:15": 500_000,
    "etown:16": 300_000,
    "etown:17": 100_000,
    "etown:19": 500_000,
    "etown:22": 100_000,
    "etown:25": 5_500_000,
    "etown:26": 5_000_000,
    "etown:31": 100_000,
    "etown:32": 500_000,
    "etown:34": 200_000,
    "etown:35": 200_000,
    "etown:36": 200_000,
    "etown:37": 1_000_000,
    "etown:38": 200_000,
    "etown:39": 500_000,
    "etown:40": 300_000,
}


def test_max_amount_is_derived_from_the_amount_and_the_parameters() -> None:
    derived = {c.id: c.max_amount for p in policies().values() for c in p.clauses if c.max_amount is not None}
    assert derived == STATED_CAPS
    for path in DATA_DIR.glob("*.yaml"):
        assert "max_amount" not in path.read_text(encoding="utf-8"), path.name


def test_a_changed_cap_changes_max_amount(data: Path) -> None:
    edit(
        data / "tongzhou.yaml",
        'cap: {value: 500000, kind: cap, cites: "最高给予支持50万元"}',
        'cap: {value: 600000, kind: cap, cites: "最高给予支持60万元"}',
    )
    edit(data / "etown.yaml", "three_years_a_award: {value: 200000", "three_years_a_award: {value: 250000")
    clauses = {c.id: c for p in load_all(data).values() for c in p.clauses}
    assert clauses["tongzhou:5.2"].max_amount == 600_000 and clauses["etown:15"].max_amount == 550_000


def test_max_amount_stated_where_it_is_derived_is_refused(data: Path) -> None:
    edit(data / "tongzhou.yaml", TONGZHOU_3, TONGZHOU_3 + "\n    max_amount: 2000000")
    with pytest.raises(
        PolicyDataError, match=r"tongzhou:3.*max_amount is derived from the amount \(2000000\): remove it"
    ):
        load_all(data)


def test_max_amount_stated_where_nothing_caps_the_amount_needs_its_reason(data: Path) -> None:
    etown_27 = "    amount: >-\n      per_kw * capacity_kw"
    text = (data / "etown.yaml").read_text(encoding="utf-8")
    assert etown_27 in text
    edit(data / "etown.yaml", etown_27, "    max_amount: 800000\n" + etown_27)
    with pytest.raises(PolicyDataError, match=r"etown:27.*needs max_amount_reason"):
        load_all(data)
    edit(
        data / "etown.yaml",
        "    max_amount: 800000\n",
        "    max_amount: 800000\n    max_amount_reason: {zh: 解读, en: a reading the expression cannot hold}\n",
    )
    assert {c.id: c for c in load_all(data)["etown"].clauses}["etown:27"].max_amount == 800_000


@pytest.mark.parametrize(
    "source, inputs, expected",
    [
        ("min(rate * x, cap)", {"x": None}, "500"),
        ("rate * x", {"x": None}, None),
        ("rate * x", {"x": "1000"}, "100"),
        ("max(0, cap - x)", {"x": None}, "500"),
        ("cap / x", {"x": None}, None),  # x may be 0
        ("round(x / 3, 2) if flag else cap", {"x": "1", "flag": "bool"}, "500"),
        ("-x + cap", {"x": None}, "500"),
    ],
)
def test_upper_bound_by_intervals(source: str, inputs: dict, expected: str | None) -> None:
    from decimal import Decimal

    from policies import expr
    from policies.bounds import upper_bound
    from policies.schema import InputSpec

    specs = {
        n: InputSpec(
            type="bool" if v == "bool" else "number",
            label={"zh": n, "en": n},
            max=None if v in (None, "bool") else Decimal(v),
        )
        for n, v in inputs.items()
    }
    bound = upper_bound(expr.parse(source), specs, {"rate": Decimal("0.1"), "cap": Decimal(500)})
    assert bound == (None if expected is None else Decimal(expected))
