"""Atomic writes never put a regular file in place of a device, a pipe or a socket (as root, a
rename over /dev/null would replace the device)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from explorer.io.atomic import ExportError, atomic_binary_writer, atomic_text_writer


@pytest.mark.parametrize("writer", [atomic_text_writer, atomic_binary_writer])
@pytest.mark.parametrize("device", ["/dev/null", "/dev/full", "/dev/zero"])
def test_a_device_is_refused_and_stays_a_device(writer: object, device: str) -> None:
    with pytest.raises(ExportError, match="not a regular file"):
        with writer(device):  # type: ignore[operator]
            pass
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert not [name for name in os.listdir("/dev") if name.startswith(f".{Path(device).name}.")]


def test_a_pipe_and_a_socket_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ExportError, match="not a regular file"):
        with atomic_text_writer(fifo) as stream:
            stream.write("x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(ExportError, match="not a regular file"):
            with atomic_binary_writer(path) as stream:
                stream.write(b"x")
    finally:
        server.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "sock"]


def test_a_regular_file_and_a_new_one_are_written(tmp_path: Path) -> None:
    old = tmp_path / "old.txt"
    old.write_text("before")
    with atomic_text_writer(old) as stream:
        stream.write("after")
    assert old.read_text() == "after"
    with atomic_binary_writer(tmp_path / "new.bin") as stream:
        stream.write(b"\x00\x01")
    assert (tmp_path / "new.bin").read_bytes() == b"\x00\x01"
