"""Writing output files safely: to a temporary name first, then moved into place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


class OutputExistsError(FileExistsError):
    """The output exists and the caller did not ask to overwrite it."""

    def __init__(self, path: Path):
        super().__init__(f"{path} exists; pass --overwrite to replace it / 文件已存在")
        self.path = path


def write_atomically(path: Path, write: Callable[[Path], None], *, overwrite: bool = False) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it into place.

    Without ``overwrite`` an existing file is never replaced, not even by a parallel writer that
    gets there first: the move is a hard link, which fails if the name is taken.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise OutputExistsError(path) from None
    finally:
        tmp.unlink(missing_ok=True)
    return path
