"""Writing output files safely: to a temporary name first, then moved into place.

A temporary file is named after the writer: ``.<name>.<host>.<pid>.<random>.tmp`` (``host`` a short
hash of this machine's name). A run that is killed leaves its temporary file behind; the next
writer into the same folder removes those of this machine whose process is gone, and never one of
a live process or of another machine (a shared drive may be written from several). The output gets
the permissions the user's umask gives a new file (0644 under umask 022), as any program's would.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

#: The longest file name most file systems take (ext4, APFS, NTFS: 255 bytes or UTF-16 units).
NAME_MAX = 255


class OutputExistsError(FileExistsError):
    """The output exists and the caller did not ask to overwrite it."""

    def __init__(self, path: Path):
        super().__init__(f"{path} exists; pass --overwrite to replace it / 文件已存在")
        self.path = path


class OutputError(OSError):
    """An output that cannot be written; the message names the path and why, on one line."""

    def __init__(self, path: Path, why: str):
        super().__init__(f"cannot write {path}: {why} / 无法写入输出")
        self.path = path


def fit_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _why(exc: OSError, path: Path) -> str:
    """The reason an OSError gives, in words a user can act on."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (a read-only folder or drive?) / 没有写入权限"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        for parent in (path, *path.parents):
            if parent.is_file():
                return (
                    "it is a file; give a folder / 这是文件，应为文件夹"
                    if parent == path
                    else f"{parent} is a file, not a folder / 上级路径是文件"
                )
        return "a part of the path is not a folder / 路径中有非文件夹"
    if exc.errno == errno.EISDIR:
        return "it is a folder; give a file name / 这是文件夹，应为文件名"
    if exc.errno == errno.ENAMETOOLONG:
        return "the name is too long / 文件名过长"
    if exc.errno == errno.ENOSPC:
        return "no space left on the drive / 磁盘已满"
    return exc.strerror or str(exc)


def ensure_folder(folder: Path, target: Path | None = None) -> Path:
    """``folder``, made if it is not there; OutputError naming ``target`` (default: the folder)
    when the folder or one above it is a file, or it cannot be made."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        target = Path(target or folder)
        if exc.errno == errno.EEXIST and target != folder and folder.is_file():
            raise OutputError(target, f"{folder} is a file, not a folder / 上级路径是文件") from None
        raise OutputError(target, _why(exc, folder if target == folder else target)) from None
    return folder


# --- temporary files, named after their writer ------------------------------------------------------

_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]
_TEMP = re.compile(r"\.(?P<host>[0-9a-f]{6})\.(?P<pid>\d{1,10})\.[0-9a-z]{8}\.tmp(?:\.[^.]*)?$")
_swept: set[str] = set()


def temp_path(path: Path) -> Path:
    """A new temporary name beside ``path`` carrying this process's id (the name is cut to fit)."""
    tail = f".{_HOST}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    room = NAME_MAX - 32 - 1 - len(tail)  # 32 bytes spare for a writer's own side file (``<tmp>.raw``)
    return path.with_name("." + fit_bytes(path.name, room) + tail)


def pid_alive(pid: int) -> bool:
    """Whether a process of this id runs on this machine (when unsure: yes)."""
    if pid <= 0:
        return True
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows: never remove there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch, to about a second), where /proc says."""
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, IndexError, ValueError):
        return None


def writer_gone(pid: int, modified: float) -> bool:
    """Whether the process that wrote a temporary file last modified at ``modified`` has ended: no
    process has its id, or the one that has it started after the file was written (the id was
    reused, after a restart say)."""
    if not pid_alive(pid):
        return True
    started = process_start(pid)
    return started is not None and modified < started - 2  # 2 s: /proc's boot time is whole seconds


def sweep_temps(folder: Path) -> list[Path]:
    """Remove the temporary files left in ``folder`` by killed writers of this machine; once per
    process and folder (a batch of thousands of files scans its folder once)."""
    folder = Path(folder)
    key = os.path.abspath(folder)
    if key in _swept:
        return []
    _swept.add(key)
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMP.search(name) if name.startswith(".") else None
        if match is None or match["host"] != _HOST:
            continue
        try:
            if not writer_gone(int(match["pid"]), (folder / name).stat().st_mtime):
                continue
            (folder / name).unlink()
            removed.append(folder / name)
        except OSError:
            pass
    return removed


def _create(tmp: Path) -> None:
    """Create ``tmp`` exclusively, with the mode the umask gives (mkstemp's would be 0600)."""
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))


def _move_new(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path`` unless ``path`` exists: a hard link fails if the name is taken;
    where a drive has no hard links (FAT, some network shares) the name is claimed by an exclusive
    create, then replaced by the finished file."""
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        raise OutputExistsError(path) from None
    except OSError:
        pass
    try:
        _create(path)
    except FileExistsError:
        raise OutputExistsError(path) from None
    os.replace(tmp, path)


def _probe(folder: Path, target: Path) -> None:
    tmp = temp_path(folder / "probe")
    try:
        _create(tmp)
    except OSError as exc:
        raise OutputError(target, _why(exc, target)) from None
    tmp.unlink(missing_ok=True)


def ensure_writable(path: Path) -> Path:
    """Check before a long run that the file ``path`` can be written: its folder made, a file
    created there (and removed). OutputError otherwise."""
    path = Path(path)
    _probe(ensure_folder(path.parent, path), path)
    return path


def ensure_writable_folder(folder: Path) -> Path:
    """Check before a long run that files can be written into ``folder`` (made if absent)."""
    folder = Path(folder)
    _probe(ensure_folder(folder), folder)
    return folder


def write_atomically(path: Path, write: Callable[[Path], None], *, overwrite: bool = False) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it into place.

    Without ``overwrite`` an existing file is never replaced, not even by a parallel writer that
    gets there first: the move is a hard link, which fails if the name is taken. A path that cannot
    be written raises OutputError, an existing one OutputExistsError (both with one-line messages).
    """
    path = Path(path)
    try:
        if path.exists() and not overwrite:
            raise OutputExistsError(path)
    except OSError as exc:
        if isinstance(exc, OutputExistsError):
            raise
        raise OutputError(path, _why(exc, path)) from None
    ensure_folder(path.parent, path)
    sweep_temps(path.parent)
    tmp = temp_path(path)
    try:
        _create(tmp)
        write(tmp)
        if overwrite:
            os.replace(tmp, path)
        else:
            _move_new(tmp, path)
    except (OutputExistsError, OutputError):
        raise
    except OSError as exc:
        raise OutputError(path, _why(exc, path)) from None
    finally:
        tmp.unlink(missing_ok=True)
    return path
