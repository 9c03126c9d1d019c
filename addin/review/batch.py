"""A batch: the files found (``find_files``), each reviewed in this process or over an executor
(``addin.executors.batch_executor``: a process pool where it pays, or Dask), then the checks across the
batch (``cross_check``): the portfolio rules of ``policies.stacking`` applied to the submissions,
enterprises matched by credit code — duplicates, two clauses of one policy for one project, two district
policies, and the annual caps (a cap that reduces a grant is a warning with the amount after the cap; the
submission stays ok)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

from policies.engine import compiled

from ..executors import batch_executor, cores, parse_executor, pool_size
from ..safe_xlsx import DEFAULT_LIMITS, Limits
from .expected import Shipment, receive, shipment
from .findings import Submission, display_name
from .single import review_file

Progress = Callable[[int, int], None]

#: From this many files a process pool shortens a review on this machine (2 cores shared with other work;
#: ``benchmarks/bench_review.py --pays``, the command with 1 and 2 workers): slower at 800 files (2/1 = 1.27),
#: about even at 1,000 (1.34, 0.94), faster at 2,000 (0.90, 0.58). Below it, starting the workers and
#: building every clause's expected content before them cost more than the second core gives.
PAYS_FROM = 1500


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return path.absolute()


def find_files(paths: Iterable[str | os.PathLike], exclude: Iterable[Path] = ()) -> list[Path]:
    """Files given, and EVERY file inside folders given (sub-folders too, whatever its extension), sorted;
    FileNotFoundError if a path is missing. Each is reviewed or listed as skipped (``skip_reason``): a stray
    ``.xlsm``, ``.xls`` or renamed ``.csv`` in a folder fails review rather than going unnoticed.
    ``exclude``: this run's own report files."""
    skip = {_resolved(Path(p)) for p in exclude}
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if not found.is_dir() and _resolved(found) not in skip:
                    out.append(found)
        elif path.exists() or path.is_symlink():
            out.append(path)
        else:
            raise FileNotFoundError(f"{display_name(path)}: no such file or folder / 路径不存在")
    seen, unique = set(), []
    for p in out:
        key = _resolved(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def review_paths(
    paths: Sequence[str | os.PathLike],
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    executor_spec: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
    names: Sequence[str] | None = None,
) -> list[Submission]:
    """Review every file, then the checks across the batch.

    The files are reviewed over ``executor`` when one is given, else over ``batch_executor(executor_spec,
    workers)``: in this process, a process pool where it pays (``PAYS_FROM`` files) or Dask. Work given to
    workers carries the expected content, built here BEFORE they start (``expected.shipment``).
    ``names``: what each file is called in the results (``Submission.file``) instead of its path: an
    upload's own name, where the file on disk has a generated one (``addin.web``)."""
    files = [str(p) for p in paths]
    spec = parse_executor(executor_spec)
    pooled = (
        executor is not None or spec.kind == "dask" or pool_size(workers, items=len(files), pays_from=PAYS_FROM) > 1
    )
    sent = shipment() if pooled and files else None  # before any worker starts: a forked one inherits it
    with ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(batch_executor(spec, workers, items=len(files), pays_from=PAYS_FROM))
        if executor is None:
            out = []
            for path in files:
                out.append(review_file(path, limits))
                if progress:
                    progress(len(out), len(files))
        else:
            out = _review_over(executor, files, limits, sent, workers or cores(), progress)
    for sub, name in zip(out, names or ()):
        sub.file = name
    cross_check(out)
    return out


def _review_over(
    executor: Executor,
    files: list[str],
    limits: Limits,
    sent: Shipment | None,
    workers: int,
    progress: Progress | None,
) -> list[Submission]:
    """The files in chunks (about four per worker, at most 64 files each) over ``executor``, in order."""
    total = len(files)
    size = max(1, min(64, -(-total // (4 * workers))))
    futures = [(i, executor.submit(_review_chunk, files[i : i + size], limits, sent)) for i in range(0, total, size)]
    out: list[Submission] = []
    for i, future in futures:
        try:
            out.extend(future.result())
        except Exception:  # noqa: BLE001 - a worker died (killed, out of memory): its files, each on its own
            out.extend(_review_alone(path, limits, sent) for path in files[i : i + size])
        if progress:
            progress(len(out), total)
    return out


def _review_chunk(paths: Sequence[str], limits: Limits, sent: Shipment | None = None) -> list[Submission]:
    """In a worker: the files of one chunk, with the expected content the batch's process built."""
    receive(sent)
    return [review_file(p, limits) for p in paths]


def _review_alone(path: str, limits: Limits, sent: Shipment | None) -> Submission:
    """One file in a process of its own: should that process die too, it is this file's problem."""
    from ..pool import process_pool

    try:
        with process_pool(1) as pool:
            return pool.submit(_review_chunk, [path], limits, sent).result()[0]
    except Exception as exc:  # noqa: BLE001
        sub = Submission(file=display_name(path))
        sub.problem(
            "internal",
            f"审核 Review: the process reviewing this file ended abnormally ({type(exc).__name__}) / 审核进程异常终止",
        )
        return sub


# --- across the batch: the portfolio rules of policies.stacking ---------------------------------------


def _stack_table(subs: list[Submission]) -> tuple[list[str], list[list]]:
    """The submissions as a portfolio table (``policies.stacking``'s columns), their inputs as columns."""
    names: list[str] = []
    seen: set[str] = set()
    for sub in subs:
        for name in sub.inputs:
            if name not in seen:
                seen.add(name)
                names.append(name)
    header = ["enterprise", "uscc", "project", "clause", "year", *names]
    rows = [
        [
            sub.enterprise or "",
            sub.uscc or "",
            sub.project or "",
            sub.clause or "",
            sub.year or "",
            *(sub.inputs.get(n, "") for n in names),
        ]
        for sub in subs
    ]
    return header, rows


def _ekey(sub: Submission) -> str:
    """The enterprise a submission is matched by: its credit code, else its name."""
    return sub.uscc or sub.enterprise or ""


def cross_check(subs: list[Submission]) -> None:
    """The checks across the batch (skipped files left out); should they fail, no submission passes unchecked."""
    subs = [s for s in subs if not s.skipped]
    try:
        _cross_check(subs)
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the files' reviews
        for sub in subs:
            if sub.clause:
                sub.problem(
                    "batch",
                    f"批次 Batch: the checks across submissions could not run ({type(exc).__name__}: {str(exc)[:300]})",
                )
                sub.ok, sub.granted_yuan = False, Decimal("0.00")
    for sub in subs:
        sub.cap()


def _cross_check(subs: list[Submission]) -> None:
    """Duplicates, best clause per project per policy, district conflicts and annual caps across the batch.

    The decisions are ``policies.stacking.stack_rows``'s (the portfolio's own rules): first over every
    submission that names an enterprise, project, clause and year (a duplicate or conflict is a problem
    of each submission involved), then the caps over the submissions that pass, whose grants they share.
    """
    from policies.ledger_rules import BEST_OF_CITES
    from policies.stacking import stack_rows

    candidates = [s for s in subs if s.clause and s.project and s.year and (s.uscc or s.enterprise)]
    if candidates:
        header, rows = _stack_table(candidates)
        result = stack_rows(header, rows, cites=[s.file for s in candidates])  # a rule names the other files
        status, notes = result.column("status"), result.notes
        by_project: dict[tuple, list[int]] = {}
        for i, sub in enumerate(candidates):
            by_project.setdefault((_ekey(sub), sub.year, sub.project), []).append(i)
        for i, sub in enumerate(candidates):
            group = [j for j in by_project[(_ekey(sub), sub.year, sub.project)] if j != i]
            said = "; ".join(n.text for n in notes[i])
            cites = notes[i][0].cites if notes[i] else ""
            if status[i] == "invalid" and notes[i] and notes[i][0].code == "duplicate":
                others = [candidates[j].file for j in group if candidates[j].clause == sub.clause]
                sub.problem(
                    "duplicate",
                    f"重复 Duplicate: project {sub.project} under {sub.clause} in {sub.year} is also submitted "
                    f"in {', '.join(others)} / 同一项目同一条款重复申报",
                    refers_to=others,
                )
            elif status[i] == "conflict":
                others = [f"{candidates[j].clause} ({candidates[j].file})" for j in group if status[j] == "conflict"]
                sub.problem(
                    "conflict",
                    f"冲突 Conflict: project {sub.project} is also claimed under {', '.join(others)}: {said}",
                    cites=cites,
                    refers_to=[candidates[j].file for j in group if status[j] == "conflict"],
                )
            elif status[i] == "duplicate" or (status[i] == "ineligible" and not sub.problems):
                # across years (policies.ledger_rules): a one-off repeated, tongzhou:8's 4th year
                sub.problem(
                    notes[i][0].code if notes[i] else status[i],
                    said,
                    cites=cites,
                    refers_to=[r for n in notes[i] for r in n.refers_to],
                )
            elif status[i] == "superseded":
                others = [candidates[j].file for j in group if candidates[j].clause != sub.clause]
                sub.problem(
                    "superseded",
                    f"{said} (submitted in {sub.file}); the other submission(s): {', '.join(others)}",
                    cites=cites,
                    refers_to=others,
                )
        # the submission a superseded one lost to is involved too
        for i, sub in enumerate(candidates):
            if status[i] not in ("granted", "capped"):
                continue
            policy = compiled(sub.clause).policy.id
            rivals = [
                j
                for j in by_project[(_ekey(sub), sub.year, sub.project)]
                if status[j] == "superseded" and compiled(candidates[j].clause).policy.id == policy
            ]
            if rivals and not compiled(sub.clause).clause.stacks:
                sub.problem(
                    "one_clause_per_project",
                    f"从优 One clause per project: project {sub.project} is also submitted under "
                    f"{', '.join(f'{candidates[j].clause} ({candidates[j].file})' for j in rivals)} in the same policy ({policy}); "
                    f"withdraw the other(s) / 同一项目同一政策只能申报一项",
                    cites=BEST_OF_CITES.get(policy, ""),
                    refers_to=[candidates[j].file for j in rivals],
                )
    passing = [s for s in subs if not s.problems and s.clause and s.year]
    for sub in subs:
        sub.ok = not sub.problems
        if sub.problems and sub.clause:
            sub.granted_yuan = Decimal("0.00")
    if not passing:
        return
    header, rows = _stack_table(passing)
    result = stack_rows(header, rows, cites=[s.file for s in passing])
    for sub, state, granted, notes_ in zip(
        passing, result.column("status"), result.column("granted_yuan"), result.notes
    ):
        amount = granted if granted is not None else sub.recomputed_yuan
        if sub.declared_yuan is not None and amount is not None:
            amount = min(amount, sub.declared_yuan)
        sub.granted_yuan = amount
        if state == "capped":
            first = next(
                (k for k, n in enumerate(notes_) if n.code == "capped"), 0
            )  # what the caps said, and any rule after
            capped = [n for n in notes_ if n.code == "capped"]
            sub.warning(
                "annual_cap",
                f"封顶 Annual cap: granted {amount:,.2f} 元 after the cap (declared {sub.declared_yuan:,.2f} 元): "
                + "; ".join(n.text for n in notes_[first:]),
                cites="; ".join(n.cites for n in capped),
            )
