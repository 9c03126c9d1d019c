"""Output files: the umask's permissions, temporary names after their writer, dead writers' leftovers
removed (never a live one's), one-line errors for a path that cannot be written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from addin import files
from addin.files import (
    OutputError,
    OutputExistsError,
    ensure_writable,
    ensure_writable_folder,
    fit_bytes,
    sweep_temps,
    temp_path,
    write_atomically,
)


@pytest.fixture
def umask():
    """Set the process's umask for a test, and put the old one back."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_an_output_gets_the_mode_the_umask_gives(tmp_path, umask, mask, mode):
    umask(mask)
    new = write_atomically(tmp_path / "new.xlsx", lambda tmp: tmp.write_bytes(b"x"))
    replaced = write_atomically(tmp_path / "new.xlsx", lambda tmp: tmp.write_bytes(b"y"), overwrite=True)
    assert stat.S_IMODE(new.stat().st_mode) == mode and stat.S_IMODE(replaced.stat().st_mode) == mode
    assert replaced.read_bytes() == b"y" and [p.name for p in tmp_path.iterdir()] == ["new.xlsx"]


def test_the_temporary_file_is_named_after_its_writer_and_fits(tmp_path):
    seen = []
    write_atomically(tmp_path / "a.csv", lambda tmp: seen.append(tmp.name) or tmp.write_text("x"))
    assert seen[0].startswith(".a.csv.") and f".{os.getpid()}." in seen[0] and seen[0].endswith(".tmp")
    long = tmp_path / ("项目" * 40 + ".xlsx")  # 245 bytes: the name is cut, not the pid
    name = temp_path(long).name
    assert len(name.encode()) <= 255 - 32 and f".{os.getpid()}." in name
    name.encode("utf-8").decode("utf-8")  # never cut inside a character


def test_fit_bytes_never_cuts_a_character():
    assert fit_bytes("绿色低碳", 7) == "绿色" and fit_bytes("绿色低碳", 12) == "绿色低碳"
    assert fit_bytes("a😀b", 4) == "a" and fit_bytes("a😀b", 5) == "a😀"


def temp_of_a_process(folder: Path, *, alive: bool) -> tuple[Path, subprocess.Popen | None]:
    """A temporary file made by another process of this machine, which has ended or still runs."""
    code = (
        "import sys, time; from pathlib import Path; from addin.files import temp_path, _create; "
        "t = temp_path(Path(sys.argv[1]) / 'out.xlsx'); _create(t); print(t, flush=True); "
        + ("time.sleep(60)" if alive else "")
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True)
    path = Path(proc.stdout.readline().strip())
    if not alive:
        proc.wait()
        proc = None
    assert path.exists()
    return path, proc


def test_a_dead_writers_temporary_file_is_removed_a_live_ones_kept(tmp_path):
    dead, _ = temp_of_a_process(tmp_path, alive=False)
    live, proc = temp_of_a_process(tmp_path, alive=True)
    side = dead.with_name(dead.name + ".raw")  # a writer's own side file (the excel workbook's)
    side.write_bytes(b"")
    reused = live.with_name(live.name.replace(".out.xlsx.", ".old.xlsx.", 1))
    reused.write_bytes(b"")  # the live process's id, on a file written before it started (the id was reused)
    os.utime(reused, (time.time() - 3600, time.time() - 3600))
    other_host = tmp_path / ".out.xlsx.000000.1.abcdefgh.tmp"  # another machine's, on a shared drive
    other_host.write_bytes(b"")
    mine = tmp_path / ".notes.tmp"  # not ours
    mine.write_bytes(b"")
    try:
        write_atomically(tmp_path / "out.xlsx", lambda tmp: tmp.write_bytes(b"x"))
        assert not dead.exists() and not side.exists()
        assert not reused.exists() or files.process_start(proc.pid) is None  # where /proc tells
        assert live.exists() and other_host.exists() and mine.exists()
    finally:
        proc.kill()
        proc.wait()
    assert sweep_temps(tmp_path) == []  # once per process and folder


@pytest.fixture
def read_only_dir(tmp_path) -> Path:
    """A folder this process cannot write into (as root, whom permissions do not stop: /sys)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        os.close(os.open(folder / "probe", os.O_CREAT | os.O_WRONLY, 0o644))
    except PermissionError:
        yield folder
    else:  # root
        folder.chmod(0o755)
        if not Path("/sys/kernel").is_dir():
            pytest.skip("running as root, and no /sys to stand for a read-only folder")
        yield Path("/sys")
    folder.chmod(0o755)


def test_a_path_that_cannot_be_written_is_one_line(tmp_path, read_only_dir):
    (tmp_path / "afile").write_text("x")
    cases = [
        (tmp_path / "afile" / "out.csv", "afile is a file, not a folder"),
        (tmp_path / "afile" / "sub" / "out.csv", "afile is a file, not a folder"),
        (read_only_dir / "out.csv", "permission denied"),
    ]
    for path, why in cases:
        for call in (partial(write_atomically, path, lambda tmp: tmp.write_text("x")), partial(ensure_writable, path)):
            with pytest.raises(OutputError) as caught:
                call()
            message = str(caught.value)
            assert message.startswith(f"cannot write {path}: ") and why in message and "\n" not in message
    with pytest.raises(OutputError, match="it is a file; give a folder"):
        ensure_writable_folder(tmp_path / "afile")
    (tmp_path / "adir.csv").mkdir()
    with pytest.raises(OutputExistsError):
        write_atomically(tmp_path / "adir.csv", lambda tmp: tmp.write_text("x"))
    with pytest.raises(OutputError, match="it is a folder"):
        write_atomically(tmp_path / "adir.csv", lambda tmp: tmp.write_text("x"), overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.csv", "afile", "ro"]  # no temporary file left


def test_without_hard_links_the_name_is_still_never_overwritten(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise PermissionError(1, "Operation not permitted")  # what a FAT drive or some shares answer

    monkeypatch.setattr(files.os, "link", no_links)
    path = write_atomically(tmp_path / "a.xlsx", lambda tmp: tmp.write_bytes(b"first"))
    assert path.read_bytes() == b"first"

    def raced(tmp: Path) -> None:  # a parallel writer finishes ``b.xlsx`` while this one writes
        (tmp_path / "b.xlsx").write_bytes(b"theirs")
        tmp.write_bytes(b"ours")

    with pytest.raises(OutputExistsError):
        write_atomically(tmp_path / "b.xlsx", raced)
    assert (tmp_path / "b.xlsx").read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx"]
