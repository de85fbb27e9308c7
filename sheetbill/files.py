"""Writing a file so that it is either all there or not there at all.

Every file sheetbill writes (workbooks, the template, PDFs) goes through :func:`write_atomic`: the
new content goes to a temporary file in the target's folder (same file system, so the rename is
atomic), is flushed and fsynced, and is then renamed over the target. An interrupted write leaves
the previous file as it was and no temporary file behind.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: What to write: the bytes, or a function that streams them into the open file.
Content = bytes | Callable[[BinaryIO], None]


def write_atomic(path: Path, content: Content, *, backup: bool = False) -> None:
    """Write ``content`` to ``path`` through a fsynced temporary file renamed over the target.

    An existing file keeps its permissions; a new one gets those of any new file (the umask
    default; ``mkstemp`` alone would make it private). With ``backup``, once the new content is
    safely written, the previous file is kept as ``<name>.bak``, itself written atomically the same
    way. The temporary file is removed on any failure, and the target is then untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _write_temporary(path, content)
    try:
        if path.exists():
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
            if backup:
                _keep_backup(path)
        else:
            os.chmod(temporary, _new_file_mode())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _write_temporary(path: Path, content: Content) -> Path:
    """A new temporary file next to ``path`` (same file system, so renaming it is atomic) holding
    ``content``, flushed and fsynced; it is removed again when writing fails."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            if isinstance(content, bytes):
                stream.write(content)
            else:
                content(stream)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _keep_backup(path: Path) -> None:
    """Copy ``path`` to ``<name>.bak`` with its mode and times, atomically."""
    temporary = _write_temporary(path, lambda stream: _copy_into(path, stream))
    try:
        shutil.copystat(path, temporary)
        os.replace(temporary, path.with_name(f"{path.name}.bak"))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _copy_into(path: Path, stream: BinaryIO) -> None:
    """Stream the bytes of the file at ``path`` into ``stream``."""
    with open(path, "rb") as original:
        shutil.copyfileobj(original, stream)


def _new_file_mode() -> int:
    """The permissions an ordinary new file gets under the current umask."""
    mask = os.umask(0)  # there is no getter: read it by setting and restoring it
    os.umask(mask)
    return 0o666 & ~mask


def _sync_folder(folder: Path) -> None:
    """Fsync ``folder`` so the rename itself survives a crash."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # folders cannot be opened on every platform (Windows)
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
