"""The progress bar of every batch command (portfolio, declare, review): one look, one behaviour."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

#: ``advance(done, total)``: what a batch reports as it goes (total may grow as the work is found).
Advance = Callable[[int, int], None]


@contextmanager
def progress_bar(console: Console, label: str, total: int | None = None) -> Iterator[Advance]:
    """A transient bar labelled ``label`` (中文 English) with a count and the time left; yields the
    ``advance`` to call. It shows from the first ``advance`` (the count known) and draws when advanced,
    with no refresh thread of its own: a process pool may fork while it shows, and a forked child must
    not inherit a running thread."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
    )
    task = bar.add_task(label, total=total)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None)
        if bar.live.is_started:
            bar.refresh()
        else:  # drawn from the first count: never a "0/?" while the batch is prepared
            bar.start()

    try:
        yield advance
    finally:
        if bar.live.is_started:
            bar.stop()
