"""``green-award match``, ``green-award template profile`` and ``green-award clauses --kinds``, run as
users run them (typer's CliRunner), and the profile read from YAML, JSON and a filled template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from test_matching import CONTRACTOR, TONGZHOU_MANUFACTURER
from typer.testing import CliRunner

from addin.cli import app
from addin.match import PROFILE_SHEET, read_profile
from policies import GreenAwardError
from policies.matching import match

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "workbook_templates" / "profile_example.yaml"


def test_match_writes_the_json_the_issue_asks_for(tmp_path: Path) -> None:
    profile = tmp_path / "contractor.yaml"
    profile.write_text(yaml.safe_dump(CONTRACTOR, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out.json"
    done = CliRunner().invoke(app, ["match", str(profile), "--json", str(out)])
    assert done.exit_code == 0, done.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["enterprise"]["name"] == "亦城建设工程总承包有限公司"
    claimable = {(r["project"], r["clause"]): r["amount_yuan"] for r in data["results"] if r["status"] == "claimable"}
    assert claimable == {("S1", "etown:12"): 200000.0, ("S2", "etown:22"): 100000.0, ("S3", "etown:11"): 300000.0}
    possible = [r for r in data["results"] if r["status"] == "possible"]
    assert [(r["project"], r["clause"], r["amount_yuan"]) for r in possible] == [("S4", "etown:21", 360000.0)]
    assert "six_machine_types" in possible[0]["missing"]
    zone = next(r for r in data["results"] if r["project"] == "S1" and r["clause"] == "tongzhou:9")
    assert zone["status"] == "not_applicable" and zone["failed"] == ["kind"] and zone["amount_yuan"] is None
    assert data["best"]["total_yuan"] == 600000.0
    assert data["best"]["payments_by_year"] == {"2025": 450000.0, "2026": 150000.0}
    assert {c["clause"] for c in data["best"]["claims"]} == {"etown:11", "etown:12", "etown:22"}
    # the console: the amounts and what to confirm
    assert "etown:21" in done.output and "360,000.00" in done.output and "600,000.00" in done.output
    # never overwritten unless asked
    again = CliRunner().invoke(app, ["match", str(profile), "--json", str(out)])
    assert again.exit_code == 2 and "exists" in again.output


def test_match_writes_a_workbook_and_reads_json(tmp_path: Path) -> None:
    profile = tmp_path / "tongzhou.json"
    profile.write_text(json.dumps(TONGZHOU_MANUFACTURER, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "result.xlsx"
    done = CliRunner().invoke(app, ["match", str(profile), "-o", str(out)])
    assert done.exit_code == 0, done.output
    book = load_workbook(out)
    assert book.sheetnames == ["机会 Opportunities", "全部 All", "最优组合 Best", "按年 By year"]
    best = [[c.value for c in row] for row in book["最优组合 Best"].iter_rows(min_row=2)]
    assert best[-1][0] == "合计 Total" and best[-1][5] == 2850000  # 2,000,000 (第十条's cap) + 600,000 + 250,000
    assert book["机会 Opportunities"]["A1"].value == "项目\nProject"
    statuses = [row[5] for row in book["机会 Opportunities"].iter_rows(min_row=2, values_only=True)]
    assert statuses.count("可申报 claimable") == 5


def test_a_bad_profile_is_one_line_with_status_2(tmp_path: Path) -> None:
    profile = tmp_path / "bad.yaml"
    profile.write_text(
        "enterprise: {name: 甲}\nprojects:\n  - {id: P, kind: distributed_pv, year: 2025, capacity_kwh: 5}\n",
        encoding="utf-8",
    )
    done = CliRunner().invoke(app, ["match", str(profile)])
    assert done.exit_code == 2
    assert "capacity_kwh" in done.output and "did you mean 'capacity_kw'" in done.output
    assert "Traceback" not in done.output


def test_the_template_filled_in_is_read_back(tmp_path: Path) -> None:
    out = tmp_path / "profile.xlsx"
    done = CliRunner().invoke(app, ["template", "profile", "-o", str(out)])
    assert done.exit_code == 0, done.output
    book = load_workbook(out)
    ws = book[PROFILE_SHEET]
    labels = {
        ws.cell(row=r, column=1).value.rsplit("\n", 1)[-1]: r for r in range(2, 20) if ws.cell(row=r, column=1).value
    }
    ws.cell(row=labels["name"], column=2, value="亦城建设工程总承包有限公司")
    ws.cell(row=labels["zone"], column=2, value="经开区60平方公里范围（含新扩区域赋权管理单位）")
    ws.cell(row=labels["kinds"], column=2, value="建筑施工总承包单位")
    header = next(r for r in range(1, 40) if (ws.cell(row=r, column=1).value or "").endswith("\nproject"))
    columns = {
        ws.cell(row=header, column=c).value.rsplit("\n", 1)[-1]: c
        for c in range(1, ws.max_column + 1)
        if ws.cell(row=header, column=c).value
    }
    # the dropdowns offer the Chinese labels: a project kind, a choice and yes/no typed as a person would
    for r, values in enumerate(
        [
            {
                "project": "S1",
                "kind": "绿色安全工地称号",
                "year": 2025,
                "site_title": "北京市绿色安全样板工地",
                "completed": "是",
                "no_environmental_penalty": "是",
                "no_written_notice": "是",
            },
            {"project": "S2", "kind": "施工工地电动化试点", "year": 2025},
        ],
        start=header + 1,
    ):
        for name, value in values.items():
            ws.cell(row=r, column=columns[name], value=value)
    book.save(out)
    result = match(read_profile(out))
    claimable = {(r.project, r.clause): r.amount for r in result.results if r.status == "claimable"}
    assert claimable == {("S1", "etown:12"): 200000, ("S2", "etown:22"): 100000}
    assert result.best.total == 300000
    # the dropdowns: the project kinds' Chinese labels on the hidden lists sheet
    assert book["lists"].sheet_state == "hidden"
    assert any(v == "分布式光伏" for col in book["lists"].iter_cols(values_only=True) for v in col)
    assert (CliRunner().invoke(app, ["template", "profile", "-o", str(out)])).exit_code == 2  # exists


def test_clauses_kinds_lists_the_vocabulary_in_chinese_and_english() -> None:
    done = CliRunner().invoke(app, ["clauses", "--kinds"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    for word in (
        "distributed_pv",
        "分布式光伏",
        "Distributed photovoltaics",
        "manufacturer",
        "制造业企业",
        "tongzhou:6, etown:27",
    ):
        assert word in done.output, word


def test_the_example_profile_in_every_format_matches_alike(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    as_json = tmp_path / "p.json"
    as_json.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    assert match(read_profile(EXAMPLE)).best.total == match(read_profile(as_json)).best.total == 3060000


def test_the_demo_prints_the_sample_enterprise_s_opportunities(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--no-pdf"], env={"COLUMNS": "120"})
    assert done.exit_code == 0, done.output
    text = done.output[done.output.index("政策匹配") :]
    assert "亦庄示例智能制造有限公司" in text and "etown:27" in text and "3,060,000.00" in text


def test_an_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    for args, path in (
        (["match", str(EXAMPLE), "-o", str(tmp_path / "afile" / "r.xlsx")], tmp_path / "afile" / "r.xlsx"),
        (["match", str(EXAMPLE), "--json", str(tmp_path / "afile" / "r.json")], tmp_path / "afile" / "r.json"),
        (["template", "profile", "-o", str(tmp_path / "afile" / "t.xlsx")], tmp_path / "afile" / "t.xlsx"),
    ):
        done = CliRunner().invoke(app, args)
        lines = done.output.strip().splitlines()
        assert done.exit_code == 2 and len(lines) == 1 and f"cannot write {path}" in lines[0], done.output


def test_award_match_spills_the_matched_clauses_with_the_granted_amounts() -> None:
    import udfs

    # the contractor's profile as Excel sends a range: numbers as floats, empty cells as None
    rows = [
        ["企业名称\nname", "亦城建设工程总承包有限公司", None],
        ["zone", "etown_core", None],
        ["kinds", "construction_contractor", None],
        [None, None, None],
        ["project", "kind", "year"],
        ["S2", "site_electrification", 2025.0],
        ["S5", "air_membrane", 2025.0],
    ]
    out = udfs.AWARD_MATCH(rows)
    assert out[0] == ["project", "clause", "status", "amount_yuan", "granted_yuan", "missing", "failed"]
    assert out[1:] == [
        ["S2", "etown:22", "claimable", 100000.0, 100000.0, "", ""],
        ["S5", "etown:11", "possible", "", "", "investment_yuan", ""],
    ]
    import pytest

    with pytest.raises(udfs.WorksheetError, match="profile_range"):
        udfs.AWARD_MATCH(5.0)


def test_the_console_fits_80_columns_with_every_amount_and_name_whole() -> None:
    import os
    import subprocess
    import sys

    from addin.sheet_style import text_width

    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-c", "from addin.cli import main; main()", "match", str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        assert text_width(line) <= 80, line
    words = set(done.stdout.replace(",\n", ", ").split())
    for figure in ("500,000.00", "960,000.00", "1,000,000.00", "360,000.00", "3,060,000.00"):
        assert figure in words, figure
    for name in ("etown:21", "etown:23", "machine_owner", "municipal_award_yuan", "energy_target_evaluation"):
        assert name in done.stdout, name


def test_a_batch_of_profiles_writes_one_workbook_and_json_per_profile(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    (folder / "more").mkdir(parents=True)
    (folder / "contractor.yaml").write_text(yaml.safe_dump(CONTRACTOR, allow_unicode=True), encoding="utf-8")
    (folder / "notes.txt").write_text("not a profile")  # not read: not a profile's suffix
    (folder / "~$contractor.xlsx").write_bytes(b"")  # Excel's lock file: not read
    (folder / "more" / "x.yaml").write_text("x: 1")  # a subfolder: not read
    (folder / "bad.yaml").write_text("enterprise: {name: 甲}\nprojects:\n  - {id: P, kind: nope, year: 2025}\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "contractor.json").write_text(json.dumps(TONGZHOU_MANUFACTURER, ensure_ascii=False), encoding="utf-8")
    args = ["match", str(folder), str(other / "contractor.json"), "-o", str(tmp_path / "xlsx")]
    done = CliRunner().invoke(app, [*args, "--json", str(tmp_path / "json")], env={"COLUMNS": "200"})
    assert done.exit_code == 1, done.output  # bad.yaml: one line, the others written
    problems = [line for line in done.output.splitlines() if line.startswith("problem")]
    assert len(problems) == 1 and "bad.yaml" in problems[0] and "nope" in problems[0]
    assert "2 matched, 1 with problems" in done.output and "3,450,000.00" in done.output  # 600,000 + 2,850,000
    # the two profiles named contractor both get a short hash of their path: no result replaces another
    made = sorted(p.name for p in (tmp_path / "json").iterdir())
    assert len(made) == 2 and all(n.startswith("contractor__") and n.endswith(".json") for n in made)
    totals = sorted(json.loads((tmp_path / "json" / n).read_text())["best"]["total_yuan"] for n in made)
    assert totals == [600000.0, 2850000.0]
    assert sorted(p.stem for p in (tmp_path / "xlsx").iterdir()) == [n[:-5] for n in made]
    book = load_workbook(tmp_path / "xlsx" / made[0].replace(".json", ".xlsx"))
    assert book.sheetnames == ["机会 Opportunities", "全部 All", "最优组合 Best", "按年 By year"]
    # again: the results exist, nothing written, one line
    again = CliRunner().invoke(app, [*args, "--json", str(tmp_path / "json")])
    lines = again.output.strip().splitlines()
    assert again.exit_code == 2 and len(lines) == 1 and "4 result file(s) of the 3 profiles exist" in lines[0]
    forced = CliRunner().invoke(app, [*args, "--overwrite"])
    assert forced.exit_code == 1 and "Wrote 2 workbooks" in forced.output


def test_a_batch_wants_folders_for_its_results(tmp_path: Path) -> None:
    for option in ("-o", "--json"):
        target = tmp_path / ("r.xlsx" if option == "-o" else "r.json")
        done = CliRunner().invoke(app, ["match", str(EXAMPLE), str(EXAMPLE), option, str(target)])
        lines = done.output.strip().splitlines()
        assert done.exit_code == 2 and len(lines) == 1 and "give a folder" in lines[0], done.output
        assert not target.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    done = CliRunner().invoke(app, ["match", str(empty)])
    assert done.exit_code == 2 and "no profile" in done.output


@pytest.mark.parametrize(
    "name, text",
    [
        ("p.yaml", "enterprise:\n  name: 甲公司\n  zone: tongzhou\n  zone: etown_core\nprojects: []\n"),
        ("p.json", '{"enterprise": {"name": "甲公司", "zone": "tongzhou", "zone": "etown_core"}, "projects": []}'),
    ],
)
def test_a_profile_with_a_key_given_twice_is_refused_naming_it(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(GreenAwardError, match="key 'zone' appears twice"):
        read_profile(tmp_path / name)
