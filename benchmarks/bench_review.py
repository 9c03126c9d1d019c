"""``green-award review`` on 1,000 generated declarations, as a ratio to a baseline measured in the same run.

The declarations are the sample portfolio's granted claims (one or more per monetary clause), repeated with
distinct enterprises (valid credit codes) and projects, written by ``addin.declaration`` as
``green-award declare`` writes them.

* baseline: ``openpyxl.load_workbook`` of each file, reading every cell's value, one process (what a
  reviewer script would start with — and it would still have to load each file a second time for
  the formulas);
* measured: ``addin.review.review_paths``: the defensive reader (guard, one parse per sheet for
  formulas and cached values), the comparison with the regenerated template, field validation with
  the core's model, recomputation by ``evaluate``, and the checks across the batch (stacking),
  over a process pool (all cores).

    python benchmarks/bench_review.py [--files 1000] [--rounds 1] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import openpyxl

from addin.declaration import make_declaration
from addin.demo import claim_inputs, read_sample
from addin.review import review_paths
from policies.uscc import ALPHABET, check_character

DETAIL_KEYS = (
    "enterprise",
    "uscc",
    "address",
    "contact",
    "phone",
    "project",
    "project_name",
    "start_date",
    "completion_date",
    "total_incl_tax_yuan",
    "paid_incl_tax_yuan",
    "year",
)


def uscc(n: int) -> str:
    body = "91110000" + "".join(ALPHABET[(n // 31**k) % 31] for k in range(9))
    return body + check_character(body)


def generate(folder: Path, count: int) -> list[Path]:
    from addin.portfolio import stack

    sample = read_sample()
    statuses = stack(sample).column("status")
    rows = [r for r, status in zip(sample.to_dict("records"), statuses) if status in ("granted", "capped")]
    paths = []
    for i in range(count):
        row = rows[i % len(rows)]
        details = {k: row.get(k) for k in DETAIL_KEYS}
        details.update(enterprise=f"{row['enterprise']}{i:04d}", uscc=uscc(i), project=f"P{i:05d}")
        data, _ = make_declaration(row["clause"], claim_inputs(row, row["clause"]), details)
        path = folder / f"{i:05d}_{row['clause'].replace(':', '-')}.xlsx"
        path.write_bytes(data)
        paths.append(path)
    return paths


def baseline(paths: list[Path]) -> int:
    cells = 0
    for path in paths:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += sum(1 for v in row if v is not None)
        wb.close()
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="review processes (default: all cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        paths = generate(Path(tmp), args.files)
        print(
            f"generated {len(paths):,} declarations in {time.perf_counter() - start:.1f} s "
            f"({sum(p.stat().st_size for p in paths) / len(paths) / 1024:.0f} KiB each)"
        )
        ratios = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            cells = baseline(paths)
            base = time.perf_counter() - start
            start = time.perf_counter()
            subs = review_paths(paths, workers=args.workers)
            took = time.perf_counter() - start
            passed = sum(1 for s in subs if s.ok)
            ratio = (len(paths) / took) / (len(paths) / base)
            ratios.append(ratio)
            print(
                f"baseline openpyxl.load_workbook + all values, 1 process: {len(paths) / base:,.0f} files/s ({base:.2f} s, {cells:,} cells)"
            )
            print(
                f"review (guard, one parse per sheet, template comparison, validation, recompute, batch checks), "
                f"{args.workers or os.cpu_count()} processes: {len(paths) / took:,.0f} files/s ({took:.2f} s; "
                f"{passed:,} pass, {len(subs) - passed:,} fail)"
            )
            print(f"throughput ratio review/baseline: {ratio:.2f}x")
    print(f"median throughput ratio {statistics.median(ratios):.2f}x (target: at least 1x)")


if __name__ == "__main__":
    main()
