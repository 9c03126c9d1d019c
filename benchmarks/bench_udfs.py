"""Cost of the worksheet-function layer as a ratio to the ``evaluate`` call underneath.

Each worksheet function is called with the values Excel sends (floats, None, 2-D lists); the
baseline is the very ``evaluate`` call it makes. Both are timed in the same process, in
interleaved rounds, and the median ratio printed (absolute times on a shared machine are noise;
the ratio is the figure). A ratio of 1.05 means the layer adds 5%.

    python benchmarks/bench_udfs.py [--rounds 9] [--calls 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import udfs  # noqa: E402
from policies import evaluate  # noqa: E402

from ratio import interleaved_ratios, timed  # noqa: E402  (benchmarks/ratio.py)

CASES = [
    (
        "PV_SUBSIDY(100)",
        lambda: udfs.PV_SUBSIDY(100.0),
        lambda: evaluate("etown:27", capacity_kw=100.0, ownership=None, applicant=None),
    ),
    (
        "GREEN_AWARD pairs",
        lambda: udfs.GREEN_AWARD("etown:10", "boiler_grade", "A", "investment_yuan", 1_200_000.0),
        lambda: evaluate("etown:10", on=None, boiler_grade="A", investment_yuan=1_200_000.0),
    ),
    (
        "GREEN_AWARD range",
        lambda: udfs.GREEN_AWARD(
            "beijing:2.1",
            [
                ["project_type", "energy_saving"],
                ["energy_saved_tce", 1000.0],
                ["investment_yuan", 10_000_000.0],
                [None, None],
            ],
        ),
        lambda: evaluate(
            "beijing:2.1", on=None, project_type="energy_saving", energy_saved_tce=1000.0, investment_yuan=10_000_000.0
        ),
    ),
    (
        "LOAN_INTEREST_SUBSIDY",
        lambda: udfs.LOAN_INTEREST_SUBSIDY(100_000_000.0, 0.035, None, None),
        lambda: evaluate(
            "beijing:8",
            loan_principal_yuan=100_000_000.0,
            loan_rate=0.035,
            months=None,
            fixed_asset_investment_yuan=None,
        ),
    ),
    (
        "AWARD_EXPLAIN",
        lambda: udfs.AWARD_EXPLAIN("etown:27", "capacity_kw", 100.0),
        lambda: evaluate("etown:27", on=None, capacity_kw=100.0),
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'worksheet call':<24}{'udf/evaluate (median)':>24}{'min':>8}{'max':>8}{'µs/udf call':>14}")
    for name, sheet, core in CASES:
        result = sheet()
        if isinstance(result, float):
            assert result == float(core().amount), name  # the same figure before timing
        sheet(), core()  # warm the caches of both
        ratios = interleaved_ratios(sheet, core, args.rounds, args.calls)
        per_call = [timed(sheet, args.calls) / args.calls * 1e6 for _ in range(3)]
        print(
            f"{name:<24}{statistics.median(ratios):>24.3f}{min(ratios):>8.3f}{max(ratios):>8.3f}"
            f"{statistics.median(per_call):>14.1f}"
        )
    print("the layer reshapes arguments and converts the result; evaluate does the work (ratio near 1 is the aim)")


if __name__ == "__main__":
    main()
