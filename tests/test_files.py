"""The one atomic write every file goes through (workbooks, the template, PDFs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sheetbill.files import write_atomic


def test_bytes_or_a_stream_writer_make_the_file_with_the_umask_default(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "one.pdf", b"one")
    write_atomic(tmp_path / "two.pdf", lambda stream: stream.write(b"two"))
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a" / "one.pdf").read_bytes() == b"one" and (tmp_path / "two.pdf").read_bytes() == b"two"
    assert (tmp_path / "two.pdf").stat().st_mode & 0o777 == 0o666 & ~mask


def test_an_existing_file_keeps_its_mode_and_the_backup_holds_the_previous_content(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new", backup=True)
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o640
    backup = tmp_path / "book.xlsx.bak"
    assert backup.read_bytes() == b"old" and backup.stat().st_mode & 0o777 == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == ["book.xlsx", "book.xlsx.bak"]


def test_a_failing_writer_leaves_the_target_the_backup_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")

    def fail(stream: object) -> None:
        raise ValueError("bad cell")

    with pytest.raises(ValueError, match="bad cell"):
        write_atomic(target, fail, backup=True)
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["book.xlsx"]
