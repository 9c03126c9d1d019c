"""Timing as a ratio: two calls timed in turn in the same process, the ratio of each round kept.

Absolute times on a shared machine are noise; a ratio against a baseline measured in the same
rounds is the figure the benchmarks print.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def timed(call: Callable[[], object], calls: int) -> float:
    """Seconds for ``calls`` calls of ``call``."""
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return time.perf_counter() - start


def interleaved_ratios(
    measured: Callable[[], object], baseline: Callable[[], object], rounds: int, calls: int
) -> list[float]:
    """``measured``/``baseline`` time ratio of each round, the two timed back to back every round."""
    return [timed(measured, calls) / timed(baseline, calls) for _ in range(rounds)]
