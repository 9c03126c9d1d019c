"""``green-award declare`` on 1,000 claims: declarations per second against a naive baseline.

The claims come from the policy case tables (tests/cases/*.yaml: every monetary clause, inputs at
caps, floors and thresholds), each row its own enterprise and project with full details, kept only
where the core grants a positive amount (so each row makes one declaration).

Timed in the same run, on the same claims:

* **declare**: ``addin.declaration.declare_frame`` end to end — stacking the portfolio, the core's
  evaluation behind every cached value, the prepared template filled at the XML level, each file
  written to a temporary name and hard-linked into place — on a process pool of all cores;
* **declare, one process**: the same with ``workers=1`` (no pool);
* **baseline**: per file, ``openpyxl.load_workbook`` of the clause's template, set the same cells,
  ``save`` — one file at a time (it writes no cached values, so it does less than declare).

The baseline is timed on ``--baseline`` of the files (default all); throughput is files per second.

    python benchmarks/bench_declare.py [--claims 1000] [--baseline 1000] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import openpyxl
import pandas as pd
import yaml

from addin.declaration import cell_inputs, declare_frame, detail_cells
from addin.declaration_template import TEMPLATES, layout, template_name
from policies import GreenAwardError, evaluate
from policies.engine import compiled
from policies.uscc import check_character

CASES = Path(__file__).resolve().parent.parent / "tests" / "cases"
ZONE_OF = {"tongzhou": "tongzhou", "etown": "etown_core", "beijing": "other_beijing"}


def granted_cases() -> list[tuple[str, dict]]:
    pool = []
    for path in sorted(CASES.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8")):
            for case in group["cases"]:
                if "on" in case:
                    continue
                inputs = {"zone": ZONE_OF[group["clause"].split(":")[0]], **case["inputs"]}
                try:
                    if evaluate(group["clause"], on=2025, **inputs).amount > 0:
                        pool.append((group["clause"], inputs))
                except GreenAwardError:
                    pass
    return pool


def make_rows(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    pool = granted_cases()
    rows = []
    for i in range(count):
        clause, inputs = pool[i % len(pool)] if i < len(pool) else rng.choice(pool)
        first17 = f"91110000MA{i:07d}"
        rows.append(
            {
                "enterprise": f"北京绿色企业{i:04d}有限公司",
                "uscc": first17 + check_character(first17),
                "address": f"北京市经济技术开发区科创街{i}号",
                "contact": "张三",
                "phone": "010-12345678",
                "project": f"P{i:05d}",
                "project_name": f"绿色低碳项目{i}",
                "clause": clause,
                "year": "2025",
                "start_date": "2025-03-01",
                "completion_date": "2025-11-30",
                **{k: ("是" if v is True else "否" if v is False else str(v)) for k, v in inputs.items()},
            }
        )
    return rows


def baseline(rows: list[dict], folder: Path) -> None:
    """openpyxl: load the clause's template, set the same cells, save; one file at a time."""
    for i, row in enumerate(rows):
        clause = compiled(row["clause"]).id
        wb = openpyxl.load_workbook(TEMPLATES / template_name(clause))
        cells = detail_cells(row, clause)
        cells.update(cell_inputs(clause, {k: v for k, v in row.items() if k in compiled(clause).specs}))
        for key, (sheet, ref, _kind) in layout(clause).slots.items():
            if key in cells:
                wb.worksheets[sheet][ref].value = cells[key]
                if isinstance(cells[key], str):
                    wb.worksheets[sheet][ref].data_type = "s"
        wb.save(folder / f"{i:05d}.xlsx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=None, help="files the baseline writes (default: all)")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    rows = make_rows(args.claims)
    frame = pd.DataFrame(rows).fillna("")
    sample = rows[: args.baseline or len(rows)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        batch = declare_frame(frame, tmp / "pool", workers=args.workers)
        pooled = time.perf_counter() - start
        assert len(batch.written) == len(rows), batch.problems[:3]
        start = time.perf_counter()
        serial_batch = declare_frame(frame, tmp / "one", workers=1)
        serial = time.perf_counter() - start
        assert len(serial_batch.written) == len(rows)
        (tmp / "base").mkdir()
        start = time.perf_counter()
        baseline(sample, tmp / "base")
        base = time.perf_counter() - start
    n, m = len(rows), len(sample)
    base_rate, pool_rate, one_rate = m / base, n / pooled, n / serial
    print(f"{n:,} declarations, {os.cpu_count()} cores")
    print(f"  baseline (openpyxl load/set/save, one at a time, {m:,} files): {base_rate:8.1f} files/s")
    print(
        f"  declare, process pool:  {pool_rate:8.1f} files/s  ({pooled:.2f} s)  {pool_rate / base_rate:6.1f}x baseline"
    )
    print(f"  declare, one process:   {one_rate:8.1f} files/s  ({serial:.2f} s)  {one_rate / base_rate:6.1f}x baseline")
    print("target: at least 3x the baseline's throughput")


if __name__ == "__main__":
    main()
