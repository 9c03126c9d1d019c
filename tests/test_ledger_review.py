"""``green-award review DIR --ledger L``: batches checked against the grants on record (issue 11).

Figures: Tongzhou 第三条 30% of the approved investment; 第六条 30%; 第十条 2,000,000 per enterprise
per year, best clause only; a one-off clause pays a project once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.declaration import make_declaration
from addin.ledger.db import init_ledger, open_ledger
from addin.ledger.repository import export
from policies.engine import compiled

from ledger_db import BACKENDS, fresh_database

D = Decimal
runner = CliRunner()
DETAILS = {
    "enterprise": "北京绿色制造有限公司",
    "uscc": "91350100M000100Y43",
    "address": "北京市通州区运河东大街1号",
    "contact": "张三",
    "phone": "010-12345678",
    "project": "P-001",
    "project_name": "节能改造项目",
    "start_date": "2025-06-01",
    "completion_date": "2025-12-20",
    "year": 2025,
}


def declaration(folder: Path, name: str, clause: str, inputs: dict, **details) -> Path:
    yes = {n: True for n in compiled(clause).conditions}
    data, _ = make_declaration(clause, {**yes, "zone": "tongzhou", **inputs}, {**DETAILS, **details})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def said(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture(params=BACKENDS)
def target(request, tmp_path):
    with fresh_database(request.param, tmp_path) as name:
        init_ledger(name).close()
        yield name


def review(folder: Path, target: str, out: Path) -> tuple[int, dict]:
    result = runner.invoke(app, ["review", str(folder), "--ledger", target, "--json", str(out), "--overwrite"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, {Path(r["file"]).name: r for r in json.loads(out.read_text(encoding="utf-8"))}


def test_a_second_batch_over_the_cap_and_repeating_a_one_off_project(target, tmp_path):
    declaration(tmp_path / "b1", "p1.xlsx", "tongzhou:3", {"investment_yuan": 5_000_000})
    code, first = review(tmp_path / "b1", target, tmp_path / "r1.json")
    assert code == 0 and first["p1.xlsx"]["granted_yuan"] == 1_500_000 and first["p1.xlsx"]["ledger_id"] == 1

    declaration(tmp_path / "b2", "p2.xlsx", "tongzhou:3", {"investment_yuan": 2_000_000}, project="P-002")  # 600,000
    declaration(tmp_path / "b2", "p3.xlsx", "tongzhou:6", {"investment_yuan": 1_000_000}, project="P-003")  # 300,000
    declaration(
        tmp_path / "b2",
        "p1-2026.xlsx",
        "tongzhou:3",
        {"investment_yuan": 5_000_000},
        year=2026,
        start_date="2026-03-01",
        completion_date="2026-10-01",
    )
    code, second = review(tmp_path / "b2", target, tmp_path / "r2.json")
    assert code == 1
    # 500,000 left of 第十条's 2,000,000 in 2025, shared 600:300; the one-off P-001 again: nothing
    assert second["p2.xlsx"]["granted_yuan"] == 333_333.33 and second["p3.xlsx"]["granted_yuan"] == 166_666.67
    assert second["p2.xlsx"]["ok"] and any("p1.xlsx" in w and "封顶" in w for w in second["p2.xlsx"]["warnings"])
    repeat = second["p1-2026.xlsx"]
    assert not repeat["ok"] and repeat["granted_yuan"] == 0
    assert any("Duplicate" in p and "p1.xlsx" in p and "ledger #1" in p for p in repeat["problems"])

    # the same batch again: nothing new recorded, the same outcome reported
    code, again = review(tmp_path / "b2", target, tmp_path / "r3.json")
    assert code == 1
    for name in second:
        assert (again[name]["granted_yuan"], again[name]["ok"], again[name]["ledger_id"]) == (
            second[name]["granted_yuan"],
            second[name]["ok"],
            second[name]["ledger_id"],
        )
        assert any("nothing new recorded" in w for w in again[name]["warnings"])
    ledger = open_ledger(target)
    try:
        data = export(ledger)
    finally:
        ledger.close()
    assert len(data["submissions"]) == 4
    assert round(sum(s["granted_yuan"] for s in data["submissions"] if s["year"] == 2025), 2) == 2_000_000


def test_a_resubmitted_file_replaces_the_earlier_one(target, tmp_path):
    declaration(tmp_path / "b1", "p1.xlsx", "tongzhou:3", {"investment_yuan": 5_000_000})
    review(tmp_path / "b1", target, tmp_path / "r1.json")
    declaration(tmp_path / "b2", "p1-corrected.xlsx", "tongzhou:3", {"investment_yuan": 4_000_000})
    code, out = review(tmp_path / "b2", target, tmp_path / "r2.json")
    sub = out["p1-corrected.xlsx"]
    assert code == 0 and sub["granted_yuan"] == 1_200_000 and sub["ledger_id"] == 2
    assert any("取代 Replaces" in w and "p1.xlsx" in w for w in sub["warnings"])


def test_a_missing_ledger_stops_the_review_before_it_starts(tmp_path):
    declaration(tmp_path / "b1", "p1.xlsx", "tongzhou:3", {"investment_yuan": 5_000_000})
    result = runner.invoke(app, ["review", str(tmp_path / "b1"), "--ledger", str(tmp_path / "typo.db")])
    assert result.exit_code == 2 and "no such file" in said(result) and not (tmp_path / "typo.db").exists()


@pytest.mark.slow
def test_two_review_runs_at_once_lose_nothing(target, tmp_path):
    for k in range(3):
        declaration(tmp_path / "A", f"a{k}.xlsx", "tongzhou:3", {"investment_yuan": 2_000_000}, project=f"A-{k}")
        declaration(tmp_path / "B", f"b{k}.xlsx", "tongzhou:3", {"investment_yuan": 2_000_000}, project=f"B-{k}")
    command = str(Path(sys.executable).parent / "green-award")  # as users run it
    runs = [
        subprocess.Popen(
            [command, "review", str(tmp_path / b), "--ledger", target, "--json", str(tmp_path / f"{b}.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for b in ("A", "B")
    ]
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err[-2000:] + out[-2000:]
    reports = [json.loads((tmp_path / f"{b}.json").read_text(encoding="utf-8")) for b in ("A", "B")]
    ids = sorted(r["ledger_id"] for report in reports for r in report)
    assert ids == [1, 2, 3, 4, 5, 6]
    totals = sorted(round(sum(r["granted_yuan"] for r in report), 2) for report in reports)
    assert totals == [200_000, 1_800_000]  # one run went first; the other shared the 200,000 left
    ledger = open_ledger(target)
    try:
        data = export(ledger)
    finally:
        ledger.close()
    assert len(data["submissions"]) == 6 and round(sum(s["granted_yuan"] for s in data["submissions"]), 2) == 2_000_000
