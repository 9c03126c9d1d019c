"""``green-award declare`` on 1,000 claims in one process, against openpyxl load-fill-save in one process.

The claims come from the policy case tables (tests/cases/*.yaml: every monetary clause, inputs at
caps, floors and thresholds), each row its own enterprise and project with full details, kept only
where the core grants a positive amount (so each row makes one declaration).

Timed in the same run, on the same claims, one process against one process, in turn each round:

* **declare**: ``addin.declaration.declare_frame`` with ``workers=1`` (what ``green-award declare
  --workers 1`` runs) end to end — stacking the portfolio, the core's evaluation behind every cached
  value, the prepared template filled at the XML level, each file written to a temporary name and
  hard-linked into place;
* **baseline**: per file, ``openpyxl.load_workbook`` of the clause's template, set the same cells,
  ``save`` — one file at a time (it writes no cached values, so it does less than declare).

The baseline is timed on ``--baseline`` of the files (default 200: it is slow); throughput is files
per second, and the ratio of the two throughputs is the figure (target: at least 10x). Pools and
Dask: benchmarks/bench_executors.py.

    python benchmarks/bench_declare.py [--claims 1000] [--baseline 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
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
    parser.add_argument("--baseline", type=int, default=200, help="files the baseline writes each round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = make_rows(args.claims)
    frame = pd.DataFrame(rows).fillna("")
    sample = rows[: args.baseline]
    print(f"{len(rows):,} declarations, baseline on {len(sample):,} files; load before: {os.getloadavg()[0]:.2f}")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            folder = Path(tmp) / str(r)
            start = time.perf_counter()
            batch = declare_frame(frame, folder / "ours", workers=1)
            ours = len(rows) / (time.perf_counter() - start)
            assert len(batch.written) == len(rows), batch.problems[:3]
            (folder / "base").mkdir()
            start = time.perf_counter()
            baseline(sample, folder / "base")
            base = len(sample) / (time.perf_counter() - start)
            ratios.append(ours / base)
            print(f"  round {r + 1}: declare {ours:7.1f} files/s, openpyxl {base:6.1f} files/s: {ours / base:5.1f}x")
    print(
        f"median {statistics.median(ratios):.1f}x openpyxl load-fill-save, one process each "
        f"(target: at least 10x); load after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
