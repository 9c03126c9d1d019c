"""Uploads: each file stored under a generated name in a private folder; a zip checked, then expanded.

An uploaded file's name is only ever shown, never a path. A batch gets a folder of its own
(``tempfile.mkdtemp``: mode 0700, a random name) and each file in it is called ``0001.xlsx``,
``0002.xlsm``...: a number, and the extension of its name when that is a few letters and digits
(the review names a macro-enabled type or a stray ``.csv`` by its extension, as it does in a folder).

A ``.zip`` is checked as the review checks an xlsx, with ``safe_xlsx.SafeZip`` and the same
``Limits`` (only the archive's own size is bounded by the upload limit instead): entry count, each
entry's and the total uncompressed size, compression ratios, encryption and compression methods, all
from the central directory before a byte is inflated. Then the entry names: one that is absolute,
climbs out (``..``), has a backslash or a control character, or appears twice refuses the whole
archive (nothing is extracted). A refused archive is one failed item of the batch, and the batch
goes on. Each entry is inflated bounded to its declared size and stored under a generated name like
any upload; an entry larger than a declaration may be (``Limits.max_file_bytes``) is refused
unextracted; lock and hidden files (``~$x.xlsx``, ``__MACOSX/._x.xlsx``) are listed as skipped, as
in a folder. A zip inside the zip is not expanded: it is reviewed as a file (and fails as one).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from policies.errors import GreenAwardError

from ..review import REFUSED, Submission, printable, problem, skip_reason
from ..safe_xlsx import (  # one guard for xlsx and zip
    DEFAULT_LIMITS,
    Limits,
    SafeZip,
    UnsafeWorkbook,
    entry_name_problems,
    size_text,
)

CHUNK = 1024 * 1024
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")


class UploadError(GreenAwardError):
    """A request that cannot make a batch (no files, too many)."""


@dataclass
class Item:
    """One file of a batch: reviewed from ``path``, or already decided (``done``: skipped or refused unread)."""

    name: str
    sha256: str | None
    path: Path | None = None
    done: Submission | None = None


def refused(name: str, kind: str, message: str) -> Submission:
    """An item that is not reviewed because it must not be read: a failed submission with one problem."""
    sub = Submission(file=name)
    sub.refused = kind
    add = getattr(sub, "problem", None)
    if callable(add):  # the review's own way to add a problem, where findings are data
        add(kind, message)
    else:
        sub.problems.append(problem(kind, message))
    sub.cap()
    return sub


def skipped(name: str, reason: str) -> Submission:
    sub = Submission(file=name)
    sub.skipped = reason
    return sub


def upload_name(filename: str | None) -> str:
    """The name an upload is shown by: its last part (a browser may send a path), printable, at most 200 characters."""
    text = (filename or "").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].strip()
    return printable(text)[:200] or "upload"


def entry_name(info) -> str:  # noqa: ANN001 - a zipfile.ZipInfo
    """A zip entry's name as the review shows a file name: UTF-8 as it is, other bytes (GBK from Windows) escaped."""
    if info.flag_bits & 0x800:
        return printable(info.filename)
    raw = info.filename.encode("cp437", "replace")  # zipfile decoded the raw bytes as cp437: this gives them back
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("ascii", "backslashreplace")
    return printable(text)


def _names_problem(archive: SafeZip) -> tuple[str, str] | None:
    for code, name, earlier in entry_name_problems(archive):
        if code == "zip_slip":
            return code, f"entry name {printable(name)[:120]!r} is absolute or climbs out of the archive (zip-slip)"
        return code, f"entry {printable(name)[:120]!r} appears twice ({printable(earlier or '')[:120]!r})"
    return None


