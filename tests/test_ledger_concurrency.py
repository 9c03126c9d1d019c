"""Nothing lost, no cap broken: two processes writing one ledger at once, and a run killed mid-batch.

On SQLite and (with GREEN_AWARD_TEST_DATABASE_URL) PostgreSQL. Each worker (tests/ledger_worker.py)
records tongzhou:3 claims of one enterprise in 2025, 600,000 each; 第十条 caps the enterprise at
2,000,000 a year. The workers sleep inside their write transaction after reading the record, so
that without serialisation both would read an empty record and grant 3,600,000.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from addin.ledger.db import init_ledger, open_ledger
from addin.ledger.models import Submission
from addin.ledger.repository import decide, export, load_submissions, standing

from ledger_db import BACKENDS, fresh_database

D = Decimal
pytestmark = pytest.mark.slow  # processes racing on one ledger, some killed: seconds each
WORKER = Path(__file__).resolve().parent / "ledger_worker.py"
CAP = D("2000000.00")


@pytest.fixture(params=BACKENDS)
def target(request, tmp_path):
    with fresh_database(request.param, tmp_path) as name:
        init_ledger(name).close()
        yield name


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen, timeout: float = 180) -> object:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-2000:]
    return json.loads(out)


def standing_total(target: str) -> tuple[int, Decimal]:
    ledger = open_ledger(target)
    try:
        with ledger.read() as session:
            subs = load_submissions(session)
            return len(subs), sum((standing(s).amount for s in subs), D(0))
    finally:
        ledger.close()


def test_two_batches_at_once_both_land_and_the_cap_holds(target, tmp_path):
    go = tmp_path / "go"
    workers = [start("record", target, label, "3", "--go", str(go), "--slow", "1.0") for label in ("A", "B")]
    time.sleep(3)  # both have opened the ledger and wait
    go.write_text("go")
    first, second = (finish(w) for w in workers)
    assert all(new for _, new, _ in first + second)
    amounts = sorted(sum(D(g) for *_, g in batch) for batch in (first, second))
    # one batch went first: 3 × 600,000; the other shares the 200,000 left, in proportion
    assert amounts == [D("200000.00"), D("1800000.00")]
    assert standing_total(target) == (6, CAP)


def test_two_grants_at_once_hold_the_cap(target, tmp_path):
    from addin.ledger.repository import record

    from ledger_worker import items

    ledger = open_ledger(target)
    try:
        subs = record(ledger, items("P", 2, investment=5_000_000))  # 1,500,000 each: capped to 1,000,000 each
        assert [s.granted for s in subs] == [D("1000000.00")] * 2
        for s in subs:
            decide(ledger, s.submission, "reject", reviewer="t", reason="start over")
    finally:
        ledger.close()
    go = tmp_path / "go"
    workers = [start("grant", target, str(s.submission), "--go", str(go), "--slow", "1.0") for s in subs]
    time.sleep(3)
    go.write_text("go")
    granted = sorted(D(amount) for _, amount in (finish(w) for w in workers))
    assert granted == [D("500000.00"), D("1500000.00")]  # one went first; the other got what was left
    assert standing_total(target) == (2, CAP)


def test_a_run_killed_mid_batch_leaves_nothing_half_done_and_a_rerun_completes(target, tmp_path):
    marker = tmp_path / "inside"
    victim = start("record", target, "K", "3", "--die-after", "2", "--marker", str(marker))
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert victim.poll() is None, victim.communicate()[1][-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert standing_total(target) == (0, D(0))
    if not target.startswith("postgresql"):
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = finish(start("record", target, "K", "3"))
    assert [new for _, new, _ in again] == [True] * 3
    third = finish(start("record", target, "K", "3"))
    assert [new for _, new, _ in third] == [False] * 3 and [s for s, *_ in third] == [s for s, *_ in again]
    assert standing_total(target) == (3, D("1800000.00"))
    ledger = open_ledger(target)
    try:
        with ledger.read() as session:
            assert session.scalar(select(func.count(Submission.id))) == 3
        assert len(export(ledger)["payments"]) == 3
    finally:
        ledger.close()
