"""A new policy is one YAML file and no code (issue 10 part 4): ``tests/fixtures/policies/newtown.yaml``, a
fictional district with a zone of its own, loaded from the directory ``GREEN_AWARD_POLICY_DIRS`` names,
evaluated, listed, declared and reviewed like the bundled three."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from policies import catalog, evaluate
from policies.engine import COMPILED_CACHES
from policies.errors import PolicyDataError
from policies.registry import DATA_DIR, POLICY_DIRS, load_all, policies, policy_names, reload, zones

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "policies"


@pytest.fixture()
def newtown(monkeypatch: pytest.MonkeyPatch):
    """The bundled policies and the fixture directory's, for one test (then the bundled ones again)."""
    monkeypatch.setenv(POLICY_DIRS, str(FIXTURES))
    reload(*COMPILED_CACHES)
    try:
        yield policies()["newtown"]
    finally:
        monkeypatch.delenv(POLICY_DIRS)
        reload(*COMPILED_CACHES)


def test_the_fixture_policy_is_loaded_beside_the_bundled_ones(newtown) -> None:
    assert list(policies()) == ["beijing", "tongzhou", "etown", "newtown"]
    assert zones()["newtown_core"].zh == "新城示范区核心区" and "etown_core" in zones()
    assert policy_names()["新城"] == policy_names()["new town"] == "newtown"
    assert [c["id"] for c in catalog("newtown")] == ["newtown:1"]
    assert catalog("newtown")[0]["max_amount"] == Decimal(1_000_000)  # derived: min(rate × investment, cap)


def test_the_fixture_policy_evaluates(newtown) -> None:
    award = evaluate("newtown:1", on=2025, investment_yuan=3_000_000, zone="newtown_core")
    assert award.amount == Decimal("600000.00") and award.eligible and award.binding == "rate"
    capped = evaluate("newtown:1", on="2026-06-30", investment_yuan="800万", zone="新城示范区核心区")
    assert capped.amount == Decimal("1000000.00") and capped.binding == "cap"
    outside = evaluate("newtown:1", on=2025, investment_yuan=3_000_000, zone="etown_core")
    assert outside.amount == 0 and "newtown_core" in outside.reasons[0]
    assert evaluate("newtown:1", on=2028, investment_yuan=3_000_000).amount == 0  # the policy ends 2027-12-31
    # its zone is a zone like any other: an E-Town clause is not open to it
    assert evaluate("etown:27", capacity_kw=100, zone="newtown_core").amount == 0


def test_the_fixture_policy_is_declared_and_reviewed(newtown, tmp_path: Path) -> None:
    """No template is committed for it: the declaration is generated in memory, and review accepts it."""
    from addin.declaration import make_declaration
    from addin.review import review_file

    details = {
        "enterprise": "新城绿色科技有限公司",
        "uscc": "91350100M000100Y43",
        "address": "新城示范区一号",
        "contact": "李四",
        "phone": "010-12345678",
        "project": "N-1",
        "project_name": "余热回收",
        "year": 2025,
    }
    data, award = make_declaration("newtown:1", {"investment_yuan": 2_000_000, "zone": "newtown_core"}, details)
    assert award.amount == Decimal("400000.00")
    path = tmp_path / "newtown.xlsx"
    path.write_bytes(data)
    sub = review_file(path)
    assert sub.problems == [] and sub.clause == "newtown:1" and sub.recomputed_yuan == Decimal("400000.00"), (
        sub.problems
    )


def cli(*args: str, dirs: str | None = str(FIXTURES)) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "120"}
    env.pop(POLICY_DIRS, None)
    if dirs is not None:
        env[POLICY_DIRS] = dirs
    script = Path(sys.executable).with_name("green-award")  # as users run it
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from addin.cli import main; main()"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False
    )


def test_green_award_clauses_lists_the_fixture_policy() -> None:
    listed = cli("clauses")
    assert listed.returncode == 0, listed.stderr
    assert "newtown:1" in listed.stdout and "1,000,000" in listed.stdout and "etown:27" in listed.stdout
    one = cli("clauses", "newtown:1")
    assert one.returncode == 0 and "新城示范区绿色改造支持办法" in one.stdout, one.stderr
    calc = cli("calc", "newtown:1", "investment_yuan=8000000", "zone=newtown_core", "--on", "2025")
    assert calc.returncode == 0 and "1,000,000" in calc.stdout, calc.stdout + calc.stderr
    by_alias = cli("clauses", "--policy", "新城")
    assert by_alias.returncode == 0 and "newtown:1" in by_alias.stdout and "etown:27" not in by_alias.stdout
    without = cli("clauses", dirs=None)
    assert without.returncode == 0 and "newtown" not in without.stdout


def test_a_bad_policy_directory_is_one_line() -> None:
    done = cli("clauses", dirs=str(ROOT / "no-such-directory"))
    assert done.returncode != 0 and "no-such-directory: not a directory of policy files" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture()
def extra(tmp_path: Path) -> Path:
    folder = tmp_path / "more"
    folder.mkdir()
    shutil.copy(FIXTURES / "newtown.yaml", folder / "newtown.yaml")
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("zones: [newtown_core]", "zones: [newtown_centre]", "zones: unknown zone 'newtown_centre'"),
        ("  newtown_core: {zh", "  etown_core: {zh", "zone 'etown_core' is already defined"),
        ("aliases: [新城, new town]", "aliases: [新城, 亦庄]", "'亦庄' already names policy etown"),
    ],
)
def test_a_new_policy_that_clashes_names_its_file(extra: Path, old: str, new: str, message: str) -> None:
    edit(extra / "newtown.yaml", old, new)
    with pytest.raises(PolicyDataError) as info:
        load_all(DATA_DIR, [extra])
    assert "newtown" in str(info.value) and message in str(info.value), str(info.value)


def test_a_parameter_named_as_a_policy_wide_input_is_refused(extra: Path) -> None:
    """The engine writes a parameter's value into the expressions: no input may share its name."""
    edit(extra / "newtown.yaml", "      cap: {value: 1000000", "      zone: {value: 1000000")
    edit(
        extra / "newtown.yaml", "amount: min(rate * investment_yuan, cap)", "amount: min(rate * investment_yuan, zone)"
    )
    with pytest.raises(PolicyDataError) as info:
        load_all(DATA_DIR, [extra])
    assert "['zone'] is already a policy-wide input" in str(info.value), str(info.value)


def test_a_policy_is_named_by_its_file(extra: Path) -> None:
    (extra / "newtown.yaml").rename(extra / "oldtown.yaml")
    with pytest.raises(
        PolicyDataError, match=r"oldtown\.yaml: id is 'newtown', expected 'oldtown' \(the file's name\)"
    ):
        load_all(DATA_DIR, [extra])


def test_a_policy_id_loaded_twice_is_refused(extra: Path) -> None:
    shutil.copy(DATA_DIR / "etown.yaml", extra / "etown.yaml")
    with pytest.raises(PolicyDataError, match=r"etown\.yaml: policy 'etown' is already loaded"):
        load_all(DATA_DIR, [extra])