class Staging:
    """A batch's private folder and its items, in the order uploaded."""

    def __init__(self, parent: str | None = None, *, limits: Limits = DEFAULT_LIMITS, max_files: int = 1000):
        self.folder = Path(tempfile.mkdtemp(prefix="green-award-upload-", dir=parent))  # 0700, random name
        self.limits, self.max_files = limits, max_files
        self.items: list[Item] = []
        self._shown: set[str] = set()
        self._count = 0

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _name(self, wanted: str) -> str:
        """``wanted``, or ``wanted (2)``... when the batch has that name already (messages name files)."""
        name, k = wanted, 1
        stem, ext = (wanted[: -len(m[0])], m[0]) if (m := _EXTENSION.search(wanted)) else (wanted, "")
        while name.casefold() in self._shown:
            k += 1
            name = f"{stem} ({k}){ext}"
        self._shown.add(name.casefold())
        return name

    def _new_path(self, name: str) -> Path:
        self._count += 1
        m = _EXTENSION.search(name)
        return self.folder / f"{self._count:04d}{m[0].lower() if m else ''}"

    def _write(self, path: Path, chunks) -> str:
        digest = hashlib.sha256()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        return digest.hexdigest()

    def _append(self, item: Item) -> None:
        if len(self.items) >= self.max_files:
            raise UploadError(
                f"files: more than {self.max_files:,} in one batch (zip entries included); split the batch "
                f"/ 单批最多{self.max_files:,}个文件"
            )
        self.items.append(item)

    def add(self, filename: str | None, stream: BinaryIO) -> None:
        """Store one upload (read in chunks from ``stream``); a ``.zip`` is checked and expanded."""
        name = self._name(upload_name(filename))
        path = self._new_path(name)
        sha = self._write(path, iter(lambda: stream.read(CHUNK), b""))
        reason = skip_reason(name)
        if reason:
            path.unlink()
            self._append(Item(name, sha, done=skipped(name, reason)))
        elif name.lower().endswith(".zip"):
            try:
                self._expand(name, path, sha)
            finally:
                path.unlink(missing_ok=True)
        else:
            self._append(Item(name, sha, path=path))

    def _expand(self, name: str, path: Path, sha: str) -> None:
        limits = replace(self.limits, max_file_bytes=max(self.limits.max_file_bytes, path.stat().st_size))
        try:
            archive = SafeZip(path, limits)
            bad = _names_problem(archive)
            if bad:
                raise UnsafeWorkbook(*bad)
        except UnsafeWorkbook as exc:
            why = REFUSED.get(exc.kind, "refused (dangerous entry names)")
            self._append(
                Item(
                    name,
                    sha,
                    done=refused(
                        name,
                        exc.kind,
                        f"文件 File: the zip archive: {why}: {exc}; nothing "
                        "was extracted / 压缩包无法安全解压，未解压任何文件",
                    ),
                )
            )
            return
        for info in archive.zip.infolist():
            if info.is_dir():
                continue
            shown = self._name(f"{name}/{entry_name(info)}")
            if info.file_size > self.limits.max_file_bytes:
                self._append(
                    Item(
                        shown,
                        None,
                        done=refused(
                            shown,
                            "too_large",
                            (
                                f"文件 File: {REFUSED['too_large']}: file is {size_text(info.file_size)}, above the "
                                f"{size_text(self.limits.max_file_bytes)} limit; not extracted / 文件无法安全读取"
                            ),
                        ),
                    )
                )
                continue
            try:
                data = archive.read(info.filename)
            except UnsafeWorkbook as exc:
                self._append(
                    Item(
                        shown,
                        None,
                        done=refused(
                            shown, exc.kind, f"文件 File: {REFUSED.get(exc.kind, exc.kind)}: {exc} / 文件无法安全读取"
                        ),
                    )
                )
                continue
            reason = skip_reason(info.filename)
            if reason:
                self._append(Item(shown, hashlib.sha256(data).hexdigest(), done=skipped(shown, reason)))
                continue
            target = self._new_path(shown)
            self._append(Item(shown, self._write(target, [data]), path=target))
