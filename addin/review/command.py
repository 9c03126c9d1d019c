"""``green-award review PATH...``: the command (progress bar, reports, exit status) and the demo's last step."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING

from .batch import find_files, review_paths
from .findings import Submission, display_name, printable
from .report import print_review, summary, write_json, write_xlsx

if TYPE_CHECKING:
    from rich.console import Console


#: Up to this many files the console lists each one; above, only those with a problem or a warning
#: (a district's batch of thousands would scroll its five failures out of sight; the reports list all).
LIST_EVERY_FILE_UP_TO = 100


def run_review(
    paths: Sequence[Path],
    *,
    report: Path | None = None,
    json_out: Path | None = None,
    overwrite: bool = False,
    workers: int | None = None,
    executor: Executor | None = None,
    executor_spec: str | None = None,
    console: Console | None = None,
    ledger: str | None = None,
) -> int:
    """``green-award review``: 0 when every submission passes, 1 when any does not, 2 for a usage error.

    ``ledger`` (or ``GREEN_AWARD_LEDGER``): record the batch and check it against the grants on record."""
    from rich.console import Console
    from rich.markup import escape

    from ..files import OutputExistsError

    console = console or Console()
    errors = Console(stderr=True)

    def usage(message: str) -> int:
        errors.print(f"[red]error 错误:[/red] {escape(printable(message))}", highlight=False)
        return 2

    if not paths:
        return usage("give the declarations to review: files or folders / 请指定申报表文件或文件夹")
    for out in (report, json_out):
        if out is not None and out.exists() and not overwrite:
            return usage(f"{display_name(out)} exists; pass --overwrite to replace it / 文件已存在")
    if report is not None and report.suffix.lower() != ".xlsx":
        return usage(f"--report must name an .xlsx file, got {display_name(report)}")
    try:
        files = find_files(paths, exclude=[p for p in (report, json_out) if p is not None])
    except FileNotFoundError as exc:
        return usage(str(exc))
    if not files:
        return usage(f"no files found in {', '.join(map(display_name, paths))} / 未找到申报表")
    from policies import GreenAwardError

    from ..ledger.review import open_for_review, record_review

    try:
        book = open_for_review(ledger)  # before the review: a mistyped ledger stops it at once
    except GreenAwardError as exc:
        return usage(str(exc))
    subs = review_with_progress(files, console, executor=executor, workers=workers, executor_spec=executor_spec)
    if book is not None:
        try:
            record_review(book, subs)
        finally:
            book.close()
    print_review(subs, console, flagged_only=len(subs) > LIST_EVERY_FILE_UP_TO)
    info = summary(subs)
    try:
        if json_out is not None:
            console.print(
                f"JSON: {escape(display_name(write_json(subs, json_out, overwrite=overwrite)))}", highlight=False
            )
        if report is not None:
            console.print(
                f"报告 Report: {escape(display_name(write_xlsx(subs, report, overwrite=overwrite)))}", highlight=False
            )
    except OutputExistsError as exc:
        return usage(str(exc))
    except OSError as exc:
        return usage(
            f"the report cannot be written: {display_name(exc.filename or '')} {exc.strerror or exc} / 报告无法写入"
        )
    return 0 if info["failed"] == 0 else 1


def review_with_progress(
    files: Sequence[Path],
    console: Console,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    executor_spec: str | None = None,
) -> list[Submission]:
    """``review_paths`` with the batch commands' progress bar."""
    from ..progress import progress_bar

    with progress_bar(console, "审核 Reviewing", total=len(files)) as advance:
        return review_paths(files, executor=executor, workers=workers, executor_spec=executor_spec, progress=advance)


def review_demo(folder: Path, console: Console, *, overwrite: bool = False) -> bool:
    """The demo's last step: review the declarations it wrote, print the summary, write ``review.xlsx`` beside
    the folder; True when every one passes."""
    files = find_files([folder])
    if not files:
        console.print(f"审核 Review: no declarations in {folder}", highlight=False)
        return True
    subs = review_with_progress(files, console)
    print_review(subs, console, flagged_only=True)
    path = write_xlsx(subs, Path(folder).parent / "review.xlsx", overwrite=overwrite)
    console.print(f"审核报告 Review report: {path}", highlight=False)
    return all(s.ok for s in subs)
