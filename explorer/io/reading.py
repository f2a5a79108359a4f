"""Bounded reads of the files a user names: regular files only, and none past a size limit.

A device (/dev/zero, /dev/urandom), a FIFO or a folder is refused from its stat, before it is
opened for reading: reading one would never end or would fill memory. A regular file is read
through one descriptor, opened without blocking and checked again (it may have been swapped
since the stat), and at most limit + 1 bytes are read, so a file that grows or lies about its
size is refused without being read whole.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# The largest session or trajectory file the app reads (documented in README, "Sessions").
MAX_FILE_BYTES = 50_000_000
_CHUNK = 1 << 20


class FileReadError(ValueError):
    """A file the app will not or cannot read; the message names the file and the reason."""


def read_user_bytes(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most limit bytes; anything else raises FileReadError."""
    name = Path(path)
    try:
        info = os.stat(name)
    except (OSError, ValueError) as err:  # ValueError: a NUL in the name
        raise _unreadable(name, err) from None
    _check(name, info, limit)
    try:
        # O_NONBLOCK: if a FIFO took the file's place since the stat, opening it cannot hang.
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as err:  # ValueError: a NUL in the name
        raise _unreadable(name, err) from None
    try:
        _check(name, os.fstat(fd), limit)
        return _read_at_most(name, fd, limit)
    except OSError as err:
        raise _unreadable(name, err) from None
    finally:
        os.close(fd)


def _check(name: Path, info: os.stat_result, limit: int) -> None:
    """Refuse what is not a regular file, or a regular file larger than limit."""
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        raise FileReadError(f"{name}: not a file that can be opened ({_kind(mode)})")
    if info.st_size > limit:
        raise FileReadError(
            f"{name}: {info.st_size:,} bytes is more than the {limit:,} bytes this app reads"
        )


def _read_at_most(name: Path, fd: int, limit: int) -> bytes:
    """At most limit + 1 bytes, chunk by chunk; more than limit raises FileReadError."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = os.read(fd, min(_CHUNK, limit + 1 - size))
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
    raise FileReadError(f"{name}: more than the {limit:,} bytes this app reads")


def _unreadable(name: Path, err: OSError | ValueError) -> FileReadError:
    """The error for a file the system would not let us stat, open or read."""
    return FileReadError(f"{name}: cannot read it ({getattr(err, 'strerror', None) or err})")


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "it is a folder"
    if stat.S_ISFIFO(mode):
        return "it is a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "it is a device"
    if stat.S_ISSOCK(mode):
        return "it is a socket"
    return "it is not a regular file"
