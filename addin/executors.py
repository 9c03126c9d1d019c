"""Where a batch command runs its work: in this process, on a local process pool, or on a Dask cluster.

Every batch command (portfolio, declare, review, match) takes ``--workers N`` and
``--executor processes|dask[=ADDRESS]`` and opens its executor here, once::

    with batch_executor(spec, workers, items=len(rows), pays_from=4000) as executor:
        ...  # executor is None: run in this process; else any concurrent.futures.Executor

- ``processes`` (the default): ``addin.pool.process_pool``, workers that die with this process.
  Without ``--workers`` a pool is made only where it measurably shortens the run: more than one core
  and at least ``pays_from`` items (each command measures its own threshold; see docs/performance.md).
  ``--workers 1`` runs in this process.
- ``dask``: a ``dask.distributed`` client's executor. With no address, a ``LocalCluster`` of
  ``--workers`` processes (default: the cores) is started for the run and closed after it; with
  ``dask=tcp://host:8786`` the run goes to a district's running scheduler. Work is submitted as
  module-level functions and plain data, so the results are the same as with processes. Before the
  run, a scheduler's address is probed (a closed port is one line at once, not a 10 s retry) and
  every worker's green-award and policy versions are compared with this one's (``check_versions``):
  a worker that differs stops the run before any work. Dask is an optional extra
  (``pip install 'green-award[dask]'``).

The work itself is made in the workers and returned as data (bytes of a workbook, a JSON text, an
outcome); this process writes the files. A district's workers need no access to the consultant's
folders, and every file is written atomically, never over an existing one without ``--overwrite``.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass

EXECUTOR_HELP = "where the work runs: processes (default) or dask[=ADDRESS] (a LocalCluster when no address)"
WORKERS_HELP = "worker processes (default: from the input's size and the cores; 1: in this process)"


class ExecutorError(ValueError):
    """A bad ``--executor`` or ``--workers`` (one line, names the option and the rule)."""


@dataclass(frozen=True)
class ExecutorSpec:
    kind: str  # "processes" or "dask"
    address: str | None = None  # a Dask scheduler's address; None: a LocalCluster for the run


def parse_executor(text: str | None) -> ExecutorSpec:
    """``processes``, ``dask`` or ``dask=ADDRESS`` (``tcp://host:8786``)."""
    text = (text or "processes").strip()
    kind, _, address = text.partition("=")
    kind = kind.strip().lower()
    if kind == "processes" and not address:
        return ExecutorSpec("processes")
    if kind == "dask":
        return ExecutorSpec("dask", address.strip() or None)
    raise ExecutorError(
        f"--executor: {text!r} is not one of processes, dask, dask=ADDRESS / 执行方式须为 processes、dask 或 dask=地址"
    )


def check_workers(workers: int | None) -> int | None:
    if workers is not None and workers < 1:
        raise ExecutorError(f"--workers: {workers} must be 1 or more / 进程数须为正整数")
    return workers


def cores() -> int:
    """The cores this process may run on (the affinity mask where there is one, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def pool_size(workers: int | None, *, items: int, pays_from: int) -> int:
    """How many local processes: ``workers`` when given, else the cores when the batch is big enough
    for a pool to pay (``pays_from`` items), else 1 (in this process)."""
    if workers is not None:
        return workers
    n = cores()
    return n if n > 1 and items >= pays_from else 1


def chunk_size(total: int, workers: int | None, *, most: int) -> int:
    """Items per submitted task: about four tasks a worker (a slow one does not hold up the end), at most
    ``most`` (a progress bar that moves, results that come back in small pieces)."""
    n = workers or cores()
    return max(1, min(most, math.ceil(total / (4 * n))))


@contextmanager
def batch_executor(
    spec: ExecutorSpec | str | None = None,
    workers: int | None = None,
    *,
    items: int,
    pays_from: int,
    method: str | None = None,
) -> Iterator[Executor | None]:
    """The executor of one batch run (None: run in this process); shut down when the block ends."""
    spec = spec if isinstance(spec, ExecutorSpec) else parse_executor(spec)
    check_workers(workers)
    if spec.kind == "dask":
        with dask_executor(spec.address, workers) as executor:
            yield executor
        return
    n = pool_size(workers, items=items, pays_from=pays_from)
    if n <= 1:
        yield None
        return
    from .pool import process_pool

    pool = process_pool(n, method)
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


@contextmanager
def dask_executor(address: str | None, workers: int | None) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor on a Dask cluster: the scheduler at ``address``, or a
    ``LocalCluster`` of ``workers`` single-threaded processes started for this run."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ExecutorError(
            "--executor dask: dask.distributed is not installed (pip install 'green-award[dask]') / 未安装 Dask"
        ) from exc
    cluster = None
    try:
        if address is None:
            cluster = LocalCluster(
                n_workers=workers or cores(),
                threads_per_worker=1,  # the work is pure Python: one thread a process
                processes=True,
                dashboard_address=None,
                silence_logs=40,  # errors only: the command prints its own progress
            )
            client = Client(cluster)
        else:
            probe(address)
            try:
                client = Client(address, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(
                    f"--executor dask={address}: no scheduler answers there ({exc}) / 无法连接 Dask 调度器"
                ) from exc
            try:
                check_versions(address, _worker_versions(client))
            except BaseException:
                client.close()
                raise
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def probe(address: str, timeout: float = 3.0) -> None:
    """ExecutorError at once when nothing listens at a ``tcp://host:port`` scheduler address (dask's
    own connect retries for its whole timeout); other schemes (tls, ws) are left to dask."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        return
    host, _, port = rest.rstrip("/").rpartition(":")
    if not host:
        host, port = port, "8786"
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        raise ExecutorError(
            f"--executor dask={address}: no scheduler answers there ({exc}) / 无法连接 Dask 调度器"
        ) from None


def installed_versions() -> dict[str, str]:
    """This installation's green-award version and the encoding version of every policy it loads: what
    every worker of a cluster must share for its results to be this machine's."""
    from importlib.metadata import version

    from policies.registry import policies

    out = {"green-award": version("green-award")}
    out.update((f"policy {p.id}", p.encoding_version) for p in policies().values())
    return out


def _worker_versions(client) -> dict[str, dict[str, str] | str]:
    """Each worker's ``installed_versions()``, or why it could not say (no green-award there)."""

    def ask() -> dict[str, str] | str:  # sent by value: it runs where green-award may be missing
        try:
            from addin.executors import installed_versions

            return installed_versions()
        except Exception as exc:  # noqa: BLE001 - whatever it is, the worker cannot run the work
            return f"{type(exc).__name__}: {exc}"

    return client.run(ask)


def check_versions(address: str, workers: dict[str, dict[str, str] | str]) -> None:
    """ExecutorError naming the first worker whose green-award or policies differ from this process's."""
    if not workers:
        raise ExecutorError(f"--executor dask={address}: the scheduler has no workers / 调度器没有工作进程")
    mine = installed_versions()
    for worker, theirs in sorted(workers.items()):
        if isinstance(theirs, str):
            raise ExecutorError(
                f"--executor dask={address}: worker {worker} cannot run green-award ({theirs}) / 工作进程未安装 green-award"
            )
        differ = [f"{k} {theirs.get(k, 'missing')} (here {v})" for k, v in mine.items() if theirs.get(k) != v]
        differ += [f"{k} {v} (here missing)" for k, v in theirs.items() if k not in mine]
        if differ:
            raise ExecutorError(
                f"--executor dask={address}: worker {worker} has {', '.join(differ)}: install the same green-award "
                "on every worker / 工作进程的 green-award 版本不同"
            )
