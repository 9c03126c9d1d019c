"""``green-award review`` on 1,000 declarations, as a ratio to a baseline measured in the same run.

The declarations are written by ``green-award declare`` from a portfolio: the sample portfolio's rows
repeated with distinct enterprises (valid credit codes) and projects, every claim a genuine declaration
that passes review (conditions answered, amounts the core's).

* baseline: for each file ``openpyxl.load_workbook(path, data_only=False)`` and every cell's value of every
  sheet read, one process (what a reviewer's script would start with — and it would still have to load each
  file a second time for the cached values);
* measured: the command as a user runs it, ``green-award review FOLDER --workers 1 --json out.json`` in a
  subprocess (its start, imports and the expected content of every clause included): the defensive reader,
  the comparison with the regenerated template, field validation with the core's model, recomputation by
  ``evaluate``, the checks across the batch and the JSON report; no ledger.

``--pays``: where a process pool starts to pay — the command with ``--workers 1`` and with ``--workers 2``
on growing batches (``batch.PAYS_FROM`` is the first size where 2 is faster).

    python benchmarks/bench_review.py [--files 1000] [--rounds 1] [--pays]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

from addin.demo import SAMPLE
from policies.uscc import ALPHABET, check_character

#: The command as installed beside this Python (the venv's ``green-award``).
COMMAND = [str(Path(sys.executable).with_name("green-award"))]


def uscc(n: int) -> str:
    body = "91110000" + "".join(ALPHABET[(n // 31**k) % 31] for k in range(9))
    return body + check_character(body)


def portfolio(path: Path, repeats: int) -> None:
    """The sample portfolio ``repeats`` times, each copy's enterprises and projects distinct."""
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    enterprises: dict[tuple[int, str], int] = {}
    out = []
    for copy in range(repeats):
        for row in rows:
            n = enterprises.setdefault((copy, row["enterprise"]), len(enterprises))
            out.append(
                {
                    **row,
                    "enterprise": f"{row['enterprise']}{n:04d}",
                    "uscc": uscc(n),
                    "project": f"{row['project']}-{copy:02d}",
                }
            )
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(out)


def generate(folder: Path, count: int) -> list[Path]:
    """``count`` declarations written by ``green-award declare`` (the extra ones it writes removed)."""
    table = folder.parent / "portfolio.csv"
    portfolio(table, repeats=-(-count // 60) + 1)
    done = subprocess.run([*COMMAND, "declare", str(table), "--out", str(folder)], capture_output=True)
    if done.returncode not in (0, 1):  # 1: the sample's rows that are refused on purpose (a duplicate claim)
        raise SystemExit(f"declare exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    paths = sorted(folder.glob("*.xlsx"))
    for extra in paths[count:]:
        extra.unlink()
    if len(paths) < count:
        raise SystemExit(f"declare wrote {len(paths)} declarations, fewer than {count}")
    return paths[:count]


def baseline(paths: list[Path]) -> int:
    """openpyxl: load each file (formulas) and read every cell's value of every sheet."""
    cells = 0
    for path in paths:
        wb = openpyxl.load_workbook(path, data_only=False)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += sum(1 for v in row if v is not None)
        wb.close()
    return cells


def review(folder: Path, out: Path, workers: int) -> float:
    """Seconds of ``green-award review FOLDER --workers N --json OUT`` (a subprocess, as a user runs it)."""
    start = time.perf_counter()
    done = subprocess.run(
        [*COMMAND, "review", str(folder), "--workers", str(workers), "--json", str(out), "--overwrite"],
        capture_output=True,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"review exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return took


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def pays(paths: list[Path], tmp: Path, sizes: tuple[int, ...] = (100, 200, 400, 800, 1600)) -> None:
    """The command with 1 and with 2 workers on growing batches (the declarations repeated under other names
    beyond those generated): where the pool starts to pay."""
    for n in sizes:
        folder = tmp / f"pays_{n}"
        folder.mkdir()
        for i in range(n):
            path = paths[i % len(paths)]
            shutil.copy(path, folder / f"{i // len(paths)}_{path.name}")
        one, two = review(folder, tmp / "one.json", 1), review(folder, tmp / "two.json", 2)
        print(f"  {n:5,} files: 1 process {one:6.2f} s, 2 processes {two:6.2f} s: 2/1 = {two / one:.2f}  ({load()})")
        shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pays", action="store_true", help="also measure where a process pool starts to pay")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "declarations"
        start = time.perf_counter()
        paths = generate(folder, args.files)
        print(
            f"green-award declare wrote {len(paths):,} declarations in {time.perf_counter() - start:.1f} s "
            f"({sum(p.stat().st_size for p in paths) / len(paths) / 1024:.0f} KiB each); {os.cpu_count()} cores"
        )
        ratios = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            cells = baseline(paths)
            base = time.perf_counter() - start
            took = review(folder, Path(tmp) / "out.json", workers=1)
            entries = json.loads((Path(tmp) / "out.json").read_text(encoding="utf-8"))
            passed = sum(1 for e in entries if e["ok"])
            ratios.append(base / took)
            print(f"  baseline, openpyxl.load_workbook + every value, 1 process: {base:6.2f} s ({cells:,} cells)")
            print(
                f"  green-award review --workers 1 --json (a subprocess):    {took:6.2f} s "
                f"({passed:,} of {len(entries):,} pass)  {base / took:.2f}x  ({load()})"
            )
        print(f"median ratio review/baseline throughput: {statistics.median(ratios):.2f}x (target: at least 3x)")
        if args.pays:
            print("where a process pool pays (the command, --workers 1 against --workers 2):")
            pays(paths, Path(tmp))


if __name__ == "__main__":
    main()
