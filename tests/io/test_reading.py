"""Bounded reads: devices, FIFOs, folders and oversized files are refused before they are read.

Every reader of a user's file (session, trajectory CSV) goes through read_user_bytes, so each
hostile file is tried on each of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from explorer.io import reading
from explorer.io.reading import MAX_FILE_BYTES, FileReadError, read_user_bytes
from explorer.io.session import SessionError, load_session
from explorer.io.trajectory_csv import CsvFormatError, read_trajectories

LOADERS: list[tuple[Callable[[Path], object], type[Exception]]] = [
    (load_session, SessionError),
    (read_trajectories, CsvFormatError),
]
LOADER_IDS = ["session", "csv"]


def _no_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every os.read fail the test; the list records attempted sizes (it stays empty)."""
    attempts: list[int] = []

    def refuse(fd: int, size: int) -> bytes:
        attempts.append(size)
        raise AssertionError("the file was read")

    monkeypatch.setattr(os, "read", refuse)
    return attempts


def _no_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every os.open fail the test: a FIFO opened for reading would block."""

    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(os, "open", refuse)


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_before_opening(
    load: Callable[[Path], object], error: type[Exception], device: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Path(device).exists()
    _no_opens(monkeypatch)
    with pytest.raises(error, match="it is a device") as caught:
        load(Path(device))
    assert "\n" not in str(caught.value) and str(caught.value).startswith(device)


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
def test_a_fifo_is_refused_before_opening(
    load: Callable[[Path], object], error: type[Exception], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    _no_opens(monkeypatch)  # opening a FIFO with no writer would hang: it must not be tried
    with pytest.raises(error, match=r"pipe \(FIFO\)"):
        load(fifo)


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
def test_a_folder_and_a_link_to_a_device_are_refused(
    load: Callable[[Path], object], error: type[Exception], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    _no_opens(monkeypatch)
    with pytest.raises(error, match="it is a folder"):
        load(tmp_path)
    with pytest.raises(error, match="it is a device"):
        load(link)


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
def test_a_huge_sparse_file_is_refused_without_reading(
    load: Callable[[Path], object], error: type[Exception], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as stream:
        stream.truncate(1 << 30)  # 1 GB that takes no disk space
    attempts = _no_reads(monkeypatch)
    with pytest.raises(error) as caught:
        load(huge)
    assert attempts == []
    assert f"{1 << 30:,} bytes is more than the {MAX_FILE_BYTES:,}" in str(caught.value)


def test_the_limit_is_exact(tmp_path: Path) -> None:
    """A file of exactly limit bytes is read; one more byte is refused."""
    path = tmp_path / "data.bin"
    path.write_bytes(b"a" * 100)
    assert read_user_bytes(path, limit=100) == b"a" * 100
    with pytest.raises(FileReadError, match="100 bytes is more than the 99 bytes this app reads"):
        read_user_bytes(path, limit=99)
    assert read_user_bytes(path) == b"a" * 100


def test_a_file_longer_than_its_stat_says_is_read_only_up_to_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """/proc files report size 0 but have content: the read itself stops at limit + 1 bytes."""
    source = Path("/proc/self/maps")
    assert source.stat().st_size == 0
    sizes: list[int] = []
    real_read = os.read

    def counting(fd: int, size: int) -> bytes:
        data = real_read(fd, size)
        sizes.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counting)
    with pytest.raises(FileReadError, match="more than the 10 bytes"):
        read_user_bytes(source, limit=10)
    assert sum(sizes) <= 11


def test_a_file_swapped_for_a_fifo_after_the_stat_is_refused_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The descriptor is checked again: a FIFO that took the file's place is refused."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    regular = tmp_path / "regular"
    regular.write_text("{}")
    real_stat = os.stat
    monkeypatch.setattr(reading.os, "stat", lambda *args, **kwargs: real_stat(regular))
    with pytest.raises(FileReadError, match=r"pipe \(FIFO\)"):
        read_user_bytes(fifo)  # O_NONBLOCK: the open returns at once


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
def test_invalid_utf8_and_missing_files(
    load: Callable[[Path], object], error: type[Exception], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"format": "\xff\xfe"}')
    with pytest.raises(error, match=r"not text|not UTF-8"):
        load(bad)
    with pytest.raises(error, match="cannot read it"):
        load(tmp_path / "missing")
    with pytest.raises(error, match="cannot read it"):
        load(Path(str(tmp_path / "nul") + "\0name"))


def test_deeply_nested_json_and_giant_numbers(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"a": ' * 200_000 + "1" + "}" * 200_000)
    with pytest.raises(SessionError, match="nested too deeply"):
        load_session(deep)
    digits = tmp_path / "digits.json"
    digits.write_text('{"seed": ' + "9" * 10_000 + "}")
    with pytest.raises(SessionError, match="too many digits"):
        load_session(digits)

