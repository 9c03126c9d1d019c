"""``green-award portfolio`` as a user runs it, against the loop a user would write, in the same run.

The claims are drawn from the policy case tables (tests/cases/*.yaml: valid inputs for every
monetary clause that has a number among its inputs), each with an enterprise, a project, a year and
a zone; one number input of each row is made different from every other row's, so that **no two
rows evaluate alike** (the worst case: nothing to share). The bench prints how many are distinct.

Each figure is a ratio measured in the same run, every program in a process of its own
(``subprocess``; its peak RSS from ``os.wait4``):

- **baseline**: the loop a user would write (``csv`` module in, ``evaluate`` per row, the amounts
  written out with the rows), one process;
- **portfolio**: ``green-award portfolio claims.csv -o result.csv`` with the default executor
  (which decides by the table's size and the cores whether a process pool pays), and with
  ``--workers 1`` (one process against one process);
- **xlsx**: the same command to ``result.xlsx``, as a ratio to the csv run;
- ``--million``: 1,000,000 rows through the command (csv to csv), its peak RSS.

    python benchmarks/bench_portfolio.py [--rows 100000] [--rounds 1] [--xlsx] [--million]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml

from policies.engine import compiled

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
ZONE_OF = {"tongzhou": "tongzhou", "etown": "etown_core", "beijing": "other_beijing"}
NUMBERS = ("money", "number", "integer")

#: The loop a user would write: read with the csv module, evaluate each row, write the amount beside it.
BASELINE = """
import csv, sys
from policies import GreenAwardError, evaluate
from policies.engine import compiled

with open(sys.argv[1], newline="", encoding="utf-8") as f, open(sys.argv[2], "w", newline="", encoding="utf-8") as g:
    rows, out = csv.reader(f), csv.writer(g)
    header = next(rows)
    out.writerow([*header, "amount_yuan"])
    for row in rows:
        cells = dict(zip(header, row))
        names = compiled(cells["clause"]).specs
        inputs = {k: v for k, v in cells.items() if k in names and v != ""}
        try:
            amount = evaluate(cells["clause"], on=int(cells["year"]), **inputs).amount
        except GreenAwardError:
            amount = ""
        out.writerow([*row, amount])
"""


def case_pool() -> list[tuple[str, dict, str]]:
    """(clause, inputs, the number input to vary) of each dateless case with a number among its inputs."""
    pool = []
    for path in sorted(CASES.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8")):
            cc = compiled(group["clause"])
            for case in group["cases"]:
                inputs = dict(case.get("inputs", {}))
                if "on" in case:
                    continue
                base = cc.clause.base_input
                numbers = [n for n in ([base] if base else []) + list(inputs) if n in cc.specs]
                numbers = [n for n in numbers if cc.specs[n].type in NUMBERS and not isinstance(inputs.get(n), bool)]
                if numbers:
                    pool.append((group["clause"], inputs, numbers[0]))
    return pool


def make_rows(count: int, seed: int = 7) -> list[dict]:
    """``count`` claims, each with one number input no other row has (row i adds i cents, or i units)."""
    rng = random.Random(seed)
    pool = case_pool()
    rows = []
    for i in range(count):
        clause, inputs, varied = rng.choice(pool)
        cc = compiled(clause)
        spec = cc.specs[varied]
        inputs = dict(inputs)
        value = Decimal(str(inputs.get(varied, 1000)))
        if spec.type == "integer":
            value = value + i
        else:
            value = value * rng.choice((Decimal(1), Decimal("1.5"), Decimal(2))) + Decimal(i) / 100
        if spec.upper is not None and value > spec.upper:
            value = spec.upper - Decimal(i) / (1 if spec.type == "integer" else 100_000_000)
        inputs[varied] = value
        enterprise = rng.randrange(count // 20 + 1)
        rows.append(
            {
                "enterprise": f"企业{enterprise:05d}",
                "project": f"P{i:07d}",
                "clause": clause,
                "year": str(rng.choice((2025, 2026, 2027))),
                "zone": inputs.pop("zone", ZONE_OF[cc.policy.id]),
                **{k: ("true" if v is True else "false" if v is False else str(v)) for k, v in inputs.items()},
            }
        )
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), restval="")
        writer.writeheader()
        writer.writerows(rows)


def run(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one program run in a process of its own."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    took = time.perf_counter() - start
    error = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1: some rows invalid, the result still written
        raise SystemExit(f"{' '.join(args)} failed: {error[-2000:]}")
    return took, usage.ru_maxrss / 1024


def command(source: Path, target: Path, *options: str) -> list[str]:
    cli = str(Path(sys.executable).with_name("green-award"))
    return [cli, "portfolio", str(source), "-o", str(target), "--overwrite", *options]


def distinct(rows: list[dict]) -> int:
    return len({tuple(sorted((k, v) for k, v in r.items() if k not in ("enterprise", "project"))) for r in rows})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--xlsx", action="store_true", help="also the command to .xlsx, as a ratio to .csv")
    parser.add_argument("--million", action="store_true", help="also 1,000,000 rows csv to csv: peak RSS")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; cores {os.cpu_count()}")

    rows = make_rows(args.rows)
    print(f"{args.rows:,} claims, {distinct(rows):,} distinct (clause, year, inputs)")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "claims.csv"
        write_csv(rows, source)
        del rows
        baseline = Path(tmp) / "baseline.py"
        baseline.write_text(BASELINE, encoding="utf-8")
        ratios, ones = [], []
        for _ in range(args.rounds):
            base, base_rss = run([sys.executable, str(baseline), str(source), str(Path(tmp) / "loop.csv")])
            took, rss = run(command(source, Path(tmp) / "result.csv"))
            one, one_rss = run(command(source, Path(tmp) / "one.csv", "--workers", "1"))
            ratios.append(base / took)
            ones.append(base / one)
            print(
                f"evaluate loop {base:.2f} s ({base_rss:.0f} MB); portfolio (default executor) {took:.2f} s "
                f"({rss:.0f} MB): {base / took:.2f}x as fast; --workers 1 {one:.2f} s ({one_rss:.0f} MB): "
                f"{base / one:.2f}x as fast"
            )
        print(
            f"median: the command is {statistics.median(ratios):.2f}x as fast as the loop (default executor), "
            f"{statistics.median(ones):.2f}x with --workers 1 (target: 3x)"
        )
        if args.xlsx:
            took, _ = run(command(source, Path(tmp) / "result.csv"))
            xlsx, rss = run(command(source, Path(tmp) / "result.xlsx"))
            print(f"xlsx {xlsx:.2f} s ({rss:.0f} MB) against csv {took:.2f} s: {xlsx / took:.2f}x (target: at most 3x)")
        if args.million:
            big = Path(tmp) / "million.csv"
            write_csv(make_rows(1_000_000, seed=11), big)
            took, rss = run(command(big, Path(tmp) / "million_result.csv"))
            print(f"1,000,000 rows csv→csv: {took:.1f} s, peak RSS {rss:,.0f} MB (target: within 1,536 MB)")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
