"""Cost of one ``evaluate`` call as a ratio to a hand-written formula for the same clause.

The hand-written function converts the same inputs to Decimal, applies the clause's formula and
rounds; ``evaluate`` also validates every input, checks conditions, zone and thresholds, and returns
the full ``Award`` (amount, eligibility, checks, readings; its steps, bindings and payments are made
from the evaluation's record when first read, its reasons, notes and trace rendered from these). Both
are timed in the same process, interleaved, and the median ratio printed (absolute times on a shared
machine are noise; the ratio is the figure). The clock is this process's CPU time by default
(``--clock wall`` for wall time): on a loaded machine the wall clock also counts the time other
processes held the core. A second column times ``evaluate`` with every later field read (steps,
bindings, payments: ``policies.award.LATER``), for a caller that reads them all.
Then ``evaluate_many`` over the same calls, as a ratio to a loop of ``evaluate``.

    python benchmarks/bench_evaluate.py [--rounds 15] [--calls 2000] [--clock cpu|wall]
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import ROUND_HALF_UP, Decimal

from policies import Award, evaluate
from policies.award import LATER
from policies.engine import evaluate_many

from ratio import interleaved_ratios

CENT = Decimal("0.01")
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
TARGET = 5.0  # issue 16: evaluate at most 5x the hand-written formula


def hand_tongzhou_3(investment_yuan: float) -> Decimal:
    investment = Decimal(repr(investment_yuan))
    return min(Decimal("0.3") * investment, Decimal(2_000_000)).quantize(CENT, ROUND_HALF_UP)


def hand_beijing_2_1(project_type: str, energy_saved_tce: float, investment_yuan: float, leader: bool) -> Decimal:
    tce, investment = Decimal(repr(energy_saved_tce)), Decimal(repr(investment_yuan))
    rate = Decimal("0.3") if leader else Decimal("0.25")
    if project_type == "energy_saving":
        amount = min(Decimal(1200) * tce, rate * investment, Decimal(30_000_000))
    else:
        amount = min(rate * investment, Decimal(30_000_000))
    return amount.quantize(CENT, ROUND_HALF_UP)


def hand_etown_27(capacity_kw: float, ownership: str, applicant: str) -> Decimal:
    share = (
        Decimal("0.5")
        if ownership == "third_party"
        else (Decimal(1) if ownership == "self" or applicant == "investor" else Decimal(0))
    )
    return (Decimal(800) * Decimal(repr(capacity_kw)) * share).quantize(CENT, ROUND_HALF_UP)


CASES = [
    ("tongzhou:3", {"investment_yuan": 5_000_000.0}, lambda: hand_tongzhou_3(5_000_000.0)),
    (
        "beijing:2.1",
        {"project_type": "energy_saving", "energy_saved_tce": 1000.0, "investment_yuan": 10_000_000.0},
        lambda: hand_beijing_2_1("energy_saving", 1000.0, 10_000_000.0, False),
    ),
    ("etown:27", {"capacity_kw": 100.0}, lambda: hand_etown_27(100.0, "self", "investor")),
]


def read_all(award: Award) -> Award:
    """The award with its later fields made (``policies.award.LATER``)."""
    for name in sorted(LATER):
        getattr(award, name)
    return award


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--clock", choices=CLOCKS, default="cpu")
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    print(f"{'clause':<14}{'evaluate/hand (median)':>24}{'min':>8}{'max':>8}{'every field read':>18}")
    medians = []
    for clause, inputs, hand in CASES:
        assert evaluate(clause, **inputs).amount == hand(), clause  # same figure before timing
        ratios = interleaved_ratios(lambda c=clause, i=inputs: evaluate(c, **i), hand, args.rounds, args.calls, clock)
        medians.append(statistics.median(ratios))
        read = interleaved_ratios(
            lambda c=clause, i=inputs: read_all(evaluate(c, **i)), hand, args.rounds, args.calls, clock
        )
        print(f"{clause:<14}{medians[-1]:>24.1f}{min(ratios):>8.1f}{max(ratios):>8.1f}{statistics.median(read):>18.1f}")
    print(f"target: at most {TARGET:g}x with the full Award; worst clause {max(medians):.1f}x")

    items = [(clause, None, inputs) for clause, inputs, _ in CASES] * 100
    ratios = interleaved_ratios(
        lambda: evaluate_many(items),
        lambda: [evaluate(c, on=on, **i) for c, on, i in items],
        args.rounds,
        max(1, args.calls // len(items)),
        clock,
    )
    print(f"evaluate_many per item / evaluate per item: {statistics.median(ratios):.2f}x (median)")


if __name__ == "__main__":
    main()
