"""Where a batch runs: the same batch through the command with ``--workers 1``, a process pool of 2 and
a Dask ``LocalCluster`` of 2, as ratios of wall time to ``--workers 1`` (below 1: the pool pays).

Each batch is run as a user runs it (``green-award ...`` in a fresh process, start-up included), the
three settings in turn every round, so each round's ratios share the machine's load; the median of
the rounds is printed (wall time, and CPU time of the command and all its processes), with
``uptime`` before and after (the load of the other users of the cores).

* **declare**: ``green-award declare`` on ``--declare`` claims (benchmarks/bench_declare.py's: every
  monetary clause, each row its own enterprise, one declaration a row);
* **portfolio**: ``green-award portfolio`` csv to csv on ``--portfolio`` claims with all-distinct
  inputs (benchmarks/bench_portfolio.py's ``--unique``: no two evaluations alike);
* **match**: ``green-award match`` on a folder of ``--match`` profiles (the example profile with
  each project's figures scaled), a workbook and a JSON per profile.

    python benchmarks/bench_executors.py [--declare 1000] [--portfolio 100000] [--match 100] [--rounds 2]
        [--only declare,portfolio,match] [--no-dask]
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
from pathlib import Path

import yaml
from bench_declare import make_rows as declare_rows
from bench_portfolio import make_rows as portfolio_rows
from bench_portfolio import write_csv

from addin.executors import cores

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "workbook_templates" / "profile_example.yaml"
SETTINGS = {
    "--workers 1": ["--workers", "1"],
    "processes 2": ["--workers", "2"],
    "dask LocalCluster 2": ["--executor", "dask", "--workers", "2"],
}
FIGURES = ("capacity_kw", "investment_yuan", "energy_saved_tce", "machine_price_yuan", "machines")


def command() -> list[str]:
    script = Path(sys.executable).with_name("green-award")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from addin.cli import main; main()"]


def write_profiles(folder: Path, count: int) -> None:
    """``count`` profiles: the example's enterprise under another name, its figures scaled by i."""
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    folder.mkdir()
    for i in range(count):
        profile = yaml.safe_load(yaml.safe_dump(example))
        profile["enterprise"]["name"] = f"示例企业{i:04d}有限公司"
        del profile["enterprise"]["credit_code"]
        for project in profile["projects"]:
            for name in FIGURES:
                if name in project:
                    project[name] = (
                        project[name] * (50 + i) // 50 if name == "machines" else project[name] * (1 + i / 100)
                    )
        (folder / f"profile_{i:04d}.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")


def cpu() -> float:
    """CPU seconds of the finished children and theirs (the pool's workers, the cluster's processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: list[str], outputs: list[Path]) -> tuple[float, float]:
    """Wall and CPU seconds of one command (its outputs removed first; exit 0 or 1 expected)."""
    for path in outputs:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    env = {**os.environ, "COLUMNS": "120"}
    start, used = time.perf_counter(), cpu()
    done = subprocess.run([*command(), *args], capture_output=True, text=True, env=env)
    took, used = time.perf_counter() - start, cpu() - used
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args[:1])} failed ({done.returncode}): {done.stderr or done.stdout}")
    return took, used


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declare", type=int, default=1000, help="claims declared")
    parser.add_argument("--portfolio", type=int, default=100_000, help="portfolio claims (all distinct)")
    parser.add_argument("--match", type=int, default=100, help="profiles matched")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="declare,portfolio,match", help="which batches, comma-separated")
    parser.add_argument("--no-dask", action="store_true", help="only --workers 1 against processes 2")
    args = parser.parse_args()
    settings = {k: v for k, v in SETTINGS.items() if not (args.no_dask and "dask" in k)}
    only = [b.strip() for b in args.only.split(",") if b.strip()]
    print(f"{cores()} cores; before: {uptime()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        batches: dict[str, tuple[str, list[str], list[Path]]] = {}
        if "declare" in only:
            source = tmp / "declare.csv"
            write_csv(declare_rows(args.declare), source)
            out = tmp / "declarations"
            batches["declare"] = (f"{args.declare:,} declarations", ["declare", str(source), "-o", str(out)], [out])
        if "portfolio" in only:
            source, out = tmp / "portfolio.csv", tmp / "result.csv"
            write_csv(portfolio_rows(args.portfolio), source)  # every row distinct
            batches["portfolio"] = (
                f"{args.portfolio:,} portfolio claims",
                ["portfolio", str(source), "-o", str(out)],
                [out],
            )
        if "match" in only:
            write_profiles(tmp / "profiles", args.match)
            xlsx, js = tmp / "match_xlsx", tmp / "match_json"
            batches["match"] = (
                f"{args.match:,} profiles",
                ["match", str(tmp / "profiles"), "-o", str(xlsx), "--json", str(js)],
                [xlsx, js],
            )
        for name, (what, base, outputs) in batches.items():
            ratios: dict[str, list[float]] = {s: [] for s in settings}
            cpus: dict[str, list[float]] = {s: [] for s in settings}
            firsts = []
            for _ in range(args.rounds):
                one, one_cpu = run([*base, *SETTINGS["--workers 1"]], outputs)
                firsts.append(one)
                for setting, extra in settings.items():
                    if setting != "--workers 1":
                        took, used = run([*base, *extra], outputs)
                        ratios[setting].append(took / one)
                        cpus[setting].append(used / one_cpu)
            print(f"{name}: {what}; --workers 1 took {statistics.median(firsts):.1f} s (median)", flush=True)
            for setting in settings:
                if setting != "--workers 1":
                    values = ", ".join(f"{r:.2f}" for r in ratios[setting])
                    print(
                        f"  {setting:20} {statistics.median(ratios[setting]):.2f}x the wall time of --workers 1 "
                        f"(rounds: {values}), {statistics.median(cpus[setting]):.2f}x its CPU time",
                        flush=True,
                    )
    print(f"after: {uptime()}")


if __name__ == "__main__":
    main()
