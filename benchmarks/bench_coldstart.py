"""Cold start of ``green-award calc`` as a ratio to ``python -c "import pydantic, yaml"``.

Each round runs both commands as fresh processes, one after the other (hyperfine-like, interleaved so
the machine's load falls on both alike); the medians of the rounds and their ratio are printed. The
first, untimed run of each fills the caches an installed copy has: the compiled catalog's
(``policies.registry``) and Python's bytecode. The bytecode goes to a temporary ``PYTHONPYCACHEPREFIX``
for both commands, whatever ``PYTHONDONTWRITEBYTECODE`` says (set, every start would compile this
checkout's sources again, which an installed wheel never does).

    python benchmarks/bench_coldstart.py [--rounds 21]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 2.0
BASELINE = [sys.executable, "-c", "import pydantic, yaml"]


def calc_command() -> list[str]:
    script = shutil.which("green-award", path=os.path.dirname(sys.executable)) or shutil.which("green-award")
    if script is None:
        raise SystemExit("green-award is not installed in this environment: pip install -e '.[cli]'")
    return [script, "calc", "etown:27", "capacity_kw=100"]


def run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    calc = calc_command()
    with tempfile.TemporaryDirectory() as bytecode:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = bytecode
        run(calc, env)  # warm: bytecode, the OS's file cache and the compiled catalog's cache
        run(BASELINE, env)
        calcs, bases, ratios = measure(calc, env, args.rounds)
    calc_median, base_median = statistics.median(calcs), statistics.median(bases)
    print(f"green-award calc etown:27 capacity_kw=100   median {calc_median * 1000:7.1f} ms")
    print(f"python -c 'import pydantic, yaml'          median {base_median * 1000:7.1f} ms")
    print(
        f"ratio of medians {calc_median / base_median:.2f}x (median of rounds' ratios "
        f"{statistics.median(ratios):.2f}x, min {min(ratios):.2f}x); target: at most {TARGET:g}x"
    )


def measure(calc: list[str], env: dict[str, str], rounds: int) -> tuple[list[float], list[float], list[float]]:
    """Each round: ``calc`` then the baseline; their times and ratio."""
    calcs, bases, ratios = [], [], []
    for _ in range(rounds):
        c, b = run(calc, env), run(BASELINE, env)
        calcs.append(c)
        bases.append(b)
        ratios.append(c / b)
    return calcs, bases, ratios


if __name__ == "__main__":
    main()
