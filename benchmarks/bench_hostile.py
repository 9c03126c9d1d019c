"""Cost of reviewing each file of the hostile corpus (tests/hostile_corpus.py): time and peak memory.

Each file is reviewed in a fresh process (``review_file``, after the imports and the clause's template are
warmed up on a genuine declaration, so the figures are the file's own): wall time of the review, peak
resident memory of the process (``VmHWM``, Linux) and that peak minus the process's resident memory just
before the review. Measured, not asserted (docs/review.md quotes a run).

    python benchmarks/bench_hostile.py [--top 12]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

CHILD = r"""
import json, sys, time
from addin.review import review_file
review_file(sys.argv[2])  # warm: imports, the template of etown:27
def status(key):  # VmHWM: this process's peak resident memory (ru_maxrss would include the parent's at fork)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))
before = status("VmRSS")
start = time.perf_counter()
sub = review_file(sys.argv[1])
seconds = time.perf_counter() - start
peak = status("VmHWM")
print(json.dumps({"seconds": seconds, "peak": peak, "before": before, "status": sub.status,
                  "problems": len(sub.problems), "chars": sum(map(len, sub.problems)), "first": sub.problems[:1]}))
"""


def main() -> None:
    from addin.review import display_name

    import hostile_corpus as hc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=12, help="print the N most costly files (0: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = hc.write_corpus(folder / "corpus")
        genuine = folder / "genuine.xlsx"
        genuine.write_bytes(hc.base("G-001"))
        rows = []
        for name in [*cases, "genuine"]:
            path = genuine if name == "genuine" else folder / "corpus" / name
            run = subprocess.run(
                [sys.executable, "-c", CHILD, str(path), str(genuine)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=600,
            )
            if run.returncode:
                print(f"{name}: the review crashed ({run.returncode}): {run.stderr[-500:]}")
                continue
            out = json.loads(run.stdout)
            rows.append((out["seconds"], name, out, path.stat().st_size))
    rows.sort(key=lambda r: (r[1] != "genuine", -r[0]))
    shown = rows if not args.top else rows[: args.top + 1]
    print(
        f"{'file':40} {'bytes':>10} {'seconds':>8} {'peak MiB':>9} {'+MiB':>6} {'status':>7} {'problems':>8} {'chars':>7}"
    )
    for seconds, name, out, size in shown:
        print(
            f"{display_name(name)[:40]:40} {size:>10,} {seconds:>8.3f} "
            f"{out['peak'] / 2**20:>9.0f} {(out['peak'] - out['before']) / 2**20:>6.0f} {out['status']:>7} "
            f"{out['problems']:>8} {out['chars']:>7}"
        )
    worst = max(rows, key=lambda r: r[0])
    print(
        f"{len(rows)} files; slowest {worst[1]} {worst[0]:.2f} s; highest peak "
        f"{max(r[2]['peak'] for r in rows) / 2**20:.0f} MiB; all hostile fail: "
        f"{all(r[2]['status'] == 'fail' for r in rows if r[1] in cases)}"
    )


if __name__ == "__main__":
    main()
