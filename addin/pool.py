"""The process pool of every batch (portfolio evaluation, declarations, review, matching): one place that
makes it, so every batch gets workers that end when the process that started them dies.

A killed parent (SIGKILL, an out-of-memory kill, a closed terminal) cannot shut its pool down:
without this its workers would go on through the work already queued to them, for minutes, writing
files nobody waits for. Each worker therefore, in the pool's initializer,
- on Linux asks the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``);
- everywhere runs a watchdog thread: on POSIX it ends the worker as soon as its parent process id
  changes (the orphan is re-parented), on Windows when a wait on the parent's handle returns.

The module lives in ``addin``: the policy core runs its work in the process it is given, and a batch
command hands it an executor (``addin.executors``). The start method is ``fork`` where there is one (the workers
inherit what the parent prepared: compiled clauses, templates) and the platform's default
(``spawn``) elsewhere. Linux's death signal follows the *thread* that started the workers: make
the pool in the thread that uses it (as every batch here does), not in a short-lived helper thread.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1
#: How often (seconds) a worker's watchdog looks at its parent where the kernel cannot tell it.
POLL = 0.25


def process_pool(workers: int | None = None, method: str | None = None) -> ProcessPoolExecutor:
    """A process pool of ``workers`` (default: all cores) whose workers die with this process; ``method``:
    how workers start (default fork where there is one; a threaded server asks for spawn)."""
    if method is None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=multiprocessing.get_context(method),
        initializer=bind_to_parent,
        initargs=(os.getpid(),),
    )


def bind_to_parent(parent: int) -> None:
    """In a worker: end this process when ``parent`` dies (the pool's initializer)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog below still works
            pass
    if os.name == "nt":
        threading.Thread(target=_wait_for_windows_parent, args=(parent,), daemon=True, name="parent-watch").start()
        return
    if os.getppid() != parent:  # the parent died before the death signal was asked for
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="parent-watch").start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL)
    os._exit(1)


def _wait_for_windows_parent(parent: int) -> None:  # pragma: no cover - Windows only
    import ctypes

    synchronize, infinite = 0x00100000, 0xFFFFFFFF
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(synchronize, False, parent)
    if not handle:  # already gone (or not ours to watch): nothing to wait for
        return
    kernel32.WaitForSingleObject(handle, infinite)
    os._exit(1)
