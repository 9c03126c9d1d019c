"""Cold start of ``green-award calc`` as a ratio to ``python -c "import pydantic, yaml"``.

Each round runs both commands as fresh processes, one after the other (hyperfine-like, interleaved so
the machine's load falls on both alike); the medians of the rounds' ratios are printed, of wall time
and of the processes' CPU time (user + system: what a loaded machine disturbs least). The
first, untimed run of each fills the caches an installed copy has: the compiled catalog's
(``policies.registry``) and Python's bytecode. The bytecode goes to a temporary ``PYTHONPYCACHEPREFIX``
for both commands, whatever ``PYTHONDONTWRITEBYTECODE`` says (set, every start would compile this
checkout's sources again, which an installed wheel never does).

    python benchmarks/bench_coldstart.py [--rounds 21]
"""

from __future__ import annotations

import argparse
import os
import resource
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


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The wall time and the CPU time (user + system) of one run of ``command``."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
        rounds = [(run(calc, env), run(BASELINE, env)) for _ in range(args.rounds)]
    for index, clock in ((0, "wall"), (1, "CPU")):  # CPU time: what a loaded machine disturbs least
        calcs = [c[index] for c, _ in rounds]
        bases = [b[index] for _, b in rounds]
        ratios = [c / b for c, b in zip(calcs, bases)]
        print(
            f"{clock:>4}: calc median {statistics.median(calcs) * 1000:6.1f} ms, "
            f"import pydantic, yaml median {statistics.median(bases) * 1000:6.1f} ms; "
            f"ratio {statistics.median(ratios):.2f}x (median of rounds; min {min(ratios):.2f}x)"
        )
    print(f"target: at most {TARGET:g}x")


if __name__ == "__main__":
    main()
