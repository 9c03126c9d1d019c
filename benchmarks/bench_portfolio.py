"""``green-award portfolio`` on 100,000 claims, csv to csv, as a ratio to a plain loop of ``evaluate``.

The claims are drawn from the policy case tables (tests/cases/*.yaml: valid inputs for every
monetary clause), each with an enterprise, a project, a year and a zone, and its base input
(investment, capacity, kWh…) scaled by one of ``--scales`` round factors, as in a real portfolio
where many projects share a clause and round figures. ``--unique`` makes every row's inputs
different (no two evaluations alike: the worst case for memoisation).

Both are timed in the same run: the loop evaluates the same rows' inputs (already in memory, one
``evaluate`` call per row, errors caught); the portfolio reads the csv, evaluates, applies
duplicates, conflicts, best-of, caps and payments, and writes the result csv — through
``addin.portfolio.run_portfolio``, the function the command calls.

    python benchmarks/bench_portfolio.py [--rows 100000] [--scales 40] [--unique] [--rounds 1]
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml

from addin.portfolio import run_portfolio
from policies import GreenAwardError, evaluate
from policies.engine import compiled

CASES = Path(__file__).resolve().parent.parent / "tests" / "cases"
ZONE_OF = {"tongzhou": "tongzhou", "etown": "etown_core", "beijing": "other_beijing"}


def case_pool() -> list[tuple[str, dict]]:
    pool = []
    for path in sorted(CASES.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8")):
            for case in group["cases"]:
                if "on" not in case:
                    pool.append((group["clause"], dict(case.get("inputs", {}))))
    return pool


def make_rows(count: int, scales: int, unique: bool, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    pool = case_pool()
    factors = [Decimal(k) / 10 for k in range(5, 5 + scales)]
    rows = []
    for i in range(count):
        clause, inputs = rng.choice(pool)
        cc = compiled(clause)
        inputs = dict(inputs)
        base = cc.clause.base_input
        if base and base in inputs and not isinstance(inputs[base], bool):
            value = Decimal(str(inputs[base]))
            spec = cc.specs[base]
            if spec.type == "integer":
                scaled = max(value, (value * rng.choice(factors)).to_integral_value())
            else:
                scaled = value * rng.choice(factors) + (Decimal(i) / 100 if unique else 0)
            if spec.upper is None or scaled <= spec.upper:
                inputs[base] = scaled
        elif unique and base is None:
            inputs.setdefault("zone", ZONE_OF[cc.policy.id])
        enterprise = rng.randrange(count // 20 + 1)
        rows.append(
            {
                "enterprise": f"企业{enterprise:05d}",
                "project": f"P{i:06d}",
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


def loop(rows: list[dict]) -> int:
    """The baseline: one evaluate call per row over the same inputs."""
    errors = 0
    for row in rows:
        names = compiled(row["clause"]).specs
        try:
            evaluate(row["clause"], on=int(row["year"]), **{k: v for k, v in row.items() if k in names and v != ""})
        except GreenAwardError:
            errors += 1
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--scales", type=int, default=40, help="how many round factors scale the base inputs")
    parser.add_argument("--unique", action="store_true", help="every row's inputs differ")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    rows = make_rows(args.rows, args.scales, args.unique)
    distinct = len({tuple(sorted((k, v) for k, v in r.items() if k not in ("enterprise", "project"))) for r in rows})
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "claims.csv", Path(tmp) / "result.csv"
        write_csv(rows, source)
        ratios = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            errors = loop(rows)
            base = time.perf_counter() - start
            start = time.perf_counter()
            result = run_portfolio(source, target, overwrite=True, quiet=True)
            took = time.perf_counter() - start
            ratios.append(took / base)
            print(
                f"{args.rows:,} claims ({'unique inputs' if args.unique else f'{args.scales} scales'}): "
                f"evaluate loop {base:.2f} s ({errors} input errors); portfolio csv→csv {took:.2f} s; "
                f"ratio {took / base:.2f}x; {distinct:,} distinct claims; statuses {dict(result.claims['status'].value_counts())}"
            )
    print(f"median ratio {statistics.median(ratios):.2f}x (target: at most 1.5x; below 1 is faster than the loop)")


if __name__ == "__main__":
    main()
