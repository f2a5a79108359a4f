"""Atomic writes: a temporary file in the target folder, then one rename."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO


class ExportError(OSError):
    """A file could not be written; the message names the file and the reason."""


def _default_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def target_folder(target: Path) -> Path:
    """The folder target is written in; ExportError when it is missing or target is a folder."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"cannot write {target}: the folder {folder} does not exist")
    if target.is_dir():
        raise ExportError(f"cannot write {target}: it is a folder")
    try:
        mode = target.stat().st_mode
    except (OSError, ValueError):
        return folder  # a new file (or one we may not look at: the write will say)
    if not stat.S_ISREG(mode):
        # The rename would put a regular file in place of a device (/dev/null, as root) or a
        # pipe: refuse, and leave the special file as it is.
        raise ExportError(f"cannot write {target}: it is not a regular file (a device, a pipe "
                          "or a socket)")
    return folder


@contextlib.contextmanager
def atomic_text_writer(path: str | os.PathLike[str]) -> Iterator[TextIO]:
    """Yield a text stream; on success it replaces path whole, on failure path is untouched."""
    with _atomic_writer(path, binary=False) as stream:
        yield stream  # type: ignore[misc]


@contextlib.contextmanager
def atomic_binary_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary stream; on success it replaces path whole, on failure path is untouched."""
    with _atomic_writer(path, binary=True) as stream:
        yield stream  # type: ignore[misc]


@contextlib.contextmanager
def _atomic_writer(path: str | os.PathLike[str], *, binary: bool) -> Iterator[TextIO | BinaryIO]:
    """The stream of atomic_text_writer or atomic_binary_writer."""
    target = Path(path)
    folder = target_folder(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise ExportError(f"cannot write {target}: {err.strerror or err}") from None
    tmp = Path(tmp_name)
    try:
        # mkstemp makes the file private; give it the mode a plain open() would (or the old one).
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else _default_mode())
        opened = os.fdopen(fd, "wb") if binary else os.fdopen(
            fd, "w", encoding="utf-8", newline="")
        with opened as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {target}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
