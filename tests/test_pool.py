"""The process pool of every batch: its workers end when the process that started them is killed,
and a killed ``green-award declare`` leaves no worker writing and no temporary file for long."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_declaration import DETAILS
from test_files import temp_of_a_process

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


def running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its new parent to reap it has ended)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


POOL_SCRIPT = """
import sys, time
{before}
from addin.pool import process_pool

pool = process_pool(2)
for _ in range(6):
    pool.submit(time.sleep, 30)
time.sleep(1)
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("kernel", [True, False], ids=["prctl", "watchdog"])
def test_workers_end_when_their_parent_is_killed(kernel):
    # without the kernel's death signal (as on macOS) the watchdog thread's ppid check must do it
    before = (
        ""
        if kernel
        else ("import types, addin.pool\naddin.pool.sys = types.SimpleNamespace(platform='darwin')  # no prctl")
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", POOL_SCRIPT.format(before=before)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        workers = children(proc.pid)
        assert len(workers) >= 2 and all(running(w) for w in workers)
    finally:
        proc.kill()
        proc.wait()
    assert wait_until(lambda: not any(running(w) for w in workers), 2.0), "the workers outlived their parent"


def _declare(*args: str, **kw) -> subprocess.Popen:
    script = Path(sys.executable).with_name("green-award")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from addin.cli import main; main()"]
    env = {**os.environ, "TTY_INTERACTIVE": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "120"}  # the progress bar on
    return subprocess.Popen(
        [*command, "declare", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, **kw
    )


@pytest.mark.slow
def test_a_killed_declare_stops_writing_and_the_next_run_cleans_up(tmp_path):
    base = {k: v for k, v in DETAILS.items() if k != "year"}
    rows = [
        {**base, "project": f"P{i:04d}", "clause": "etown:27", "year": "2025", "capacity_kw": "100"}
        for i in range(2000)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "claims.csv", index=False)
    out = tmp_path / "out"
    run = _declare(str(tmp_path / "claims.csv"), "-o", str(out), "--workers", "2")
    try:
        assert wait_until(lambda: out.is_dir() and len(os.listdir(out)) >= 50, 60), run.stdout.read()
        workers = children(run.pid)
        assert len(workers) >= 2
    finally:
        run.kill()
        run.wait()
    assert wait_until(lambda: not any(running(w) for w in workers), 2.0), "the workers outlived the killed run"
    written = len(list(out.glob("*.xlsx")))
    time.sleep(1)
    assert len(list(out.glob("*.xlsx"))) == written < 2000  # nobody writes any more

    dead, _ = temp_of_a_process(out, alive=False)
    live, writer = temp_of_a_process(out, alive=True)  # a concurrent run's file in progress
    try:
        again = _declare(str(tmp_path / "claims.csv"), "-o", str(out), "--workers", "2", "--overwrite")
        output = again.communicate(timeout=120)[0]
        assert again.returncode == 0, output
        assert len(list(out.glob("*.xlsx"))) == 2000
        left = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
        assert left == [live.name], left  # the killed run's and the dead writer's are gone
        assert not dead.exists()
    finally:
        writer.kill()
        writer.wait()
