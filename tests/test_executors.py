"""Where a batch runs (addin/executors.py): the options' one-line errors, the pool-size rule, and
``declare`` and ``match`` run as users run them on a small Dask ``LocalCluster`` giving the same
files as one process."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_declaration import DETAILS, portfolio_rows
from test_matching import CONTRACTOR, TONGZHOU_MANUFACTURER
from typer.testing import CliRunner

from addin import executors
from addin.cli import app
from addin.executors import (
    ExecutorError,
    ExecutorSpec,
    check_versions,
    check_workers,
    chunk_size,
    installed_versions,
    parse_executor,
    pool_size,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "workbook_templates" / "profile_example.yaml"


# --- the options ------------------------------------------------------------------------------------


def test_parse_executor_reads_the_three_forms() -> None:
    assert parse_executor(None) == parse_executor("processes") == ExecutorSpec("processes")
    assert parse_executor(" Dask ") == ExecutorSpec("dask", None)
    assert parse_executor("dask=tcp://10.0.0.5:8786") == ExecutorSpec("dask", "tcp://10.0.0.5:8786")


@pytest.mark.parametrize("text", ["threads", "processes=4", "", "dask-ish"])
def test_a_bad_executor_names_the_option_and_the_rule(text: str) -> None:
    if text == "":
        assert parse_executor(text).kind == "processes"  # empty: the default
        return
    with pytest.raises(ExecutorError) as caught:
        parse_executor(text)
    message = str(caught.value)
    assert message.startswith("--executor:") and "processes, dask, dask=ADDRESS" in message and "\n" not in message


def test_workers_must_be_one_or_more() -> None:
    assert check_workers(None) is None and check_workers(3) == 3
    for bad in (0, -2):
        with pytest.raises(ExecutorError, match=r"^--workers: .* must be 1 or more"):
            check_workers(bad)


@pytest.mark.parametrize("command", ["declare", "match"])
def test_bad_options_are_one_line_and_exit_2_before_any_work(tmp_path: Path, command: str) -> None:
    source = tmp_path / "claims.csv"
    pd.DataFrame(portfolio_rows()[:1]).to_csv(source, index=False)
    target = [str(source), "-o", str(tmp_path / "out")] if command == "declare" else [str(EXAMPLE)]
    for option, value, named in (("--executor", "threads", "--executor"), ("--workers", "0", "--workers")):
        done = CliRunner().invoke(app, [command, *target, option, value])
        lines = done.output.strip().splitlines()
        assert done.exit_code == 2 and len(lines) == 1 and named in lines[0], done.output
    assert not (tmp_path / "out").exists()  # nothing made


def test_pool_size_from_the_input_and_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executors, "cores", lambda: 4)
    assert pool_size(3, items=1, pays_from=1000) == 3  # asked for: always
    assert pool_size(1, items=10**6, pays_from=1000) == 1
    assert pool_size(None, items=999, pays_from=1000) == 1  # too small a batch to pay: in this process
    assert pool_size(None, items=1000, pays_from=1000) == 4  # big enough: one process a core
    monkeypatch.setattr(executors, "cores", lambda: 1)
    assert pool_size(None, items=10**6, pays_from=1000) == 1  # one core: a pool never pays
    assert chunk_size(1000, 2, most=50) == 50 and chunk_size(40, 2, most=50) == 5 and chunk_size(3, 8, most=50) == 1


# --- a Dask cluster: same results as one process -------------------------------------------------------


def _command(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("green-award")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from addin.cli import main; main()"]
    env = {**os.environ, "TTY_INTERACTIVE": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "120", **(env or {})}
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=timeout)


def _sheets(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")}


@pytest.mark.slow  # several processes
def test_declare_on_a_local_dask_cluster_writes_the_same_declarations(tmp_path: Path) -> None:
    base = {k: v for k, v in DETAILS.items() if k != "year"}
    rows = portfolio_rows() + [
        {**base, "project": f"Q{i:03d}", "clause": "etown:27", "year": "2025", "capacity_kw": str(100 + i)}
        for i in range(60)
    ]
    source = tmp_path / "claims.csv"
    pd.DataFrame(rows).fillna("").to_csv(source, index=False)
    wide = {"COLUMNS": "400", "NO_COLOR": "1"}
    one = _command("declare", str(source), "-o", str(tmp_path / "one"), "--workers", "1", env=wide)
    dask = _command(
        "declare", str(source), "-o", str(tmp_path / "dask"), "--executor", "dask", "--workers", "2", env=wide
    )
    assert one.returncode == dask.returncode == 1, dask.stdout + dask.stderr  # a row lacks its address, one invalid
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 61 and names == sorted(p.name for p in (tmp_path / "dask").iterdir())
    for name in names:
        assert _sheets(tmp_path / "dask" / name) == _sheets(tmp_path / "one" / name), name

    def summary(done: subprocess.CompletedProcess, folder: str) -> list[str]:
        lines = done.stdout.replace(str(tmp_path / folder), "OUT").splitlines()
        return [line.strip() for line in lines if "Declared" in line or line.startswith("row ")]

    assert len(summary(one, "one")) == 5 and summary(dask, "dask") == summary(one, "one")


def _profiles(folder: Path) -> list[str]:
    folder.mkdir()
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    (folder / "contractor.yaml").write_text(yaml.safe_dump(CONTRACTOR, allow_unicode=True), encoding="utf-8")
    (folder / "tongzhou.json").write_text(json.dumps(TONGZHOU_MANUFACTURER, ensure_ascii=False), encoding="utf-8")
    (folder / "example.yaml").write_text(yaml.safe_dump(example, allow_unicode=True), encoding="utf-8")
    (folder / "bad.yaml").write_text("enterprise: {name: 甲}\nprojects:\n  - {id: P, kind: nope, year: 2025}\n")
    return ["contractor", "example", "tongzhou"]


@pytest.mark.slow  # several processes
def test_match_on_a_dask_cluster_at_an_address_writes_the_same_json(tmp_path: Path) -> None:
    from distributed import LocalCluster

    stems = _profiles(tmp_path / "profiles")
    one = _command("match", str(tmp_path / "profiles"), "--json", str(tmp_path / "one"), "--workers", "1")
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=40) as cluster:
        address = cluster.scheduler_address
        dask = _command(
            "match", str(tmp_path / "profiles"), "--json", str(tmp_path / "dask"), "--executor", f"dask={address}"
        )
    assert one.returncode == dask.returncode == 1, dask.stdout + dask.stderr  # bad.yaml: one line, the rest go on
    for done in (one, dask):
        problems = [line for line in done.stdout.splitlines() if "bad.yaml" in line]
        assert len(problems) == 1 and "kind" in problems[0]
        assert "3 matched, 1 with problems" in done.stdout
    assert sorted(p.stem for p in (tmp_path / "one").iterdir()) == stems
    for stem in stems:
        ours = json.loads((tmp_path / "dask" / f"{stem}.json").read_text(encoding="utf-8"))
        assert ours == json.loads((tmp_path / "one" / f"{stem}.json").read_text(encoding="utf-8"))
    totals = {s: json.loads((tmp_path / "one" / f"{s}.json").read_text())["best"]["total_yuan"] for s in stems}
    assert totals == {"contractor": 600000.0, "example": 3060000.0, "tongzhou": 2850000.0}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.mark.parametrize("command", ["declare", "match"])
def test_a_dask_address_that_does_not_answer_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    source = tmp_path / "claims.csv"
    pd.DataFrame(portfolio_rows()[:1]).to_csv(source, index=False)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    if command == "declare":
        args = ["declare", str(source), "-o", str(tmp_path / "out")]
    else:
        _profiles(tmp_path / "profiles")
        args = ["match", str(tmp_path / "profiles"), "--json", str(tmp_path / "out")]
    done = CliRunner().invoke(app, [*args, "--executor", f"dask={address}"])
    lines = done.output.strip().splitlines()
    assert done.exit_code == 2 and len(lines) == 1, done.output
    assert f"--executor dask={address}: no scheduler answers there" in lines[0]
    assert "refused" in lines[0].lower()  # the probe's answer, not dask's retry until its timeout
    assert not any((tmp_path / "out").glob("*"))  # nothing written


def test_a_worker_of_another_version_stops_the_run_before_any_work() -> None:
    mine = installed_versions()
    assert mine["green-award"] and any(k.startswith("policy ") for k in mine)
    check_versions("tcp://h:8786", {"tcp://w1:1": dict(mine), "tcp://w2:1": dict(mine)})  # the same: no error
    older = {**mine, "green-award": "0.0.1"}
    with pytest.raises(ExecutorError, match=r"worker tcp://w2:1 has green-award 0\.0\.1 \(here "):
        check_versions("tcp://h:8786", {"tcp://w1:1": dict(mine), "tcp://w2:1": older})
    policy = next(k for k in mine if k.startswith("policy "))
    with pytest.raises(ExecutorError, match=f"{policy} old"):
        check_versions("tcp://h:8786", {"tcp://w1:1": {**mine, policy: "old"}})
    with pytest.raises(ExecutorError, match="cannot run green-award .ModuleNotFoundError"):
        check_versions("tcp://h:8786", {"tcp://w1:1": "ModuleNotFoundError: No module named 'addin'"})
    with pytest.raises(ExecutorError, match="no workers"):
        check_versions("tcp://h:8786", {})


class LosesTheFirstTask(ThreadPoolExecutor):
    """An executor whose first task's worker is lost (as a killed or out-of-memory worker's would be)."""

    def __init__(self) -> None:
        super().__init__(2)
        self.lost = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if not self.lost:
            self.lost = True
            future: Future = Future()
            future.set_exception(RuntimeError("worker tcp://w:1 died"))
            return future
        return super().submit(fn, *args, **kwargs)


def test_a_lost_task_is_its_rows_problem_and_the_batch_goes_on(tmp_path: Path) -> None:
    from addin.declaration import Job, write_jobs

    jobs = [
        Job(i, "etown:27", {"capacity_kw": "100"}, {**DETAILS, "project": f"P{i}"}, "核定 granted", f"{i:02d}.xlsx")
        for i in range(12)
    ]
    with LosesTheFirstTask() as pool:
        outcomes = write_jobs(jobs, tmp_path / "out", executor=pool, workers=2)
    lost = [o for o in outcomes if o.error]
    assert [o.row for o in outcomes] == list(range(12))
    assert len(lost) == 2 and all(
        "the executor lost the work (RuntimeError: worker tcp://w:1 died)" in o.error for o in lost
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{i:02d}.xlsx" for i in range(2, 12)]
    assert all(o.amount == 80000 for o in outcomes if not o.error)  # 800 yuan/kW x 100 kW


def test_a_lost_task_of_a_match_batch_is_its_profiles_problem(tmp_path: Path) -> None:
    from rich.console import Console

    from addin.match import run_matches

    _profiles(tmp_path / "profiles")
    with LosesTheFirstTask() as pool:
        results = run_matches(
            [tmp_path / "profiles"],
            json_out=tmp_path / "out",
            executor=pool,
            workers=8,
            console=Console(file=io.StringIO()),
        )
    by_name = {Path(m.source).name: m for m in results}
    assert "executor lost the work" in (by_name["bad.yaml"].error or "")  # the first task: bad.yaml alone
    assert [n for n, m in by_name.items() if m.error is None] == ["contractor.yaml", "example.yaml", "tongzhou.json"]
    assert by_name["example.yaml"].total == 3060000
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["contractor.json", "example.json", "tongzhou.json"]
