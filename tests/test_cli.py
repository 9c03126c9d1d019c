"""The `green-award` command: catalog, one calculation, the demo."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app

runner = CliRunner()


def test_clauses_lists_every_policy() -> None:
    result = runner.invoke(app, ["clauses"])
    assert result.exit_code == 0
    for clause in ("beijing:2.1", "tongzhou:5.2", "etown:40"):
        assert clause in result.output


def test_clauses_of_one_policy() -> None:
    result = runner.invoke(app, ["clauses", "--policy", "tongzhou"])
    assert result.exit_code == 0 and "tongzhou:3" in result.output and "etown:27" not in result.output


def test_clauses_of_an_unknown_policy_is_a_usage_error() -> None:
    result = runner.invoke(app, ["clauses", "--policy", "shanghai"])
    assert result.exit_code == 2


def test_calc_prints_amount_and_trace() -> None:
    result = runner.invoke(app, ["calc", "etown:27", "capacity_kw=100"])
    assert result.exit_code == 0, result.output
    assert "80,000" in result.output and "五(十一)27" in result.output


def test_calc_json() -> None:
    result = runner.invoke(
        app,
        [
            "calc",
            "beijing:2.1",
            "project_type=节能改造项目",
            "energy_saved_tce=1000",
            "investment_yuan=10000000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["amount"] == "1200000.00" and data["binding"] == "unit_price"


def test_calc_bad_input_names_field_and_rule() -> None:
    result = runner.invoke(app, ["calc", "tongzhou:3", "investment_yuan=-5"])
    assert result.exit_code == 2
    assert "investment_yuan" in result.output and "≥ 0" in result.output and "Traceback" not in result.output


def test_calc_input_without_equals_sign() -> None:
    result = runner.invoke(app, ["calc", "tongzhou:3", "investment_yuan"])
    assert result.exit_code == 2 and "name=value" in result.output


@pytest.mark.slow
def test_demo_writes_results_and_refuses_to_overwrite(tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the demo works from any directory
    try:
        first = runner.invoke(app, ["demo", "--out", "out", "--no-pdf"])
        assert first.exit_code == 0, first.output
        assert (tmp_path / "out" / "results.xlsx").exists()
        again = runner.invoke(app, ["demo", "--out", "out"])
        assert again.exit_code == 2 and "--overwrite" in again.output
        forced = runner.invoke(app, ["demo", "--out", "out", "--overwrite", "--no-pdf"])
        assert forced.exit_code == 0, forced.output
    finally:
        os.chdir(cwd)


# --- an output that cannot be written: one line and exit 2, for every command that writes -------------

from test_files import read_only_dir  # noqa: E402,F401  (a fixture)


def _one_line_error(result, path: Path, why: str) -> None:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert f"cannot write {path}" in lines[0] and why in lines[0] and "Traceback" not in result.output


def test_every_command_names_an_output_it_cannot_write_in_one_line(tmp_path, read_only_dir, monkeypatch):
    from addin import cli
    from addin.declaration import make_declaration

    monkeypatch.setattr(cli.console, "is_interactive", True)  # progress bars on, as in a terminal
    table = tmp_path / "claims.csv"
    table.write_text(
        "enterprise,uscc,project,clause,year,capacity_kw\n甲公司,,P1,etown:27,2025,100\n", encoding="utf-8"
    )
    declaration = tmp_path / "d.xlsx"
    declaration.write_bytes(make_declaration("etown:27", {"capacity_kw": 100}, {}, require_details=False)[0])
    (tmp_path / "afile").write_text("x")
    under_a_file, read_only = tmp_path / "afile", read_only_dir
    for where, why in ((under_a_file, "afile is a file, not a folder"), (read_only, "permission denied")):
        commands = {
            "demo": (["demo", "-o", str(where / "demo")], where / "demo"),
            "excel": (["excel", "-o", str(where / "m.xlsm")], where / "m.xlsm"),
            "template": (["template", "portfolio", "-o", str(where / "t.xlsx")], where / "t.xlsx"),
            "portfolio csv": (["portfolio", str(table), "-o", str(where / "r.csv")], where / "r.csv"),
            "portfolio xlsx": (["portfolio", str(table), "-o", str(where / "r.xlsx")], where / "r.xlsx"),
            "declare": (["declare", str(table), "-o", str(where / "decl")], where / "decl"),
            "review report": (["review", str(declaration), "--report", str(where / "rep.xlsx")], where / "rep.xlsx"),
            "review json": (["review", str(declaration), "--json", str(where / "rep.json")], where / "rep.json"),
        }
        for _name, (args, path) in commands.items():
            _one_line_error(runner.invoke(app, args), path, why)
    result = runner.invoke(app, ["portfolio", str(table), "-o", str(tmp_path / "afile")])  # an existing file
    assert result.exit_code == 2 and "--overwrite" in result.output and len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "claims.csv", "d.xlsx", "ro"]


@pytest.mark.slow
def test_printing_onto_a_full_disk_is_one_line(tmp_path):
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full to stand for a full disk")
    code = "from addin.cli import main; main()"
    for args in (
        ["calc", "etown:27", "capacity_kw=100"],
        ["calc", "etown:27", "capacity_kw=100", "--json"],
        ["clauses"],
    ):
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-c", code, *args], stdout=full, stderr=subprocess.PIPE, text=True)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [
            "error 错误: cannot write the standard output 标准输出: No space left on device / 无法写入输出"
        ]


def test_one_clause_names_its_zones_with_their_codes(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    result = runner.invoke(app, ["clauses", "tongzhou:3"])
    assert result.exit_code == 0, result.output
    assert "区域 Zones: 城市副中心（通州） City sub-centre (Tongzhou) [tongzhou]" in result.output
