"""Timing as a ratio: two calls timed in turn in the same process, the ratio of each round kept.

Absolute times on a shared machine are noise; a ratio against a baseline measured in the same
rounds is the figure the benchmarks print.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def timed(call: Callable[[], object], calls: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds for ``calls`` calls of ``call`` (``clock``: wall time, or ``time.process_time`` for the
    CPU time of this process, which a loaded machine disturbs less)."""
    start = clock()
    for _ in range(calls):
        call()
    return clock() - start


def interleaved_ratios(
    measured: Callable[[], object],
    baseline: Callable[[], object],
    rounds: int,
    calls: int,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """``measured``/``baseline`` time ratio of each round, the two timed back to back every round."""
    return [timed(measured, calls, clock) / timed(baseline, calls, clock) for _ in range(rounds)]
