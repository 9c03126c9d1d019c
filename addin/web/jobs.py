"""Background reviews: a batch is reviewed and recorded by the same code as ``green-award review --ledger``.

``review_paths`` reviews the files (each under its generated name on disk, shown by its uploaded
name), then ``record_review`` records the batch in the ledger in one transaction and applies the
rules against the record; the batch's report (each submission's ``Submission.report()``, the entries
of ``review --json``, with the file's ``sha256``) is kept in the ledger's ``batches`` table.

Batches run one at a time, in one long-lived thread (a second upload waits its turn; the ledger
serialises the recording anyway). With ``workers`` above 1 the files of a batch are reviewed by a
process pool of that size, made for the batch in that thread with the ``spawn`` start method (this
process has other threads: ``fork`` could copy a lock another thread holds) and
``addin.pool.bind_to_parent`` (its workers die with the server); a worker that dies costs its
files a review on their own (``review_paths``), never the next batch. Progress is kept in memory for the page to poll; a batch that was
queued or running when the server stopped is marked failed when the next one starts.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select

from ..ledger.db import Ledger
from ..ledger.models import Batch
from .uploads import Staging

log = logging.getLogger("green-award.web")
INTERRUPTED = (
    "interrupted: the server stopped before the review finished; upload the files again / 服务器中断，请重新上传"
)


def entries_of(subs, items) -> list[dict]:
    """The JSON report's entries, each with its file's sha256 (the review's own where it gives one)."""
    out = []
    for sub, item in zip(subs, items):
        entry = sub.report()
        if not entry.get("sha256"):
            entry["sha256"] = item.sha256
        out.append(entry)
    return out


def report_workbook(subs, batch_id: int) -> bytes:
    """The review's workbook for people (``review.write_xlsx``), its files under ``/批次 Batch #N/`` (the folder
    the report names: an upload has no folder on the server worth showing)."""
    import dataclasses
    import shutil
    import tempfile
    from pathlib import Path

    from ..review import write_xlsx

    shown = [dataclasses.replace(s, file=f"/批次 Batch #{batch_id}/{s.file}") for s in subs]
    folder = Path(tempfile.mkdtemp(prefix="green-award-report-"))
    try:
        return write_xlsx(shown, folder / "report.xlsx").read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Jobs:
    def __init__(self, ledger: Ledger, *, workers: int = 1):
        self.ledger, self.workers = ledger, max(1, workers)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="green-award-review")
        self._pool: Executor | None = None
        self._progress: dict[int, tuple[int, int]] = {}
        self._waiting: dict[int, Staging] = {}  # queued, not started: their folders go when the server stops
        self._lock = threading.Lock()

    def interrupted(self) -> None:
        """Batches left queued or running by a server that stopped: failed, with the reason."""
        with self.ledger.write() as session:
            for batch in session.scalars(select(Batch).where(Batch.status.in_(("queued", "running")))):
                batch.status, batch.error, batch.finished_at = "failed", INTERRUPTED, datetime.now(UTC)

    def start(self, staging: Staging, user: str) -> int:
        """Record a new batch and queue its review; its id."""
        with self.ledger.write() as session:
            batch = Batch(created_by=user, status="queued", files=len(staging.items), report=[])
            session.add(batch)
            session.flush()
            batch_id = batch.id
        with self._lock:
            self._progress[batch_id] = (0, sum(1 for i in staging.items if i.path is not None))
            self._waiting[batch_id] = staging
        self._thread.submit(self._run, batch_id, staging, user)
        return batch_id

    def progress(self, batch_id: int) -> tuple[int, int] | None:
        with self._lock:
            return self._progress.get(batch_id)

    def _executor(self) -> Executor | None:
        """A process pool for one batch (a pool whose worker died is never reused for the next one)."""
        if self.workers <= 1:
            return None
        from addin.pool import process_pool

        self._pool = process_pool(
            self.workers, method="spawn"
        )  # a fresh interpreter: the server's threads are not forked
        return self._pool

    def _set(self, batch_id: int, **values) -> None:
        with self.ledger.write() as session:
            batch = session.get(Batch, batch_id)
            for key, value in values.items():
                setattr(batch, key, value)

    def _run(self, batch_id: int, staging: Staging, user: str) -> None:
        from ..ledger.review import record_review
        from ..review import review_paths

        with self._lock:
            self._waiting.pop(batch_id, None)
        try:
            self._set(batch_id, status="running")
            items = staging.items
            todo = [i for i in items if i.path is not None]

            def progress(done: int, total: int) -> None:
                with self._lock:
                    self._progress[batch_id] = (done, total)

            reviewed = iter(
                review_paths(
                    [i.path for i in todo if i.path is not None],
                    names=[i.name for i in todo],
                    executor=self._executor(),
                    workers=1,
                    progress=progress,
                )
                if todo
                else []
            )
            subs = [item.done if item.done is not None else next(reviewed) for item in items]
            record_review(self.ledger, subs, recorded_by=user, files=[i.path or "" for i in items])
            self._set(
                batch_id,
                status="done",
                report=entries_of(subs, items),
                report_xlsx=report_workbook(subs, batch_id),
                finished_at=datetime.now(UTC),
            )
        except Exception as exc:  # noqa: BLE001 - the batch fails with the reason; the server goes on
            log.exception("batch %s failed", batch_id)
            try:
                self._set(
                    batch_id,
                    status="failed",
                    error=f"{type(exc).__name__}: {str(exc)[:1000]}",
                    finished_at=datetime.now(UTC),
                )
            except Exception:  # noqa: BLE001
                log.exception("batch %s: its failure could not be recorded", batch_id)
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None
            staging.cleanup()
            with self._lock:
                self._progress.pop(batch_id, None)

    def shutdown(self) -> None:
        """Finish the batch under review; those still queued are dropped (marked failed at the next start)."""
        self._thread.shutdown(wait=True, cancel_futures=True)
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        with self._lock:
            for staging in self._waiting.values():
                staging.cleanup()
            self._waiting.clear()
