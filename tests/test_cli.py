"""The `green-award` command: catalog, one calculation, the demo."""

from __future__ import annotations

import json
import os
from pathlib import Path

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
    result = runner.invoke(app, ["calc", "beijing:2.1", "project_type=节能改造项目", "energy_saved_tce=1000", "investment_yuan=10000000", "--json"])
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
